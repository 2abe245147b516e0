using Palisade.Server.Actions.Instances;

namespace Palisade.Server.Actions.NetworkInterfaces;

/// <summary>What the ENI actions share: names, descriptions, the attachment write, the groups of an ENI, and its private addresses.</summary>
internal static class NetworkInterfaceRules
{
    public static string? Name(ParameterReader p) => p.Text("NetworkInterfaceName", Texts.IsEcsName, EcsErrors.NetworkInterfaceNameMalformed);

    public static string? Description(ParameterReader p) => p.Text("Description", Texts.IsEcsDescription, EcsErrors.DescriptionInvalid);

    /// <summary>
    /// What attaching and detaching share: <c>NetworkInterfaceId</c> and <c>InstanceId</c>, both the
    /// caller's in the request's region, found and changed in one write.
    /// </summary>
    public static EcsObject WriteAttachment(ActionContext c, Func<IStoreSession, NetworkInterfaceRecord, InstanceRecord, EcsObject> change)
    {
        c.Region();
        var eniText = c.Parameters.Required("NetworkInterfaceId");
        var instanceId = c.InstanceIdParameter();
        return c.Write(s => change(s, s.NetworkInterface(c, eniText), s.Instance(c, instanceId)));
    }

    /// <summary>
    /// The groups an ENI of <paramref name="vpcId"/> may be in, checked as an instance's are
    /// (<see cref="Membership"/>: count, one type, room in each, rules over all), after ECS's
    /// ENI-specific errors: a classic group (<c>InvalidSecurityGroupId.NotVpc</c>) or a group of another
    /// VPC (<c>InvalidOperation.VpcMismatch</c>).
    /// </summary>
    public static void CheckGroups(IStoreSession s, ActionContext c, VpcId vpcId, IReadOnlyList<GroupRecord> groups, IReadOnlyCollection<SecurityGroupId> alreadyIn)
    {
        foreach (var group in groups)
        {
            if (group.IsClassic)
                throw new EcsException(EcsErrors.GroupNotVpc(group.Id.Value));
            if (group.VpcId != vpcId)
                throw new EcsException(EcsErrors.EniVpcMismatch());
        }
        Membership.Check(s, c, NetworkType.Vpc, vpcId, groups, alreadyIn);
    }

    /// <summary>Group IDs as <c>SecurityGroupIds.N</c> (or <c>SecurityGroupId.N</c>, ModifyNetworkInterfaceAttribute's name), distinct, at most one more than the limit (so the limit's own error answers).</summary>
    public static IReadOnlyList<string> GroupIds(ParameterReader p, string name, int limit)
    {
        var ids = p.List(name, limit + 1);
        if (ids.Count != ids.Distinct(StringComparer.Ordinal).Count())
            throw new EcsException(EcsErrors.ParameterInvalid(name, "a group is given twice."));
        return ids;
    }

    /// <summary>
    /// New private addresses for an ENI: each of <paramref name="wanted"/> a free address of its
    /// vSwitch (null: any free one), within the per-ENI limit; they become in use in its VPC.
    /// </summary>
    public static IReadOnlyList<IpAddress> Allocate(IStoreSession s, ActionContext c, NetworkInterfaceRecord eni, IReadOnlyList<string?> wanted)
    {
        if (eni.PrivateAddresses.Count(a => !a.IsV6) + wanted.Count > c.Limits.PrivateIpsPerNetworkInterface)
            throw new EcsException(EcsErrors.PrivateIpQuota(c.Limits.PrivateIpsPerNetworkInterface));
        var vSwitch = s.VSwitches.Find(c.AccountId, eni.VSwitchId) ?? throw new EcsException(EcsErrors.VSwitchNotFound(eni.VSwitchId.Value));
        var inUse = s.AddressesInUse(c.AccountId, eni.VpcId);
        // Named addresses first, so that a free one picked for a null never takes an address named later.
        var named = wanted.OfType<string>().Select(t => LaunchInstances.Allocate(vSwitch.CidrBlock, inUse, t)).ToList();
        var next = 0;
        return [.. wanted.Select(t => t is null ? LaunchInstances.Allocate(vSwitch.CidrBlock, inUse, null) : named[next++])];
    }

    /// <summary><c>SecondaryPrivateIpAddressCount</c> (0 to the per-ENI limit) and the <c>Ipv6</c> parameters, which Palisade's vSwitches (without IPv6 blocks) refuse.</summary>
    public static int SecondaryCount(ParameterReader p, ActionContext c)
    {
        if (p.Has("Ipv6AddressCount") || p.List("Ipv6Address", 100).Count > 0)
            throw new EcsException(EcsErrors.EniIpv6NotAvailable());
        if (p.Has("Ipv4PrefixCount") || p.List("Ipv4Prefix", 100).Count > 0)
            throw new EcsException(EcsErrors.ParameterInvalid("Ipv4Prefix", "IPv4 prefixes on a network interface are not supported (see docs/compat.md)."));
        return p.Int("SecondaryPrivateIpAddressCount", 0, 0, c.Limits.PrivateIpsPerNetworkInterface);
    }
}
