using Palisade.Server.Actions;
using Palisade.Server.Tests.Support;

namespace Palisade.Server.Tests.Actions;

/// <summary>
/// Runs after every parallel test of this assembly (xUnit runs a collection that disables
/// parallelisation last), so that what the others called is all recorded.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AfterEveryOtherTest
{
    public const string Name = "after every other test";
}

/// <summary>Every action in the catalogue succeeded at least once in a test of this assembly (a real call, through the server).</summary>
[Collection(AfterEveryOtherTest.Name)]
public sealed class ActionCoverageTests
{
    [Fact]
    public void EveryCataloguedAction_SucceededInATest()
    {
        Assert.True(CalledActions.Total > 1000, $"only {CalledActions.Total} calls were recorded: this test checks the whole assembly's run, not a filtered one");
        var succeeded = CalledActions.With("OK");
        var missing = ActionCatalog.FromAssembly().All.Select(a => a.Name).Where(name => !succeeded.Contains(name)).Order(StringComparer.Ordinal).ToList();
        Assert.True(missing.Count == 0, $"no test made a successful call of: {string.Join(", ", missing)}");
    }
}
