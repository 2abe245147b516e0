using System.Text.Json;
using Palisade.Client;
using Palisade.Domain.Ecs;
using Palisade.Domain.Networking;
using Palisade.TestKit;
using Palisade.TestKit.Processes;
using Xunit.Abstractions;

namespace Palisade.System.Tests.Enforcement;

/// <summary>
/// Issue 20 items 5-6 in the kernel: a real server and a real <c>palisade agent</c> on namespaces of
/// ours; real connections between them show up on the server as observed flows of the destination
/// NIC (per source, protocol and port), a connection the rules drop never does, and when the
/// operator switches sampling off for the host the agent stops and nothing more is kept. Addresses
/// in 198.18.0.0/15; every probe inside a namespace; namespaces removed even on failure.
/// </summary>
public sealed class FlowSamplingTests(ITestOutputHelper output) : IDisposable
{
    private const string Region = "cn-hangzhou";
    private const string Host = "flow-host";
    private const string Client = "198.18.30.11";
    private const string Server = "198.18.30.12";

    private readonly string _data = Path.Combine(Path.GetTempPath(), "palisade-flows-" + Guid.NewGuid().ToString("N"));
    private readonly TestStores.PostgresDatabase? _database = TestStores.NewDatabase();

    private static bool Required => Environment.GetEnvironmentVariable("PALISADE_REQUIRE_NETNS") == "1";

    public void Dispose()
    {
        _database?.Dispose();
        if (Directory.Exists(_data))
            Directory.Delete(_data, recursive: true);
    }

