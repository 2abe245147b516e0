using Palisade.Agent.Following;
using Palisade.Agent.Kernel;
using Palisade.Agent.Rendering;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;
using Palisade.Domain.State;
using Palisade.TestKit.Processes;
using Xunit.Abstractions;

namespace Palisade.System.Tests.Enforcement;

/// <summary>
/// Issue 20 item 4 in the kernel: real TCP probes between namespaces of ours move the counter of the
/// ECS rule the engine says decided them, also when that rule is one of several merged into one set
/// lookup, and when an earlier rule of the run covers part of a later one (the element belongs to the
/// earlier). Read through the agent (<see cref="EnforcementAgent.HarvestUsageAsync"/>), across an
/// incremental chain update. Addresses in 198.18.0.0/15; every probe inside a namespace.
/// </summary>
public sealed class RuleCounterTests(ITestOutputHelper output)
{
    private static bool Required => Environment.GetEnvironmentVariable("PALISADE_REQUIRE_NETNS") == "1";

    private const string Client = "198.18.20.11";
    private const string Server = "198.18.20.12";

    // One run of accepts (sgr-c22, sgr-c80, sgr-cwide: one set lookup) after a drop (sgr-cdrop, priority 1 drops first).
    // sgr-cwide (priority 2) covers 22 and 80 too; only what the earlier rules leave is counted for it.
    private const string BaseRules = """
        {"SecurityGroupRuleId": "sgr-cdrop", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "443/443", "SourceCidrIp": "0.0.0.0/0", "Priority": 1, "Policy": "drop"},
        {"SecurityGroupRuleId": "sgr-c22", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "22/22", "SourceCidrIp": "198.18.20.0/24", "Priority": 1},
        {"SecurityGroupRuleId": "sgr-c80", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "80/80", "SourceCidrIp": "198.18.20.11/32", "Priority": 1},
        {"SecurityGroupRuleId": "sgr-cwide", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "1/65535", "SourceCidrIp": "198.18.20.0/24", "Priority": 2}
        """;

    private static NetworkState State(string rules) => StateFileReader.Read("""
        {"SecurityGroups": [{"SecurityGroupId": "sg-count", "VpcId": "vpc-count", "InnerAccessPolicy": "Drop", "Permissions": {"Permission": [
        """ + rules + """
        ]}}],
         "Instances": [
           {"InstanceId": "i-cc", "VpcAttributes": {"VpcId": "vpc-count", "PrivateIpAddress": {"IpAddress": ["198.18.20.11"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-count"]}},
           {"InstanceId": "i-cs", "VpcAttributes": {"VpcId": "vpc-count", "PrivateIpAddress": {"IpAddress": ["198.18.20.12"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-count"]}}]}
        """);

    private sealed class NoControlPlane : IControlPlane
    {
        public Task<HostPolicy> FetchAsync(string hostName, CancellationToken cancel) => throw new NotSupportedException();

        public Task<bool> WaitForChangeAsync(string hostName, long afterRevision, TimeSpan wait, CancellationToken cancel) => throw new NotSupportedException();

        public Task ReportAsync(string hostName, long appliedRevision, IReadOnlyList<NicRef> nics, CancellationToken cancel) => Task.CompletedTask;
    }

