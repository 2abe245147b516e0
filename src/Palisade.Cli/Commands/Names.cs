using Palisade.Cli.Evaluation;
using Palisade.Client;
using Palisade.Domain.Identifiers;
using Palisade.Domain.State;

namespace Palisade.Cli.Commands;

/// <summary>A group or an instance as a person knows it: its ID, its name, and where it lives (its VPC, or classic).</summary>
public sealed record NamedResource(string Id, string Name, string Where);

/// <summary>
/// The one resolver of what a person types for a group or an instance: an ID (anything that starts
/// as the kind's IDs do, <c>sg-</c> or <c>i-</c>) is taken as it is (the server or the state says
/// whether it exists), anything else is a name, which must name exactly one resource of the region.
/// Names are not unique in ECS, so an ambiguous name is refused with every candidate listed; a
/// silent pick could change the wrong group. Also how names are shown beside IDs, everywhere.
/// </summary>
public static class NameResolver
{
    public sealed record Kind(string Words, string IdPrefix, string ListCommand);

    public static readonly Kind Group = new("security group", SecurityGroupId.Prefix, "palisade sg list");

    public static readonly Kind Instance = new("instance", InstanceId.Prefix, "palisade instance list");

    public static bool LooksLikeId(Kind kind, string text) => text.StartsWith(kind.IdPrefix, StringComparison.Ordinal);

    /// <summary>Text shaped as an address or a CIDR block (digits and dots, or a colon, or a slash): never a name, so a bad address gets the address's own error.</summary>
    public static bool LooksLikeAddress(string text) =>
        text.Length > 0 && (text.Contains(':', StringComparison.Ordinal) || text.Contains('/', StringComparison.Ordinal) || text.All(ch => char.IsAsciiDigit(ch) || ch == '.'));

    public static string Resolve(Kind kind, string text, IEnumerable<NamedResource> candidates, string where)
    {
        if (LooksLikeId(kind, text))
            return text;
        var matches = candidates.Where(c => c.Name == text).OrderBy(c => c.Id, StringComparer.Ordinal).ToList();
        return matches.Count switch
        {
            1 => matches[0].Id,
            0 => throw new UsageException($"no {kind.Words} named '{text}' {where}: give its ID ({kind.IdPrefix}…) or a name from '{kind.ListCommand}'"),
            _ => throw new UsageException($"'{text}' names {matches.Count} {kind.Words}s {where}: {string.Join(", ", matches.Select(m => $"{m.Id} ({m.Where})"))}; give the ID"),
        };
    }

    /// <summary>How an answer shows a resource: its name, then its ID in brackets; the bare ID when it has no name (or is not known).</summary>
    public static string Label(string id, IReadOnlyDictionary<string, string> names) =>
        names.TryGetValue(id, out var name) && name.Length > 0 ? $"{name} ({id})" : id;

    public static IEnumerable<NamedResource> GroupsOf(NetworkState state) =>
        state.Groups.Select(g => new NamedResource(g.Id.Value, g.Name, g.VpcId?.Value ?? "classic"));

    public static IEnumerable<NamedResource> InstancesOf(NetworkState state) =>
        state.Instances.Select(i => new NamedResource(i.Id.Value, i.Name, i.VpcId?.Value ?? "classic"));

    /// <summary>Every group's, instance's and prefix list's name by ID, for labels.</summary>
    public static IReadOnlyDictionary<string, string> NamesOf(NetworkState state) =>
        GroupsOf(state).Concat(InstancesOf(state)).Concat(state.PrefixLists.Select(l => new NamedResource(l.Id.Value, l.Name, l.IsV6 ? "IPv6" : "IPv4"))).GroupBy(r => r.Id, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Name, StringComparer.Ordinal);
}

/// <summary>
/// The region's groups and instances as a server lists them, read at most once per command: to
/// resolve names (<see cref="NameResolver"/>) and to show names beside IDs.
/// </summary>
public sealed class RemoteNames(RemoteContext c)
{
    private List<NamedResource>? _groups;
    private List<NamedResource>? _instances;

    private string Where => $"in {c.Region}";

    public async Task<string> GroupAsync(string text) =>
        NameResolver.LooksLikeId(NameResolver.Group, text) ? text : NameResolver.Resolve(NameResolver.Group, text, await GroupsAsync(), Where);

    public async Task<string> InstanceAsync(string text) =>
        NameResolver.LooksLikeId(NameResolver.Instance, text) ? text : NameResolver.Resolve(NameResolver.Instance, text, await InstancesAsync(), Where);

    public async Task<string[]> GroupsAsync(IEnumerable<string> texts)
    {
        var ids = new List<string>();
        foreach (var t in texts)
            ids.Add(await GroupAsync(t));
        return [.. ids];
    }

    public async Task<List<NamedResource>> GroupsAsync() => _groups ??=
        [.. (await c.CallAllAsync("DescribeSecurityGroups", [], "SecurityGroups", "SecurityGroup")).Items("SecurityGroups", "SecurityGroup")
            .Select(g => new NamedResource(g.Str("SecurityGroupId"), g.Str("SecurityGroupName"), g.Str("VpcId") is { Length: > 0 } v ? v : "classic"))];

    public async Task<List<NamedResource>> InstancesAsync() => _instances ??=
        [.. (await c.CallAllAsync("DescribeInstances", [], "Instances", "Instance")).Items("Instances", "Instance")
            .Select(i => new NamedResource(i.Str("InstanceId"), i.Str("InstanceName"), i.TryGetProperty("VpcAttributes", out var v) && v.Str("VpcId") is { Length: > 0 } id ? id : "classic"))];

    /// <summary>The groups' names by ID (one list call), for labels.</summary>
    public async Task<IReadOnlyDictionary<string, string>> GroupNamesAsync() =>
        (await GroupsAsync()).ToDictionary(g => g.Id, g => g.Name, StringComparer.Ordinal);

    public async Task<IReadOnlyDictionary<string, string>> InstanceNamesAsync() =>
        (await InstancesAsync()).ToDictionary(g => g.Id, g => g.Name, StringComparer.Ordinal);

    /// <summary>The prefix lists' names by ID (one list call), for labels.</summary>
    public async Task<IReadOnlyDictionary<string, string>> PrefixListNamesAsync() =>
        (await c.CallAllAsync("DescribePrefixLists", [], "PrefixLists", "PrefixList")).Items("PrefixLists", "PrefixList")
            .ToDictionary(l => l.Str("PrefixListId"), l => l.Str("PrefixListName"), StringComparer.Ordinal);
}
