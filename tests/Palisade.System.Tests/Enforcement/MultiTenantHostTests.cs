using Palisade.Client;
using Palisade.Domain.Ecs;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;
using Palisade.TestKit;
using Palisade.TestKit.Processes;
using Xunit.Abstractions;

namespace Palisade.System.Tests.Enforcement;

/// <summary>
/// Issue 18 end to end, through a real server: a real <c>palisade serve</c>; three tenant accounts
/// (made by the operator with <c>palisade account create</c>) that manage their groups and instances
/// through the ECS API with signed calls; tenants A and B with the same VPC block and the same
/// instance addresses on one host (a bridge in a namespace of ours), tenant C on a second host. The
/// operator declares both hosts, makes one host credential per host and binds every NIC with
/// <c>palisade host bind</c> on the store; one real <c>palisade agent</c> per host runs with its
/// host's one credential, for every tenant on it. Real TCP probes show each tenant's policy and
/// their isolation, follow a rule each tenant changes through the API, and show C enforced by its
/// own host's agent only; a rotated credential leaves that agent refused and saying so, its host
/// still enforcing. Namespaces only, addresses in 198.18.0.0/15, every probe inside a namespace,
/// everything removed even on failure.
/// </summary>
public sealed class MultiTenantHostTests(ITestOutputHelper output) : IDisposable
{
    private const string Region = "cn-hangzhou";
    private const string Host1 = "host-1";
    private const string Host2 = "host-2";
    private const string Same1 = "198.18.10.11";
    private const string Same2 = "198.18.10.12";
    private const string C1 = "198.18.20.11";
    private const string C2 = "198.18.20.12";
    private static readonly string[] Declared = ["--interfaces", "vh-*", "--addresses", "198.18.0.0/15"];

    private readonly string _data = Path.Combine(Path.GetTempPath(), "palisade-tenants-" + Guid.NewGuid().ToString("N"));
    private readonly TestStores.PostgresDatabase? _database = TestStores.NewDatabase();

    private static bool Required => Environment.GetEnvironmentVariable("PALISADE_REQUIRE_NETNS") == "1";

    public void Dispose()
    {
        _database?.Dispose();
        if (Directory.Exists(_data))
            Directory.Delete(_data, recursive: true);
    }

    /// <summary>A tenant: its API client, its credentials file (for <c>palisade host list</c>), its IDs.</summary>
    private sealed record Tenant(string Name, EcsClient Api, string Credentials)
    {
        public string Group { get; set; } = "";

        public Dictionary<string, string> Instances { get; } = [];
    }

