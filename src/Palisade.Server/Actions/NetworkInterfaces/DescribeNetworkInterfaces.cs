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
        var ids = p.List("NetworkInterfaceId", 100).ToHashSet(StringComparer.Ordinal);
        var vSwitch = p.Optional("VSwitchId");
        var vpc = p.Optional("VpcId");
        var primaryIp = p.Optional("PrimaryIpAddress");
        var privateIps = p.List("PrivateIpAddress", 100)
            .Select(t => IpAddress.TryParse(t, out var a) ? a : throw new EcsException(EcsErrors.ParameterInvalid("PrivateIpAddress", $"'{t}' is not an IP address.")))
            .ToHashSet();
        var group = p.Optional("SecurityGroupId");
        var name = p.Optional("NetworkInterfaceName");
        var type = p.Optional("Type");
        if (type is not null and not ("Primary" or "Secondary"))
            throw new EcsException(EcsErrors.ParameterInvalid("Type", $"'{type}' is not Primary or Secondary."));
        var instance = p.Optional("InstanceId");
        var status = p.Optional("Status");
        if (status is not null and not ("Available" or "InUse" or "Attaching" or "Detaching" or "Deleting" or "CreateFailed"))
            throw new EcsException(EcsErrors.ParameterInvalid("Status", $"'{status}' is not Available, Attaching, InUse, Detaching, Deleting or CreateFailed."));
        var inResourceGroup = ResourceGroups.ResourceGroupIds.Filter(p);
        var tags = TagFilter.Read(p);
        var paging = Paging.Read(p, 10, 500, 500);
        return c.Read(s =>
        {
            var tagsByEni = s.ListTagsOfType(c.AccountId, TaggedResourceTypes.NetworkInterface).ToLookup(t => t.ResourceId, t => t.Tag);
            var tagged = tags.In(tagsByEni);
            var all = s.ListNetworkInterfaces(c.AccountId, region.RegionId)
                .Where(e => ids.Count == 0 || ids.Contains(e.Id.Value))
                .Where(e => vSwitch is null || e.VSwitchId.Value == vSwitch)
                .Where(e => vpc is null || e.VpcId.Value == vpc)
                .Where(e => primaryIp is null || e.PrivateAddresses.FirstOrDefault().ToString() == primaryIp)
                .Where(e => privateIps.Count == 0 || e.PrivateAddresses.Any(privateIps.Contains))
                .Where(e => group is null || e.SecurityGroupIds.Any(g => g.Value == group))
                .Where(e => name is null || e.Name == name)
                .Where(e => type is null || e.Type.ToString() == type)
                .Where(e => instance is null || e.InstanceId?.Value == instance)
                .Where(e => status is null || e.Status == status)
                .Where(e => inResourceGroup(e.ResourceGroupId))
                .Where(e => tagged(e.Id.Value))
                .ToList();
            return paging.Answer(all, "NetworkInterfaceSets", page => EcsList.Of("NetworkInterfaceSet",
                page.Select(e => Views.NetworkInterface(e, [.. tagsByEni[e.Id.Value]], c.AccountId, s.EipOf(e.Id.Value)))));
        });
    }
}
