using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Palisade.Client;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.Domain.State;
using Palisade.Engine.Flows;
using Palisade.TestKit;
using Palisade.TestKit.Processes;
using Xunit.Abstractions;
using Palisade.Domain.Ecs;

namespace Palisade.System.Tests.Enforcement;

/// <summary>
/// Issue 5 end to end: a real <c>palisade serve</c> and <c>palisade agent</c>, a bridge with four
/// instance namespaces, the best-practice scenario set up through the ECS API, and real TCP, UDP and
/// ICMP probes between every pair that must match the engine's decision exactly. Then a leave and a
/// join, drift, the server going away and an agent restart. Needs root, iproute2, nftables,
/// conntrack and python3 (./test.sh installs them and sets PALISADE_REQUIRE_NETNS=1).
/// </summary>
public sealed class EnforcementTests(ITestOutputHelper output) : IDisposable
{
    private const string Region = "cn-hangzhou";
    private const string Host = "host-1";
    private static readonly string[] Names = ["web1", "web2", "redis1", "ops1"];
    private static readonly Dictionary<string, string> Addresses = new()
    {
        ["web1"] = "198.18.1.11", ["web2"] = "198.18.1.12", ["redis1"] = "198.18.1.21", ["ops1"] = "198.18.1.31",
    };
    private static readonly (string Protocol, int Port)[] Services = [("tcp", 22), ("tcp", 80), ("tcp", 6379), ("udp", 53), ("icmp", 0)];

    private readonly string _data = Path.Combine(Path.GetTempPath(), "palisade-enforce-" + Guid.NewGuid().ToString("N"));
    private readonly TestStores.PostgresDatabase? _database = TestStores.NewDatabase();

    public void Dispose()
    {
        _database?.Dispose();
        if (Directory.Exists(_data))
            Directory.Delete(_data, recursive: true);
    }

    /// <summary>What the operator declares this host carries, and the agent re-checks.</summary>
    private const string HostInterfaces = "vh-*";

    private const string HostAddresses = "198.18.0.0/15";

    private static readonly string[] Declared = ["--interfaces", HostInterfaces, "--addresses", HostAddresses];

    private static bool Required => Environment.GetEnvironmentVariable("PALISADE_REQUIRE_NETNS") == "1";

