using System.Collections.Frozen;

namespace Palisade.Server.Actions;

/// <summary>Every action the server answers, found by reflection once: adding a class adds an action.</summary>
internal sealed class ActionCatalog
{
    private readonly FrozenDictionary<(string Version, string Name), IEcsAction> _actions;

    private readonly FrozenSet<string> _names;

    public ActionCatalog(IEnumerable<IEcsAction> actions)
    {
        _actions = actions.ToFrozenDictionary(a => (a.Version, a.Name));
        _names = _actions.Keys.Select(k => k.Name).ToFrozenSet(StringComparer.Ordinal);
    }

    /// <summary>Whether some version has an action of this name (metrics tag only names we know).</summary>
    public bool KnowsName(string name) => _names.Contains(name);

    public static ActionCatalog FromAssembly() => new(typeof(ActionCatalog).Assembly.GetTypes()
        .Where(t => typeof(IEcsAction).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
        .Select(t => (IEcsAction)Activator.CreateInstance(t)!));

    public IEnumerable<IEcsAction> All => _actions.Values;

    public IEcsAction? Find(string version, string name) => _actions.GetValueOrDefault((version, name));

    public bool KnowsVersion(string version) => _actions.Keys.Any(k => k.Version == version);
}