    [Fact]
    public async Task RealConnections_ShowUpAsObservedFlowsOnTheServer_DroppedOnesNever_AndTheOperatorsSwitchStopsSampling()
    {
        if (TestTopology.Missing() is { } missing)
        {
            Assert.False(Required, $"PALISADE_REQUIRE_NETNS=1 but {missing}");
            output.WriteLine($"skipped: {missing}");
            return;
        }
        Directory.CreateDirectory(_data);
        using var topology = new TestTopology();
        using var server = await ServerProcess.StartAsync(_data, _database?.ConnectionString);
        AgentProcess? agent = null;
        try
        {
            using var http = new HttpClient { BaseAddress = server.Url, Timeout = TimeSpan.FromSeconds(30) };
            var api = server.Client(http);
            var credentials = server.HostCredential(Host, "vh-*", "198.18.0.0/15");
            var vpc = (await api.CallAsync("CreateVpc", new { RegionId = Region, CidrBlock = "198.18.0.0/16" }, ApiVersions.Vpc)).Str("VpcId");
            var vsw = (await api.CallAsync("CreateVSwitch", new { RegionId = Region, VpcId = vpc, ZoneId = "cn-hangzhou-h", CidrBlock = "198.18.30.0/24" }, ApiVersions.Vpc)).Str("VSwitchId");
            var group = (await api.CallAsync("CreateSecurityGroup", new { RegionId = Region, VpcId = vpc, SecurityGroupName = "flows" })).Str("SecurityGroupId");
            // Members do not reach each other by inner access: only the TCP rule admits.
            await api.CallAsync("ModifySecurityGroupPolicy", new { RegionId = Region, SecurityGroupId = group, InnerAccessPolicy = "Drop" });
            await api.CallAsync("AuthorizeSecurityGroup", new { RegionId = Region, SecurityGroupId = group, IpProtocol = "TCP", PortRange = "1/65535", SourceCidrIp = "0.0.0.0/0" });
            var ids = new Dictionary<string, string>();
            foreach (var (name, address) in new[] { ("fc", Client), ("fs", Server) })
            {
                ids[name] = (await api.CallAsync("RunInstances", new { RegionId = Region, ImageId = "ubuntu_22_04_x64", InstanceType = "ecs.g7.large", VSwitchId = vsw, PrivateIpAddress = address, InstanceName = name, SecurityGroupId = group }))
                    .GetProperty("InstanceIdSets").GetProperty("InstanceIdSet")[0].GetString()!;
                var ns = topology.AddInstance(name, address, MacAddress.ForInstance(Domain.Identifiers.InstanceId.Parse(ids[name])).ToString());
                topology.Listen(ns, address, [22, 80], [53]);
            }
            agent = AgentProcess.Start(server.Url, credentials, Host, topology.HostNamespace, "--interfaces", "vh-*", "--addresses", "198.18.0.0/15", "--report-seconds", "5");
            foreach (var name in ids.Keys)
                server.Bind(ids[name], Host, TestTopology.HostInterfaceOf(name));
            // Sampling starts once the server's answer to a report asks for it. The line comes once the
            // watch listens, so every connection from here on is counted: the probe that finds the policy
            // applied and the four after it.
            await agent.WaitForLogAsync("flow sampling on", TimeSpan.FromSeconds(60));
            await UntilAsync(() => topology.ProbeOne(topology.NamespaceOf("fc"), $"tcp:{Server}:22", 0.5), TimeSpan.FromSeconds(30), "the policy applied");

            var fc = topology.NamespaceOf("fc");
            for (var i = 0; i < 3; i++)
                Assert.True(topology.ProbeOne(fc, $"tcp:{Server}:22"));
            Assert.True(topology.ProbeOne(fc, $"tcp:{Server}:80"));
            // UDP is not allowed: the rules drop it, conntrack never confirms it, it is never a flow.
            Assert.False(topology.ProbeOne(fc, $"udp:{Server}:53", 0.5));

            async Task<Dictionary<string, long>> FlowsAsync()
            {
                var answer = await api.CallAsync("DescribeSecurityGroupObservedFlows", new { RegionId = Region, SecurityGroupId = group, Days = 1 });
                output.WriteLine(answer.GetRawText());
                return answer.Items("ObservedFlows", "ObservedFlow").ToDictionary(
                    f => $"{f.Str("InstanceId")} {f.Str("SourceIp")} {f.Str("IpProtocol")} {f.GetProperty("Port").GetInt32()}", f => f.GetProperty("Connections").GetInt64());
            }
            var ssh = $"{ids["fs"]} {Client} TCP 22";
            var web = $"{ids["fs"]} {Client} TCP 80";
            Dictionary<string, long> flows = [];
            await UntilAsync(async () => (flows = await FlowsAsync()).GetValueOrDefault(ssh) >= 4 && flows.ContainsKey(web), TimeSpan.FromSeconds(60), "the flows reported");
            Assert.DoesNotContain(flows.Keys, k => k.Contains("UDP", StringComparison.Ordinal));
            Assert.All(flows.Keys, k => Assert.StartsWith(ids["fs"], k, StringComparison.Ordinal)); // the destination NIC is credited, nobody else
            var answer = await api.CallAsync("DescribeSecurityGroupObservedFlows", new { RegionId = Region, SecurityGroupId = group });
            Assert.Equal(1, answer.GetProperty("HostsSampling").GetInt32());

            // The operator switches sampling off for the host: the agent is told at its next report and stops; nothing more is kept.
            server.Operator("host", "declare", "--host", Host, "--interfaces", "vh-*", "--addresses", "198.18.0.0/15", "--no-flow-sampling");
            await agent.WaitForLogAsync("flow sampling off", TimeSpan.FromSeconds(60));
            var before = (await FlowsAsync()).GetValueOrDefault(web);
            Assert.True(topology.ProbeOne(fc, $"tcp:{Server}:80"));
            // Two report intervals with nothing to show: absence can only be waited for.
            await Task.Delay(TimeSpan.FromSeconds(12));
            Assert.Equal(before, (await FlowsAsync()).GetValueOrDefault(web));
            Assert.Equal(0, (await api.CallAsync("DescribeSecurityGroupObservedFlows", new { RegionId = Region, SecurityGroupId = group })).GetProperty("HostsSampling").GetInt32());
        }
        finally
        {
            if (agent is not null)
                output.WriteLine(string.Join("\n", agent.Log));
            agent?.Dispose();
        }
    }

