using CsCheck;
using Palisade.Analysis.Internet;
using Palisade.Analysis.Reachability;
using Palisade.Analysis.Tests.WhatIf;
using Palisade.Analysis.WhatIf;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;
using Palisade.Domain.State;
using Palisade.Engine.Flows;
using Palisade.Engine.Policies;
using Palisade.TestKit;

namespace Palisade.Analysis.Tests.Reachability;

/// <summary>
/// "What the internet reaches" (and, for egress, "what internet addresses a member reaches") against
/// a brute-force reference that asks <see cref="ReferenceEvaluator"/> about every internet address
/// that could make a difference: every edge of every block of the state (rules' CIDRs, every prefix
/// list's entries, the non-internet ranges) and its neighbours, every address any instance holds
/// (private, public, of every ENI) and its neighbours. Every elementary interval of those cuts starts at
/// one of them, so no class is missed; slow and obviously complete. Checked: <see cref="Reach"/>, the
/// matrix, and the internet's gained and lost flows of a what-if (on the matrix and pair by pair), on
/// random small states whose members hold internet IPv6 and IPv4 addresses that rules name by group,
/// by CIDR or by prefix list, and share inner access.
/// </summary>
public sealed class InternetReachTests
{
    // The universe's port boundaries are 1, 20–26 and 65535 (SmallUniverse.GenPorts): these ports meet every port interval.
    private static readonly int[] Ports = [1, 2, 19, 20, 21, 22, 23, 24, 25, 26, 27, 1024, 65534, 65535];

    // Written out here rather than read from InternetExposure, so that the reference does not share its cuts.
    private static readonly string[] NotInternetV4 =
        ["0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/3"];

    /// <summary>Addresses members hold that the internet also has: global IPv6 and public IPv4, besides the universe's own.</summary>
    private static readonly string[] PublicV4 = ["8.8.8.8", "8.8.8.9", "8.8.4.4", "1.1.1.1"];

    private static readonly string[] GlobalV6 = ["2001:db8::1", "2001:db8::2", "2001:db8::5", "2001:db8:1::1", "2400:3200::1"];

    private static readonly string[] V6Blocks = ["2001:db8::2/128", "2001:db8::/126", "2001:db8::4/127", "2001:db8::/32", "2000::/3", "::/0", "2400:3200::/32"];

    private static readonly string[] V4Blocks = ["8.8.8.8/32", "8.8.8.8/31", "8.8.0.0/16", "0.0.0.0/0", "1.1.1.1/32", "8.8.4.0/24"];

    /// <summary>
    /// Small random states (<see cref="SmallUniverse.State"/>) moved toward the case in question: VPC
    /// members get internet addresses (a global IPv6 address, now and then a public IPv4 one as a
    /// private address, EIPs), and rules name blocks that hold exactly or almost those addresses, by CIDR
    /// and through both prefix lists.
    /// </summary>
    public static readonly Gen<NetworkState> States =
        from state in SmallUniverse.State
        from seed in Gen.Int
        select Adversarial(state, seed);

    private static NetworkState Adversarial(NetworkState state, int seed)
    {
        var random = new Random(seed);
        T Pick<T>(IReadOnlyList<T> items) => items[random.Next(items.Count)];
        IpAddress V6() => IpAddress.Parse(Pick(GlobalV6));
        IpAddress V4() => IpAddress.Parse(Pick(PublicV4));
        var instances = state.Instances.Select(i =>
        {
            if (i.NetworkType != NetworkType.Vpc)
                return i with { PublicAddresses = random.Next(2) == 0 ? [V4()] : i.PublicAddresses };
            var taken = new HashSet<IpAddress>(i.AllPrivateAddresses.Concat(i.AllPublicAddresses));
            var privates = i.PrivateAddresses;
            if (random.Next(3) != 0 && V6() is var six && taken.Add(six))
                privates = privates.Add(six);
            if (random.Next(5) == 0 && V4() is var four && taken.Add(four))
                privates = privates.Add(four);
            var publics = random.Next(2) == 0 && V4() is var eip && taken.Add(eip) ? [eip] : i.PublicAddresses;
            var enis = i.SecondaryInterfaces.Select(e =>
            {
                var more = random.Next(2) == 0 && V6() is var a && taken.Add(a) ? e.PrivateAddresses.Add(a) : e.PrivateAddresses;
                return e with { PrivateAddresses = more };
            });
            return i with { PrivateAddresses = privates, PublicAddresses = publics, SecondaryInterfaces = [.. enis] };
        }).ToList();
        var groups = state.Groups.Select(g => g with
        {
            Rules = [.. g.Rules.Select(r => r.Peer is RulePeer.CidrBlock && random.Next(2) == 0
                ? r with { Peer = new RulePeer.CidrBlock(Cidr.Parse(g.VpcId is not null && random.Next(2) == 0 ? Pick(V6Blocks) : Pick(V4Blocks))) }
                : r)],
        }).ToList();
        var lists = state.PrefixLists.Select(p => p with
        {
            Entries = [.. p.Entries.Concat((p.IsV6 ? V6Blocks : V4Blocks).Where(_ => random.Next(4) == 0).Select(Cidr.Parse)).Distinct()],
        }).ToList();
        return new NetworkState(state.RegionId, groups, instances, lists, state.PortRangeLists);
    }

