using Palisade.Agent.Rendering;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;
using Palisade.Domain.State;
using Palisade.Engine.Flows;
using Palisade.Engine.Policies;
using Palisade.TestKit;

namespace Palisade.Agent.Tests.Rendering;

/// <summary>
/// Issue 16 item 6: each bound ENI is its own NIC on its own port — its own groups' rules, its own
/// addresses and MAC — decided as the engine decides that ENI (the instance's ENI view), never by
/// the groups of the instance's other ENIs.
/// </summary>
public sealed class NetworkInterfaceRenderingTests
{
    private static readonly NetworkState State = StateFileReader.Read("""
        {"SecurityGroups": [
           {"SecurityGroupId": "sg-app", "VpcId": "vpc-a", "Permissions": {"Permission": [
             {"SecurityGroupRuleId": "sgr-http", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "80/80", "SourceCidrIp": "198.18.0.0/15", "Priority": 1}]}},
           {"SecurityGroupId": "sg-data", "VpcId": "vpc-a", "Permissions": {"Permission": [
             {"SecurityGroupRuleId": "sgr-pg", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "5432/5432", "SourceCidrIp": "198.18.0.0/15", "Priority": 1}]}}],
         "Instances": [
           {"InstanceId": "i-app", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["198.18.1.11"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-app"]}}],
         "NetworkInterfaces": [
           {"NetworkInterfaceId": "eni-app0", "InstanceId": "i-app", "Type": "Primary", "VpcId": "vpc-a",
            "PrivateIpSets": {"PrivateIpSet": [{"PrivateIpAddress": "198.18.1.11", "Primary": true}]}, "SecurityGroupIds": {"SecurityGroupId": ["sg-app"]}},
           {"NetworkInterfaceId": "eni-data1", "InstanceId": "i-app", "Type": "Secondary", "VpcId": "vpc-a", "MacAddress": "02:aa:00:00:00:01",
            "PrivateIpSets": {"PrivateIpSet": [{"PrivateIpAddress": "198.18.2.11", "Primary": true}]}, "SecurityGroupIds": {"SecurityGroupId": ["sg-data"]}}]}
        """);

    private static readonly InstanceId App = InstanceId.Parse("i-app");

    private static HostRuleset Render(params HostBinding[] bindings) => PolicyRenderer.Render(State, bindings, 5);

    private static readonly HostBinding Primary = new(App, "vh-app") { NetworkInterfaceId = NetworkInterfaceId.Parse("eni-app0") };
    private static readonly HostBinding Data = new(App, "vh-data") { NetworkInterfaceId = NetworkInterfaceId.Parse("eni-data1") };

    [Fact]
    public void EachEni_IsItsOwnNic_WithItsOwnGroupsAddressesMacAndChains()
    {
        var ruleset = Render(Primary, Data);
        Assert.Empty(ruleset.Problems);
        Assert.Equal(2, ruleset.Nics.Length);
        var primary = Assert.Single(ruleset.Nics, n => n.InterfaceName == "vh-app");
        var data = Assert.Single(ruleset.Nics, n => n.InterfaceName == "vh-data");
        // The primary NIC keeps its instance's name in the kernel, bound by ENI or by instance alike.
        Assert.Equal(("i-app", "in_i-app", MacAddress.ForInstance(App)), (primary.Name, primary.Ingress.Name, primary.Mac));
        Assert.Equal(("eni-data1", "in_eni-data1", "02:aa:00:00:00:01"), (data.Name, data.Ingress.Name, data.Mac.ToString()));
        Assert.Equal(["198.18.1.11"], primary.Addresses.Select(a => a.ToString()));
        Assert.Equal(["198.18.2.11"], data.Addresses.Select(a => a.ToString()));
        Assert.Equal(["sgr-http"], primary.Ingress.CountedRules);
        Assert.Equal(["sgr-pg"], data.Ingress.CountedRules);
        Assert.Equal(new NicRef(App, NetworkInterfaceId.Parse("eni-data1"), Secondary: true), data.Ref);
        Golden.Assert("two-enis.nft", NftText.FullApply(ruleset));
    }