    [Fact]
    public async Task TwoTenantsWithTheSameAddresses_OnOneHost_ThroughTheServer_AndAThirdOnASecondHost_EachByItsHostsOneCredential()
    {
        if (TestTopology.Missing() is { } missing)
        {
            Assert.False(Required, $"PALISADE_REQUIRE_NETNS=1 but {missing}");
            output.WriteLine($"skipped: {missing}");
            return;
        }
        Directory.CreateDirectory(_data);
        using var host1 = new TestTopology();
        using var host2 = new TestTopology();
        var server = await ServerProcess.StartAsync(_data, _database?.ConnectionString);
        AgentProcess? agent1 = null;
        AgentProcess? agent2 = null;
        try
        {
            using var http = new HttpClient { BaseAddress = server.Url, Timeout = TimeSpan.FromSeconds(30) };
            Tenant NewTenant(string name)
            {
                // The operator makes the account and its first key on the store; the tenant signs its calls with it.
                var made = Fields(server.Operator("account", "create", "--name", name));
                var file = Path.Combine(_data, name + ".credentials");
                File.WriteAllText(file, $"access_key_id={made["access_key_id"]}\naccess_key_secret={made["access_key_secret"]}\n");
                return new Tenant(name, new EcsClient(http, new ClientCredentials(made["access_key_id"], made["access_key_secret"])), file);
            }
            var (a, b, c) = (NewTenant("tenant-a"), NewTenant("tenant-b"), NewTenant("tenant-c"));
            // A and B: the same VPC block, the same instance addresses; A serves 80, B serves 22. C: 80, on host-2.
            await SetUpAsync(a, "198.18.10.0/24", 80, ("a1", Same1), ("a2", Same2));
            await SetUpAsync(b, "198.18.10.0/24", 22, ("b1", Same1), ("b2", Same2));
            await SetUpAsync(c, "198.18.20.0/24", 80, ("c1", C1), ("c2", C2));

            // The operator: both hosts declared, one credential each.
            var credential1 = server.HostCredential(Host1, "vh-*", "198.18.0.0/15");
            var credential2 = server.HostCredential(Host2, "vh-*", "198.18.0.0/15");
            foreach (var (topology, tenant, name, address) in new[]
                     {
                         (host1, a, "a1", Same1), (host1, a, "a2", Same2), (host1, b, "b1", Same1), (host1, b, "b2", Same2), (host2, c, "c1", C1), (host2, c, "c2", C2),
                     })
            {
                var ns = topology.AddInstance(name, address, MacAddress.ForInstance(InstanceId.Parse(tenant.Instances[name])).ToString());
                topology.Listen(ns, address, [22, 80], []);
            }
            agent1 = AgentProcess.Start(server.Url, credential1, Host1, host1.HostNamespace, Declared);
            agent2 = AgentProcess.Start(server.Url, credential2, Host2, host2.HostNamespace, Declared);
            await agent1.WaitForLogAsync("revision", TimeSpan.FromSeconds(60));
            await agent2.WaitForLogAsync("revision", TimeSpan.FromSeconds(60));
            foreach (var (tenant, host, names) in new[] { (a, Host1, new[] { "a1", "a2" }), (b, Host1, new[] { "b1", "b2" }), (c, Host2, new[] { "c1", "c2" }) })
            {
                foreach (var name in names)
                    server.Bind(tenant.Instances[name], host, TestTopology.HostInterfaceOf(name));
            }
            var bindings = server.Operator("host", "bindings");
            output.WriteLine(bindings);
            foreach (var tenant in new[] { a, b, c })
                await InSyncAsync(server, tenant, agent1, agent2);

            // Each tenant's policy on the same addresses, on one host: A serves 80 and not 22, B 22 and not 80.
            string Ns(TestTopology topology, string name) => topology.NamespaceOf(name);
            var probes = new[] { $"tcp:{Same2}:80", $"tcp:{Same2}:22" };
            await ExpectAsync(host1, Ns(host1, "a1"), probes, [true, false], "tenant A (80 allowed, 22 not)", agent1);
            await ExpectAsync(host1, Ns(host1, "b1"), probes, [false, true], "tenant B (22 allowed, 80 not), same addresses", agent1);
            // Isolation: each resolved 198.18.10.12 to its own tenant's NIC; the other tenant's never answered it.
            Assert.Contains(Mac(a, "a2"), TestTopology.Run("ip", "-n", Ns(host1, "a1"), "neigh", "show", Same2), StringComparison.Ordinal);
            Assert.Contains(Mac(b, "b2"), TestTopology.Run("ip", "-n", Ns(host1, "b1"), "neigh", "show", Same2), StringComparison.Ordinal);
            // C on host-2, enforced there by host-2's agent: 80 open, 22 closed.
            var cProbes = new[] { $"tcp:{C2}:80", $"tcp:{C2}:22" };
            await ExpectAsync(host2, Ns(host2, "c1"), cProbes, [true, false], "tenant C on host-2", agent2);
            // Each host's agent holds its own host's NICs only, of whichever tenant.
            var ruleset1 = host1.InHost("nft", "list", "ruleset");
            var ruleset2 = host2.InHost("nft", "list", "ruleset");
            foreach (var id in new[] { a.Instances["a1"], a.Instances["a2"], b.Instances["b1"], b.Instances["b2"] })
            {
                Assert.Contains(id, ruleset1, StringComparison.Ordinal);
                Assert.DoesNotContain(id, ruleset2, StringComparison.Ordinal);
            }
            foreach (var id in c.Instances.Values)
            {
                Assert.Contains(id, ruleset2, StringComparison.Ordinal);
                Assert.DoesNotContain(id, ruleset1, StringComparison.Ordinal);
            }

            // Tenant A opens 22 through the API: A's probe follows, B's policy on the same addresses does not move.
            await a.Api.CallAsync("AuthorizeSecurityGroup", new { RegionId = Region, SecurityGroupId = a.Group, IpProtocol = "TCP", PortRange = "22/22", SourceCidrIp = "198.18.10.0/24" });
            await ExpectAsync(host1, Ns(host1, "a1"), probes, [true, true], "tenant A opened 22", agent1);
            await ExpectAsync(host1, Ns(host1, "b1"), probes, [false, true], "tenant B unchanged by A's rule", agent1);
            // Tenant B revokes its 22: B's probe closes, A's 22 stays open.
            await b.Api.CallAsync("RevokeSecurityGroup", new { RegionId = Region, SecurityGroupId = b.Group, IpProtocol = "TCP", PortRange = "22/22", SourceCidrIp = "198.18.10.0/24" });
            await ExpectAsync(host1, Ns(host1, "b1"), probes, [false, false], "tenant B revoked 22", agent1);
            await ExpectAsync(host1, Ns(host1, "a1"), probes, [true, true], "tenant A unchanged by B's revoke", agent1);
            // Tenant C opens 22: host-2's agent enforces it; host-1's ruleset still holds nothing of C's.
            await c.Api.CallAsync("AuthorizeSecurityGroup", new { RegionId = Region, SecurityGroupId = c.Group, IpProtocol = "TCP", PortRange = "22/22", SourceCidrIp = "198.18.20.0/24" });
            await ExpectAsync(host2, Ns(host2, "c1"), cProbes, [true, true], "tenant C opened 22", agent2);
            Assert.DoesNotContain(c.Instances["c1"], host1.InHost("nft", "list", "ruleset"), StringComparison.Ordinal);
            foreach (var tenant in new[] { a, b, c })
                await InSyncAsync(server, tenant, agent1, agent2);

            // Each agent used its own host's one credential: both are listed with a last use, and host-1's
            // agent enforces two tenants with its one.
            var listed = server.Operator("host", "credential", "list");
            output.WriteLine(listed);
            foreach (var file in new[] { credential1, credential2 })
            {
                var id = Fields(File.ReadAllText(file))["access_key_id"];
                var line = listed.Split('\n').Single(l => l.StartsWith(id, StringComparison.Ordinal));
                Assert.DoesNotContain(" -", line.TrimEnd(), StringComparison.Ordinal);
            }

            // The operator rotates host-2's credential: its agent, still on the old one, is refused, says so,
            // and keeps enforcing what it applied (C's 80 and 22 stay open, nothing else opens).
            var rotated = Path.Combine(_data, "host-2-rotated.credentials");
            server.Operator("host", "credential", "rotate", "--host", Host2, "--out", rotated);
            await c.Api.CallAsync("RevokeSecurityGroup", new { RegionId = Region, SecurityGroupId = c.Group, IpProtocol = "TCP", PortRange = "22/22", SourceCidrIp = "198.18.20.0/24" });
            await agent2.WaitForLogAsync("CREDENTIAL REFUSED", TimeSpan.FromSeconds(30));
            Assert.Contains(agent2.Log, l => l.Contains("InvalidAccessKeyId.NotFound", StringComparison.Ordinal));
            await ExpectAsync(host2, Ns(host2, "c1"), cProbes, [true, true], "host-2 keeps what it applied while its agent is refused", agent2);
            // Restarted with the new file, the agent follows again (C's revoke of 22 arrives).
            agent2.Dispose();
            agent2 = AgentProcess.Start(server.Url, rotated, Host2, host2.HostNamespace, Declared);
            await ExpectAsync(host2, Ns(host2, "c1"), cProbes, [true, false], "host-2's agent with the rotated credential", agent2);
        }
        finally
        {
            foreach (var (name, agent) in new[] { ("host-1", agent1), ("host-2", agent2) })
            {
                if (agent is null)
                    continue;
                output.WriteLine($"{name} agent log:\n" + string.Join("\n", agent.Log.TakeLast(30)));
                agent.Dispose();
            }
            server.Dispose();
        }
    }

