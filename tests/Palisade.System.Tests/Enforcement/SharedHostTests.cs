using System.Diagnostics;
using Palisade.Agent.Kernel;
using Palisade.Agent.Rendering;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;
using Palisade.Domain.State;
using Palisade.TestKit.Processes;
using Xunit.Abstractions;

namespace Palisade.System.Tests.Enforcement;

/// <summary>
/// Issue 18 in the kernel: one host (a bridge in a namespace of ours) carrying two tenants whose VPCs
/// use the same block and whose instances the same addresses, each with its own groups, programmed
/// by the agent's renderer and kernel layer as one ruleset. Real TCP probes show each tenant's policy
/// and their isolation; hand-made frames show the layer-2 spoofing attempts failing while their
/// legitimate twins pass; with bridge netfilter off, nothing opens and the host says it cannot enforce.
/// Namespaces only, addresses in 198.18.0.0/15, every probe inside a namespace.
/// </summary>
public sealed class SharedHostTests(ITestOutputHelper output)
{
    private static bool Required => Environment.GetEnvironmentVariable("PALISADE_REQUIRE_NETNS") == "1";

    private const string Same1 = "198.18.10.11";
    private const string Same2 = "198.18.10.12";
    private const string Attacker = "198.18.10.13";

    // Tenant A allows TCP 80 and UDP 9999 inside its VPC; tenant B allows TCP 22 only. Neither lets members talk otherwise.
    private static NetworkState Tenant(string vpc, string group, string[] instances, string rules)
    {
        var members = instances.Select(i => i.Split('='))
            .Select(i => "{\"InstanceId\": \"" + i[0] + "\", \"VpcAttributes\": {\"VpcId\": \"" + vpc + "\", \"PrivateIpAddress\": {\"IpAddress\": [\"" + i[1]
                + "\"]}}, \"SecurityGroupIds\": {\"SecurityGroupId\": [\"" + group + "\"]}}");
        return StateFileReader.Read("{\"SecurityGroups\": [{\"SecurityGroupId\": \"" + group + "\", \"VpcId\": \"" + vpc
            + "\", \"InnerAccessPolicy\": \"Drop\", \"Permissions\": {\"Permission\": [" + rules + "]}}], \"Instances\": [" + string.Join(",", members) + "]}");
    }

    private static readonly NetworkState TenantA = Tenant("vpc-tenanta", "sg-tenanta", [$"i-a1={Same1}", $"i-a2={Same2}", $"i-a3={Attacker}"], """
        {"SecurityGroupRuleId": "sgr-a80", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "80/80", "SourceCidrIp": "198.18.10.0/24", "Priority": 1},
        {"SecurityGroupRuleId": "sgr-a9999", "Direction": "ingress", "IpProtocol": "UDP", "PortRange": "9999/9999", "SourceCidrIp": "198.18.10.0/24", "Priority": 1}
        """);

    private static readonly NetworkState TenantB = Tenant("vpc-tenantb", "sg-tenantb", [$"i-b1={Same1}", $"i-b2={Same2}"], """
        {"SecurityGroupRuleId": "sgr-b22", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "22/22", "SourceCidrIp": "198.18.10.0/24", "Priority": 1}
        """);

    private static string Mac(string instance) => MacAddress.ForInstance(InstanceId.Parse(instance)).ToString();

