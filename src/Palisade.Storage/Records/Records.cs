using Palisade.Domain.Groups;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;

namespace Palisade.Storage.Records;

/// <summary>A tenant. Every resource belongs to exactly one account; requests act as the account of their AccessKey.</summary>
public sealed record AccountRecord(long AccountId, string Name, DateTimeOffset CreatedAt);

/// <summary>
/// An AccessKey. The secret is kept encrypted (<see cref="SecretCiphertext"/>): HMAC verification
/// needs the plain secret, so it cannot be hashed; see <c>SecretProtector</c>.
/// </summary>
public sealed record AccessKeyRecord(string AccessKeyId, long AccountId, byte[] SecretCiphertext, AccessKeyStatus Status, bool ReadOnly, DateTimeOffset CreatedAt);

public enum AccessKeyStatus
{
    Active,
    Inactive,
}

public sealed record VpcRecord(VpcId Id, long AccountId, string RegionId, Cidr CidrBlock, string Name, string Description, string Status, DateTimeOffset CreatedAt);

public sealed record VSwitchRecord(VSwitchId Id, long AccountId, string RegionId, VpcId VpcId, string ZoneId, Cidr CidrBlock, string Name, string Description, string Status, DateTimeOffset CreatedAt);

/// <summary>A security group without its rules (those are read separately, in their order).</summary>
public sealed record GroupRecord(
    SecurityGroupId Id,
    long AccountId,
    string RegionId,
    VpcId? VpcId,
    string Name,
    string Description,
    SecurityGroupType Type,
    InnerAccessPolicy InnerAccessPolicy,
    DateTimeOffset CreatedAt,
    string ResourceGroupId = "")
{
    public bool IsClassic => VpcId is null;
}

/// <summary>An instance and its primary NIC: addresses in order, and its groups in the order they were joined.</summary>
public sealed record InstanceRecord(
    InstanceId Id,
    long AccountId,
    string RegionId,
    string ZoneId,
    string Name,
    string Description,
    NetworkType NetworkType,
    VpcId? VpcId,
    VSwitchId? VSwitchId,
    string Status,
    string ImageId,
    string InstanceType,
    IReadOnlyList<IpAddress> PrivateAddresses,
    IReadOnlyList<IpAddress> PublicAddresses,
    IReadOnlyList<SecurityGroupId> SecurityGroupIds,
    DateTimeOffset CreatedAt,
    string ResourceGroupId = "");

/// <summary>Whether an ENI is an instance's primary one (made and deleted with it) or a secondary one (made on its own).</summary>
public enum NetworkInterfaceType
{
    Primary,
    Secondary,
}

/// <summary>
/// A network interface (ENI). A primary ENI's addresses and groups are its instance's (the
/// instance record holds them); a secondary ENI holds its own. <see cref="InstanceId"/> is null
/// while it is <c>Available</c> (attached to nothing).
/// </summary>
public sealed record NetworkInterfaceRecord(
    NetworkInterfaceId Id,
    long AccountId,
    string RegionId,
    string ZoneId,
    VpcId VpcId,
    VSwitchId VSwitchId,
    InstanceId? InstanceId,
    NetworkInterfaceType Type,
    string Name,
    string Description,
    IReadOnlyList<IpAddress> PrivateAddresses,
    IReadOnlyList<SecurityGroupId> SecurityGroupIds,
    DateTimeOffset CreatedAt,
    string ResourceGroupId = "")
{
    /// <summary>ECS's status: <c>InUse</c> when attached, <c>Available</c> when not (Palisade attaches and detaches at once).</summary>
    public string Status => InstanceId is null ? "Available" : "InUse";

    /// <summary>A primary ENI's MAC is its instance's, the one the agent pins to the instance's port; a secondary ENI's follows its own ID.</summary>
    public string MacAddress => (Type == NetworkInterfaceType.Primary && InstanceId is { } instance
        ? Palisade.Domain.Networking.MacAddress.ForInstance(instance)
        : Palisade.Domain.Networking.MacAddress.Of(Id)).ToString();
}

/// <summary>What an EIP is associated with (the VPC API's <c>InstanceType</c>).</summary>
public enum EipTargetType
{
    EcsInstance,
    NetworkInterface,
}

