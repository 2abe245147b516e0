using CsCheck;
using Palisade.Analysis.Audit;
using Palisade.Analysis.Audit.Checks;
using Palisade.Analysis.Suggestions;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;
using Palisade.Domain.State;
using Palisade.Engine.Flows;
using Palisade.Engine.Policies;
using Palisade.TestKit;

namespace Palisade.Analysis.Tests.Suggestions;

/// <summary>
/// Issue 20 item 5: the suggestion keeps every observed flow the group's own rules admit (the engine
/// decides each again under the replacement), admits no (source, port) pair that was not observed,
/// and merges sources into blocks and groups, ports into ranges, only over what was observed.
/// </summary>
public sealed class RuleSuggesterTests
{
    /// <summary>sg-web (i-web1 10.0.1.10, i-web2 10.0.1.11) with <paramref name="rules"/>; sg-ops holds i-ops1 10.0.3.1 and i-ops2 10.0.3.2; sg-lb holds i-lb1 10.0.4.1.</summary>
    private static NetworkState State(string rules) =>
        StateFileReader.Read($$$"""
            {"RegionId":"cn-hangzhou",
             "SecurityGroups":[
               {"SecurityGroupId":"sg-web","SecurityGroupName":"web","Description":"d","VpcId":"vpc-a","Permissions":{"Permission":[{{{rules}}}]}},
               {"SecurityGroupId":"sg-ops","SecurityGroupName":"ops","Description":"d","VpcId":"vpc-a"},
               {"SecurityGroupId":"sg-lb","SecurityGroupName":"lb","Description":"d","VpcId":"vpc-a","InnerAccessPolicy":"Drop"}],
             "Instances":[
               {"InstanceId":"i-web1","VpcAttributes":{"VpcId":"vpc-a","PrivateIpAddress":{"IpAddress":["10.0.1.10"]}},"SecurityGroupIds":{"SecurityGroupId":["sg-web"]}},
               {"InstanceId":"i-web2","VpcAttributes":{"VpcId":"vpc-a","PrivateIpAddress":{"IpAddress":["10.0.1.11"]}},"SecurityGroupIds":{"SecurityGroupId":["sg-web"]}},
               {"InstanceId":"i-ops1","VpcAttributes":{"VpcId":"vpc-a","PrivateIpAddress":{"IpAddress":["10.0.3.1"]}},"SecurityGroupIds":{"SecurityGroupId":["sg-ops"]}},
               {"InstanceId":"i-ops2","VpcAttributes":{"VpcId":"vpc-a","PrivateIpAddress":{"IpAddress":["10.0.3.2"]}},"SecurityGroupIds":{"SecurityGroupId":["sg-ops"]}},
               {"InstanceId":"i-lb1","VpcAttributes":{"VpcId":"vpc-a","PrivateIpAddress":{"IpAddress":["10.0.4.1"]}},"SecurityGroupIds":{"SecurityGroupId":["sg-lb"]}}]}
            """);

    private static string Rule(string id, string peer, string ports = "1/65535", string protocol = "TCP", string policy = "Accept", int priority = 1, string created = "2026-01-01T00:00:00Z") =>
        $"{{\"SecurityGroupRuleId\":\"{id}\",\"Direction\":\"ingress\",\"IpProtocol\":\"{protocol}\",\"PortRange\":\"{ports}\",{peer},\"Policy\":\"{policy}\",\"Priority\":\"{priority}\",\"CreateTime\":\"{created}\"}}";

    private static ObservedConnection Seen(string nic, string source, int port, string protocol = "TCP") =>
        new(InstanceId.Parse(nic), IpAddress.Parse(source), IpProtocols.TryParse(protocol, out var p) ? p : throw new ArgumentException(protocol), port);

    private static readonly SecurityGroupId Web = SecurityGroupId.Parse("sg-web");

    private static List<string> Lines(Suggestion s) =>
        [.. s.Rules.Select(r => $"{r.Policy.ToLower()} {r.Protocol.ToWire()} {r.Ports} from {r.Peer} priority {r.Priority}").Order(StringComparer.Ordinal)];