    [Fact]
    public async Task RealTraffic_MatchesTheEngine_AndFollowsLeaveJoinDriftAndOutages()
    {
        if (TestTopology.Missing() is { } missing)
        {
            Assert.False(Required, $"PALISADE_REQUIRE_NETNS=1 but {missing}");
            output.WriteLine($"skipped: {missing}");
            return;
        }
        Directory.CreateDirectory(_data);
        using var topology = new TestTopology();
        var server = await ServerProcess.StartAsync(_data, _database?.ConnectionString);
        AgentProcess? agent = null;
        try
        {
            using var http = new HttpClient { BaseAddress = server.Url, Timeout = TimeSpan.FromSeconds(30) };
            var api = server.Client(http);
            // The tenant's key (for 'host list'); the agent runs with the host credential the operator makes (issue 18).
            var tenant = Path.Combine(_data, "tenant-credentials");
            await File.WriteAllTextAsync(tenant, $"access_key_id={ServerProcess.KeyId}\naccess_key_secret={ServerProcess.Secret}\n");
            var credentials = server.HostCredential(Host, HostInterfaces, HostAddresses);
            var ids = await SetUpScenarioAsync(api);

            foreach (var name in Names)
            {
                // The instance's NIC has the MAC the control plane gives it; the agent pins it to the port.
                var ns = topology.AddInstance(name, Addresses[name], MacAddress.ForInstance(Domain.Identifiers.InstanceId.Parse(ids[name])).ToString());
                topology.Listen(ns, Addresses[name], [22, 80, 6379], [53]);
            }

            // Closed by default: the agent's first act, before it knows any NIC, closes the host.
            agent = AgentProcess.Start(server.Url, credentials, Host, topology.HostNamespace, Declared);
            await agent.WaitForLogAsync("revision", TimeSpan.FromSeconds(60));
            Assert.False(topology.ProbeOne(topology.NamespaceOf("web1"), $"tcp:{Addresses["web2"]}:80", 0.5), "open before any NIC was bound");

            // Bound by the operator on the store, through the CLI.
            foreach (var name in Names)
                server.Bind(ids[name], Host, TestTopology.HostInterfaceOf(name));
            await WaitInSyncAsync(server, tenant);

            var matrix = await CompareMatrixAsync(topology, api, ids);
            output.WriteLine(matrix);

            // Issue 16: a prefix list names who may reach ops1 on 6379; editing its entries opens and
            // closes the flow, through a set-element update of the list's named set (no chain rewrite).
            var prefixList = (await api.CallAsync("CreatePrefixList", EcsClient.Flatten(new
            {
                RegionId = Region, AddressFamily = "IPv4", MaxEntries = 4, PrefixListName = "redis-clients", Entry = new[] { new { Cidr = Addresses["web2"] } },
            }))).GetProperty("PrefixListId").GetString()!;
            await api.CallAsync("AuthorizeSecurityGroup", new { RegionId = Region, SecurityGroupId = ids["sg-ops"], IpProtocol = "TCP", PortRange = "6379/6379", SourcePrefixListId = prefixList });
            await UntilAsync(() => topology.ProbeOne(topology.NamespaceOf("web2"), $"tcp:{Addresses["ops1"]}:6379", 0.3), TimeSpan.FromSeconds(20), "the prefix-list rule");
            Assert.False(topology.ProbeOne(topology.NamespaceOf("redis1"), $"tcp:{Addresses["ops1"]}:6379", 0.3), "redis1 is not in the prefix list");
            var edit = await TimeUntilAsync(() => api.CallAsync("ModifyPrefixList", EcsClient.Flatten(new
                {
                    RegionId = Region, PrefixListId = prefixList, AddEntry = new[] { new { Cidr = Addresses["redis1"] } }, RemoveEntry = new[] { new { Cidr = Addresses["web2"] + "/32" } },
                })),
                () => topology.ProbeOne(topology.NamespaceOf("redis1"), $"tcp:{Addresses["ops1"]}:6379", 0.3));
            await UntilAsync(() => !topology.ProbeOne(topology.NamespaceOf("web2"), $"tcp:{Addresses["ops1"]}:6379", 0.3), TimeSpan.FromSeconds(20), "the entry removed");
            await agent.WaitForLogAsync("address sets", TimeSpan.FromSeconds(5));
            output.WriteLine($"prefix-list edit enforced {edit.TotalMilliseconds:F0} ms after the API answered");
            await CompareMatrixAsync(topology, api, ids);

            // Leave: web1's access to redis goes; join: it comes back. A connection made before the
            // leave lives on, as on ECS (established connections are not cut by default).
            var held = topology.Hold(topology.NamespaceOf("web1"), Addresses["redis1"], 6379);
            var heldLine = held.StandardOutput.ReadLineAsync();
            var leave = await TimeUntilAsync(() => api.CallAsync("LeaveSecurityGroup", new { RegionId = Region, InstanceId = ids["web1"], SecurityGroupId = ids["sg-web"] }),
                () => !topology.ProbeOne(topology.NamespaceOf("web1"), $"tcp:{Addresses["redis1"]}:6379", 0.3));
            // The held connection answers every 100 ms and gives up after 1 s of silence: 1.5 s tells.
            await Task.WhenAny(heldLine, Task.Delay(TimeSpan.FromSeconds(1.5)));
            Assert.False(heldLine.IsCompleted, "the established connection was cut by a leave without --cut-established");
            var join = await TimeUntilAsync(() => api.CallAsync("JoinSecurityGroup", new { RegionId = Region, InstanceId = ids["web1"], SecurityGroupId = ids["sg-web"] }),
                () => topology.ProbeOne(topology.NamespaceOf("web1"), $"tcp:{Addresses["redis1"]}:6379", 0.3));
            output.WriteLine($"leave enforced (probe closed) {leave.TotalMilliseconds:F0} ms after the API answered; join {join.TotalMilliseconds:F0} ms");
            await CompareMatrixAsync(topology, api, ids);

            // Drift: someone empties redis's ingress chain (which would let ops reach 6379); the agent puts it back.
            Assert.DoesNotContain(agent.Log, l => l.Contains("drift", StringComparison.Ordinal)); // what it applied reads back as expected
            var redisChain = $"in_{ids["redis1"]}";
            topology.InHost("nft", "flush", "chain", "inet", "palisade", redisChain);
            await UntilAsync(() => !topology.ProbeOne(topology.NamespaceOf("ops1"), $"tcp:{Addresses["redis1"]}:6379", 0.3), TimeSpan.FromSeconds(20), "drift repaired");
            await agent.WaitForLogAsync("drift", TimeSpan.FromSeconds(5));

            // --cut-established: the same leave now ends the connection that the policy no longer allows.
            agent.Dispose();
            agent = AgentProcess.Start(server.Url, credentials, Host, topology.HostNamespace, [.. Declared, "--cut-established"]);
            await agent.WaitForLogAsync("applied 4 NICs", TimeSpan.FromSeconds(60));
            var cut = topology.Hold(topology.NamespaceOf("web1"), Addresses["redis1"], 6379);
            var cutLine = cut.StandardOutput.ReadLineAsync();
            await api.CallAsync("LeaveSecurityGroup", new { RegionId = Region, InstanceId = ids["web1"], SecurityGroupId = ids["sg-web"] });
            Assert.True(await Task.WhenAny(cutLine, Task.Delay(TimeSpan.FromSeconds(20))) == cutLine, "the connection was not cut:\n" + string.Join("\n", agent.Log));
            Assert.Equal("cut", await cutLine);
            await agent.WaitForLogAsync("which the policy no longer allows", TimeSpan.FromSeconds(5));
            await api.CallAsync("JoinSecurityGroup", new { RegionId = Region, InstanceId = ids["web1"], SecurityGroupId = ids["sg-web"] });
            await UntilAsync(() => topology.ProbeOne(topology.NamespaceOf("web1"), $"tcp:{Addresses["redis1"]}:6379", 0.3), TimeSpan.FromSeconds(20), "join after the cut");

            // The server goes away: the last ruleset stays; an agent restarted meanwhile keeps it too.
            server.Dispose();
            await agent.WaitForLogAsync("control plane unavailable", TimeSpan.FromSeconds(30));
            await CompareMatrixAsync(topology, null, ids, expectedFrom: _lastState);
            agent.Dispose();
            agent = AgentProcess.Start(new Uri("http://127.0.0.1:9/"), credentials, Host, topology.HostNamespace, Declared);
            await agent.WaitForLogAsync("found the palisade table of an earlier run", TimeSpan.FromSeconds(60));
            await agent.WaitForLogAsync("control plane unavailable", TimeSpan.FromSeconds(30));
            await CompareMatrixAsync(topology, null, ids, expectedFrom: _lastState);
        }
        finally
        {
            if (agent is not null)
            {
                output.WriteLine("agent log:\n" + string.Join("\n", agent.Log.TakeLast(40)));
                agent.Dispose();
            }
            server.Dispose();
        }
    }