    /// <summary>A VPC, a vSwitch, a group with inner access dropped that admits TCP <paramref name="port"/> from the vSwitch, and the instances in it, all through the API.</summary>
    private static async Task SetUpAsync(Tenant tenant, string vswitch, int port, params (string Name, string Address)[] instances)
    {
        var api = tenant.Api;
        var vpc = (await api.CallAsync("CreateVpc", new { RegionId = Region, CidrBlock = "198.18.0.0/16" }, ApiVersions.Vpc)).GetProperty("VpcId").GetString()!;
        var vsw = (await api.CallAsync("CreateVSwitch", new { RegionId = Region, VpcId = vpc, ZoneId = "cn-hangzhou-h", CidrBlock = vswitch }, ApiVersions.Vpc))
            .GetProperty("VSwitchId").GetString()!;
        tenant.Group = (await api.CallAsync("CreateSecurityGroup", new { RegionId = Region, VpcId = vpc, SecurityGroupName = tenant.Name + "-servers" })).GetProperty("SecurityGroupId").GetString()!;
        await api.CallAsync("ModifySecurityGroupPolicy", new { RegionId = Region, SecurityGroupId = tenant.Group, InnerAccessPolicy = "Drop" });
        await api.CallAsync("AuthorizeSecurityGroup", new { RegionId = Region, SecurityGroupId = tenant.Group, IpProtocol = "TCP", PortRange = $"{port}/{port}", SourceCidrIp = vswitch });
        foreach (var (name, address) in instances)
        {
            tenant.Instances[name] = (await api.CallAsync("RunInstances", new
            {
                RegionId = Region, ImageId = "ubuntu_22_04_x64", InstanceType = "ecs.g7.large", VSwitchId = vsw, PrivateIpAddress = address, InstanceName = name, SecurityGroupId = tenant.Group,
            })).GetProperty("InstanceIdSets").GetProperty("InstanceIdSet")[0].GetString()!;
        }
    }