    [Fact]
    public async Task TwoTenantsWithTheSameAddresses_AreEnforcedApart_AndLayer2SpoofingFails()
    {
        if (TestTopology.Missing() is { } missing)
        {
            Assert.False(Required, $"PALISADE_REQUIRE_NETNS=1 but {missing}");
            output.WriteLine($"skipped: {missing}");
            return;
        }
        using var topology = new TestTopology();
        var instances = new[] { ("a1", Same1), ("a2", Same2), ("a3", Attacker), ("b1", Same1), ("b2", Same2) };
        foreach (var (name, address) in instances)
        {
            var ns = topology.AddInstance(name, address, Mac("i-" + name));
            topology.Listen(ns, address, [22, 80], []);
        }
        HostBinding Bound(string name) => new(InstanceId.Parse("i-" + name), TestTopology.HostInterfaceOf(name));
        var ruleset = PolicyRenderer.Render(
            [new HostPart(TenantA, [Bound("a1"), Bound("a2"), Bound("a3")]), new HostPart(TenantB, [Bound("b1"), Bound("b2")])], 1);
        Assert.Empty(ruleset.Problems); // the same addresses in two VPCs are no clash any more
        var kernel = new NftCommand(topology.HostNamespace) { Timeout = TimeSpan.FromSeconds(20) };
        await kernel.ApplyAsync(NftText.FullApply(ruleset), CancellationToken.None);
        var shape = await kernel.ReadBackAsync(CancellationToken.None);
        Assert.True(shape is not null && shape.SameAs(ExpectedShape.Of(ruleset)), $"read back {shape}, expected {ExpectedShape.Of(ruleset)}");
        Assert.Empty(await kernel.CheckPrerequisitesAsync(CancellationToken.None));

        // The probes' connections must still be tracked when the zones are read below: on a loaded
        // machine the default 10 s of a closed connection ran out first (a fresh-clone CI run). The
        // timeouts are the test's host namespace's own, not the machine's.
        topology.InHost("sysctl", "-q", "-w", "net.netfilter.nf_conntrack_tcp_timeout_close=300", "net.netfilter.nf_conntrack_tcp_timeout_time_wait=300", "net.netfilter.nf_conntrack_tcp_timeout_syn_sent=300");

        // Each tenant's policy on the same addresses: A serves 80 and not 22, B serves 22 and not 80.
        string A(string name) => topology.NamespaceOf(name);
        var fromA = topology.Probe(A("a1"), [$"tcp:{Same2}:80", $"tcp:{Same2}:22"]);
        var fromB = topology.Probe(A("b1"), [$"tcp:{Same2}:80", $"tcp:{Same2}:22"]);
        Assert.True(fromA[$"tcp:{Same2}:80"], "tenant A's a1 cannot reach a2:80, which A's group allows");
        Assert.False(fromA[$"tcp:{Same2}:22"], "tenant A's a1 reached port 22 of 198.18.10.12: B's policy (or none) was applied to A's traffic");
        Assert.True(fromB[$"tcp:{Same2}:22"], "tenant B's b1 cannot reach b2:22, which B's group allows");
        Assert.False(fromB[$"tcp:{Same2}:80"], "tenant B's b1 reached port 80 of 198.18.10.12: A's policy (or none) was applied to B's traffic");
        // Isolation: each resolved 198.18.10.12 to its own tenant's NIC (the other's ARP never reached it).
        Assert.Contains(Mac("i-a2"), TestTopology.Run("ip", "-n", A("a1"), "neigh", "show", Same2), StringComparison.Ordinal);
        Assert.Contains(Mac("i-b2"), TestTopology.Run("ip", "-n", A("b1"), "neigh", "show", Same2), StringComparison.Ordinal);
        // Tracked apart: each tenant's connection sits in its own network's zone.
        var tracked = topology.InHost("conntrack", "-L");
        foreach (var nic in ruleset.Nics.Where(n => n.InstanceId.Value is "i-a2" or "i-b2"))
            Assert.Contains($"zone={nic.Zone}", tracked, StringComparison.Ordinal);

        // Layer 2, from a3 (tenant A) against a1, watched on a1's own interface.
        var attacker = A("a3");
        var seen = Sniff(topology, A("a1"), () => Attempts(attacker));
        output.WriteLine("seen on a1:\n" + string.Join("\n", seen));
        Assert.Contains($"arp 2 {Attacker} {Mac("i-a3")}", seen);
        Assert.DoesNotContain($"arp 2 {Same2} {Mac("i-a3")}", seen);
        Assert.Contains("udp 5000 9999 legitimate", seen);
        Assert.DoesNotContain("udp 5000 9999 forged-mac", seen);
        Assert.DoesNotContain("udp 5000 9999 forged-ip", seen);
        Assert.DoesNotContain(seen, l => l.StartsWith("udp 67 68", StringComparison.Ordinal));
        Assert.Contains("icmpv6 128 hello6", seen);
        Assert.DoesNotContain(seen, l => l.StartsWith("icmpv6 134", StringComparison.Ordinal));
        Assert.Contains(Mac("i-a2"), TestTopology.Run("ip", "-n", A("a1"), "neigh", "show", Same2), StringComparison.Ordinal);

        // The control: with a3's port unchecked (its chain emptied to a bare accept) the same frames get through.
        topology.InHost("nft", "flush", "chain", "bridge", "palisade", NftText.FromPortChainName(InstanceId.Parse("i-a3")));
        topology.InHost("nft", "add", "rule", "bridge", "palisade", NftText.FromPortChainName(InstanceId.Parse("i-a3")), "accept");
        var unguarded = Sniff(topology, A("a1"), () => Attempts(attacker));
        output.WriteLine("seen on a1 with a3's port unchecked:\n" + string.Join("\n", unguarded));
        Assert.Contains($"arp 2 {Same2} {Mac("i-a3")}", unguarded);
        Assert.Contains("udp 5000 9999 forged-ip", unguarded);
        Assert.Contains(unguarded, l => l.StartsWith("icmpv6 134", StringComparison.Ordinal));
        await kernel.ApplyAsync(NftText.FullApply(ruleset), CancellationToken.None);

        // Bridge netfilter off in the host's namespace: nothing opens, and the host says it cannot enforce.
        topology.InHost("sysctl", "-q", "-w", "net.bridge.bridge-nf-call-iptables=0");
        var off = topology.Probe(A("a1"), [$"tcp:{Same2}:80", $"tcp:{Same2}:22", $"tcp:{Attacker}:22"], 0.5);
        Assert.All(off, p => Assert.False(p.Value, $"{p.Key} opened with bridge netfilter off"));
        var problems = await kernel.CheckPrerequisitesAsync(CancellationToken.None);
        Assert.Contains(problems, p => p.StartsWith("net.bridge.bridge-nf-call-iptables is 0", StringComparison.Ordinal));
        topology.InHost("sysctl", "-q", "-w", "net.bridge.bridge-nf-call-iptables=1");
        // Flows again once the switch is back: the first connection may wait for a neighbour entry that
        // went stale meanwhile, so it is given three tries of 3 s rather than one of 1 s.
        Assert.True(Enumerable.Range(0, 3).Any(_ => topology.ProbeOne(A("a1"), $"tcp:{Same2}:80", 3.0)), "a1 -> a2:80 stayed closed after bridge netfilter came back");
        Assert.Empty(await kernel.CheckPrerequisitesAsync(CancellationToken.None));
    }

