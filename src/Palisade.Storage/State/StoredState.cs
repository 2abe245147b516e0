using Palisade.Domain.Groups;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.Domain.State;
using Palisade.Storage.Records;

namespace Palisade.Storage.State;

/// <summary>
/// An account's region as the analysis sees it: the same <see cref="NetworkState"/> a state file gives.
/// The server's analyses read it, and <c>palisade export --account</c> writes it
/// (<see cref="StateFileWriter"/>) straight from a local data directory.
/// </summary>
public static class StoredState
{
    /// <summary>
    /// The region's state in a fixed number of queries: the rules of all its groups and the tags of all
    /// the account's groups and instances are read at once, not one query per group and per instance
    /// (issue 19: a dry-run impact loads the state after its rehearsal inside the write transaction, and
    /// at 100 instances the 120 small queries were half of what a new question allocated in the server).
    /// The same state as <see cref="LoadRowByRow"/>, its slow twin (StoredStateTests compare their state files).
    /// </summary>
    public static NetworkState Load(IStoreSession s, long accountId, string regionId)
    {
        var rules = s.ListRulesInRegion(accountId, regionId).ToLookup(r => r.Group, r => r.Rule);
        var groupTags = s.ListTagsOfType(accountId, TaggedResourceTypes.SecurityGroup).ToLookup(t => t.ResourceId, t => t.Tag, StringComparer.Ordinal);
        var instanceTags = s.ListTagsOfType(accountId, TaggedResourceTypes.Instance).ToLookup(t => t.ResourceId, t => t.Tag, StringComparer.Ordinal);
        return Build(s, accountId, regionId, g => [.. rules[g]], (type, id) => [.. (type == TaggedResourceTypes.Instance ? instanceTags : groupTags)[id]]);
    }

    /// <summary>The slow twin of <see cref="Load"/>: each group's rules and each resource's tags by a query of its own.</summary>
    public static NetworkState LoadRowByRow(IStoreSession s, long accountId, string regionId) =>
        Build(s, accountId, regionId, s.ListRules, s.ListTags);

    private static NetworkState Build(IStoreSession s, long accountId, string regionId,
        Func<SecurityGroupId, IReadOnlyList<Domain.Rules.SecurityGroupRule>> rulesOf, Func<string, string, IReadOnlyList<Tag>> tagsOf)
    {
        var groups = s.Groups.List(accountId, regionId).Select(g => new SecurityGroup(g.Id, g.Name, g.Description, g.Type, g.VpcId, g.InnerAccessPolicy,
            [.. rulesOf(g.Id)], [.. tagsOf(TaggedResourceTypes.SecurityGroup, g.Id.Value)], g.CreatedAt));
        var addresses = new RegionAddresses(s, accountId, regionId);
        // The instance's own fields are its primary ENI; each secondary ENI brings its own addresses,
        // groups and EIP, and decides the traffic of its addresses (issue 16 item 5).
        var instances = s.Instances.List(accountId, regionId).Select(i =>
        {
            var enis = addresses.Interfaces(i.Id);
            return new Instance(i.Id, i.Name, i.NetworkType, i.VpcId, i.VSwitchId,
                [.. i.PrivateAddresses], [.. addresses.PublicAddressesOf(i)], [.. i.SecurityGroupIds], i.Status, [.. tagsOf(TaggedResourceTypes.Instance, i.Id.Value)])
            {
                NetworkInterfaceId = enis.FirstOrDefault(e => e.Type == NetworkInterfaceType.Primary)?.Id,
                SecondaryInterfaces = [.. enis.Where(e => e.Type == NetworkInterfaceType.Secondary).Select(e => new NetworkInterface(e.Id,
                    [.. e.PrivateAddresses],
                    addresses.EipOf(e.Id.Value) is { } eip ? [eip.Address] : [],
                    [.. e.SecurityGroupIds], e.VSwitchId,
                    MacAddress.TryParse(e.MacAddress, out var mac) ? mac : null))],
            };
        });
        var prefixLists = s.PrefixLists.List(accountId, regionId).Select(l => new PrefixList(l.Id, l.Name, l.IsV6, [.. l.Entries.Select(e => e.Cidr)], l.MaxEntries));
        var portRangeLists = s.PortRangeLists.List(accountId, regionId).Select(l => new PortRangeList(l.Id, l.Name, [.. l.Entries.Select(e => e.Range)], l.MaxEntries));
        return new NetworkState(regionId, groups, instances, prefixLists, portRangeLists);
    }
}