    /// <summary>Every internet address of the family that could be decided otherwise than its neighbours, and its neighbours.</summary>
    private static List<IpAddress> EveryCandidate(NetworkState state, bool v6)
    {
        var max = v6 ? UInt128.MaxValue : uint.MaxValue;
        var points = new HashSet<UInt128>();
        void Around(UInt128 value)
        {
            points.Add(value);
            if (value > 0)
                points.Add(value - 1);
            if (value < max)
                points.Add(value + 1);
        }
        void Edges(Cidr c)
        {
            if (c.IsV6 != v6)
                return;
            Around(c.First);
            Around(c.Last);
        }
        foreach (var rule in state.Groups.SelectMany(g => g.Rules))
        {
            if (rule.Peer is RulePeer.CidrBlock { Cidr: var c })
                Edges(c);
            if (rule.LocalCidr is { } local)
                Edges(local);
        }
        foreach (var entry in state.PrefixLists.SelectMany(p => p.Entries))
            Edges(entry);
        foreach (var c in v6 ? ["2000::/3"] : NotInternetV4)
            Edges(Cidr.Parse(c));
        foreach (var instance in state.Instances)
        {
            foreach (var a in instance.AllPrivateAddresses.Concat(instance.AllPublicAddresses).Where(a => a.IsV6 == v6))
                Around(a.Value);
        }
        Around(0);
        Around(max);
        return [.. points.Order().Select(p => new IpAddress(v6, p)).Where(InternetExposure.IsInternet)];
    }

    /// <summary>The (protocol, port) samples some internet address reaches of the instance (<paramref name="ingress"/>) or it reaches of the internet, by the reference evaluator.</summary>
    private static SortedSet<string> Reference(NetworkState state, Instance instance, bool v6, bool ingress, List<IpAddress> candidates)
    {
        var result = new SortedSet<string>();
        foreach (var eni in ReferenceEvaluator.Enis(instance))
        {
            // Only an ENI with an address of the family takes part (as in the matrix).
            if (eni.PrivateAddresses.All(a => a.IsV6 != v6))
                continue;
            var (nic, locals) = ingress ? InternetExposure.Entries(eni, v6) : InternetExposure.Exits(eni, v6);
            foreach (var (protocol, port) in Samples(v6))
            {
                var reached = locals.Any(local => candidates.Any(peer =>
                {
                    var flow = ingress ? new Flow(peer, local, protocol, port) : new Flow(local, peer, protocol, port);
                    return ReferenceEvaluator.Decide(state, eni, nic, ingress ? Direction.Ingress : Direction.Egress, flow).Verdict == Verdict.Accept;
                }));
                if (reached)
                    result.Add($"{protocol.ToWire()} {port}");
            }
        }
        return result;
    }

    private static IEnumerable<(IpProtocol Protocol, int Port)> Samples(bool v6) =>
        Reach.Protocols.SelectMany(p => p.HasPorts() ? Ports.Select(port => (p, port)) : [(p, 0)]);

