using CsCheck;
using Palisade.Analysis.WhatIf;
using Palisade.Domain.Groups;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;
using Palisade.Domain.State;
using Palisade.Engine.Flows;
using Palisade.TestKit;

namespace Palisade.Analysis.Tests.WhatIf;

public sealed class ImpactTests
{
    private static readonly NetworkState Web = StateFileReader.Read("""
        {"SecurityGroups": [
           {"SecurityGroupId": "sg-web", "VpcId": "vpc-a", "InnerAccessPolicy": "Drop", "Permissions": {"Permission": [
             {"SecurityGroupRuleId": "sgr-http", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "80/80", "SourceCidrIp": "0.0.0.0/0"}]}},
           {"SecurityGroupId": "sg-ops", "VpcId": "vpc-a", "InnerAccessPolicy": "Drop", "Permissions": {"Permission": [
             {"SecurityGroupRuleId": "sgr-ssh", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "22/22", "SourceCidrIp": "0.0.0.0/0"}]}},
           {"SecurityGroupId": "sg-redis", "VpcId": "vpc-a", "InnerAccessPolicy": "Drop", "Permissions": {"Permission": [
             {"SecurityGroupRuleId": "sgr-redis", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "6379/6379", "SourceGroupId": "sg-web"}]}}],
         "Instances": [
           {"InstanceId": "i-web1", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["10.0.1.10"]}}, "EipAddress": {"IpAddress": "47.1.1.1"}, "SecurityGroupIds": {"SecurityGroupId": ["sg-web", "sg-ops"]}},
           {"InstanceId": "i-redis1", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["10.0.2.20"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-redis"]}}]}
        """);

    private static string Show(IEnumerable<FlowDelta> deltas) =>
        string.Join("; ", deltas.Select(d => $"{d.Source}->{d.Target} {d.Protocol.ToWire()} {string.Join(",", d.Ports)}"));

    [Fact]
    public void Leave_ShowsTheConnectionsTheInstanceLoses()
    {
        var impact = ImpactAnalysis.Of(Web, new Change.Leave(InstanceId.Parse("i-web1"), SecurityGroupId.Parse("sg-web")));
        // 0.0.0.0/0 admits the other instances of the VPC too, not only the internet.
        Assert.Equal("i-web1->i-redis1 TCP 6379/6379; i-redis1->i-web1 TCP 80/80; internet->i-web1 TCP 80/80", Show(impact.Lost));
        Assert.Empty(impact.Gained);
    }

    [Fact]
    public void Revoke_Authorize_Join_Policy()
    {
        Assert.Equal("i-redis1->i-web1 TCP 22/22; internet->i-web1 TCP 22/22", Show(ImpactAnalysis.Of(Web, new Change.Revoke(SecurityGroupRuleId.Parse("sgr-ssh"))).Lost));

        var drop = Web.FindGroup(SecurityGroupId.Parse("sg-ops"))!.Rules[0] with { Id = SecurityGroupRuleId.Parse("sgr-x"), Policy = Domain.Rules.Verdict.Drop, Ports = PortRange.Create(20, 25) };
        var closed = ImpactAnalysis.Of(Web, new Change.Authorize(SecurityGroupId.Parse("sg-redis"), drop));
        Assert.Empty(closed.Lost); // nobody reached redis on 20-25
        var closing = ImpactAnalysis.Of(Web, new Change.Authorize(SecurityGroupId.Parse("sg-ops"), drop));
        Assert.Equal("i-redis1->i-web1 TCP 22/22; internet->i-web1 TCP 22/22", Show(closing.Lost));

        var join = ImpactAnalysis.Of(Web, new Change.Join(InstanceId.Parse("i-redis1"), SecurityGroupId.Parse("sg-web")));
        Assert.Equal("i-web1->i-redis1 TCP 80/80", Show(join.Gained));

        var policy = ImpactAnalysis.Of(Web, new Change.SetInnerAccessPolicy(SecurityGroupId.Parse("sg-redis"), InnerAccessPolicy.Accept));
        Assert.Empty(policy.Gained); // a group of one member
        Assert.Throws<ArgumentException>(() => ImpactAnalysis.Of(Web, new Change.Leave(InstanceId.Parse("i-redis1"), SecurityGroupId.Parse("sg-redis"))));
        Assert.Throws<ArgumentException>(() => ImpactAnalysis.Of(Web, new Change.DeleteGroup(SecurityGroupId.Parse("sg-web"))));
    }

