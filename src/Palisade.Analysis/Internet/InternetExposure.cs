using System.Collections.Immutable;
using System.Numerics;

namespace Palisade.Analysis.Internet;

/// <summary>
/// Finds, exactly, an internet packet that a NIC's policy accepts on a port. The decision can only
/// change where some rule's address block or source-port range starts or ends, so one
/// representative per elementary interval (cut also at the edges of the non-internet ranges) covers
/// every source; the engine decides each candidate.
/// </summary>
public static class InternetExposure
{
    private static readonly Cidr[] NotInternetV4 =
    [
        Cidr.Parse("0.0.0.0/8"), Cidr.Parse("10.0.0.0/8"), Cidr.Parse("100.64.0.0/10"), Cidr.Parse("127.0.0.0/8"), Cidr.Parse("169.254.0.0/16"),
        Cidr.Parse("172.16.0.0/12"), Cidr.Parse("192.0.0.0/24"), Cidr.Parse("192.168.0.0/16"), Cidr.Parse("198.18.0.0/15"), Cidr.Parse("224.0.0.0/3"),
    ];

    /// <summary>IPv6 on the internet is global unicast, 2000::/3.</summary>
    private static readonly Cidr GlobalUnicastV6 = Cidr.Parse("2000::/3");

    public static bool IsInternet(IpAddress a)
    {
        if (a.IsV6)
            return GlobalUnicastV6.Contains(a);
        // A loop, not LINQ: the candidates ask this of every member address a group peer names.
        foreach (var c in NotInternetV4)
        {
            if (c.Contains(a))
                return false;
        }
        return true;
    }

    /// <summary>Whether the addresses [<paramref name="first"/>, <paramref name="last"/>] of a family hold an internet address (<see cref="IsInternet"/>).</summary>
    public static bool HoldsInternet(UInt128 first, UInt128 last, bool v6) =>
        v6
            ? first <= GlobalUnicastV6.Last && last >= GlobalUnicastV6.First
            // The non-internet blocks are not adjacent: a range without an internet address lies inside one of them.
            : !NotInternetV4.Any(c => c.First <= first && last <= c.Last);

    public sealed record Witness(Flow Flow, Decision Decision);

    /// <summary>
    /// "The internet" is more than an allowlist: a port counts as exposed when a block of at least
    /// this many internet addresses reaches it (a /16 of IPv4, a /48 of IPv6). Offices and partners
    /// allowed by narrower blocks are the intended practice, not a finding.
    /// </summary>
    public static UInt128 WideV4 => (UInt128)1 << 16;

    public static UInt128 WideV6 => (UInt128)1 << 80;

    /// <summary>
    /// The candidate sources (or, for <see cref="Direction.Egress"/>, destinations): one internet address
    /// per interval in which the policy's decision cannot change, with the interval's size.
    /// </summary>
    public static IReadOnlyList<(IpAddress Address, UInt128 Size)> CandidateSources(NetworkState state, NicPolicy policy, bool v6, Direction direction = Direction.Ingress) =>
        CandidateSources(state, policy.Instance, policy.NicType, policy.Groups, policy.RulesInOrder(direction).ToArray(), v6);

