namespace Palisade.Server.Actions.NetworkInterfaces;

/// <summary>
/// CreateNetworkInterface: a secondary ENI in a vSwitch, in one to five groups of its VPC, with a
/// primary private address and any secondary ones. Synchronous: it answers <c>Available</c>.
/// </summary>
internal sealed class CreateNetworkInterface : WriteAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var region = c.Region();
        var vSwitchText = p.Required("VSwitchId");
        var single = p.Optional("SecurityGroupId");
        var several = NetworkInterfaceRules.GroupIds(p, "SecurityGroupIds", c.Limits.GroupsPerInstance);
        if (single is not null && several.Count > 0)
            throw new EcsException(EcsErrors.ParameterInvalid("SecurityGroupIds", "give SecurityGroupId or SecurityGroupIds.N, not both."));
        var groupTexts = single is not null ? [single] : several;
        if (groupTexts.Count == 0)
            throw new EcsException(EcsErrors.Missing("SecurityGroupId"));
        var primaryText = p.Optional("PrimaryIpAddress");
        var secondaryTexts = p.List("PrivateIpAddress", c.Limits.PrivateIpsPerNetworkInterface);
        var secondaryCount = NetworkInterfaceRules.SecondaryCount(p, c);
        if (secondaryTexts.Count > 0 && secondaryCount > 0)
            throw new EcsException(EcsErrors.ParameterInvalid("SecondaryPrivateIpAddressCount", "give PrivateIpAddress.N or SecondaryPrivateIpAddressCount, not both."));
        var name = NetworkInterfaceRules.Name(p) ?? "";
        var description = NetworkInterfaceRules.Description(p) ?? "";
        var tags = p.Tags(max: c.Limits.TagsPerResource);
        var resourceGroup = ResourceGroups.ResourceGroupIds.Of(p);

        return c.Write(s =>
        {
            // Inside the write, so that concurrent creates on several nodes cannot pass the quota together.
            if (s.NetworkInterfaces.List(c.AccountId, region.RegionId).Count(e => e.Type == NetworkInterfaceType.Secondary) >= c.Limits.NetworkInterfacesPerRegion)
                throw new EcsException(EcsErrors.EniQuota(c.Limits.NetworkInterfacesPerRegion));
            var vSwitch = s.VSwitch(c, vSwitchText);
            var groups = groupTexts.Select(g => s.Group(c, g)).ToList();
            NetworkInterfaceRules.CheckGroups(s, c, vSwitch.VpcId, groups, []);
            var id = NetworkInterfaceId.Parse(c.NewId(NetworkInterfaceId.Prefix, region));
            var empty = new NetworkInterfaceRecord(id, c.AccountId, region.RegionId, vSwitch.ZoneId, vSwitch.VpcId, vSwitch.Id, null, NetworkInterfaceType.Secondary,
                name, description, [], [.. groups.Select(g => g.Id)], c.Now, resourceGroup);
            IReadOnlyList<string?> wanted = [primaryText, .. secondaryTexts, .. Enumerable.Repeat<string?>(null, secondaryCount)];
            var eni = empty with { PrivateAddresses = NetworkInterfaceRules.Allocate(s, c, empty, wanted) };
            s.NetworkInterfaces.Insert(eni);
            foreach (var tag in tags)
                s.SetTag(c.AccountId, TaggedResourceTypes.NetworkInterface, id.Value, tag);
            return Views.NetworkInterface(eni, tags, c.AccountId);
        });
    }
}
