using Palisade.Agent.Rendering;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;
using Palisade.Domain.State;
using Palisade.TestKit;

namespace Palisade.Agent.Tests.Rendering;

public sealed class NftTextTests
{
    [Fact]
    public void Scenario_FullApply_IsTheGoldenRuleset()
    {
        var ruleset = PolicyRenderer.Render(Scenario.State(), Scenario.Bindings, 42);
        Assert.Empty(ruleset.Problems);
        Golden.Assert("scenario.nft", NftText.FullApply(ruleset));
    }

    [Fact]
    public void Closed_HasNoNicAndDropsEverythingForwarded()
    {
        Golden.Assert("closed.nft", NftText.FullApply(HostRuleset.Closed));
    }

    /// <summary>Issue 5: a Join or Leave of an instance on another host changes set elements, not rules.</summary>
    [Fact]
    public void Leave_OfAnInstanceElsewhere_IsASetElementUpdate()
    {
        var hereOnly = Scenario.Bindings.Where(b => b.InterfaceName != "vh-web1").ToList();
        var before = PolicyRenderer.Render(Scenario.State(), hereOnly, 42);
        var after = PolicyRenderer.Render(Scenario.State(web1InWeb: false), hereOnly, 43);
        Assert.True(after.SameShapeAs(before));
        Golden.Assert("leave-elsewhere.nft", NftText.SetUpdate(before, after));
    }

    /// <summary>A rule change replaces only the chains of the NICs it concerns, in one transaction.</summary>
    [Fact]
    public void RuleChange_ReplacesOnlyTheChainsItConcerns()
    {
        var before = PolicyRenderer.Render(Scenario.State(), Scenario.Bindings, 42);
        var after = PolicyRenderer.Render(Scenario.WithRedisSsh(), Scenario.Bindings, 43);
        Golden.Assert("rule-change.nft", NftText.Incremental(before, after)!);
        Assert.Null(NftText.Incremental(before, PolicyRenderer.Render(Scenario.State(), Scenario.Bindings.Take(3).ToList(), 43)));
    }

    [Fact]
    public void Leave_OfAnInstanceHere_ChangesItsChains()
    {
        var before = PolicyRenderer.Render(Scenario.State(), Scenario.Bindings, 42);
        var after = PolicyRenderer.Render(Scenario.State(web1InWeb: false), Scenario.Bindings, 43);
        Assert.False(after.SameShapeAs(before));
    }

    [Fact]
    public void SameVerdictRuns_BecomeOneSetLookup_AndDifferentVerdictsStayInOrder()
    {
        var state = StateFileReader.Read("""
            {"SecurityGroups": [
               {"SecurityGroupId": "sg-a", "VpcId": "vpc-a", "InnerAccessPolicy": "Drop", "Permissions": {"Permission": [
                 {"SecurityGroupRuleId": "sgr-1", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "22/22", "SourceCidrIp": "10.0.0.0/8", "Priority": 1},
                 {"SecurityGroupRuleId": "sgr-2", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "22/22", "SourceCidrIp": "10.1.0.0/16", "Priority": 2},
                 {"SecurityGroupRuleId": "sgr-3", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "22/22", "SourceCidrIp": "192.168.0.0/16", "Priority": 3},
                 {"SecurityGroupRuleId": "sgr-4", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "22/22", "SourceCidrIp": "0.0.0.0/0", "Priority": 4, "Policy": "drop"},
                 {"SecurityGroupRuleId": "sgr-5", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "1/65535", "Ipv6SourceCidrIp": "::/0", "Priority": 5}]}}],
             "Instances": [
               {"InstanceId": "i-a", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["198.18.1.1"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-a"]}}]}
            """);
        var ruleset = PolicyRenderer.Render(state, [new HostBinding(InstanceId.Parse("i-a"), "vh-a")], 1);
        var ingress = ruleset.Nics[0].Ingress.Rules.Select(NftText.Rule).ToList();
        Assert.Equal(
        [
            "counter name ip saddr . meta l4proto . th dport map @in_i-a_0 accept comment \"sgr-1 sgr-2 sgr-3\"",
            "meta nfproto ipv4 meta l4proto tcp th dport 22 drop comment \"sgr-4\"",
            "meta nfproto ipv6 meta l4proto tcp th dport 1-65535 accept comment \"sgr-5\"",
        ], ingress);
        var run = Assert.IsType<NftRunSet>(ruleset.Nics[0].Ingress.Rules[0]);
        Assert.Equal(["10.0.0.0/8 tcp 22-22", "192.168.0.0/16 tcp 22-22"], run.Elements.Select(e => $"{e.Peer} {e.Protocol.ToWire().ToLowerInvariant()} {e.PortLow}-{e.PortHigh}"));
    }

