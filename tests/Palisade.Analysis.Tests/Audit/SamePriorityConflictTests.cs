using CsCheck;
using Palisade.Analysis.Audit;
using Palisade.Analysis.Audit.Checks;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;
using Palisade.Domain.State;
using Palisade.Engine.Flows;
using Palisade.Engine.Policies;
using Palisade.TestKit;

namespace Palisade.Analysis.Tests.Audit;

/// <summary>
/// Issue 20: <c>same-priority-conflict</c> decides overlap exactly — over group members' addresses,
/// prefix-list entries, port-range-list entries, protocols, source ports and local CIDRs — and agrees
/// with a brute-force search for a packet both rules match on small universes.
/// </summary>
public sealed class SamePriorityConflictTests
{
    /// <summary>i-web1 (10.0.1.10) in sg-web, i-app1 (10.0.2.20) in sg-app, both in vpc-a; i-web1's groups are <paramref name="memberships"/>.</summary>
    private static NetworkState State(string rules, string memberships = "\"sg-web\"", string lists = "") =>
        StateFileReader.Read($$$"""
            {"RegionId":"cn-hangzhou",{{{lists}}}
             "SecurityGroups":[
               {"SecurityGroupId":"sg-web","SecurityGroupName":"web","Description":"d","VpcId":"vpc-a","Permissions":{"Permission":[{{{rules}}}]}},
               {"SecurityGroupId":"sg-app","SecurityGroupName":"app","Description":"d","VpcId":"vpc-a"}],
             "Instances":[
               {"InstanceId":"i-web1","VpcAttributes":{"VpcId":"vpc-a","PrivateIpAddress":{"IpAddress":["10.0.1.10"]}},"SecurityGroupIds":{"SecurityGroupId":[{{{memberships}}}]}},
               {"InstanceId":"i-app1","VpcAttributes":{"VpcId":"vpc-a","PrivateIpAddress":{"IpAddress":["10.0.2.20"]}},"SecurityGroupIds":{"SecurityGroupId":["sg-app"]}}]}
            """);

    private static string Rule(string id, string policy, string peer, string protocol = "TCP", string ports = "\"PortRange\":\"22/22\"", string extra = "") =>
        $"{{\"SecurityGroupRuleId\":\"{id}\",\"Direction\":\"ingress\",\"IpProtocol\":\"{protocol}\",{ports},{peer},\"Policy\":\"{policy}\",\"Priority\":\"1\"{extra}}}";

    private const string Lists = """
        "PrefixLists":[{"PrefixListId":"pl-app","AddressFamily":"IPv4","Entries":{"Entry":[{"Cidr":"10.0.2.0/24"}]}},
                       {"PrefixListId":"pl-far","AddressFamily":"IPv4","Entries":{"Entry":[{"Cidr":"192.168.0.0/16"}]}}],
        "PortRangeLists":[{"PortRangeListId":"prl-db","Entries":{"Entry":[{"PortRange":"3306/3306"},{"PortRange":"5432/5432"}]}}],
        """;

    private static List<string> Conflicts(NetworkState state) =>
        [.. Auditor.Run(state).Where(f => f.Check == "same-priority-conflict")
            .Select(f => $"{f.SecurityGroupRuleId!.Value.Value}/{((SamePriorityConflictEvidence)f.Evidence).DropRule.Value}")];

    [Fact]
    public void AGroupAccept_AndADropOfABlockHoldingAMember_Conflict()
    {
        // The syntactic check compared group to group only, and missed this.
        Assert.Equal(["sgr-a/sgr-d"], Conflicts(State(Rule("sgr-a", "Accept", "\"SourceGroupId\":\"sg-app\"") + "," + Rule("sgr-d", "Drop", "\"SourceCidrIp\":\"10.0.2.0/24\""))));
        // The block holds no member of sg-app: no packet matches both.
        Assert.Empty(Conflicts(State(Rule("sgr-a", "Accept", "\"SourceGroupId\":\"sg-app\"") + "," + Rule("sgr-d", "Drop", "\"SourceCidrIp\":\"10.0.3.0/24\""))));
    }