    [Fact]
    public void SourcesMerge_IntoAGroupWhoseMembersAreExactlyObserved_AndIntoBlocksHoldingOnlyObservedAddresses_PortsIntoObservedRuns()
    {
        var state = State(Rule("sgr-all", "\"SourceCidrIp\":\"0.0.0.0/0\""));
        var suggestion = RuleSuggester.Suggest(state, Web,
        [
            Seen("i-web1", "10.0.3.1", 22), Seen("i-web2", "10.0.3.2", 22),            // both members of sg-ops, on 22
            Seen("i-web1", "198.51.100.4", 80), Seen("i-web1", "198.51.100.5", 80),    // an aligned pair: a /31
            Seen("i-web1", "198.51.100.6", 80),                                         // the next one is not in that /31
            Seen("i-web1", "198.51.100.4", 81), Seen("i-web1", "198.51.100.5", 81), Seen("i-web1", "198.51.100.6", 81),
            Seen("i-web2", "10.0.4.1", 8080),                                           // sg-lb's only member
            Seen("i-web2", "203.0.113.9", 8443),
        ]);
        Assert.Equal(
        [
            "accept TCP 22/22 from sg-ops priority 1",
            "accept TCP 80/81 from 198.51.100.4/31 priority 1",
            "accept TCP 80/81 from 198.51.100.6/32 priority 1",
            "accept TCP 8080/8080 from sg-lb priority 1",
            "accept TCP 8443/8443 from 203.0.113.9/32 priority 1",
        ], Lines(suggestion));
        Assert.Equal(["sgr-all"], suggestion.Replaced.Select(r => r.Id.Value));
        Assert.Equal(10, suggestion.FlowsKept);
        Assert.Empty(suggestion.Lost);
        Assert.Empty(suggestion.Opens);
        // It closes what nobody used: i-ops1 on port 80, say; and keeps what was seen.
        Assert.Contains(suggestion.Closes, d => d.Source == "i-ops1" && d.Target == "i-web1" && d.Ports.Any(p => p.Contains(80)));
        Assert.DoesNotContain(suggestion.Closes, d => d.Source == "i-ops1" && d.Target == "i-web1" && d.Ports.Any(p => p.Contains(22)));
    }

    [Fact]
    public void SourcesOnDifferentPorts_GetTheirOwnRules_SoNoRuleAdmitsAPairNobodyUsed()
    {
        var state = State(Rule("sgr-all", "\"SourceCidrIp\":\"0.0.0.0/0\""));
        var suggestion = RuleSuggester.Suggest(state, Web, [Seen("i-web1", "198.51.100.4", 22), Seen("i-web1", "198.51.100.5", 443), Seen("i-web1", "198.51.100.5", 53, "UDP"), Seen("i-web1", "198.51.100.5", 0, "ICMP")]);
        Assert.Equal(["accept TCP 22/22 from 198.51.100.4/32 priority 1", "accept TCP 443/443 from 198.51.100.5/32 priority 1"], Lines(suggestion));
        // UDP 53 and ICMP were admitted by no rule of sg-web (it only has TCP): the rules drop them today, nothing to keep.
        Assert.Equal(2, suggestion.FlowsSetAside[SetAside.NoLongerAdmitted]);
    }

    [Fact]
    public void FlowsOfOtherNicsAndOtherGroupsRules_AreSetAside_AndDropRulesAndPrioritiesStay()
    {
        var state = State(string.Join(",",
            Rule("sgr-broad", "\"SourceCidrIp\":\"10.0.0.0/8\"", priority: 5),
            Rule("sgr-block", "\"SourceCidrIp\":\"10.0.9.0/24\"", policy: "Drop", priority: 3)));
        var suggestion = RuleSuggester.Suggest(state, Web, [Seen("i-web1", "10.0.3.1", 22), Seen("i-ops1", "10.0.1.10", 22), Seen("i-web1", "10.0.9.9", 22)]);
        Assert.Equal(["accept TCP 22/22 from 10.0.3.1/32 priority 5"], Lines(suggestion));
        Assert.Equal(["sgr-broad"], suggestion.Replaced.Select(r => r.Id.Value));
        Assert.Contains(suggestion.After.FindGroup(Web)!.Rules, r => r.Id.Value == "sgr-block");
        Assert.Equal((1L, 1L), (suggestion.FlowsSetAside[SetAside.NotAMember], suggestion.FlowsSetAside[SetAside.NoLongerAdmitted]));
    }