    [Fact]
    public async Task RealPackets_MoveTheDecidingRulesCounter_InsideAMergedSetRun_AndAcrossAChainUpdate()
    {
        if (TestTopology.Missing() is { } missing)
        {
            Assert.False(Required, $"PALISADE_REQUIRE_NETNS=1 but {missing}");
            output.WriteLine($"skipped: {missing}");
            return;
        }
        using var topology = new TestTopology();
        var client = topology.AddInstance("cc", Client, MacAddress.ForInstance(InstanceId.Parse("i-cc")).ToString());
        var server = topology.AddInstance("cs", Server, MacAddress.ForInstance(InstanceId.Parse("i-cs")).ToString());
        topology.Listen(server, Server, [22, 80, 443, 9000, 9001], []);
        HostBinding[] bindings = [new(InstanceId.Parse("i-cc"), TestTopology.HostInterfaceOf("cc")), new(InstanceId.Parse("i-cs"), TestTopology.HostInterfaceOf("cs"))];
        var kernel = new NftCommand(topology.HostNamespace) { Timeout = TimeSpan.FromSeconds(20) };
        var agent = new EnforcementAgent(new NoControlPlane(), kernel, new AgentOptions("count-host"), output.WriteLine);
        await agent.ConvergeAsync(new HostPolicy(1, bindings, State(BaseRules)), CancellationToken.None);
        // Transactions through libnftables in this process (its socket in the host namespace); the counters below are read by the nft command.
        Assert.Contains("libnftables", kernel.Mode, StringComparison.Ordinal);
        var ingress = agent.Applied!.Nics.Single(n => n.InstanceId.Value == "i-cs").Ingress;
        var run = Assert.Single(ingress.Rules.OfType<NftRunSet>());
        Assert.Equal(["sgr-c22", "sgr-c80", "sgr-cwide"], run.Elements.Select(e => e.Owner).Distinct().Order());
        output.WriteLine(NftText.FullApply(agent.Applied));
        await agent.HarvestUsageAsync(CancellationToken.None); // nothing yet (the listeners' own traffic is local)
        Assert.Empty(agent.PendingUsage);

        var probes = topology.Probe(client, [$"tcp:{Server}:22", $"tcp:{Server}:80", $"tcp:{Server}:9000", $"tcp:{Server}:443"]);
        Assert.True(probes[$"tcp:{Server}:22"] && probes[$"tcp:{Server}:80"] && probes[$"tcp:{Server}:9000"], string.Join(", ", probes));
        Assert.False(probes[$"tcp:{Server}:443"]);
        await agent.HarvestUsageAsync(CancellationToken.None);
        var hits = Hits(agent);
        output.WriteLine(string.Join("\n", agent.PendingUsage));
        // One SYN each for the accepted connections (the rest of a connection is established traffic, accepted before the rules).
        Assert.Equal(1, hits.GetValueOrDefault("ingress sgr-c22"));
        Assert.Equal(1, hits.GetValueOrDefault("ingress sgr-c80"));
        Assert.Equal(1, hits.GetValueOrDefault("ingress sgr-cwide"));
        Assert.True(hits.GetValueOrDefault("ingress sgr-cdrop") >= 1, "the drop rule's counter did not move");
        Assert.Equal(4, agent.PendingUsage.Count);
        Assert.All(agent.PendingUsage, u => Assert.Equal("i-cs", u.InstanceId.Value));

        // A rule added: the chain is replaced incrementally; the counters read before it keep their counts, the new rule counts.
        await agent.ConvergeAsync(new HostPolicy(2, bindings, State(BaseRules + """
            ,{"SecurityGroupRuleId": "sgr-c9001", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "9001/9001", "SourceCidrIp": "198.18.20.11/32", "Priority": 1}
            """)), CancellationToken.None);
        Assert.Equal(1, agent.ChainUpdates);
        Assert.True(topology.ProbeOne(client, $"tcp:{Server}:9001"));
        Assert.True(topology.ProbeOne(client, $"tcp:{Server}:22"));
        await agent.HarvestUsageAsync(CancellationToken.None);
        hits = Hits(agent);
        Assert.Equal(1, hits.GetValueOrDefault("ingress sgr-c9001"));
        Assert.Equal(2, hits.GetValueOrDefault("ingress sgr-c22"));
        Assert.Equal(1, hits.GetValueOrDefault("ingress sgr-cwide"));
    }

    private static Dictionary<string, long> Hits(EnforcementAgent agent) =>
        agent.PendingUsage.ToDictionary(u => $"{u.Direction} {u.SecurityGroupRuleId}", u => u.Packets);
}