    /// <summary>
    /// Issue 16 item 6 with real packets: an instance with a secondary ENI in another group, each ENI
    /// on its own port (the operator binds the primary by instance and the secondary by ENI), each
    /// address answering as its own ENI's groups say and as the engine decides; a change of the ENI's
    /// groups (ModifyNetworkInterfaceAttribute) followed by the agent; the ENI detached while bound
    /// leaves the host's ruleset.
    /// </summary>
    [Fact]
    public async Task ASecondaryEni_IsEnforcedOnItsOwnPort_ByItsOwnGroups()
    {
        if (TestTopology.Missing() is { } missing)
        {
            Assert.False(Required, $"PALISADE_REQUIRE_NETNS=1 but {missing}");
            output.WriteLine($"skipped: {missing}");
            return;
        }
        Directory.CreateDirectory(_data);
        using var topology = new TestTopology();
        var server = await ServerProcess.StartAsync(_data, _database?.ConnectionString);
        AgentProcess? agent = null;
        try
        {
            using var http = new HttpClient { BaseAddress = server.Url, Timeout = TimeSpan.FromSeconds(30) };
            var api = server.Client(http);
            var credentials = server.HostCredential(Host, HostInterfaces, HostAddresses);
            var vpc = (await api.CallAsync("CreateVpc", new { RegionId = Region, CidrBlock = "198.18.0.0/16" }, ApiVersions.Vpc)).GetProperty("VpcId").GetString()!;
            var vsw = (await api.CallAsync("CreateVSwitch", new { RegionId = Region, VpcId = vpc, ZoneId = "cn-hangzhou-h", CidrBlock = "198.18.1.0/24" }, ApiVersions.Vpc))
                .GetProperty("VSwitchId").GetString()!;
            async Task<string> Group(string name, int port)
            {
                var id = (await api.CallAsync("CreateSecurityGroup", new { RegionId = Region, VpcId = vpc, SecurityGroupName = name })).GetProperty("SecurityGroupId").GetString()!;
                if (port > 0)
                    await api.CallAsync("AuthorizeSecurityGroup", new { RegionId = Region, SecurityGroupId = id, IpProtocol = "TCP", PortRange = $"{port}/{port}", SourceCidrIp = "198.18.0.0/15" });
                return id;
            }
            var (web, db, clients) = (await Group("web-tier", 80), await Group("db-tier", 5432), await Group("clients", 0));
            async Task<string> Run(string name, string address, string group) =>
                (await api.CallAsync("RunInstances", new
                {
                    RegionId = Region, ImageId = "ubuntu_22_04_x64", InstanceType = "ecs.g7.large", VSwitchId = vsw, PrivateIpAddress = address, InstanceName = name, SecurityGroupId = group,
                })).GetProperty("InstanceIdSets").GetProperty("InstanceIdSet")[0].GetString()!;
            var (appAddress, eniAddress, clientAddress) = ("198.18.1.11", "198.18.1.41", "198.18.1.21");
            var app = await Run("app", appAddress, web);
            var client = await Run("client", clientAddress, clients);
            var eni = (await api.CallAsync("CreateNetworkInterface", new { RegionId = Region, VSwitchId = vsw, SecurityGroupId = db, PrimaryIpAddress = eniAddress }))
                .GetProperty("NetworkInterfaceId").GetString()!;
            await api.CallAsync("AttachNetworkInterface", new { RegionId = Region, NetworkInterfaceId = eni, InstanceId = app });
            var eniMac = (await api.CallAsync("DescribeNetworkInterfaces", EcsClient.Flatten(new { RegionId = Region, NetworkInterfaceId = new[] { eni } })))
                .GetProperty("NetworkInterfaceSets").GetProperty("NetworkInterfaceSet")[0].GetProperty("MacAddress").GetString()!;

            var appNs = topology.AddInstance("app", appAddress, MacAddress.ForInstance(Domain.Identifiers.InstanceId.Parse(app)).ToString());
            topology.AddInterface("app", "eth1", "vh-app-eni", eniAddress, "198.18.1.0/24", eniMac, table: 101);
            var clientNs = topology.AddInstance("client", clientAddress, MacAddress.ForInstance(Domain.Identifiers.InstanceId.Parse(client)).ToString());
            topology.Listen(appNs, appAddress, [80, 5432], []);
            topology.Listen(appNs, eniAddress, [80, 5432], []);

            agent = AgentProcess.Start(server.Url, credentials, Host, topology.HostNamespace, Declared);
            await agent.WaitForLogAsync("revision", TimeSpan.FromSeconds(60));
            server.Bind(app, Host, TestTopology.HostInterfaceOf("app"));
            server.Operator("host", "bind", "--eni", eni, "--host", Host, "--interface", "vh-app-eni");
            server.Bind(client, Host, TestTopology.HostInterfaceOf("client"));
            var bindings = server.Operator("host", "bindings", "--host", Host);
            Assert.Contains(eni, bindings, StringComparison.Ordinal);

            string[] probes = [$"tcp:{appAddress}:80", $"tcp:{appAddress}:5432", $"tcp:{eniAddress}:80", $"tcp:{eniAddress}:5432"];
            async Task ExpectAsync(string what, params bool[] open)
            {
                // Retried until the agent has caught up (a probe may also lose a packet on a loaded machine).
                IReadOnlyDictionary<string, bool> seen = new Dictionary<string, bool>();
                await UntilAsync(() => (seen = topology.Probe(clientNs, probes, 0.5)).Values.SequenceEqual(open), TimeSpan.FromSeconds(30),
                    $"{what}: expected {string.Join(" ", probes.Zip(open, (p, o) => $"{p}={(o ? "open" : "closed")}"))}, saw {string.Join(" ", seen.Select(k => $"{k.Key}={(k.Value ? "open" : "closed")}"))}\n{string.Join("\n", agent!.Log.TakeLast(20))}");
                // And the engine decides each the same way, by the groups of the ENI that owns the address.
                var exported = await api.CallAsync("ExportSecurityState", new { RegionId = Region });
                var state = StateFileReader.Read(exported.GetProperty("State").GetRawText());
                var evaluator = new FlowEvaluator(state);
                var from = state.FindInstance(Domain.Identifiers.InstanceId.Parse(client))!;
                var to = state.FindInstance(Domain.Identifiers.InstanceId.Parse(app))!;
                foreach (var (probe, expected) in probes.Zip(open))
                {
                    var parts = probe.Split(':');
                    var flow = new Flow(IpAddress.Parse(clientAddress), IpAddress.Parse(parts[1]), IpProtocol.Tcp, int.Parse(parts[2], CultureInfo.InvariantCulture));
                    Assert.True(evaluator.Evaluate(flow, from, to).Allowed == expected, $"{what}: the engine disagrees on {probe}");
                }
                output.WriteLine($"{what}: {string.Join(" ", probes.Zip(open, (p, o) => $"{p}={(o ? "open" : "closed")}"))}");
            }

            // The primary ENI (web-tier) takes 80, the secondary (db-tier) 5432, each on its own address only.
            await ExpectAsync("each ENI by its own groups", true, false, false, true);
            // The secondary ENI's groups replaced (ModifyNetworkInterfaceAttribute): its port follows, the primary's stays.
            await api.CallAsync("ModifyNetworkInterfaceAttribute", EcsClient.Flatten(new { RegionId = Region, NetworkInterfaceId = eni, SecurityGroupId = new[] { web } }));
            await ExpectAsync("the ENI moved to web-tier", true, false, true, false);

            // Detached while bound: the binding goes with the detach (as an instance deleted while bound),
            // and the agent drops the ENI's port from its ruleset.
            await api.CallAsync("DetachNetworkInterface", new { RegionId = Region, NetworkInterfaceId = eni, InstanceId = app });
            Assert.DoesNotContain(eni, server.Operator("host", "bindings", "--host", Host), StringComparison.Ordinal);
            await agent.WaitForLogAsync("applied 2 NICs", TimeSpan.FromSeconds(30));
            Assert.DoesNotContain("vh-app-eni", topology.InHost("nft", "list", "table", "bridge", "palisade"), StringComparison.Ordinal);
        }
        finally
        {
            if (agent is not null)
            {
                output.WriteLine("agent log:\n" + string.Join("\n", agent.Log.TakeLast(40)));
                agent.Dispose();
            }
            server.Dispose();
        }
    }