    [Fact]
    public void Blocks_AreTheFewestAlignedOnes_ThatHoldExactlyTheAddresses()
    {
        string Of(params string[] a) => string.Join(" ", RuleSuggester.Blocks(a.Select(IpAddress.Parse)));
        Assert.Equal("10.0.0.0/30", Of("10.0.0.0", "10.0.0.1", "10.0.0.2", "10.0.0.3"));
        Assert.Equal("10.0.0.1/32 10.0.0.2/31 10.0.0.4/32", Of("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"));
        Assert.Equal("10.0.0.7/32 2001:db8::/127", Of("2001:db8::1", "10.0.0.7", "2001:db8::"));
        Assert.Equal("1-3 5-5", string.Join(" ", RuleSuggester.Ranges(IpProtocol.Tcp, [1, 2, 3, 5]).Select(r => $"{r.Low}-{r.High}")));
    }

    private static readonly Gen<IpProtocol> Protocols = Gen.OneOf(IpProtocol.Tcp, IpProtocol.Udp, IpProtocol.Icmp, IpProtocol.Gre);

    /// <summary>
    /// Random observed flows to the NICs of a random state: mostly to the members (ENIs) of one of its
    /// groups, some to any ENI of any instance, from the small universe's addresses. Each names the ENI
    /// that saw it as an agent does (a secondary ENI always; the primary by its ID or, as older agents,
    /// not at all).
    /// </summary>
    private static readonly Gen<(NetworkState State, SecurityGroupId Group, ObservedConnection[] Flows)> Cases =
        from state in SmallUniverse.State
        from groupIndex in Gen.Int[0, 4]
        from seeds in Gen.Select(Gen.Int[0, 9], SmallUniverse.Address, Protocols, Gen.Int[19, 26], (m, a, p, port) => (m, a, p, port)).Array[0, 25]
        from anywhere in Gen.Int[0, 4]
        let used = state.Groups.Where(g => !state.MembersOf(g.Id).IsEmpty).ToList()
        where used.Count > 0
        let chosen = used[groupIndex % used.Count]
        let members = state.MembersOf(chosen.Id)
        let nics = state.Instances.SelectMany(i => i.Interfaces).ToList()
        select (state, chosen.Id, seeds.Select((s, k) =>
            SeenAt(k % 5 == anywhere ? nics[s.Item1 % nics.Count] : members[s.Item1 % members.Length], s.Item2, s.Item3, s.Item3.HasPorts() ? s.Item4 : 0, primaryNamed: s.Item1 % 2 == 0)).ToArray());

    /// <summary>A flow seen by the ENI <paramref name="nic"/> (a view from <c>Instance.Interfaces</c>).</summary>
    private static ObservedConnection SeenAt(Domain.Instances.Instance nic, IpAddress source, IpProtocol protocol, int port, bool primaryNamed = true) =>
        new(nic.Id, source, protocol, port) { NetworkInterfaceId = nic.IsSecondaryInterface || primaryNamed ? nic.NetworkInterfaceId : null };

    /// <summary>
    /// Deciding each distinct question once per policy class (<see cref="ObservedDecisions"/>) gives each
    /// record the decision the engine gives it alone — verdict, reason and deciding rule — whatever the
    /// members, their groups and their rules' local addresses.
    /// </summary>
    [Fact]
    public void Property_DecisionsPerPolicyClass_AreTheEnginesDecisionPerRecord()
    {
        Cases.Sample(c =>
        {
            var evaluator = new FlowEvaluator(c.State);
            var memo = new ObservedDecisions(new FlowEvaluator(c.State));
            // Every flow twice over, to every ENI of the state: the memo answers from earlier questions.
            var flows = c.Flows.SelectMany(f => c.State.Instances.SelectMany(i => i.Interfaces).Select(n => SeenAt(n, f.Source, f.Protocol, f.Port))).ToList();
            foreach (var flow in flows.Concat(flows))
            {
                var nic = RuleSuggester.NicOf(c.State, flow)!;
                var (slow, fast) = (RuleSuggester.Decide(evaluator, nic, flow), memo.Decide(nic, flow));
                if (slow.Verdict != fast.Verdict || slow.Reason != fast.Reason || slow.DecidingRule?.Rule != fast.DecidingRule?.Rule
                    || slow.DecidingRule?.GroupId != fast.DecidingRule?.GroupId || slow.InnerAccessGroup != fast.InnerAccessGroup
                    || !slow.Beaten.Select(b => b.Rule).SequenceEqual(fast.Beaten.Select(b => b.Rule)))
                    return false;
            }
            return true;
        }, iter: 400, print: c => $"{SmallUniverse.Describe(c.State)}\ngroup {c.Group}\nflows {string.Join(", ", c.Flows)}");
    }