/// <summary>An elastic IP address; <see cref="TargetId"/> (an instance or ENI ID) is null while it is <c>Available</c>.</summary>
public sealed record EipRecord(
    string AllocationId,
    long AccountId,
    string RegionId,
    IpAddress Address,
    string Name,
    string Description,
    int Bandwidth,
    string InternetChargeType,
    string ResourceGroupId,
    EipTargetType? TargetType,
    string? TargetId,
    DateTimeOffset AllocatedAt)
{
    public string Status => TargetId is null ? "Available" : "InUse";
}

/// <summary>The kinds of resources that carry tags (ECS <c>ResourceType</c>, lower-case).</summary>
public static class TaggedResourceTypes
{
    public const string SecurityGroup = "securitygroup";
    public const string Instance = "instance";
    public const string Vpc = "vpc";
    public const string VSwitch = "vswitch";
    public const string PrefixList = "prefixlist";
    public const string PortRangeList = "portrangelist";
    public const string NetworkInterface = "eni";
}

/// <summary>The answer an earlier request with the same ClientToken got, to replay it.</summary>
public sealed record ClientTokenRecord(long AccountId, string Token, string Action, string RequestHash, string ResponseJson, DateTimeOffset CreatedAt);

/// <summary>One committed change, in the global order of the store.</summary>
public sealed record RevisionRecord(long Revision, long? AccountId, string Action, DateTimeOffset CommittedAt);

/// <summary>
/// Which host, and which interface on it, carries a NIC (a Palisade extension): one network interface
/// (<see cref="NetworkInterfaceId"/>, the key) of instance <see cref="InstanceId"/>, its primary ENI or a
/// secondary one. A classic-network instance has no ENI: its binding has no NetworkInterfaceId.
/// </summary>
public sealed record HostBindingRecord(InstanceId InstanceId, long AccountId, string HostName, string InterfaceName, DateTimeOffset BoundAt)
{
    /// <summary>The ENI the interface carries; null only for a classic instance's NIC.</summary>
    public NetworkInterfaceId? NetworkInterfaceId { get; init; }

    /// <summary>How the NIC is named to its tenant, the operator and the agent: its ENI ID, or a classic instance's ID.</summary>
    public string Nic => NetworkInterfaceId?.Value ?? InstanceId.Value;
}

/// <summary>A host as the operator declared it: what it may carry (issue 18).</summary>
public sealed record HostRecord(string HostName, Palisade.Domain.Hosts.HostDeclaration Declaration, DateTimeOffset CreatedAt);

/// <summary>A host credential: an AccessKey that may call only its host's agent actions; no account owns it.</summary>
public sealed record HostCredentialRecord(string AccessKeyId, string HostName, byte[] SecretCiphertext, AccessKeyStatus Status, DateTimeOffset CreatedAt)
{
    /// <summary>When it last signed a request a server admitted, to the minute (bookkeeping, migration 013); null if never.</summary>
    public DateTimeOffset? LastUsedAt { get; init; }
}

/// <summary>What a host's agent last said it enforces for one NIC.</summary>
public sealed record AgentReportRecord(long AccountId, string HostName, InstanceId InstanceId, long AppliedRevision, DateTimeOffset ReportedAt)
{
    /// <summary>The ENI reported (issue 16: a host enforces each ENI on its own port); null for a classic instance's NIC.</summary>
    public NetworkInterfaceId? NetworkInterfaceId { get; init; }
}