    [Fact]
    public void Disjoint_CutsThePortLineWhereRangesMeet_SoNoTwoElementsOverlap()
    {
        var elements = PolicyRenderer.Disjoint(RunSetKind.PeerProtocolPort,
        [
            (Cidr.Parse("10.0.0.0/8"), IpProtocol.Tcp, 0, 65535, "sgr-x"),
            (Cidr.Parse("10.1.0.0/16"), IpProtocol.Tcp, 80, 90, "sgr-x"),
            (Cidr.Parse("192.168.0.0/16"), IpProtocol.Tcp, 85, 100, "sgr-x"),
            (Cidr.Parse("192.168.0.0/16"), IpProtocol.Udp, 53, 53, "sgr-x"),
        ]);
        Assert.Equal(
            ["10.0.0.0/8 TCP 0-84", "10.0.0.0/8 TCP 85-100", "192.168.0.0/16 TCP 85-100", "10.0.0.0/8 TCP 101-65535", "192.168.0.0/16 UDP 53-53"],
            elements.Select(e => $"{e.Peer} {e.Protocol.ToWire()} {e.PortLow}-{e.PortHigh}"));
    }

    [Fact]
    public void Disjoint_GivesEachAddressToTheFirstRuleHoldingIt_SoAnElementCountsForTheRuleTheEngineNames()
    {
        var elements = PolicyRenderer.Disjoint(RunSetKind.PeerProtocolPort,
        [
            (Cidr.Parse("10.1.0.0/16"), IpProtocol.Tcp, 22, 22, "sgr-narrow"),
            (Cidr.Parse("10.0.0.0/8"), IpProtocol.Tcp, 1, 65535, "sgr-wide"),
        ]);
        var at22 = elements.Where(e => e.PortLow <= 22 && e.PortHigh >= 22).ToList();
        Assert.Equal("10.1.0.0/16", Assert.Single(at22, e => e.Owner == "sgr-narrow").Peer.ToString());
        // The wide rule keeps 10.0.0.0/8 without 10.1.0.0/16 at port 22, all of it elsewhere.
        Assert.Equal(["10.0.0.0/16", "10.2.0.0/15", "10.4.0.0/14", "10.8.0.0/13", "10.16.0.0/12", "10.32.0.0/11", "10.64.0.0/10", "10.128.0.0/9"],
            at22.Where(e => e.Owner == "sgr-wide").Select(e => e.Peer.ToString()));
        Assert.Contains(elements, e => e.Owner == "sgr-wide" && e.Peer.ToString() == "10.0.0.0/8" && e.PortLow == 1 && e.PortHigh == 21);
        Assert.Contains(elements, e => e.Owner == "sgr-wide" && e.Peer.ToString() == "10.0.0.0/8" && e.PortLow == 23 && e.PortHigh == 65535);
        // No address and port is in two elements.
        foreach (var a in elements)
        {
            foreach (var b in elements.Where(b => !b.Equals(a)))
                Assert.False(a.Protocol == b.Protocol && a.PortLow <= b.PortHigh && b.PortLow <= a.PortHigh && a.Peer.First <= b.Peer.Last && b.Peer.First <= a.Peer.Last, $"{a} overlaps {b}");
        }
    }

    [Fact]
    public void Subtract_LeavesExactlyTheAddressesNotTaken()
    {
        Assert.Equal(["198.18.0.0/25", "198.18.0.128/26", "198.18.0.192/27", "198.18.0.240/28"],
            PolicyRenderer.Subtract(Cidr.Parse("198.18.0.0/24"), [Cidr.Parse("198.18.0.224/28")]).Select(c => c.ToString()));
        Assert.Empty(PolicyRenderer.Subtract(Cidr.Parse("198.18.0.0/24"), [Cidr.Parse("198.18.0.0/16")]));
        Assert.Equal(["198.18.0.0/24"], PolicyRenderer.Subtract(Cidr.Parse("198.18.0.0/24"), [Cidr.Parse("198.19.0.0/24")]).Select(c => c.ToString()));
    }

    [Fact]
    public void Normalize_JoinsOverlappingAndAdjacentRanges_AndDropsTheMatchForEveryPort()
    {
        Assert.Equal([PortRange.Create(20, 30), PortRange.Create(40, 40)],
            PolicyRenderer.Normalize([PortRange.Create(25, 30), PortRange.Create(20, 24), PortRange.Single(40)]).ToArray());
        Assert.Empty(PolicyRenderer.Normalize([PortRange.Any, PortRange.Single(80)]));
        Assert.Equal([PortRange.Create(1, 65535)], PolicyRenderer.Normalize([PortRange.Create(1, 65535)]).ToArray());
    }

    [Fact]
    public void Merge_KeepsOnlyBlocksNoOtherCovers()
    {
        Assert.Equal(["10.0.0.0/8", "192.168.1.1/32"],
            PolicyRenderer.Merge([Cidr.Parse("10.1.0.0/16"), Cidr.Parse("192.168.1.1"), Cidr.Parse("10.0.0.0/8"), Cidr.Parse("10.0.0.0/8")]).Select(c => c.ToString()));
    }
}
