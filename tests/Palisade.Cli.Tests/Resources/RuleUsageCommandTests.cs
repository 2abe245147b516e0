using Microsoft.Extensions.DependencyInjection;
using System.Text.Json;
using Palisade.Cli.Tests.Server;
using Palisade.Client;
using Palisade.TestKit;

namespace Palisade.Cli.Tests.Resources;

/// <summary><c>palisade sg usage</c> through a real server: what an agent reported, per rule, and "no traffic in N days" for the others.</summary>
[Collection(EnvironmentCollection.Name)]
public sealed class RuleUsageCommandTests : IAsyncLifetime
{
    private CliServer _server = null!;

    public async Task InitializeAsync() => _server = await CliServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private string Out(params string[] args)
    {
        var outcome = _server.RunUnrecorded(args);
        Assert.True(outcome.ExitCode == 0, outcome.Output + outcome.Error);
        return outcome.Output.Trim();
    }

    [Fact]
    public async Task Usage_ShowsEachRulesHits_AndSaysWhichHadNoTraffic_AndWhoCounted()
    {
        var vpc = Out("vpc", "create", "--cidr", "192.168.0.0/16");
        var vsw = Out("vswitch", "create", "--vpc", vpc, "--zone", "cn-hangzhou-h", "--cidr", "192.168.1.0/24");
        var web = Out("sg", "create", "--name", "web", "--vpc", vpc);
        Out("sg", "authorize", web, "--rule", "tcp 22 10.0.0.0/8", "--rule", "tcp 80 0.0.0.0/0");
        var instance = Out("instance", "run", "--group", web, "--vswitch", vsw);
        // The operator declares the host and binds the NIC on the store (issue 18); the host's agent reports with its credential.
        Assert.Equal(0, _server.RunUnrecorded("host", "declare", "--host", "node-1", "--interfaces", "vnet*", "--addresses", "192.168.0.0/16", "--data", _server.Data).ExitCode);
        Assert.Equal(0, _server.RunUnrecorded("host", "bind", "--instance", instance, "--host", "node-1", "--interface", "vnet0", "--data", _server.Data).ExitCode);
        var agentKey = _server.App.Services.GetRequiredService<Palisade.Storage.Hosts.HostService>().CreateCredential("node-1");
        var rules = JsonDocument.Parse(Out("sg", "show", web, "--output", "json")).RootElement.GetProperty("Permissions").GetProperty("Permission").EnumerateArray()
            .ToDictionary(r => r.GetProperty("PortRange").GetString()!, r => r.GetProperty("SecurityGroupRuleId").GetString()!);

        using var http = new HttpClient { BaseAddress = new Uri(_server.Url) };
        var agent = new EcsClient(http, new ClientCredentials(agentKey.AccessKeyId, agentKey.AccessKeySecret));
        await agent.CallAsync("ReportAgentStatus", new Dictionary<string, string>
        {
            ["RegionId"] = "cn-hangzhou", ["HostName"] = "node-1", ["AppliedRevision"] = "1", ["InstanceId.1"] = instance, ["UsageReported"] = "true",
            ["RuleUsage.1.InstanceId"] = instance, ["RuleUsage.1.Direction"] = "ingress", ["RuleUsage.1.SecurityGroupRuleId"] = rules["80/80"],
            ["RuleUsage.1.Packets"] = "12", ["RuleUsage.1.Bytes"] = "720",
        });

        var lines = Out("sg", "usage", "web", "--days", "3").Split('\n');
        Assert.StartsWith("web (", lines[0], StringComparison.Ordinal);
        Assert.Contains("counted by 1 host, all of them since ", lines[0], StringComparison.Ordinal);
        Assert.Equal(["RULE", "DIRECTION", "POLICY", "PACKETS", "BYTES", "LAST", "HIT", "HOSTS"], lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        var http80 = lines.Single(l => l.StartsWith(rules["80/80"], StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["ingress", "Accept", "12", "720"], http80[1..5]);
        Assert.Equal("1", http80[^1]);
        var ssh = lines.Single(l => l.StartsWith(rules["22/22"], StringComparison.Ordinal));
        Assert.Contains("no traffic in 3 days", ssh, StringComparison.Ordinal);

        var json = JsonDocument.Parse(Out("sg", "usage", web, "--output", "json")).RootElement;
        Assert.Equal(7, json.GetProperty("Days").GetInt32());
        var bad = _server.RunUnrecorded("sg", "usage", web, "--days", "0");
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("Days", bad.Output + bad.Error, StringComparison.Ordinal);
    }
}
