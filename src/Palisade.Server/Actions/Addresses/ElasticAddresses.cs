namespace Palisade.Server.Actions.Addresses;

/// <summary>
/// Elastic IP addresses through the VPC API (2016-04-28): allocated from the server's public pool,
/// associated with a VPC instance (<c>EcsInstance</c>) or an ENI (<c>NetworkInterface</c>), one per
/// instance or ENI. An instance's EIP (or its primary ENI's) is how the internet reaches it, as its
/// public address is: the audit, reach and what-if count it so.
/// </summary>
internal static class Eips
{
    public const string Prefix = "eip-";

    /// <summary>The EIP through which the internet reaches an instance: its own, or its primary ENI's.</summary>
    public static EipRecord? OfInstance(IStoreSession s, InstanceRecord instance) =>
        s.EipOf(instance.Id.Value)
        ?? s.NetworkInterfacesOf(instance.Id).Where(e => e.Type == NetworkInterfaceType.Primary).Select(e => s.EipOf(e.Id.Value)).FirstOrDefault(e => e is not null);

    /// <summary><c>AllocationId</c> of a request in a region (the region is judged first).</summary>
    public static string AllocationIdParameter(ActionContext c)
    {
        c.Region();
        return c.Parameters.Required("AllocationId");
    }

    /// <summary>A change of one of the caller's EIPs: found and changed in one write.</summary>
    public static EcsObject Write(ActionContext c, string allocationId, Func<IStoreSession, EipRecord, EcsObject> change) =>
        c.Write(s => change(s, Find(s, c, allocationId)));

    public static EipRecord Find(IStoreSession s, ActionContext c, string id) =>
        s.Eips.Find(c.AccountId, id) is { } e && (c.Parameters.Optional("RegionId") is not { } region || region == e.RegionId)
            ? e : throw new EcsException(EcsErrors.EipNotFound(id));

    /// <summary>The instance or ENI an association names, checked: the caller's, in a VPC, with no public address or EIP already.</summary>
    public static (EipTargetType Type, string Id) Target(IStoreSession s, ActionContext c, string typeText, string id)
    {
        if (!Enum.TryParse<EipTargetType>(typeText, ignoreCase: false, out var type))
            throw new EcsException(EcsErrors.EipTargetTypeInvalid(typeText));
        if (type == EipTargetType.EcsInstance)
        {
            var instance = s.Instance(c, id);
            if (instance.NetworkType != NetworkType.Vpc)
                throw new EcsException(EcsErrors.ParameterInvalid("InstanceId", "an EIP is associated with a VPC instance; a classic instance has its internet address."));
            if (instance.Status is not ("Running" or "Stopped"))
                throw new EcsException(EcsErrors.InstanceStatusWrong(instance.Status, "Running or Stopped"));
            if (instance.PublicAddresses.Count > 0 || OfInstance(s, instance) is not null)
                throw new EcsException(EcsErrors.EipTargetTaken(id));
            return (type, instance.Id.Value);
        }
        var eni = s.NetworkInterface(c, id);
        var owner = eni.Type == NetworkInterfaceType.Primary && eni.InstanceId is { } o ? s.Instances.Find(c.AccountId, o) : null;
        if (s.EipOf(eni.Id.Value) is not null || (owner is not null && (owner.PublicAddresses.Count > 0 || s.EipOf(owner.Id.Value) is not null)))
            throw new EcsException(EcsErrors.EipTargetTaken(id));
        return (type, eni.Id.Value);
    }

    public static EcsObject View(EipRecord e) => new()
    {
        { "AllocationId", e.AllocationId },
        { "IpAddress", e.Address.ToString() },
        { "Status", e.Status },
        { "InstanceId", e.TargetId ?? "" },
        { "InstanceType", e.TargetType?.ToString() ?? "" },
        { "InstanceRegionId", e.TargetId is null ? "" : e.RegionId },
        { "RegionId", e.RegionId },
        { "Name", e.Name },
        // The VPC API spells it so.
        { "Descritpion", e.Description },
        { "Bandwidth", e.Bandwidth.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        { "InternetChargeType", e.InternetChargeType },
        { "ChargeType", "PostPaid" },
        { "AllocationTime", Storage.Time.Format(e.AllocatedAt) },
        { "ResourceGroupId", e.ResourceGroupId },
        { "PrivateIpAddress", "" },
        { "Mode", "NAT" },
        { "ISP", "BGP" },
        { "Netmode", "public" },
        { "OperationLocks", EcsList.Of("LockReason", Array.Empty<EcsObject>()) },
        { "Tags", EcsList.Of("Tag", Array.Empty<EcsObject>()) },
    };
}

internal sealed class AllocateEipAddress() : WriteAction(ApiVersions.Vpc)
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var region = c.Region();
        var bandwidthText = p.Optional("Bandwidth") ?? "5";
        if (!int.TryParse(bandwidthText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var bandwidth) || bandwidth is < 1 or > 500)
            throw new EcsException(EcsErrors.EipBandwidthInvalid(bandwidthText));
        var charge = p.Optional("InternetChargeType") ?? "PayByBandwidth";
        if (charge is not ("PayByBandwidth" or "PayByTraffic"))
            throw new EcsException(EcsErrors.EipChargeTypeInvalid(charge));
        var name = p.Text("Name", n => char.IsLetter(n[0]) && Texts.IsFreeName(n), EcsErrors.EipNameMalformed) ?? "";
        var description = p.Text("Description", Texts.IsVpcDescription, EcsErrors.DescriptionInvalid) ?? "";
        var resourceGroup = ResourceGroups.ResourceGroupIds.Of(p);
        return c.Write(s =>
        {
            if (s.Eips.List(c.AccountId, region.RegionId).Count >= c.Limits.EipsPerRegion)
                throw new EcsException(EcsErrors.EipQuota(c.Limits.EipsPerRegion));
            var eip = new EipRecord(c.NewId(Eips.Prefix, region), c.AccountId, region.RegionId, PublicPool.Allocate(s, c), name, description, bandwidth, charge,
                resourceGroup, null, null, c.Now);
            s.Eips.Insert(eip);
            return new EcsObject
            {
                { "AllocationId", eip.AllocationId },
                { "EipAddress", eip.Address.ToString() },
                { "ResourceGroupId", eip.ResourceGroupId },
                { "OrderId", "" },
            };
        });
    }
}

