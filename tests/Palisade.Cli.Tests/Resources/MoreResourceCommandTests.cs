using System.Text.Json;
using Palisade.Cli.Tests.Server;
using Palisade.TestKit;

namespace Palisade.Cli.Tests.Resources;

/// <summary>
/// The rest of the resource commands through a real server (a golden transcript): rules changed in
/// place, who references a group, instances renamed, regrouped, stopped and started, regions and
/// zones; a classic group's rules of both NICs; and lists longer than one page, whole.
/// </summary>
[Collection(EnvironmentCollection.Name)]
public sealed class MoreResourceCommandTests : IAsyncLifetime
{
    private CliServer _server = null!;

    public async Task InitializeAsync() => _server = await CliServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private string Out(params string[] args)
    {
        var outcome = _server.Run(args);
        return outcome.Output.Trim();
    }

    [Fact]
    public void RulesReferencesInstancesRegionsAndClassicGroups_AreGolden()
    {
        var vpc = Out("vpc", "create", "--cidr", "192.168.0.0/16", "--name", "prod");
        var vsw = Out("vswitch", "create", "--vpc", vpc, "--zone", "cn-hangzhou-h", "--cidr", "192.168.1.0/24");
        var web = Out("sg", "create", "--name", "web", "--vpc", vpc);
        var db = Out("sg", "create", "--name", "db", "--vpc", vpc);
        Out("sg", "authorize", db, "--rule", "tcp 5432 sg-placeholder".Replace("sg-placeholder", web, StringComparison.Ordinal));
        Out("sg", "authorize", web, "--rule", "tcp 22 10.0.0.0/8 priority 10 desc ssh");
        var ssh = JsonDocument.Parse(_server.RunUnrecorded("sg", "show", web, "--output", "json").Output).RootElement
            .GetProperty("Permissions").GetProperty("Permission")[0].GetProperty("SecurityGroupRuleId").GetString()!;
        Out("sg", "modify-rule", web, "--rule-id", ssh, "--rule", "tcp 22 10.1.0.0/16 priority 5 desc ssh from the VPN", "--yes");
        Out("sg", "show", web);
        Out("sg", "modify-rule", web, "--rule-id", ssh, "--rule", "tcp 22/21 10.1.0.0/16", "--yes");
        Out("sg", "references", web, db);

        var instance = Out("instance", "run", "--group", web, "--vswitch", vsw, "--name", "web-1");
        Out("instance", "modify", instance, "--name", "web-01", "--description", "first web server");
        Out("instance", "modify", instance, "--groups", web, "--groups", db, "--yes");
        Out("instance", "stop", instance);
        Out("instance", "start", instance);
        Out("instance", "show", instance);
        Out("instance", "modify", instance);

        var classic = Out("sg", "create", "--name", "classic");
        Out("sg", "authorize", classic, "--rule", "tcp 80 0.0.0.0/0 nic internet", "--rule", "tcp 22 10.1.2.0/24 nic intranet");
        Out("sg", "show", classic);
        Out("region", "list");
        Out("zone", "list");
        Golden.Assert("resources/more.txt", _server.Transcript());
    }

    [Fact]
    public void Lists_LongerThanOnePage_ComeWhole()
    {
        var vpc = Out("vpc", "create", "--cidr", "192.168.0.0/16");
        var vsw = Out("vswitch", "create", "--vpc", vpc, "--zone", "cn-hangzhou-h", "--cidr", "192.168.1.0/24");
        var group = Out("sg", "create", "--name", "many", "--vpc", vpc);
        for (var i = 0; i < 3; i++)
        {
            var rules = Enumerable.Range(1 + (i * 60), 60).SelectMany(p => new[] { "--rule", $"tcp {p} 10.0.0.0/8" }).ToArray();
            Assert.Equal(0, _server.RunUnrecorded(["sg", "authorize", group, .. rules]).ExitCode);
        }
        for (var i = 0; i < 130; i++)
            Assert.Equal(0, _server.RunUnrecorded("instance", "run", "--group", group, "--vswitch", vsw).ExitCode);
        for (var i = 0; i < 60; i++)
            Assert.Equal(0, _server.RunUnrecorded("vswitch", "create", "--vpc", vpc, "--zone", "cn-hangzhou-h", "--cidr", $"192.168.{i + 2}.0/24").ExitCode);

        var instances = JsonDocument.Parse(_server.RunUnrecorded("instance", "list", "--output", "json").Output).RootElement;
        Assert.Equal(130, instances.GetProperty("Instances").GetProperty("Instance").GetArrayLength());
        Assert.False(instances.TryGetProperty("NextToken", out _));
        Assert.Equal(131, _server.RunUnrecorded("instance", "list").Output.Trim().Split('\n').Length); // a header and 130 rows
        var vswitches = JsonDocument.Parse(_server.RunUnrecorded("vswitch", "list", "--output", "json").Output).RootElement;
        Assert.Equal(61, vswitches.GetProperty("VSwitches").GetProperty("VSwitch").GetArrayLength());
        Assert.Equal(61, vswitches.GetProperty("TotalCount").GetInt32());
        var rulesShown = JsonDocument.Parse(_server.RunUnrecorded("sg", "show", group, "--output", "json").Output).RootElement;
        Assert.Equal(180, rulesShown.GetProperty("Permissions").GetProperty("Permission").GetArrayLength());
    }
}