    private static SortedSet<string> Sampled(AccessSet access, bool v6) =>
        new(Samples(v6).Where(s => access.Contains(s.Protocol, s.Port)).Select(s => $"{s.Protocol.ToWire()} {s.Port}"));

    private static SortedSet<string> Sampled(Reacher? reacher, bool v6) =>
        reacher is null ? [] : Sampled(AccessSet.FromAccesses(reacher.Accesses), v6);

    [Fact]
    public void TheInternetsReach_IsWhatEveryInternetAddressReaches()
    {
        States.Sample(state =>
        {
            foreach (var v6 in new[] { false, true })
            {
                var candidates = EveryCandidate(state, v6);
                var matrix = ReachMatrix.Build(state, v6);
                foreach (var instance in state.Instances)
                {
                    var inbound = string.Join(", ", Reference(state, instance, v6, ingress: true, candidates));
                    var outbound = string.Join(", ", Reference(state, instance, v6, ingress: false, candidates));
                    var label = $"{instance.Id} IPv{(v6 ? 6 : 4)}";
                    Assert.True(inbound == string.Join(", ", Sampled(Reach.To(state, instance, v6).FirstOrDefault(r => r.IsInternet), v6)),
                        $"{label}: the internet reaches by Reach.To {string.Join(", ", Sampled(Reach.To(state, instance, v6).FirstOrDefault(r => r.IsInternet), v6))}; every address: {inbound}");
                    Assert.True(inbound == string.Join(", ", Sampled(matrix.FromInternet(instance).Access, v6)),
                        $"{label}: the internet reaches by the matrix {string.Join(", ", Sampled(matrix.FromInternet(instance).Access, v6))}; every address: {inbound}");
                    Assert.True(outbound == string.Join(", ", Sampled(Reach.From(state, instance, v6).FirstOrDefault(r => r.IsInternet), v6)),
                        $"{label}: reaches the internet by Reach.From {string.Join(", ", Sampled(Reach.From(state, instance, v6).FirstOrDefault(r => r.IsInternet), v6))}; every address: {outbound}");
                    Assert.True(outbound == string.Join(", ", Sampled(matrix.ToInternet(instance).Access, v6)),
                        $"{label}: reaches the internet by the matrix {string.Join(", ", Sampled(matrix.ToInternet(instance).Access, v6))}; every address: {outbound}");
                }
            }
        }, iter: 300, threads: 1, print: SmallUniverse.Describe);
    }

    /// <summary>The internet's gained and lost flows of a what-if (on the matrix, and pair by pair) against the reference before and after.</summary>
    [Fact]
    public void TheInternetsGainedAndLostFlows_AreWhatEveryInternetAddressGainsAndLoses()
    {
        var cases =
            from state in States
            from rule in SmallUniverse.Rule
            from pick in Gen.Int[0, 1000]
            from masks in Gen.Int[0, (1 << 13) - 1].Array[7]
            select (state, (IReadOnlyList<Change>)[.. ChangeCases.Changes(state, rule, pick), .. PrefixListEditTests.Edits(state, masks)]);
        cases.Sample(c =>
        {
            var (state, changes) = c;
            foreach (var v6 in new[] { false, true })
            {
                var matrix = ReachMatrix.Build(state, v6);
                var candidatesBefore = EveryCandidate(state, v6);
                var before = state.Instances.ToDictionary(i => i.Id, i => Reference(state, i, v6, ingress: true, candidatesBefore));
                foreach (var change in changes)
                {
                    var after = change.ApplyTo(state);
                    var candidatesAfter = EveryCandidate(after, v6);
                    var gained = new SortedSet<string>();
                    var lost = new SortedSet<string>();
                    foreach (var instance in after.Instances)
                    {
                        var now = Reference(after, instance, v6, ingress: true, candidatesAfter);
                        var was = before[instance.Id];
                        gained.UnionWith(now.Except(was).Select(s => $"{instance.Id} {s}"));
                        lost.UnionWith(was.Except(now).Select(s => $"{instance.Id} {s}"));
                    }
                    string Show(IEnumerable<FlowDelta> deltas) => string.Join("; ", new SortedSet<string>(deltas.Where(d => d.Source == "internet")
                        .SelectMany(d => Samples(v6).Where(s => s.Protocol == d.Protocol && (d.Ports.Count == 0 ? s.Port == 0 : d.Ports.Any(p => p.Contains(s.Port))))
                            .Select(s => $"{d.Target} {s.Protocol.ToWire()} {s.Port}")), StringComparer.Ordinal));
                    // A what-if lists only the protocols of the family (no ICMP between IPv6 addresses).
                    bool InFamily(string s) => IpProtocols.TryParse(s.Split(" ")[1], out var p) && Reach.InFamily(p, v6);
                    var expectedGained = string.Join("; ", new SortedSet<string>(gained.Where(InFamily), StringComparer.Ordinal));
                    var expectedLost = string.Join("; ", new SortedSet<string>(lost.Where(InFamily), StringComparer.Ordinal));
                    var label = $"{change.Describe()} (IPv{(v6 ? 6 : 4)})";
                    foreach (var (how, impact) in new[] { ("on the matrix", ImpactAnalysis.Of(matrix, change)), ("pair by pair", ImpactAnalysis.Of(state, change, v6)) })
                    {
                        Assert.True(expectedGained == Show(impact.Gained), $"{label} {how}: the internet gains {Show(impact.Gained)}; every address: {expectedGained}");
                        Assert.True(expectedLost == Show(impact.Lost), $"{label} {how}: the internet loses {Show(impact.Lost)}; every address: {expectedLost}");
                    }
                }
            }
        }, iter: 150, threads: 1, print: c => SmallUniverse.Describe(c.state));
    }