    private NetworkState? _lastState;

    private static async Task<Dictionary<string, string>> SetUpScenarioAsync(EcsClient api)
    {
        var ids = new Dictionary<string, string>();
        var vpc = (await api.CallAsync("CreateVpc", new { RegionId = Region, CidrBlock = "198.18.0.0/16" }, ApiVersions.Vpc)).GetProperty("VpcId").GetString()!;
        var vsw = (await api.CallAsync("CreateVSwitch", new { RegionId = Region, VpcId = vpc, ZoneId = "cn-hangzhou-h", CidrBlock = "198.18.1.0/24" }, ApiVersions.Vpc))
            .GetProperty("VSwitchId").GetString()!;
        foreach (var group in new[] { "sg-web", "sg-redis", "sg-ops", "sg-base" })
        {
            ids[group] = (await api.CallAsync("CreateSecurityGroup", new { RegionId = Region, VpcId = vpc, SecurityGroupName = group[3..] + "-tier" }))
                .GetProperty("SecurityGroupId").GetString()!;
        }
        // The best-practice scenario: web reaches redis on 6379; 6379 dropped for everything else at
        // priority 100; HTTP open from anywhere; members of one group reach each other (basic groups'
        // default inner access). ops: SSH and ping from the test network, and no DNS out.
        await api.CallAsync("AuthorizeSecurityGroup", EcsClient.Flatten(new
        {
            RegionId = Region,
            SecurityGroupId = ids["sg-redis"],
            Permissions = new object[]
            {
                new { IpProtocol = "TCP", PortRange = "6379/6379", SourceGroupId = ids["sg-web"], Priority = "1" },
                new { IpProtocol = "TCP", PortRange = "6379/6379", SourceCidrIp = "0.0.0.0/0", Policy = "drop", Priority = "100" },
            },
        }));
        await api.CallAsync("AuthorizeSecurityGroup", new { RegionId = Region, SecurityGroupId = ids["sg-web"], IpProtocol = "TCP", PortRange = "80/80", SourceCidrIp = "0.0.0.0/0" });
        await api.CallAsync("AuthorizeSecurityGroup", EcsClient.Flatten(new
        {
            RegionId = Region,
            SecurityGroupId = ids["sg-ops"],
            Permissions = new object[]
            {
                new { IpProtocol = "TCP", PortRange = "22/22", SourceCidrIp = "198.18.0.0/15" },
                new { IpProtocol = "ICMP", PortRange = "-1/-1", SourceCidrIp = "198.18.0.0/15" },
            },
        }));
        await api.CallAsync("AuthorizeSecurityGroupEgress", new { RegionId = Region, SecurityGroupId = ids["sg-ops"], IpProtocol = "UDP", PortRange = "53/53", DestCidrIp = "198.18.0.0/15", Policy = "drop", Priority = "5" });
        var groupsOf = new Dictionary<string, string[]>
        {
            ["web1"] = [ids["sg-web"], ids["sg-base"]], ["web2"] = [ids["sg-web"]], ["redis1"] = [ids["sg-redis"]], ["ops1"] = [ids["sg-ops"]],
        };
        foreach (var name in Names)
        {
            var p = new List<KeyValuePair<string, string>>
            {
                new("RegionId", Region), new("ImageId", "ubuntu_22_04_x64"), new("InstanceType", "ecs.g7.large"), new("VSwitchId", vsw),
                new("PrivateIpAddress", Addresses[name]), new("InstanceName", name),
            };
            for (var i = 0; i < groupsOf[name].Length; i++)
                p.Add(new($"SecurityGroupIds.{i + 1}", groupsOf[name][i]));
            ids[name] = (await api.CallAsync("RunInstances", p)).GetProperty("InstanceIdSets").GetProperty("InstanceIdSet")[0].GetString()!;
        }
        return ids;
    }