    [Fact]
    public void PrefixListEntries_AndBlocks_AreComparedByAddress()
    {
        Assert.Equal(["sgr-a/sgr-d"], Conflicts(State(Rule("sgr-a", "Accept", "\"SourcePrefixListId\":\"pl-app\"") + "," + Rule("sgr-d", "Drop", "\"SourceGroupId\":\"sg-app\""), lists: Lists)));
        Assert.Equal(["sgr-a/sgr-d"], Conflicts(State(Rule("sgr-a", "Accept", "\"SourceCidrIp\":\"10.0.0.0/8\"") + "," + Rule("sgr-d", "Drop", "\"SourcePrefixListId\":\"pl-app\""), lists: Lists)));
        Assert.Empty(Conflicts(State(Rule("sgr-a", "Accept", "\"SourcePrefixListId\":\"pl-far\"") + "," + Rule("sgr-d", "Drop", "\"SourcePrefixListId\":\"pl-app\""), lists: Lists)));
    }

    [Fact]
    public void PortRangeListEntries_AreComparedByPort()
    {
        // The syntactic check assumed a port-range list overlaps everything.
        var db = "\"PortRangeListId\":\"prl-db\"";
        Assert.Empty(Conflicts(State(Rule("sgr-a", "Accept", "\"SourceCidrIp\":\"10.0.0.0/8\"", ports: db) + "," + Rule("sgr-d", "Drop", "\"SourceCidrIp\":\"10.0.0.0/8\"", ports: "\"PortRange\":\"3307/5431\""), lists: Lists)));
        Assert.Equal(["sgr-a/sgr-d"], Conflicts(State(Rule("sgr-a", "Accept", "\"SourceCidrIp\":\"10.0.0.0/8\"", ports: db) + "," + Rule("sgr-d", "Drop", "\"SourceCidrIp\":\"10.0.0.0/8\"", ports: "\"PortRange\":\"5000/6000\""), lists: Lists)));
    }

    [Fact]
    public void Protocols_SourcePorts_AndLocalCidrs_MustAllMeet()
    {
        var any = "\"SourceCidrIp\":\"0.0.0.0/0\"";
        // ALL meets ICMP; ICMP does not meet TCP.
        Assert.Equal(["sgr-a/sgr-d"], Conflicts(State(Rule("sgr-a", "Accept", any, "ICMP", "\"PortRange\":\"-1/-1\"") + "," + Rule("sgr-d", "Drop", any, "ALL", "\"PortRange\":\"-1/-1\""))));
        Assert.Empty(Conflicts(State(Rule("sgr-a", "Accept", any, "ICMP", "\"PortRange\":\"-1/-1\"") + "," + Rule("sgr-d", "Drop", any))));
        // Disjoint source ports.
        Assert.Empty(Conflicts(State(Rule("sgr-a", "Accept", any, extra: ",\"SourcePortRange\":\"1/1023\"") + "," + Rule("sgr-d", "Drop", any, extra: ",\"SourcePortRange\":\"1024/65535\""))));
        // A drop for a local address the NIC does not have matches nothing here.
        Assert.Empty(Conflicts(State(Rule("sgr-a", "Accept", any) + "," + Rule("sgr-d", "Drop", any, extra: ",\"DestCidrIp\":\"10.0.9.0/24\""))));
        Assert.Equal(["sgr-a/sgr-d"], Conflicts(State(Rule("sgr-a", "Accept", any) + "," + Rule("sgr-d", "Drop", any, extra: ",\"DestCidrIp\":\"10.0.1.0/24\""))));
        // Peers of different families never meet.
        Assert.Empty(Conflicts(State(Rule("sgr-a", "Accept", any) + "," + Rule("sgr-d", "Drop", "\"Ipv6SourceCidrIp\":\"::/0\""))));
    }

    [Fact]
    public void IntervalSweep_AgreesWithPairwiseComparison()
    {
        Gen.Select(Gen.Int[0, 40], Gen.Int[0, 6]).Array[0, 5]
            .Select(Gen.Select(Gen.Int[0, 40], Gen.Int[0, 6]).Array[0, 5])
            .Sample((a, b) =>
            {
                (int, int)[] x = [.. a.Select(r => (r.Item1, r.Item1 + r.Item2))];
                (int, int)[] y = [.. b.Select(r => (r.Item1, r.Item1 + r.Item2))];
                var pairwise = x.Any(p => y.Any(q => Math.Max(p.Item1, q.Item1) <= Math.Min(p.Item2, q.Item2)));
                Assert.Equal(pairwise, SamePriorityConflict.Overlaps.AnyIntersect(x, y));
            }, iter: 2000);
    }

