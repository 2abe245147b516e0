namespace Palisade.Server.Actions.NetworkInterfaces;

/// <summary>
/// DescribeNetworkInterfaces: the caller's ENIs of the region, primary and secondary, newest first,
/// filtered by every documented filter; both paging styles (PageSize 1–500, MaxResults 1–500).
/// </summary>
internal sealed class DescribeNetworkInterfaces : ReadAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var region = c.Region();
        var filter = new Filter<NetworkInterfaceRecord>(p).AnyOfList("NetworkInterfaceId", 100, e => e.Id.Value).Equal("VSwitchId", e => e.VSwitchId.Value)
            .Equal("VpcId", e => e.VpcId.Value).Equal("PrimaryIpAddress", e => e.PrivateAddresses.FirstOrDefault().ToString());
        var privateIps = p.List("PrivateIpAddress", 100)
            .Select(t => IpAddress.TryParse(t, out var a) ? a : throw new EcsException(EcsErrors.ParameterInvalid("PrivateIpAddress", $"'{t}' is not an IP address.")))
            .ToHashSet();
        filter.Where(privateIps.Count == 0 ? null : e => e.PrivateAddresses.Any(privateIps.Contains))
            .Among("SecurityGroupId", e => e.SecurityGroupIds.Select(g => g.Value)).Equal("NetworkInterfaceName", e => e.Name)
            .OneOf("Type", ["Primary", "Secondary"], e => e.Type.ToString()).Equal("InstanceId", e => e.InstanceId?.Value)
            .OneOf("Status", ["Available", "Attaching", "InUse", "Detaching", "Deleting", "CreateFailed"], e => e.Status).InResourceGroup(e => e.ResourceGroupId);
        var tags = TagFilter.Read(p);
        var paging = Paging.Read(p, 10, 500, 500);
        return c.Read(s =>
        {
            var tagsByEni = s.ListTagsOfType(c.AccountId, TaggedResourceTypes.NetworkInterface).ToLookup(t => t.ResourceId, t => t.Tag);
            var tagged = tags.In(tagsByEni);
            var all = s.NetworkInterfaces.List(c.AccountId, region.RegionId).Where(e => filter.Keeps(e) && tagged(e.Id.Value)).ToList();
            return paging.Answer(all, "NetworkInterfaceSets", page => EcsList.Of("NetworkInterfaceSet",
                page.Select(e => Views.NetworkInterface(e, [.. tagsByEni[e.Id.Value]], c.AccountId, s.EipOf(e.Id.Value)))));
        });
    }
}