    private static string Mac(Tenant tenant, string name) => MacAddress.ForInstance(InstanceId.Parse(tenant.Instances[name])).ToString();

    private static Dictionary<string, string> Fields(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => l.Contains('=', StringComparison.Ordinal) && !l.StartsWith('#'))
            .ToDictionary(l => l[..l.IndexOf('=', StringComparison.Ordinal)], l => l[(l.IndexOf('=', StringComparison.Ordinal) + 1)..], StringComparer.Ordinal);

    /// <summary>
    /// Probes from <paramref name="ns"/> until they answer as expected (the agent catching up, or a
    /// probe losing a packet on a loaded machine), with a generous deadline.
    /// </summary>
    private async Task ExpectAsync(TestTopology topology, string ns, string[] probes, bool[] open, string what, AgentProcess agent)
    {
        IReadOnlyDictionary<string, bool> seen = new Dictionary<string, bool>();
        var deadline = DateTime.UtcNow.AddSeconds(45);
        while (!(seen = topology.Probe(ns, probes, 0.5)).Select(p => p.Value).SequenceEqual(open))
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"{what}: expected {string.Join(" ", probes.Zip(open, (p, o) => $"{p}={(o ? "open" : "closed")}"))}, saw "
                    + $"{string.Join(" ", seen.Select(k => $"{k.Key}={(k.Value ? "open" : "closed")}"))}\n{string.Join("\n", agent.Log.TakeLast(20))}");
            }
            await Task.Delay(100);
        }
        output.WriteLine($"{what}: {string.Join(" ", probes.Zip(open, (p, o) => $"{p}={(o ? "open" : "closed")}"))}");
    }

    /// <summary>
    /// The tenant's <c>palisade host list</c> (its own key) shows its two NICs in sync, and nothing of
    /// another tenant's: no other instance, and only the hosts its own NICs are on.
    /// </summary>
    private static async Task InSyncAsync(ServerProcess server, Tenant tenant, AgentProcess agent1, AgentProcess agent2)
    {
        var deadline = DateTime.UtcNow.AddSeconds(45);
        while (true)
        {
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            var code = Palisade.Cli.PalisadeCli.Run(["host", "list", "--server", server.Url.ToString(), "--credentials", tenant.Credentials], stdout, stderr);
            var text = stdout + stderr.ToString();
            if (code == 0 && text.Contains("2 of 2 NICs in sync", StringComparison.Ordinal))
            {
                foreach (var id in tenant.Instances.Values)
                    Assert.Contains(id, text, StringComparison.Ordinal);
                var rows = text.Split('\n').Where(l => l.StartsWith("host-", StringComparison.Ordinal)).ToList();
                Assert.Equal(2, rows.Count);
                Assert.All(rows, r => Assert.Contains(tenant.Instances.Values, r.Contains));
                return;
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{tenant.Name}'s NICs never showed in sync:\n{text}\nhost-1 agent:\n{string.Join("\n", agent1.Log.TakeLast(15))}\nhost-2 agent:\n{string.Join("\n", agent2.Log.TakeLast(15))}");
            await Task.Delay(200);
        }
    }
}