    /// <summary>The spoofing attempts from <paramref name="attacker"/> (a3) against a1, each with its legitimate twin.</summary>
    private static async Task Attempts(string attacker)
    {
        // Gratuitous ARP claiming the neighbour's address, and its twin for a3's own.
        L2(attacker, "arp", Mac("i-a3"), Same2);
        L2(attacker, "arp", Mac("i-a3"), Attacker);
        // UDP to a1:9999 (allowed by A's group) with a forged source MAC, a forged source address, and neither.
        L2(attacker, "udp", Mac("i-a2"), Mac("i-a1"), Attacker, Same1, "5000", "9999", "forged-mac");
        L2(attacker, "udp", Mac("i-a3"), Mac("i-a1"), Same2, Same1, "5000", "9999", "forged-ip");
        L2(attacker, "udp", Mac("i-a3"), Mac("i-a1"), Attacker, Same1, "5000", "9999", "legitimate");
        // A DHCP server's reply, a router advertisement, and a legitimate ICMPv6 echo to all nodes.
        L2(attacker, "udp", Mac("i-a3"), "ff:ff:ff:ff:ff:ff", Attacker, "255.255.255.255", "67", "68", "dhcp-offer");
        L2(attacker, "ra", Mac("i-a3"));
        L2(attacker, "echo6", Mac("i-a3"), "hello6");
        await Task.Delay(300);
    }

    private static void L2(string ns, params string[] args) =>
        TestTopology.Run(["ip", "netns", "exec", ns, "python3", TestTopology.Script("l2.py"), args[0], "eth0", .. args[1..]]);

    /// <summary>What arrives on <paramref name="ns"/>'s eth0 while <paramref name="act"/> runs.</summary>
    private static List<string> Sniff(TestTopology topology, string ns, Func<Task> act)
    {
        var sniffer = topology.Start(ns, "python3", TestTopology.Script("l2.py"), "sniff", "eth0", "120");
        var ready = sniffer.StandardOutput.ReadLine();
        Assert.Equal("ready", ready);
        act().GetAwaiter().GetResult();
        sniffer.StandardInput.Close();
        var lines = new List<string>();
        while (sniffer.StandardOutput.ReadLine() is { } line)
            lines.Add(line);
        sniffer.WaitForExit();
        return lines;
    }
}