    [Fact]
    public void RevokingARuleThatNamesOnlyASecondaryAddress_LosesTheInstanceItsAccess()
    {
        var state = Reachability.ReachMatrixTests.Secondary;
        var revoke = new Change.Revoke(SecurityGroupRuleId.Parse("sgr-pg"));
        Assert.Equal("i-web->i-db TCP 5432/5432", Show(ImpactAnalysis.Of(state, revoke).Lost));
        Assert.Equal("i-web->i-db TCP 5432/5432", Show(ImpactAnalysis.Of(Analysis.Reachability.ReachMatrix.Build(state), revoke).Lost));
        // Revoking the rule that names nobody's address loses nothing.
        Assert.Empty(ImpactAnalysis.Of(Analysis.Reachability.ReachMatrix.Build(state), new Change.Revoke(SecurityGroupRuleId.Parse("sgr-nobody"))).Lost);
    }

    /// <summary>
    /// The oracle: for random small states and a random revoke or leave, every port the impact says
    /// was lost (or gained) is one whose flow, decided one by one before and after, changed that way.
    /// </summary>
    [Fact]
    public void ImpactAgreesWithDecidingEveryPortBeforeAndAfter()
    {
        SmallUniverse.State.Sample(state =>
        {
            var rules = state.Groups.SelectMany(g => g.Rules).ToList();
            var changes = new List<Change>();
            if (rules.Count > 0)
                changes.Add(new Change.Revoke(rules[rules.Count / 2].Id));
            // Modify: the first rule becomes the opposite verdict on ports 20-25.
            foreach (var g in state.Groups.Where(g => g.Rules.Length > 0).Take(1))
            {
                var old = g.Rules[0];
                changes.Add(new Change.Modify(old.Id, old with { Policy = old.Policy == Domain.Rules.Verdict.Accept ? Domain.Rules.Verdict.Drop : Domain.Rules.Verdict.Accept, Ports = old.Protocol.HasPorts() ? PortRange.Create(20, 25) : old.Ports, PortRangeListId = null }));
            }
            foreach (var i in state.Instances.Where(i => i.SecurityGroupIds.Length > 1).Take(1))
                changes.Add(new Change.Leave(i.Id, i.SecurityGroupIds[^1]));
            foreach (var i in state.Instances.Take(1))
            {
                var home = state.FindGroup(i.SecurityGroupIds[0])!;
                if (state.Groups.FirstOrDefault(g => g.VpcId == i.VpcId && g.IsEnterprise == home.IsEnterprise && !i.SecurityGroupIds.Contains(g.Id)) is { } other)
                    changes.Add(new Change.Join(i.Id, other.Id));
            }
            foreach (var i in state.Instances.Where(i => i.SecondaryInterfaces.Any(e => e.SecurityGroupIds.Length > 1)).Take(1))
            {
                var eni = i.SecondaryInterfaces.First(e => e.SecurityGroupIds.Length > 1);
                changes.Add(new Change.Leave(i.Id, eni.SecurityGroupIds[0], eni.Id));
            }
            foreach (var g in state.Groups.Where(g => !g.IsEnterprise && state.MembersOf(g.Id).Length > 1).Take(1))
                changes.Add(new Change.SetInnerAccessPolicy(g.Id, g.InnerAccessPolicy == InnerAccessPolicy.Accept ? InnerAccessPolicy.Drop : InnerAccessPolicy.Accept));
            foreach (var change in changes)
            {
                var impact = ImpactAnalysis.Of(state, change);
                var after = change.ApplyTo(state);
                Check(state, after, impact.Lost, expectedBefore: true);
                Check(state, after, impact.Gained, expectedBefore: false);
                // And nothing is missing: on every instance pair, ports 1-100 changed exactly as reported.
                foreach (var target in state.Instances)
                {
                    foreach (var source in state.Instances.Where(s => s.Id != target.Id && s.VpcId == target.VpcId && s.AllPrivateAddresses.Any(a => !a.IsV6) && target.AllPrivateAddresses.Any(a => !a.IsV6)))
                    {
                        for (var port = 1; port <= 100; port++)
                        {
                            var was = Allowed(state, source.Id, target.Id, IpProtocol.Tcp, port);
                            var now = Allowed(after, source.Id, target.Id, IpProtocol.Tcp, port);
                            var lost = impact.Lost.Any(d => d.Source == source.Id.Value && d.Target == target.Id.Value && d.Protocol == IpProtocol.Tcp && d.Ports.Any(p => p.Contains(port)));
                            var gained = impact.Gained.Any(d => d.Source == source.Id.Value && d.Target == target.Id.Value && d.Protocol == IpProtocol.Tcp && d.Ports.Any(p => p.Contains(port)));
                            Assert.Equal(was && !now, lost);
                            Assert.Equal(!was && now, gained);
                        }
                    }
                }
            }
        }, iter: 30, threads: 1);
    }

