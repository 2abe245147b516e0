using Palisade.Domain.Quotas;
using Palisade.Server.Actions.Vpcs;
using Palisade.Server.Hosting;

namespace Palisade.Server.Actions.Instances;

/// <summary>
/// RunInstances and CreateInstance: no virtual machine runs; the instance is a record with a NIC,
/// addresses and groups, moving through ECS's states. Any non-empty ImageId and InstanceType is
/// accepted. VPC instances take private addresses from their vSwitch; classic instances get an
/// intranet address (10.0.0.0/8) and an internet address (198.19.0.0/16, a benchmarking block that
/// never routes to the internet).
/// </summary>
internal abstract class LaunchInstances : WriteAction
{
    private static readonly Cidr ClassicIntranet = Cidr.Parse("10.0.0.0/8");
    private static readonly Cidr ClassicInternet = Cidr.Parse("198.19.0.0/16");

    /// <summary>RunInstances starts what it creates; CreateInstance leaves it Stopped.</summary>
    protected abstract bool Start { get; }

    protected abstract int Amount(ParameterReader p, Limits limits);

    protected abstract EcsObject Answer(IReadOnlyList<InstanceId> ids);

    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var region = c.Region();
        var imageId = p.Required("ImageId");
        var instanceType = p.Required("InstanceType");
        var amount = Amount(p, c.Limits);
        var single = p.Optional("SecurityGroupId");
        var several = p.List("SecurityGroupIds", c.Limits.GroupsPerInstance + 1);
        if (single is not null && several.Count > 0)
            throw new EcsException(EcsErrors.ParameterInvalid("SecurityGroupIds", "give SecurityGroupId or SecurityGroupIds.N, not both."));
        var groupTexts = single is not null ? [single] : several;
        if (groupTexts.Count == 0)
            throw new EcsException(EcsErrors.Missing("SecurityGroupId"));
        if (groupTexts.Count != groupTexts.Distinct(StringComparer.Ordinal).Count())
            throw new EcsException(EcsErrors.ParameterInvalid("SecurityGroupIds", "a group is given twice."));
        var vswText = p.Optional("VSwitchId");
        var zone = p.Optional("ZoneId");
        if (zone is not null && !region.Zones.Contains(zone))
            throw new EcsException(EcsErrors.ZoneNotFound(zone));
        var privateIpText = p.Optional("PrivateIpAddress");
        if (privateIpText is not null && amount > 1)
            throw new EcsException(EcsErrors.ParameterInvalid("PrivateIpAddress", "cannot be given when Amount is more than 1."));
        var name = p.Text("InstanceName", Texts.IsFreeName, EcsErrors.InstanceNameMalformed) ?? "";
        var description = p.Text("Description", Texts.IsInstanceDescription, EcsErrors.DescriptionInvalid) ?? "";
        // ECS: 0 to 100 Mbit/s; more than 0 gives a VPC instance a public address (a classic one always has its internet NIC's).
        var bandwidthOut = p.Int("InternetMaxBandwidthOut", 0, 0, 100);
        var tags = p.Tags(max: c.Limits.TagsPerResource);
        var resourceGroup = ResourceGroups.ResourceGroupIds.Of(p);