/// <summary>
/// Which status report of a host its rows are (issue 17, twentieth session): the host revision its agent
/// applied and when the report arrived at a node. Of two reports of one host, the newer is the one with the
/// higher revision, or the same and the later arrival (an agent sends its reports one after another).
/// </summary>
public sealed record HostReportMark(string HostName, long AppliedRevision, DateTimeOffset Arrived)
{
    /// <summary>The arrival in microseconds since 1970, as the store keeps it.</summary>
    public long ArrivedMicroseconds => (Arrived.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    /// <summary>Whether this report is at least as new as <paramref name="other"/> (so it replaces it).</summary>
    public bool NotOlderThan(HostReportMark other) =>
        AppliedRevision > other.AppliedRevision || (AppliedRevision == other.AppliedRevision && ArrivedMicroseconds >= other.ArrivedMicroseconds);
}

/// <summary>What one host's counters said one ECS rule decided in one time bucket: packets, bytes, and when the last report with a hit came.</summary>
public sealed record RuleUsageRecord(long AccountId, string RuleId, string HostName, DateTimeOffset BucketStart, long Packets, long Bytes, DateTimeOffset LastHitAt);

/// <summary>What one report added to one rule's count on a host.</summary>
public sealed record RuleUsageDelta(string RuleId, long Packets, long Bytes);

/// <summary>A host whose agent reports hit counts for the account: since when without a gap, and its latest report.</summary>
public sealed record UsageHostRecord(long AccountId, string HostName, DateTimeOffset CountingSince, DateTimeOffset LastReportAt);

/// <summary>A mutating call as the action trail keeps it, before it has an event ID.</summary>
public sealed record ActionTrailEntry(
    DateTimeOffset EventTime,
    long AccountId,
    string AccessKeyId,
    string Action,
    string ApiVersion,
    string RequestId,
    string Parameters,
    int HttpStatus,
    string ResultCode)
{
    /// <summary>The result code of a call that succeeded.</summary>
    public const string Ok = "OK";
}

/// <summary>One event of the action trail; <see cref="Revision"/> is the change it committed, null when nothing changed.</summary>
public sealed record ActionTrailRecord(long EventId, ActionTrailEntry Entry, long? Revision);

/// <summary>Which events to list: the account's, newest first, before <see cref="BeforeEventId"/> when paging.</summary>
public sealed record ActionTrailQuery(long AccountId, DateTimeOffset? From = null, DateTimeOffset? To = null, string? Action = null, long? BeforeEventId = null, int Max = 20);

/// <summary>One CIDR block of a prefix list, with its description.</summary>
public sealed record PrefixListEntryRecord(Cidr Cidr, string Description);

/// <summary>A prefix list (ECS 2014-05-26): an account's named set of CIDR blocks of one address family, at most <see cref="MaxEntries"/> of them.</summary>
public sealed record PrefixListRecord(
    PrefixListId Id,
    long AccountId,
    string RegionId,
    bool IsV6,
    int MaxEntries,
    string Name,
    string Description,
    string ResourceGroupId,
    DateTimeOffset CreatedAt,
    IReadOnlyList<PrefixListEntryRecord> Entries)
{
    public string AddressFamily => IsV6 ? "IPv6" : "IPv4";
}

/// <summary>One port range of a port-range list, with its description.</summary>
public sealed record PortRangeListEntryRecord(PortRange Range, string Description);

/// <summary>A port-range list (ECS 2014-05-26): an account's named set of port ranges, at most <see cref="MaxEntries"/> of them.</summary>
public sealed record PortRangeListRecord(
    PortRangeListId Id,
    long AccountId,
    string RegionId,
    int MaxEntries,
    string Name,
    string Description,
    string ResourceGroupId,
    DateTimeOffset CreatedAt,
    IReadOnlyList<PortRangeListEntryRecord> Entries);

/// <summary>What one host sampled of one flow in one minute: new connections to a NIC from a source address, by protocol and destination port (0 for protocols without ports).</summary>
public sealed record ObservedFlowRecord(InstanceId InstanceId, string SourceIp, string IpProtocol, int Port, DateTimeOffset MinuteStart, long Connections)
{
    /// <summary>The ENI that saw the flow (primary or secondary); null only for a classic instance's NIC, which has none.</summary>
    public NetworkInterfaceId? NetworkInterfaceId { get; init; }
}

/// <summary>A flow added up over its minutes and hosts: connections, first and last minute seen.</summary>
public sealed record ObservedFlowSummary(InstanceId InstanceId, string SourceIp, string IpProtocol, int Port, long Connections, DateTimeOffset FirstSeen, DateTimeOffset LastSeen)
{
    /// <summary>The ENI that saw the flow (primary or secondary); null only for a classic instance's NIC, which has none.</summary>
    public NetworkInterfaceId? NetworkInterfaceId { get; init; }
}

/// <summary>A host whose agent samples flows for the account: since when without a gap, its latest report, connections it could not keep.</summary>
public sealed record FlowHostRecord(long AccountId, string HostName, DateTimeOffset SamplingSince, DateTimeOffset LastReportAt, long Dropped);