internal sealed class AssociateEipAddress() : WriteAction(ApiVersions.Vpc)
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var allocation = Eips.AllocationIdParameter(c);
        var target = p.Required("InstanceId");
        var type = p.Optional("InstanceType") ?? (target.StartsWith(NetworkInterfaceId.Prefix, StringComparison.Ordinal) ? nameof(EipTargetType.NetworkInterface) : nameof(EipTargetType.EcsInstance));
        var privateIp = p.Optional("PrivateIpAddress");
        return Eips.Write(c, allocation, (s, eip) =>
        {
            if (eip.TargetId is not null)
                throw new EcsException(EcsErrors.EipStatusWrong(eip.Status, "Available"));
            var (kind, id) = Eips.Target(s, c, type, target);
            // Palisade translates an EIP to its target's primary private address; naming another is refused, not ignored.
            if (privateIp is not null)
            {
                var primary = kind == EipTargetType.EcsInstance
                    ? s.Instances.Find(c.AccountId, InstanceId.Parse(id))!.PrivateAddresses.FirstOrDefault()
                    : s.NetworkInterfaces.Find(c.AccountId, NetworkInterfaceId.Parse(id))!.PrivateAddresses.FirstOrDefault();
                if (primary.ToString() != privateIp)
                    throw new EcsException(EcsErrors.ParameterInvalid("PrivateIpAddress", $"'{privateIp}' is not the primary private address of {id}; Palisade associates an EIP with that one only (see docs/compat.md)."));
            }
            s.SetEipTarget(eip.AllocationId, kind, id);
            return [];
        });
    }
}

internal sealed class UnassociateEipAddress() : WriteAction(ApiVersions.Vpc)
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var allocation = Eips.AllocationIdParameter(c);
        var target = p.Optional("InstanceId");
        return Eips.Write(c, allocation, (s, eip) =>
        {
            if (eip.TargetId is null)
                throw new EcsException(EcsErrors.EipStatusWrong(eip.Status, "InUse"));
            if (target is not null && target != eip.TargetId)
                throw new EcsException(EcsErrors.ParameterInvalid("InstanceId", $"the EIP is associated with {eip.TargetId}, not '{target}'."));
            s.SetEipTarget(eip.AllocationId, null, null);
            return [];
        });
    }
}

internal sealed class ReleaseEipAddress() : WriteAction(ApiVersions.Vpc)
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        return Eips.Write(c, Eips.AllocationIdParameter(c), (s, eip) =>
        {
            if (eip.TargetId is not null)
                throw new EcsException(EcsErrors.EipStatusWrong(eip.Status, "Available (unassociated)"));
            s.Eips.Delete(eip.AllocationId);
            return [];
        });
    }
}

internal sealed class DescribeEipAddresses() : ReadAction(ApiVersions.Vpc)
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var region = c.Region();
        var filter = new Filter<EipRecord>(p).AnyOfCommaSeparated("AllocationId", e => e.AllocationId).AnyOfCommaSeparated("EipAddress", e => e.Address.ToString())
            .OneOf("Status", ["Associating", "Unassociating", "InUse", "Available", "Releasing"], e => e.Status)
            .Equal("AssociatedInstanceId", e => e.TargetId).Equal("AssociatedInstanceType", e => e.TargetType?.ToString()).Equal("EipName", e => e.Name);
        var paging = Paging.Read(p, 10, 100, 100);
        return c.Read(s =>
        {
            var all = s.Eips.List(c.AccountId, region.RegionId).Where(filter.Keeps).ToList();
            return paging.Answer(all, "EipAddresses", page => EcsList.Of("EipAddress", page.Select(Eips.View)));
        });
    }
}