    [Fact]
    public void Property_TheSuggestionKeepsEveryKeptFlow_AndAdmitsNoPairThatWasNotObserved()
    {
        Cases.Sample(c =>
        {
            var suggestion = RuleSuggester.Suggest(c.State, c.Group, c.Flows);
            var (kept, _) = RuleSuggester.Attribute(c.State, c.Group, c.Flows);
            // The what-if loses none: each kept flow, decided again by the engine under the replacement, is accepted.
            var after = new FlowEvaluator(suggestion.After);
            foreach (var (flow, _) in kept)
            {
                var decision = RuleSuggester.Decide(after, RuleSuggester.NicOf(suggestion.After, flow)!, flow);
                if (decision.Verdict != Verdict.Accept)
                    return false;
            }
            if (!suggestion.Lost.IsEmpty || suggestion.FlowsKept != kept.Count)
                return false;
            // Narrowest: every (protocol, source, port) a suggested rule matches over the universe was observed at that rule's priority.
            var atoms = kept.Select(k => RuleSuggester.Atom(k.Flow, k.Rule)).ToHashSet();
            var universe = SmallUniverse.V4Addresses.Concat(SmallUniverse.V6Addresses).Select(IpAddress.Parse).Concat(c.Flows.Select(f => f.Source)).Distinct().ToList();
            foreach (var rule in suggestion.Rules)
            {
                var peerAddresses = rule.Peer switch
                {
                    RulePeer.CidrBlock b => universe.Where(b.Cidr.Contains).ToList(),
                    RulePeer.Group g => [.. c.State.MembersOf(g.GroupId).SelectMany(m => m.MemberAddresses)],
                    _ => [],
                };
                var ports = rule.Protocol.HasPorts() ? Enumerable.Range(rule.Ports.Low, rule.Ports.High - rule.Ports.Low + 1) : [0];
                foreach (var source in peerAddresses)
                {
                    foreach (var port in ports)
                    {
                        if (!atoms.Contains((rule.Protocol, rule.Priority.Value, source, port)))
                            return false;
                    }
                }
            }
            return true;
        }, iter: 400, print: c => $"{SmallUniverse.Describe(c.State)}\ngroup {c.Group}\nflows {string.Join(", ", c.Flows)}");
    }

    [Fact]
    public void OverBroadRule_IsFound_WhenEveryHostSampledTheWindow_WithTheNarrowReplacement()
    {
        var asOf = new DateTimeOffset(2026, 12, 3, 9, 0, 0, TimeSpan.Zero);
        var state = State(string.Join(",", Rule("sgr-ssh", "\"SourceCidrIp\":\"0.0.0.0/0\"", ports: "22/22"), Rule("sgr-lb", "\"SourceGroupId\":\"sg-lb\"", ports: "8080/8080"),
            Rule("sgr-new", "\"SourceCidrIp\":\"0.0.0.0/0\"", ports: "9000/9000", created: "2026-12-02T00:00:00Z")));
        IReadOnlyList<ObservedConnection> flows = [Seen("i-web1", "198.51.100.4", 22), Seen("i-web1", "198.51.100.7", 22), Seen("i-web2", "203.0.113.1", 22), Seen("i-web1", "10.0.4.1", 8080), Seen("i-web1", "198.51.100.4", 9000)];
        FlowFacts Facts(DateTimeOffset since) => new(asOf, 7, new Dictionary<SecurityGroupId, DateTimeOffset> { [Web] = since }, new Dictionary<SecurityGroupId, IReadOnlyList<ObservedConnection>> { [Web] = flows });

        var finding = Assert.Single(Auditor.Run(state, flows: Facts(asOf.AddDays(-8))), f => f.Check == "over-broad-rule");
        Assert.Equal("sgr-ssh", finding.SecurityGroupRuleId!.Value.Value);
        var evidence = (OverBroadRuleEvidence)finding.Evidence;
        Assert.Equal(("4294967296", 3, 1), (evidence.AdmittedAddresses, evidence.ObservedSources, evidence.ObservedPorts));
        Assert.Equal(["TCP 22/22 from 198.51.100.4/32 priority 1", "TCP 22/22 from 198.51.100.7/32 priority 1", "TCP 22/22 from 203.0.113.1/32 priority 1"], evidence.SuggestedRules);
        // A host that began sampling inside the window: three sources seen proves nothing.
        Assert.DoesNotContain(Auditor.Run(state, flows: Facts(asOf.AddDays(-6))), f => f.Check == "over-broad-rule");
        Assert.DoesNotContain(Auditor.Run(state), f => f.Check == "over-broad-rule");
    }
}