    /// <summary>
    /// Two members of a basic group with inner access Accept hold global IPv6 addresses; one rule cuts
    /// the line at 2001:db8::/32. The member at 2001:db8:: (the block's first address) was the candidate
    /// standing for the whole /32, so its inner access counted as 2^96 internet addresses reaching SSH
    /// (a risky-port finding); the member at 2001:db8::5, inside the block, was no candidate at all, so
    /// the internet reached nothing through it.
    /// </summary>
    [Fact]
    public void AMembersInternetAddress_IsAClassOfItsOwn()
    {
        var vpc = Domain.Identifiers.VpcId.Parse("vpc-a");
        var group = Domain.Identifiers.SecurityGroupId.Parse("sg-web");
        var cut = new SecurityGroupRule(Domain.Identifiers.SecurityGroupRuleId.Parse("sgr-dns"), Direction.Ingress, IpProtocol.Udp, PortRange.Single(53),
            Verdict.Drop, Priority.Create(1), NicType.Intranet, new RulePeer.CidrBlock(Cidr.Parse("2001:db8::/32")), null, null, null);
        Instance Member(string id, string v4, string v6) => new(Domain.Identifiers.InstanceId.Parse(id), id, NetworkType.Vpc, vpc, null,
            [IpAddress.Parse(v4), IpAddress.Parse(v6)], [], [group]);
        NetworkState State(string other) => new("cn-test",
            [new Domain.Groups.SecurityGroup(group, "web", "", Domain.Groups.SecurityGroupType.Normal, vpc, Domain.Groups.InnerAccessPolicy.Accept, [cut], [])],
            [Member("i-web", "10.0.0.1", "2001:db8::10"), Member("i-app", "10.0.0.2", other)], [], []);

        var atEdge = State("2001:db8::");
        var web = atEdge.Instances[0];
        var policy = NicPolicy.Compile(atEdge, web);
        var sources = InternetExposure.CandidateSources(atEdge, policy, v6: true);
        Assert.Contains((IpAddress.Parse("2001:db8::"), (UInt128)1), sources);
        Assert.Null(InternetExposure.Find(policy, sources, InternetExposure.CandidateSourcePorts(policy), IpAddress.Parse("2001:db8::10"), IpProtocol.Tcp, 22));

        var inside = State("2001:db8::5");
        var reacher = Assert.Single(Reach.To(inside, inside.Instances[0], v6: true), r => r.IsInternet);
        Assert.Equal(IpAddress.Parse("2001:db8::5"), reacher.WitnessAddress);
        Assert.Contains("TCP", reacher.Accesses.Select(a => a.Protocol.ToWire()));
    }
}