        return c.Write(s =>
        {
            // Per account, checked in the write: classic instances draw public addresses from one pool all tenants share.
            if (s.Instances.Count(c.AccountId, region.RegionId) + amount > c.Limits.InstancesPerRegion)
                throw new EcsException(EcsErrors.InstanceQuota(c.Limits.InstancesPerRegion));
            var groups = groupTexts.Select(g => s.Group(c, g)).ToList();
            var vpcGroup = groups[0].VpcId;
            VSwitchRecord? vSwitch = null;
            if (vpcGroup is not null)
            {
                vSwitch = s.VSwitch(c, vswText ?? throw new EcsException(EcsErrors.VSwitchNeeded()));
                if (vSwitch.VpcId != vpcGroup)
                    throw new EcsException(EcsErrors.GroupAndVSwitchMismatch());
                if (zone is not null && zone != vSwitch.ZoneId)
                    throw new EcsException(EcsErrors.ParameterInvalid("ZoneId", $"the vSwitch is in zone {vSwitch.ZoneId}."));
            }
            else if (vswText is not null)
            {
                throw new EcsException(EcsErrors.GroupAndVSwitchMismatch());
            }
            var network = vpcGroup is null ? NetworkType.Classic : NetworkType.Vpc;

            var inUse = s.AddressesInUse(c.AccountId, vpcGroup);
            var ids = new List<InstanceId>();
            var alreadyIn = Array.Empty<SecurityGroupId>();
            for (var n = 0; n < amount; n++)
            {
                Membership.Check(s, c, network, vpcGroup, groups, alreadyIn, runInstances: true);
                var privateAddress = vSwitch is not null
                    ? Allocate(vSwitch.CidrBlock, inUse, privateIpText)
                    : Allocate(ClassicIntranet, inUse, privateIpText);
                var publicAddresses = network == NetworkType.Classic ? [AllocatePublic(s)]
                    : bandwidthOut > 0 ? [Addresses.PublicPool.Allocate(s, c)]
                    : Array.Empty<IpAddress>();
                var id = InstanceId.Parse(c.NewId(InstanceId.Prefix, region));
                var instanceName = name.Length > 0 ? name : id.Value;
                s.Instances.Insert(new InstanceRecord(id, c.AccountId, region.RegionId, vSwitch?.ZoneId ?? zone ?? region.Zones[0], instanceName, description,
                    network, vpcGroup, vSwitch?.Id, Start ? "Running" : "Stopped", imageId, instanceType,
                    [privateAddress], publicAddresses, [.. groups.Select(g => g.Id)], c.Now, resourceGroup));
                if (vSwitch is not null)
                {
                    // Every VPC instance has its primary ENI; it holds the instance's addresses and groups.
                    s.NetworkInterfaces.Insert(new NetworkInterfaceRecord(NetworkInterfaceId.Parse(c.NewId(NetworkInterfaceId.Prefix, region)), c.AccountId, region.RegionId,
                        vSwitch.ZoneId, vSwitch.VpcId, vSwitch.Id, id, NetworkInterfaceType.Primary, "", "", [privateAddress], [.. groups.Select(g => g.Id)], c.Now, resourceGroup));
                }
                foreach (var tag in tags)
                    s.SetTag(c.AccountId, TaggedResourceTypes.Instance, id.Value, tag);
                ids.Add(id);
            }
            return Answer(ids);
        });
    }

    /// <summary>A free address of <paramref name="block"/> (the one <paramref name="wanted"/>, when given), marked as in use.</summary>
    internal static IpAddress Allocate(Cidr block, HashSet<IpAddress> inUse, string? wanted)
    {
        if (wanted is not null)
        {
            if (!IpAddress.TryParse(wanted, out var address) || address.IsV6 || !VpcRules.Usable(block).Contains(address))
                throw new EcsException(EcsErrors.PrivateIpInvalid(wanted));
            if (!inUse.Add(address))
                throw new EcsException(EcsErrors.PrivateIpTaken(wanted));
            return address;
        }
        foreach (var candidate in VpcRules.Usable(block))
        {
            if (inUse.Add(candidate))
                return candidate;
        }
        throw new EcsException(EcsErrors.NoAddressLeft());
    }

    private static IpAddress AllocatePublic(IStoreSession s)
    {
        // Public addresses are unique across accounts: allocations of all accounts take turns (the
        // table's unique key is the last guard).
        s.SerializeWith("public-addresses");
        for (var attempt = 0; attempt < 64; attempt++)
        {
            var candidate = new IpAddress(false, ClassicInternet.First + (UInt128)System.Security.Cryptography.RandomNumberGenerator.GetInt32(1, 65534));
            if (!s.PublicAddressInUse(candidate))
                return candidate;
        }
        throw new EcsException(EcsErrors.Unavailable());
    }
}

internal sealed class RunInstances : LaunchInstances
{
    protected override bool Start => true;

    protected override int Amount(ParameterReader p, Limits limits) =>
        p.Int("Amount", 1, 1, limits.InstancesPerCall, v => EcsErrors.AmountInvalid(v, limits.InstancesPerCall));

    protected override EcsObject Answer(IReadOnlyList<InstanceId> ids) => new()
    {
        { "InstanceIdSets", EcsList.Of("InstanceIdSet", ids.Select(i => i.Value)) },
        { "OrderId", "" },
        { "TradePrice", 0L },
    };
}

internal sealed class CreateInstance : LaunchInstances
{
    protected override bool Start => false;

    protected override int Amount(ParameterReader p, Limits limits) => 1;

    protected override EcsObject Answer(IReadOnlyList<InstanceId> ids) => new()
    {
        { "InstanceId", ids[0].Value },
        { "OrderId", "" },
        { "TradePrice", 0L },
    };
}
