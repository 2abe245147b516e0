using System.Collections.Immutable;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;

namespace Palisade.Agent.Rendering;

/// <summary>The address family a match or set is about: <c>ip</c> or <c>ip6</c>.</summary>
public enum AddressFamily
{
    V4,
    V6,
}

/// <summary>Which address of the packet a match reads.</summary>
public enum AddressField
{
    Source,
    Destination,
}

/// <summary>
/// What a per-NIC chain does with a packet a rule matches. Egress chains <see cref="Return"/> on
/// accept, so the destination NIC's ingress chain still judges the packet (both must accept).
/// </summary>
public enum NftVerdict
{
    Accept,
    Drop,
    Return,
}

/// <summary>A set of addresses: named (a group's members, updated by element) or written in the rule.</summary>
public abstract record AddressSource
{
    private AddressSource()
    {
    }

    public sealed record Named(string SetName) : AddressSource;

    public sealed record Inline(ImmutableArray<Cidr> Blocks) : AddressSource
    {
        public bool Equals(Inline? other) => other is not null && Blocks.SequenceEqual(other.Blocks);

        public override int GetHashCode() => Blocks.Aggregate(17, (h, b) => HashCode.Combine(h, b));
    }
}

/// <summary>A rule of a per-NIC chain; rules are per family: an IPv4 rule never sees an IPv6 packet.</summary>
public abstract record NftChainRule(AddressFamily Family, AddressField PeerField, NftVerdict Verdict, string Comment);

/// <summary>
/// One rule: every field the packet must match (absent fields match anything) and the verdict.
/// </summary>
public sealed record NftRule(
    AddressFamily Family,
    AddressField PeerField,
    AddressSource? Peer,
    IpProtocol Protocol,
    ImmutableArray<PortRange> DestinationPorts,
    PortRange? SourcePorts,
    Cidr? Local,
    NftVerdict Verdict,
    string Comment) : NftChainRule(Family, PeerField, Verdict, Comment)
{
    /// <summary>Whether the rule names the protocol (ALL does not).</summary>
    public bool MatchesProtocol => Protocol != IpProtocol.All;

    /// <summary>The ECS rule (SecurityGroupRuleId) whose counter the packets this rule decides move; null for what no ECS rule says (inner access).</summary>
    public string? CountedRule { get; init; }

    public bool Equals(NftRule? other) =>
        other is not null && Family == other.Family && PeerField == other.PeerField && Equals(Peer, other.Peer) && Protocol == other.Protocol
        && DestinationPorts.SequenceEqual(other.DestinationPorts) && SourcePorts == other.SourcePorts && Local == other.Local
        && Verdict == other.Verdict && Comment == other.Comment && CountedRule == other.CountedRule;

    public override int GetHashCode() => HashCode.Combine(Family, PeerField, Peer, Protocol, DestinationPorts.Length, Verdict, Comment);
}

/// <summary>What the elements of a <see cref="NftRunSet"/> hold besides the peer block.</summary>
public enum RunSetKind
{
    /// <summary>Peer only: rules of protocol ALL.</summary>
    Peer,

    /// <summary>Peer and protocol: ICMP, GRE, and TCP/UDP on every port.</summary>
    PeerProtocol,

    /// <summary>Peer, protocol and destination port range: TCP and UDP.</summary>
    PeerProtocolPort,
}

/// <summary>
/// One element of a run set: a peer block, and the protocol and destination ports when the kind has
/// them (as plain numbers: a piece of the port line may start at 0, which no ECS range names alone),
/// and the ECS rule (<see cref="Owner"/>, a SecurityGroupRuleId) that decides its packets, whose counter they move.
/// </summary>
public readonly record struct NftElement(Cidr Peer, IpProtocol Protocol, int PortLow, int PortHigh, string Owner)
{
    public bool AllPorts => PortLow == 0 && PortHigh == PortRange.MaxPort;
}

/// <summary>
/// Many rules of one verdict in one lookup: a named map of concatenated (peer . protocol . ports)
/// intervals to the counter of the ECS rule each decides for (<c>counter name KEY map @set</c>: one
/// lookup both counts and matches; a miss matches nothing). The kernel refuses overlapping
/// intervals, so the elements are made disjoint first.
/// </summary>
public sealed record NftRunSet(AddressFamily Family, AddressField PeerField, string SetName, RunSetKind Kind, ImmutableArray<NftElement> Elements, NftVerdict Verdict, string Comment)
    : NftChainRule(Family, PeerField, Verdict, Comment)
{
    public bool Equals(NftRunSet? other) =>
        other is not null && Family == other.Family && PeerField == other.PeerField && SetName == other.SetName && Kind == other.Kind
        && Elements.SequenceEqual(other.Elements) && Verdict == other.Verdict && Comment == other.Comment;

    public override int GetHashCode() => HashCode.Combine(SetName, Kind, Elements.Length, Verdict);
}

/// <summary>The ingress or egress chain of one NIC: its rules in order, then the default for what none matched.</summary>
public sealed record NftChain(string Name, ImmutableArray<NftChainRule> Rules, NftVerdict Default)
{
    /// <summary>The ECS rules this chain counts for, each once, in order of first appearance.</summary>
    public IEnumerable<string> CountedRules => Rules
        .SelectMany(r => r switch
        {
            NftRule { CountedRule: { } id } => [id],
            NftRunSet run => run.Elements.Select(e => e.Owner),
            _ => [],
        })
        .Distinct(StringComparer.Ordinal);