    [Fact]
    public void TheKernelDecidesEachEniAsTheEngineDoes()
    {
        var ruleset = Render(Primary, Data);
        var simulator = new RulesetSimulator(ruleset);
        var instance = State.FindInstance(App)!;
        var peer = IpAddress.Parse("198.18.9.9");
        foreach (var local in new[] { "198.18.1.11", "198.18.2.11" })
        {
            foreach (var port in new[] { 80, 5432, 22 })
            {
                var flow = new Flow(peer, IpAddress.Parse(local), IpProtocol.Tcp, port);
                // The engine's own per-ENI decision: the groups of the ENI that owns the address.
                var engine = NicPolicy.Compile(State, instance.InterfaceOf(flow.Destination)).Decide(Direction.Ingress, flow).Verdict == Verdict.Accept;
                Assert.Equal(engine, simulator.Allows(flow));
            }
        }
        Assert.True(simulator.Allows(new Flow(peer, IpAddress.Parse("198.18.1.11"), IpProtocol.Tcp, 80)));
        Assert.False(simulator.Allows(new Flow(peer, IpAddress.Parse("198.18.2.11"), IpProtocol.Tcp, 80)));
        Assert.True(simulator.Allows(new Flow(peer, IpAddress.Parse("198.18.2.11"), IpProtocol.Tcp, 5432)));
        Assert.False(simulator.Allows(new Flow(peer, IpAddress.Parse("198.18.1.11"), IpProtocol.Tcp, 5432)));
    }

    [Fact]
    public void BindingByInstance_IsThePrimaryEni_AndAnEniTheStateLacks_StaysClosed()
    {
        var byInstance = Render(new HostBinding(App, "vh-app"));
        var byEni = Render(Primary);
        Assert.Equal(NftText.FullApply(byEni), NftText.FullApply(byInstance));
        var unknown = Render(Primary, new HostBinding(App, "vh-ghost") { NetworkInterfaceId = NetworkInterfaceId.Parse("eni-gone") });
        Assert.Single(unknown.Nics);
        Assert.Contains(unknown.Problems, p => p.Contains("eni-gone of i-app on vh-ghost", StringComparison.Ordinal) && p.Contains("stays closed", StringComparison.Ordinal));
    }

    [Fact]
    public void TwoEnisOnOnePort_AreBothLeftClosed()
    {
        var ruleset = Render(Primary, Data with { InterfaceName = "vh-app" });
        Assert.Empty(ruleset.Nics);
        Assert.Contains(ruleset.Problems, p => p.StartsWith("interface vh-app is bound to ", StringComparison.Ordinal));
    }

    /// <summary>
    /// Issue 20: the flow sampler credits a connection to the ENI whose address it went to, and reports
    /// that ENI — the secondary's own ID, the primary's when its binding names it — so the server judges
    /// the flow at that ENI's groups. An instance bound by instance (no ENI) is reported without one.
    /// </summary>
    [Fact]
    public void SampledFlows_NameTheEniThatSawThem()
    {
        var ruleset = Render(Primary, Data);
        var sampler = new Palisade.Agent.Following.FlowSampler(() => ruleset, TimeProvider.System);
        Palisade.Agent.Kernel.TrackedConnection To(string address, int port) =>
            new(new Flow(IpAddress.Parse("198.18.9.9"), IpAddress.Parse(address), IpProtocol.Tcp, port, 40000), ruleset.Nics.Single(n => n.Addresses.Contains(IpAddress.Parse(address))).Zone);
        sampler.Record(To("198.18.2.11", 5432));
        sampler.Record(To("198.18.1.11", 80));
        sampler.Record(To("198.18.2.11", 5432));
        var report = sampler.Take(10);
        Assert.Equal([("i-app", "eni-app0", 80, 1L), ("i-app", "eni-data1", 5432, 2L)],
            report.Flows.Select(f => (f.InstanceId.Value, f.NetworkInterfaceId?.Value, f.Port, f.Connections)));

        var byInstance = Render(new HostBinding(App, "vh-app"));
        var old = new Palisade.Agent.Following.FlowSampler(() => byInstance, TimeProvider.System);
        old.Record(new(new Flow(IpAddress.Parse("198.18.9.9"), IpAddress.Parse("198.18.1.11"), IpProtocol.Tcp, 80, 40000), byInstance.Nics[0].Zone));
        Assert.Equal([("i-app", (string?)null)], old.Take(10).Flows.Select(f => (f.InstanceId.Value, f.NetworkInterfaceId?.Value)));
    }
}