    /// <summary>
    /// Flows per ENI on a real kernel (issue 20): an instance with a secondary ENI in another group,
    /// each ENI on its own port. Connections to the secondary ENI's address are reported by the agent
    /// (reading conntrack's events from its own netlink socket) as that ENI's, listed under the ENI's
    /// group and kept by that group's rule in its suggestion — never under the primary ENI's group,
    /// whose own connections stay its own.
    /// </summary>
    [Fact]
    public async Task ConnectionsToASecondaryEni_AreThatEnisFlows_CreditedToItsGroupsRule_NotThePrimarys()
    {
        if (TestTopology.Missing() is { } missing)
        {
            Assert.False(Required, $"PALISADE_REQUIRE_NETNS=1 but {missing}");
            output.WriteLine($"skipped: {missing}");
            return;
        }
        Directory.CreateDirectory(_data);
        using var topology = new TestTopology();
        using var server = await ServerProcess.StartAsync(_data, _database?.ConnectionString);
        AgentProcess? agent = null;
        try
        {
            using var http = new HttpClient { BaseAddress = server.Url, Timeout = TimeSpan.FromSeconds(30) };
            var api = server.Client(http);
            var credentials = server.HostCredential(Host, "vh-*", "198.18.0.0/15");
            var vpc = (await api.CallAsync("CreateVpc", new { RegionId = Region, CidrBlock = "198.18.0.0/16" }, ApiVersions.Vpc)).Str("VpcId");
            var vsw = (await api.CallAsync("CreateVSwitch", new { RegionId = Region, VpcId = vpc, ZoneId = "cn-hangzhou-h", CidrBlock = "198.18.32.0/24" }, ApiVersions.Vpc)).Str("VSwitchId");
            async Task<string> Group(string name, int port)
            {
                var id = (await api.CallAsync("CreateSecurityGroup", new { RegionId = Region, VpcId = vpc, SecurityGroupName = name })).Str("SecurityGroupId");
                await api.CallAsync("ModifySecurityGroupPolicy", new { RegionId = Region, SecurityGroupId = id, InnerAccessPolicy = "Drop" });
                if (port > 0)
                    await api.CallAsync("AuthorizeSecurityGroup", new { RegionId = Region, SecurityGroupId = id, IpProtocol = "TCP", PortRange = $"{port}/{port}", SourceCidrIp = "198.18.0.0/15" });
                return id;
            }
            var (web, db, clients) = (await Group("web-tier", 80), await Group("db-tier", 5432), await Group("clients", 0));
            var (appAddress, eniAddress, clientAddress) = ("198.18.32.11", "198.18.32.41", "198.18.32.21");
            async Task<string> Run(string name, string address, string group) =>
                (await api.CallAsync("RunInstances", new
                {
                    RegionId = Region, ImageId = "ubuntu_22_04_x64", InstanceType = "ecs.g7.large", VSwitchId = vsw, PrivateIpAddress = address, InstanceName = name, SecurityGroupId = group,
                })).GetProperty("InstanceIdSets").GetProperty("InstanceIdSet")[0].GetString()!;
            var app = await Run("app", appAddress, web);
            var client = await Run("client", clientAddress, clients);
            var eni = (await api.CallAsync("CreateNetworkInterface", new { RegionId = Region, VSwitchId = vsw, SecurityGroupId = db, PrimaryIpAddress = eniAddress })).Str("NetworkInterfaceId");
            await api.CallAsync("AttachNetworkInterface", new { RegionId = Region, NetworkInterfaceId = eni, InstanceId = app });
            var eniMac = (await api.CallAsync("DescribeNetworkInterfaces", EcsClient.Flatten(new { RegionId = Region, NetworkInterfaceId = new[] { eni } })))
                .GetProperty("NetworkInterfaceSets").GetProperty("NetworkInterfaceSet")[0].Str("MacAddress");

            var appNs = topology.AddInstance("app", appAddress, MacAddress.ForInstance(Domain.Identifiers.InstanceId.Parse(app)).ToString());
            topology.AddInterface("app", "eth1", "vh-app-eni", eniAddress, "198.18.32.0/24", eniMac, table: 101);
            var clientNs = topology.AddInstance("client", clientAddress, MacAddress.ForInstance(Domain.Identifiers.InstanceId.Parse(client)).ToString());
            topology.Listen(appNs, appAddress, [80, 5432], []);
            topology.Listen(appNs, eniAddress, [80, 5432], []);

            agent = AgentProcess.Start(server.Url, credentials, Host, topology.HostNamespace, "--interfaces", "vh-*", "--addresses", "198.18.0.0/15", "--report-seconds", "5");
            server.Bind(app, Host, TestTopology.HostInterfaceOf("app"));
            server.Operator("host", "bind", "--eni", eni, "--host", Host, "--interface", "vh-app-eni");
            server.Bind(client, Host, TestTopology.HostInterfaceOf("client"));
            await agent.WaitForLogAsync("flow sampling on", TimeSpan.FromSeconds(60));
            // The agent reads conntrack's events from its own netlink socket, not from conntrack -E.
            await agent.WaitForLogAsync("conntrack events read from netlink", TimeSpan.FromSeconds(30));
            await UntilAsync(() => topology.ProbeOne(clientNs, $"tcp:{eniAddress}:5432", 0.5) && topology.ProbeOne(clientNs, $"tcp:{appAddress}:80", 0.5),
                TimeSpan.FromSeconds(30), "the policy applied");
            for (var i = 0; i < 3; i++)
                Assert.True(topology.ProbeOne(clientNs, $"tcp:{eniAddress}:5432"));
            Assert.True(topology.ProbeOne(clientNs, $"tcp:{appAddress}:80"));
            // Each address answers only its own ENI's group: never a flow.
            Assert.False(topology.ProbeOne(clientNs, $"tcp:{eniAddress}:80", 0.5));
            Assert.False(topology.ProbeOne(clientNs, $"tcp:{appAddress}:5432", 0.5));

            async Task<List<(string Nic, string Instance, string Source, string Protocol, int Port, long Connections)>> FlowsAsync(string group)
            {
                var answer = await api.CallAsync("DescribeSecurityGroupObservedFlows", new { RegionId = Region, SecurityGroupId = group, Days = 1 });
                output.WriteLine($"{group}: {answer.GetRawText()}");
                return [.. answer.Items("ObservedFlows", "ObservedFlow").Select(f => (f.Str("NetworkInterfaceId"), f.Str("InstanceId"), f.Str("SourceIp"), f.Str("IpProtocol"),
                    f.GetProperty("Port").GetInt32(), f.GetProperty("Connections").GetInt64()))];
            }
            List<(string Nic, string Instance, string Source, string Protocol, int Port, long Connections)> dbFlows = [], webFlows = [];
            await UntilAsync(async () => (dbFlows = await FlowsAsync(db)).Sum(f => f.Port == 5432 ? f.Connections : 0) >= 4
                && (webFlows = await FlowsAsync(web)).Any(f => f.Port == 80), TimeSpan.FromSeconds(60), "the flows reported");
            // The secondary ENI's connections are its own, under its group: by ENI, from the client, to 5432 only.
            Assert.All(dbFlows, f => Assert.Equal((eni, app, clientAddress, "TCP", 5432), (f.Nic, f.Instance, f.Source, f.Protocol, f.Port)));
            // The primary's group lists its own ENI's connections to 80 and none of the secondary's.
            Assert.NotEmpty(webFlows);
            Assert.All(webFlows, f => Assert.Equal((app, clientAddress, "TCP", 80), (f.Instance, f.Source, f.Protocol, f.Port)));
            Assert.DoesNotContain(webFlows, f => f.Nic == eni);

            // Credited to the rule: db-tier's suggestion keeps the ENI's flows by its own 5432 rule; web-tier's knows nothing of 5432.
            var dbSuggestion = await api.CallAsync("DescribeSecurityGroupRuleSuggestion", new { RegionId = Region, SecurityGroupId = db, Days = 1 });
            output.WriteLine(dbSuggestion.GetRawText());
            Assert.True(dbSuggestion.GetProperty("FlowsKept").GetInt32() >= 1);
            Assert.Equal(0, dbSuggestion.GetProperty("LostFlowCount").GetInt32());
            Assert.Contains(dbSuggestion.Items("ReplacedPermissions", "Permission"), p => p.Str("PortRange") == "5432/5432");
            Assert.Contains(dbSuggestion.Items("SuggestedPermissions", "Permission"), p => p.Str("PortRange") == "5432/5432" && p.Str("SourceGroupId") == clients); // the client alone is exactly the members of its group
            var webSuggestion = await api.CallAsync("DescribeSecurityGroupRuleSuggestion", new { RegionId = Region, SecurityGroupId = web, Days = 1 });
            output.WriteLine(webSuggestion.GetRawText());
            Assert.DoesNotContain(webSuggestion.Items("SuggestedPermissions", "Permission"), p => p.Str("PortRange").Contains("5432", StringComparison.Ordinal));
            Assert.Contains(webSuggestion.Items("SuggestedPermissions", "Permission"), p => p.Str("PortRange") == "80/80");
        }
        finally
        {
            if (agent is not null)
                output.WriteLine(string.Join("\n", agent.Log));
            agent?.Dispose();
        }
    }

    private static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what) => await UntilAsync(() => Task.FromResult(condition()), timeout, what);

    private static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"not within {timeout.TotalSeconds} s: {what}");
            await Task.Delay(200);
        }
    }
}