    /// <summary>
    /// The fast path against its slow twin: on random states and every kind of change, the impact from
    /// the matrix of the state before is exactly the impact computed pair by pair — one matrix serving
    /// several changes in a row, so that answers cached by one change cannot leak into the next.
    /// </summary>
    [Fact]
    public void ImpactFromTheMatrix_IsTheImpactPairByPair()
    {
        ChangeCases.Gen.Sample(c =>
        {
            var (state, changes) = c;
            foreach (var v6 in new[] { false, true })
            {
                var matrix = Analysis.Reachability.ReachMatrix.Build(state, v6);
                foreach (var change in changes)
                {
                    var slow = ImpactAnalysis.Of(state, change, v6);
                    var fast = ImpactAnalysis.Of(matrix, change);
                    Assert.Equal(Show(slow.Lost), Show(fast.Lost));
                    Assert.Equal(Show(slow.Gained), Show(fast.Gained));
                }
            }
        }, iter: 300, threads: 1, print: c => SmallUniverse.Describe(c.State));
    }

    private static void Check(NetworkState before, NetworkState after, IReadOnlyList<FlowDelta> deltas, bool expectedBefore)
    {
        foreach (var d in deltas.Where(d => d.Source != "internet" && d.Protocol.HasPorts()))
        {
            foreach (var span in d.Ports)
            {
                foreach (var port in new[] { span.Low, span.High })
                {
                    Assert.Equal(expectedBefore, Allowed(before, InstanceId.Parse(d.Source), InstanceId.Parse(d.Target), d.Protocol, port));
                    Assert.Equal(!expectedBefore, Allowed(after, InstanceId.Parse(d.Source), InstanceId.Parse(d.Target), d.Protocol, port));
                }
            }
        }
    }

    private static bool Allowed(NetworkState state, InstanceId sourceId, InstanceId targetId, IpProtocol protocol, int port)
    {
        var source = state.FindInstance(sourceId)!;
        var target = state.FindInstance(targetId)!;
        // An instance takes part through every one of its addresses: some pair of them is enough.
        var evaluator = new FlowEvaluator(state);
        return source.AllPrivateAddresses.Where(a => !a.IsV6).Any(src => target.AllPrivateAddresses.Where(a => !a.IsV6)
            .Any(dst => evaluator.Evaluate(new Flow(src, dst, protocol, port), source, target).Allowed));
    }
}