    /// <summary>Probes every ordered pair on every service and compares each answer with the engine's decision on the server's state.</summary>
    private async Task<string> CompareMatrixAsync(TestTopology topology, EcsClient? api, Dictionary<string, string> ids, NetworkState? expectedFrom = null)
    {
        var state = expectedFrom;
        if (api is not null)
        {
            // The tenant's own view of its region (a host's policy is for host credentials only).
            var exported = await api.CallAsync("ExportSecurityState", new { RegionId = Region });
            state = StateFileReader.Read(exported.GetProperty("State").GetRawText());
            _lastState = state;
        }
        var evaluator = new FlowEvaluator(state!);
        Instance InstanceOf(string name) => state!.FindInstance(Domain.Identifiers.InstanceId.Parse(ids[name]))!;
        var results = Names.AsParallel().Select(source => (source, topology.Probe(topology.NamespaceOf(source),
            Names.Where(d => d != source).SelectMany(d => Services.Select(s => $"{s.Protocol}:{Addresses[d]}:{s.Port}"))))).ToDictionary(r => r.source, r => r.Item2);
        var table = new StringBuilder("from     to       " + string.Join(" ", Services.Select(s => $"{s.Protocol}/{s.Port}".PadRight(9))) + "\n");
        var mismatches = new List<string>();
        foreach (var source in Names)
        {
            foreach (var destination in Names.Where(d => d != source))
            {
                table.Append(CultureInfo.InvariantCulture, $"{source,-8} {destination,-8} ");
                foreach (var (protocol, port) in Services)
                {
                    var probe = $"{protocol}:{Addresses[destination]}:{port}";
                    var flow = new Flow(IpAddress.Parse(Addresses[source]), IpAddress.Parse(Addresses[destination]),
                        protocol switch { "tcp" => IpProtocol.Tcp, "udp" => IpProtocol.Udp, _ => IpProtocol.Icmp }, port);
                    var engine = evaluator.Evaluate(flow, InstanceOf(source), InstanceOf(destination)).Allowed;
                    var kernel = results[source][probe];
                    table.Append((kernel == engine ? (kernel ? "open" : "closed") : (kernel ? "OPEN!" : "CLOSED!")).PadRight(10));
                    if (kernel != engine)
                        mismatches.Add($"{source} -> {destination} {protocol}/{port}: kernel {(kernel ? "open" : "closed")}, engine {(engine ? "allows" : "denies")}");
                }
                table.Append('\n');
            }
        }
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches) + "\n" + table);
        return table.ToString();
    }

    private static async Task<TimeSpan> TimeUntilAsync(Func<Task> change, Func<bool> enforced)
    {
        await change();
        var clock = Stopwatch.StartNew();
        await UntilAsync(enforced, TimeSpan.FromSeconds(20), "the change reached the kernel");
        return clock.Elapsed;
    }

    private static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"not within {timeout.TotalSeconds} s: {what}");
            await Task.Delay(20);
        }
    }

    private static async Task WaitInSyncAsync(ServerProcess server, string credentials)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var (code, text) = Cli("host", "list", "--server", server.Url.ToString(), "--credentials", credentials, "--host", Host);
            if (code == 0 && text.Contains("4 of 4 NICs in sync", StringComparison.Ordinal))
                return;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("the agent never reported all four NICs in sync:\n" + text);
            await Task.Delay(100);
        }
    }

    private static (int Code, string Text) Cli(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = Palisade.Cli.PalisadeCli.Run(args, stdout, stderr);
        return (code, stdout.ToString() + stderr);
    }
}
