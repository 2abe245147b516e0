using Palisade.Domain.Groups;

namespace Palisade.Domain.Quotas;

/// <summary>
/// The limits of ARCHITECTURE.md (semantics 10) and ecs-api.md §2.6, per account and configurable:
/// the server enforces them on every write and the audit warns when a group or a NIC comes close,
/// so both read the one configured value.
/// </summary>
public sealed record Limits
{
    public int GroupsPerRegion { get; init; } = 100;
    public int RulesPerGroup { get; init; } = 200;
    public int RulesPerNic { get; init; } = 1000;
    public int GroupReferenceRulesPerGroup { get; init; } = 20;
    public int GroupsPerInstance { get; init; } = 5;
    public int BasicVpcGroupPrivateAddresses { get; init; } = 6000;
    public int ClassicGroupInstances { get; init; } = 1000;
    public int AdvancedGroupNics { get; init; } = 65536;
    public int PermissionsPerCall { get; init; } = 100;
    public int TagsPerResource { get; init; } = 20;
    public int VpcsPerRegion { get; init; } = 10;
    public int VSwitchesPerVpc { get; init; } = 150;
    public int InstancesPerCall { get; init; } = 100;

    /// <summary>
    /// Network interfaces one instance may have, its primary one included. ECS sets it by instance
    /// type (2 to 15 and more); Palisade has no instance types, so one configurable value stands for all.
    /// </summary>
    public int NetworkInterfacesPerInstance { get; init; } = 8;

    /// <summary>
    /// Secondary network interfaces (CreateNetworkInterface) an account may hold in a region, attached or
    /// not: 100 by default in ECS (CreateNetworkInterface, alibabacloud.com/help/doc-detail/58504). An
    /// instance's primary interface comes with the instance and counts against <see cref="InstancesPerRegion"/>.
    /// </summary>
    public int NetworkInterfacesPerRegion { get; init; } = 100;

    /// <summary>Private IPv4 addresses one network interface may hold, its primary one included (ECS: by instance type, 10 to 30 and more).</summary>
    public int PrivateIpsPerNetworkInterface { get; init; } = 10;

    /// <summary>EIPs an account may hold in a region (VPC: 20 by default per region, raised on request).</summary>
    public int EipsPerRegion { get; init; } = 20;

    /// <summary>AccessKeys an account may hold (RAM allows two per user; an account here is one tenant with its automation).</summary>
    public int AccessKeysPerAccount { get; init; } = 20;

    /// <summary>Instances an account may hold in a region: classic ones draw public addresses from one pool all tenants share.</summary>
    public int InstancesPerRegion { get; init; } = 1000;

    /// <summary>The longest name pattern (<c>InstanceName</c> filters) a Describe takes: ECS bounds instance names at 128 characters.</summary>
    public int MaxNamePatternLength { get; init; } = 128;

    /// <summary>Prefix lists an account may hold in a region (ECS: 100, ecs-api.md §2.6).</summary>
    public int PrefixListsPerRegion { get; init; } = 100;

    /// <summary>The largest MaxEntries of a prefix list (CreatePrefixList: 1 to 200).</summary>
    public int PrefixListMaxEntries { get; init; } = 200;

    /// <summary>Security groups one prefix list may be used by (ECS: 1,000 associations, ecs-api.md §2.6).</summary>
    public int PrefixListAssociations { get; init; } = 1000;

    /// <summary>Port-range lists an account may hold in a region (ECS documents a quota but no number; 100 as for prefix lists).</summary>
    public int PortRangeListsPerRegion { get; init; } = 100;

    /// <summary>The largest MaxEntries of a port-range list (CreatePortRangeList: 1 to 2000).</summary>
    public int PortRangeListMaxEntries { get; init; } = 2000;

    /// <summary>Entries one CreatePrefixList/ModifyPrefixList/…PortRangeList call may name (Entry.N, AddEntry.N, RemoveEntry.N: N up to 200).</summary>
    public int ListEntriesPerCall { get; init; } = 200;

    /// <summary>How many members a group can hold, and in what unit (ecs-api.md §2.6).</summary>
    public (int Capacity, string Unit) GroupCapacity(SecurityGroupType type, bool classic) =>
        type == SecurityGroupType.Enterprise ? (AdvancedGroupNics, "NICs")
        : classic ? (ClassicGroupInstances, "instances")
        : (BasicVpcGroupPrivateAddresses, "private addresses");
}
