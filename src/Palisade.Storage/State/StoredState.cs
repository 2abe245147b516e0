using Palisade.Domain.Groups;
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
    public static NetworkState Load(IStoreSession s, long accountId, string regionId)
    {
        var groups = s.Groups.List(accountId, regionId).Select(g => new SecurityGroup(g.Id, g.Name, g.Description, g.Type, g.VpcId, g.InnerAccessPolicy,
            [.. s.ListRules(g.Id)], [.. s.ListTags(TaggedResourceTypes.SecurityGroup, g.Id.Value)], g.CreatedAt));
        var addresses = new RegionAddresses(s, accountId, regionId);
        // The instance's own fields are its primary ENI; each secondary ENI brings its own addresses,
        // groups and EIP, and decides the traffic of its addresses (issue 16 item 5).
        var instances = s.Instances.List(accountId, regionId).Select(i =>
        {
            var enis = addresses.Interfaces(i.Id);
            return new Instance(i.Id, i.Name, i.NetworkType, i.VpcId, i.VSwitchId,
                [.. i.PrivateAddresses], [.. addresses.PublicAddressesOf(i)], [.. i.SecurityGroupIds], i.Status, [.. s.ListTags(TaggedResourceTypes.Instance, i.Id.Value)])
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