    /// <summary>
    /// The candidate internet addresses for one direction of a NIC: its rules, its groups (for inner
    /// access) and the NIC itself (whose network decides which members a group peer names).
    /// <para>
    /// Why these cuts are all there are: the engine (<see cref="NicPolicy.Decide"/>) looks at the peer
    /// address only through "is it in one of this rule's peer blocks" and "does a member of a group with
    /// inner access Accept / Drop hold it". A rule's peer blocks are its CIDR, its prefix list's entries,
    /// or, for a group peer, every private address of the group's members in the NIC's network
    /// (<see cref="RuleResolver.PeerBlocks"/>). Those member addresses are internet addresses too when
    /// they are global IPv6 addresses (an ENI's IPv6 addresses are, in ECS) or public IPv4 ones used as
    /// private: a packet from such an address is decided as coming from the member — its group peer
    /// rules and inner access apply — so each of them is a class of its own, which the edges of the
    /// rules' blocks alone do not show (an inner-access member at 2001:db8::5 inside a rule's
    /// 2001:db8::/32, or a group peer rule naming it). So the line is cut at every edge of every peer
    /// block (members' addresses are /32 and /128 blocks) and at every address inner access names;
    /// within one interval every rule's peer test and both inner-access tests have the same answer, so
    /// the engine decides every address of it alike. Members' addresses outside the internet are not
    /// cut at: the non-internet ranges are cut at their own edges and yield no candidate. A NIC's own
    /// public address or EIP is not a member address (rules never name it but by CIDR), so it makes no
    /// class of its own. Checked against every block edge of a state and every address its instances
    /// hold by <c>InternetReachTests</c>.
    /// </para>
    /// </summary>
    public static IReadOnlyList<(IpAddress Address, UInt128 Size)> CandidateSources(NetworkState state, Instance nic, NicType nicType, IReadOnlyList<SecurityGroup> groups, IReadOnlyList<RuleRef> rules, bool v6)
    {
        var cuts = new SortedSet<UInt128> { 0 };
        void Cut(Cidr c)
        {
            cuts.Add(c.First);
            if (c.Last != (v6 ? UInt128.MaxValue : uint.MaxValue))
                cuts.Add(c.Last + 1);
        }
        void CutAt(IpAddress a)
        {
            if (a.IsV6 == v6 && IsInternet(a))
            {
                cuts.Add(a.Value);
                if (a.Value != (v6 ? UInt128.MaxValue : uint.MaxValue))
                    cuts.Add(a.Value + 1);
            }
        }
        // The groups whose members' addresses the decision looks at: those group peers name and, for
        // an intranet NIC (a classic internet NIC has no inner access), the NIC's own. Each once: many
        // rules name the same group.
        var named = new HashSet<SecurityGroupId>();
        if (nicType == NicType.Intranet)
            named.UnionWith(groups.Select(g => g.Id));
        foreach (var rule in rules)
        {
            switch (rule.Rule.Peer)
            {
                case RulePeer.CidrBlock { Cidr: var c } when c.IsV6 == v6:
                    Cut(c);
                    break;
                case RulePeer.PrefixList { PrefixListId: var id } when state.FindPrefixList(id) is { } list:
                    foreach (var entry in list.Entries.Where(e => e.IsV6 == v6))
                        Cut(entry);
                    break;
                case RulePeer.Group { GroupId: var id }:
                    named.Add(id);
                    break;
            }
        }
        var resolver = new RuleResolver(state, nic);
        foreach (var id in HasInternetMembers(state, v6) ? named : [])
        {
            foreach (var address in resolver.MemberAddresses(id))
                CutAt(address);
        }
        if (v6)
            Cut(GlobalUnicastV6);
        else
            foreach (var c in NotInternetV4)
                Cut(c);
        var points = cuts.ToArray();
        var end = v6 ? UInt128.MaxValue : uint.MaxValue;
        var result = new List<(IpAddress, UInt128)>();
        for (var i = 0; i < points.Length; i++)
        {
            var address = new IpAddress(v6, points[i]);
            if (!IsInternet(address))
                continue;
            var size = i + 1 < points.Length ? points[i + 1] - points[i] : end - points[i] + 1;
            result.Add((address, size));
        }
        return result;
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<NetworkState, bool[]> InternetMembers = new();

    /// <summary>
    /// Whether some ENI of the state holds an internet address of the family as a private (member)
    /// address: once per state, so that a state without any (private IPv4 everywhere) skips the members.
    /// </summary>
    private static bool HasInternetMembers(NetworkState state, bool v6) =>
        InternetMembers.GetValue(state, s =>
        {
            // The records' own arrays, not Instance.Interfaces (which makes a view per ENI): a what-if's
            // state after is a new state, scanned once per change.
            var found = new bool[2];
            void Look(ImmutableArray<IpAddress> addresses)
            {
                if (addresses.IsDefault)
                    return;
                foreach (var a in addresses)
                {
                    if (IsInternet(a))
                        found[a.IsV6 ? 1 : 0] = true;
                }
            }
            foreach (var instance in s.Instances)
            {
                Look(instance.MemberAddresses);
                foreach (var eni in instance.SecondaryInterfaces)
                    Look(eni.PrivateAddresses);
            }
            return found;
        })[v6 ? 1 : 0];

    /// <summary>Source ports: one per interval of the rules' source-port ranges.</summary>
    public static IReadOnlyList<int> CandidateSourcePorts(NicPolicy policy)
    {
        var cuts = new SortedSet<int> { PortRange.MinPort, Flow.DefaultSourcePort };
        foreach (var rule in policy.RulesInOrder(Direction.Ingress))
        {
            if (rule.Rule.SourcePorts is { } sp)
            {
                cuts.Add(sp.Low);
                if (sp.High < PortRange.MaxPort)
                    cuts.Add(sp.High + 1);
            }
        }
        // The usual ephemeral port first, so that a witness packet looks like a real client's.
        return [Flow.DefaultSourcePort, .. cuts.Where(p => p != Flow.DefaultSourcePort)];
    }

    /// <summary>The first internet packet to <paramref name="destination"/> on the port that the policy accepts, if any.</summary>
    public static Witness? Find(NicPolicy policy, IReadOnlyList<(IpAddress Address, UInt128 Size)> sources, IReadOnlyList<int> sourcePorts, IpAddress destination, IpProtocol protocol, int port)
    {
        // Accepting intervals are added up, so that a wide block cut into pieces by other rules still counts as wide.
        UInt128 reached = 0;
        Witness? first = null;
        var wide = destination.IsV6 ? WideV6 : WideV4;
        foreach (var (source, size) in sources)
        {
            foreach (var sourcePort in sourcePorts)
            {
                var flow = new Flow(source, destination, protocol, port, sourcePort);
                var decision = policy.Decide(Direction.Ingress, flow);
                if (decision.Verdict != Verdict.Accept)
                    continue;
                first ??= new Witness(flow, decision);
                reached += size;
                if (reached >= wide)
                    return first;
                break;
            }
        }
        return null;
    }

    /// <summary>
    /// The NIC and address a packet to the internet leaves from: the public NIC of a classic instance
    /// (none without a public address), the private address of a VPC one — translated on the way out by
    /// its public address or a NAT gateway, which the state does not show, so only the rules are judged.
    /// </summary>
    public static (NicType Nic, IpAddress? Source) Exit(Instance instance, bool v6) =>
        instance.NetworkType == NetworkType.Classic
            ? (NicType.Internet, instance.PublicAddresses.Cast<IpAddress?>().FirstOrDefault(a => a!.Value.IsV6 == v6))
            : (NicType.Intranet, instance.PrivateAddresses.Cast<IpAddress?>().FirstOrDefault(a => a!.Value.IsV6 == v6));

    /// <summary>
    /// Every address a packet to the internet may leave from (<see cref="Exit"/> names the first): each
    /// public address of a classic instance's internet NIC, each private address of a VPC one.
    /// </summary>
    public static (NicType Nic, IReadOnlyList<IpAddress> Sources) Exits(Instance instance, bool v6) =>
        instance.NetworkType == NetworkType.Classic
            ? (NicType.Internet, [.. instance.PublicAddresses.Where(a => a.IsV6 == v6).Distinct()])
            : (NicType.Intranet, [.. instance.PrivateAddresses.Where(a => a.IsV6 == v6).Distinct()]);

    /// <summary>
    /// Every address an internet packet may arrive at (<see cref="Entry"/> names the first): each public
    /// address of a classic instance's internet NIC; for a VPC instance, over IPv4 the primary private
    /// address (the one its public or elastic address is translated to — the state does not say that a
    /// secondary address has an EIP of its own), over IPv6 each global address.
    /// </summary>
    public static (NicType Nic, IReadOnlyList<IpAddress> Destinations) Entries(Instance instance, bool v6)
    {
        if (instance.NetworkType == NetworkType.Classic)
            return (NicType.Internet, [.. instance.PublicAddresses.Where(a => a.IsV6 == v6).Distinct()]);
        if (!v6)
            return (NicType.Intranet, Entry(instance, v6).Destination is { } primary ? [primary] : []);
        return (NicType.Intranet, [.. instance.PrivateAddresses.Where(a => a.IsV6 && IsInternet(a)).Distinct()]);
    }

    /// <summary>The NIC and address an internet packet arrives on: the public NIC of a classic instance, the private address of a VPC one.</summary>
    public static (NicType Nic, IpAddress? Destination) Entry(Instance instance, bool v6)
    {
        if (instance.NetworkType == NetworkType.Classic)
            return (NicType.Internet, instance.PublicAddresses.Cast<IpAddress?>().FirstOrDefault(a => a!.Value.IsV6 == v6));
        // A VPC instance is reached from the internet through its public or elastic address, translated
        // to its private one; IPv6 addresses are global and reached directly.
        if (!v6 && instance.PublicAddresses.All(a => a.IsV6))
            return (NicType.Intranet, null);
        return (NicType.Intranet, instance.PrivateAddresses.Cast<IpAddress?>().FirstOrDefault(a => a!.Value.IsV6 == v6 && (!v6 || IsInternet(a.Value))));
    }
}