    /// <summary>
    /// On random small universes, the pairs the check reports are exactly the same-priority accept/drop
    /// pairs of some NIC for which a brute-force search finds a packet both match, judged by the
    /// reference evaluator (field by field, no index) over every protocol and every boundary of the
    /// state's ports, source ports and addresses (an intersection of ranges, when not empty, holds the
    /// start of one of them, so these points find every overlap).
    /// </summary>
    [Fact]
    public void Conflicts_AreExactlyThePairsABruteForceFindsAPacketFor()
    {
        Check.Sample(SmallUniverse.State, state =>
        {
            var expected = BruteForce(state);
            var actual = Auditor.Run(state).Where(f => f.Check == "same-priority-conflict")
                .Select(f => (f.SecurityGroupRuleId!.Value, ((SamePriorityConflictEvidence)f.Evidence).DropRule)).ToHashSet();
            Assert.True(expected.SetEquals(actual),
                $"brute force: {string.Join(" ", expected.Order())}\ncheck: {string.Join(" ", actual.Order())}");
        }, iter: 200, threads: 1, print: SmallUniverse.Describe);
    }

    private static HashSet<(SecurityGroupRuleId Accept, SecurityGroupRuleId Drop)> BruteForce(NetworkState state)
    {
        var pairs = new HashSet<(SecurityGroupRuleId, SecurityGroupRuleId)>();
        var rules = state.Groups.SelectMany(g => g.Rules).ToList();
        var ports = new SortedSet<int> { 0, 1, PortRange.MaxPort };
        var sourcePorts = new SortedSet<int> { 0, 1, PortRange.MaxPort };
        foreach (var rule in rules)
        {
            var ranges = rule.PortRangeListId is { } id ? state.FindPortRangeList(id)?.Entries.ToArray() ?? [] : [rule.Ports];
            foreach (var r in ranges)
                ports.UnionWith([r.Low, r.High]);
            if (rule.SourcePorts is { } sp)
                sourcePorts.UnionWith([sp.Low, sp.High]);
        }
        // Every address any block of the state starts at, and every instance address.
        var peers = new HashSet<IpAddress>(state.Instances.SelectMany(ReferenceEvaluator.Enis).SelectMany(i => i.PrivateAddresses.Concat(i.PublicAddresses)));
        foreach (var block in rules.Select(r => r.Peer).OfType<RulePeer.CidrBlock>().Select(p => p.Cidr).Concat(state.PrefixLists.SelectMany(p => p.Entries)))
            peers.Add(new IpAddress(block.IsV6, block.First));
        IpProtocol[] protocols = [IpProtocol.Tcp, IpProtocol.Udp, IpProtocol.Icmp, IpProtocol.IcmpV6, IpProtocol.Gre, IpProtocol.All];
        // Every ENI, each with its own groups and addresses.
        foreach (var instance in state.Instances.SelectMany(ReferenceEvaluator.Enis).Where(i => i.SecurityGroupIds.Length > 0))
        {
            NicType[] nics = instance.NetworkType == NetworkType.Classic ? [NicType.Intranet, NicType.Internet] : [NicType.Intranet];
            foreach (var nic in nics)
            {
                foreach (var direction in new[] { Direction.Ingress, Direction.Egress })
                {
                    foreach (var local in instance.AddressesOn(nic))
                    {
                        foreach (var peer in peers.Where(p => p.IsV6 == local.IsV6))
                        {
                            foreach (var protocol in protocols)
                            {
                                foreach (var port in protocol.HasPorts() ? ports : [0])
                                {
                                    foreach (var sourcePort in protocol.HasPorts() ? sourcePorts : [0])
                                    {
                                        var flow = direction == Direction.Ingress ? new Flow(peer, local, protocol, port, sourcePort) : new Flow(local, peer, protocol, port, sourcePort);
                                        var decision = ReferenceEvaluator.Decide(state, instance, nic, direction, flow);
                                        var matched = (decision.DecidingRule is { } winner ? [winner] : Array.Empty<RuleRef>()).Concat(decision.Beaten).ToList();
                                        foreach (var accept in matched.Where(m => m.Rule.Policy == Verdict.Accept))
                                        {
                                            foreach (var drop in matched.Where(m => m.Rule.Policy == Verdict.Drop && m.Rule.Priority == accept.Rule.Priority))
                                                pairs.Add((accept.Rule.Id, drop.Rule.Id));
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return pairs;
    }
}
