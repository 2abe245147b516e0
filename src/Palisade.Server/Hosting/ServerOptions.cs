namespace Palisade.Server.Hosting;

/// <summary>The limits of ARCHITECTURE.md (semantics 10) and ecs-api.md §2.6, per account and configurable.</summary>
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

    /// <summary>How many members a group can hold, and in what unit (ecs-api.md §2.6).</summary>
    public (int Capacity, string Unit) GroupCapacity(Palisade.Domain.Groups.SecurityGroupType type, bool classic) =>
        type == Palisade.Domain.Groups.SecurityGroupType.Enterprise ? (AdvancedGroupNics, "NICs")
        : classic ? (ClassicGroupInstances, "instances")
        : (BasicVpcGroupPrivateAddresses, "private addresses");
}

/// <summary>
/// The request rate each AccessKey may use on one node. The default admits far more than an
/// automation client needs (ECS's own per-user limits are lower) and less than one node serves,
/// so that a runaway client is slowed before it slows everyone.
/// </summary>
public sealed record Throttling
{
    /// <summary>Sustained requests per second per AccessKey; 0 turns throttling off.</summary>
    public double RequestsPerSecond { get; init; } = 1000;

    /// <summary>How many requests a key may send at once after a quiet spell (the bucket's size).</summary>
    public int Burst { get; init; } = 2000;

    public static readonly Throttling Off = new() { RequestsPerSecond = 0 };
}

public sealed record ServerOptions
{
    public Limits Limits { get; init; } = new();

    public Throttling Throttling { get; init; } = new();

    /// <summary>
    /// How long action-trail events are kept (90 days, as ActionTrail's event history); null keeps
    /// them for ever. Older ones are deleted once an hour by <see cref="TrailRetention"/>.
    /// </summary>
    public TimeSpan? TrailRetention { get; init; } = TimeSpan.FromDays(90);

    /// <summary>Serve repeated reads from <see cref="ReadCache"/> while the store's revision stands.</summary>
    public bool CacheReads { get; init; } = true;

    /// <summary>The host name errors carry as <c>HostId</c> when the request names none.</summary>
    public string HostId { get; init; } = "ecs.aliyuncs.com";
}