    public bool Equals(NftChain? other) => other is not null && Name == other.Name && Rules.SequenceEqual(other.Rules) && Default == other.Default;

    public override int GetHashCode() => HashCode.Combine(Name, Rules.Length);
}

/// <summary>
/// A named set of addresses that rules look up and that changes by element, not by rule: the
/// members of one group in one network (host addresses), or the blocks of one prefix list
/// (<see cref="Interval"/>: CIDR blocks, none inside another, as the kernel's interval sets require).
/// </summary>
public sealed record NftAddressSet(string Name, AddressFamily Family, ImmutableArray<Cidr> Elements, bool Interval = false)
{
    /// <summary>A set of host addresses (a group's members).</summary>
    public static NftAddressSet Hosts(string name, AddressFamily family, IEnumerable<IpAddress> addresses) =>
        new(name, family, [.. addresses.Select(Cidr.Host)]);

    public bool Contains(IpAddress address) => Elements.Any(e => e.Contains(address));

    public bool Equals(NftAddressSet? other) =>
        other is not null && Name == other.Name && Family == other.Family && Interval == other.Interval && Elements.SequenceEqual(other.Elements);

    public override int GetHashCode() => HashCode.Combine(Name, Family, Elements.Length);
}

/// <summary>
/// A NIC this host enforces: its port (the host-side interface it sits on), its pinned MAC, its
/// addresses, its network (<see cref="Network"/>: a VPC, or the classic network) with that network's
/// conntrack <see cref="Zone"/> on this host, and its two chains. The kernel finds a NIC by its port
/// and MAC, never by address, so NICs of different networks may share addresses.
/// </summary>
public sealed record NftNic(InstanceId InstanceId, string InterfaceName, MacAddress Mac, string Network, int Zone,
    ImmutableArray<IpAddress> Addresses, NftChain Ingress, NftChain Egress)
{
    /// <summary>Which NIC of the instance this is: its primary (null ENI, or its primary ENI's ID) or a secondary ENI (issue 16 item 6).</summary>
    public NicRef Ref { get; init; } = new(InstanceId, null, Secondary: false);

    /// <summary>The NIC's name in the kernel's chains and comments (<see cref="NicRef.Name"/>).</summary>
    public string Name => Ref.Name;

    public bool Equals(NftNic? other) =>
        other is not null && InstanceId == other.InstanceId && Ref == other.Ref && InterfaceName == other.InterfaceName && Mac == other.Mac && Network == other.Network
        && Zone == other.Zone && Addresses.SequenceEqual(other.Addresses) && Ingress.Equals(other.Ingress) && Egress.Equals(other.Egress);

    public override int GetHashCode() => HashCode.Combine(InstanceId, InterfaceName, Mac);
}

/// <summary>
/// A NIC a host carries: an ENI of an instance, or the instance's primary NIC when the binding names no
/// ENI (a classic instance, an older server). A secondary ENI is its own NIC with its own groups,
/// addresses, MAC and port. <see cref="Name"/> is how the kernel's chains name it: the instance ID for
/// its primary NIC (whether bound by instance or by primary ENI, so its chains keep their names), the
/// ENI ID for a secondary ENI.
/// </summary>
public readonly record struct NicRef(InstanceId InstanceId, NetworkInterfaceId? NetworkInterfaceId, bool Secondary)
{
    public string Name => Secondary && NetworkInterfaceId is { } eni ? eni.Value : InstanceId.Value;

    public override string ToString() => Secondary ? $"{NetworkInterfaceId} of {InstanceId}" : InstanceId.Value;
}

/// <summary>
/// Everything the agent programs into the kernel for one host at one revision: the group-member
/// sets and the NICs with their chains. The fixed parts (base chains, dispatch maps, anti-spoofing)
/// follow from these. Pure data, compared to decide between an element update and a full apply.
/// </summary>
public sealed record HostRuleset(long Revision, ImmutableArray<NftAddressSet> Sets, ImmutableArray<NftNic> Nics, ImmutableArray<string> Problems)
{
    public static HostRuleset Closed { get; } = new(0, [], [], []);

    /// <summary>
    /// Whether the kernel counts, per ECS rule and NIC, the packets each rule decides (issue 20: named
    /// counters on the rules, run sets as maps to counters). Off (<c>palisade agent --no-rule-counters</c>)
    /// the same rules are plain rules and set lookups, and the agent reports no usage.
    /// </summary>
    public bool Counters { get; init; } = true;

    /// <summary>The same kernel program apart from set elements: a change of membership or of a prefix list's entries only.</summary>
    public bool SameShapeAs(HostRuleset other) =>
        Counters == other.Counters && Nics.SequenceEqual(other.Nics) && Sets.Select(s => (s.Name, s.Family, s.Interval)).SequenceEqual(other.Sets.Select(s => (s.Name, s.Family, s.Interval)));

    /// <summary>The sets whose elements differ from <paramref name="before"/>'s (same shape assumed).</summary>
    public IEnumerable<NftAddressSet> SetsChangedSince(HostRuleset before) =>
        Sets.Where(s => !before.Sets.Any(b => b.Equals(s)));
}
