using Palisade.Server.Actions;

namespace Palisade.Server.Tests.Actions;

/// <summary>
/// docs/architecture.md, "a new action": an action says what it is in its base list — a
/// <see cref="ReadAction"/> or a <see cref="WriteAction"/> — and the request path trusts what that
/// declares (read-only keys, the read cache, dry runs, the trail).
/// </summary>
public sealed class ActionDeclarationTests
{
    [Fact]
    public void EveryAction_IsAReadOrAWrite_AndOnlyReadsAreCached()
    {
        var wrong = ActionCatalog.FromAssembly().All
            .Where(a => !(a is ReadAction { Mutates: false } || a is WriteAction { Mutates: true, Cacheable: false }))
            .Select(a => a.Name)
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.True(wrong.Count == 0, $"derive these from ReadAction or WriteAction: {string.Join(", ", wrong)}");
    }
}
