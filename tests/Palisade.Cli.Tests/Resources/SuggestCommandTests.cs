using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Palisade.Cli.Tests.Server;
using Palisade.Client;
using Palisade.TestKit;

namespace Palisade.Cli.Tests.Resources;

/// <summary>
/// <c>palisade suggest</c> through a real server (issue 20 item 5): the flows a host's agent reported
/// become the narrowest rules, with the what-if of the replacement; <c>--apply --yes</c> authorizes
/// them and revokes the rules they replace, after which the same observed flows are still admitted
/// and nothing more is suggested. The transcript is a golden file.
/// </summary>
[Collection(EnvironmentCollection.Name)]
public sealed class SuggestCommandTests : IAsyncLifetime
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
    public async Task Suggest_ProposesTheNarrowestRules_WithTheirWhatIf_AndApplyReplacesTheGroupsAcceptRules()
    {
        var vpc = Out("vpc", "create", "--cidr", "192.168.0.0/16");
        var vsw = Out("vswitch", "create", "--vpc", vpc, "--zone", "cn-hangzhou-h", "--cidr", "192.168.1.0/24");
        var web = Out("sg", "create", "--name", "web", "--vpc", vpc);
        var ops = Out("sg", "create", "--name", "ops", "--vpc", vpc);
        Out("sg", "authorize", web, "--rule", "tcp 1-65535 0.0.0.0/0");
        var web1 = Out("instance", "run", "--group", web, "--vswitch", vsw, "--name", "web1", "--private-ip", "192.168.1.10");
        Out("instance", "run", "--group", ops, "--vswitch", vsw, "--name", "ops1", "--private-ip", "192.168.1.21");
        Out("instance", "run", "--group", ops, "--vswitch", vsw, "--name", "ops2", "--private-ip", "192.168.1.22");
        Assert.Equal(0, _server.RunUnrecorded("host", "declare", "--host", "node-1", "--interfaces", "vnet*", "--addresses", "192.168.0.0/16", "--data", _server.Data).ExitCode);
        Assert.Equal(0, _server.RunUnrecorded("host", "bind", "--instance", web1, "--host", "node-1", "--interface", "vnet0", "--data", _server.Data).ExitCode);
        var agentKey = _server.App.Services.GetRequiredService<Palisade.Storage.Hosts.HostService>().CreateCredential("node-1");
        using var http = new HttpClient { BaseAddress = new Uri(_server.Url) };
        var agent = new EcsClient(http, new ClientCredentials(agentKey.AccessKeyId, agentKey.AccessKeySecret));
        var minute = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm'Z'", System.Globalization.CultureInfo.InvariantCulture);
        (string Source, int Port, int Connections)[] seen = [("192.168.1.21", 22, 7), ("192.168.1.22", 22, 3), ("198.51.100.4", 443, 120), ("198.51.100.5", 443, 80), ("198.51.100.5", 444, 2)];
        await agent.CallAsync("ReportAgentStatus", new
        {
            RegionId = "cn-hangzhou", HostName = "node-1", AppliedRevision = 1, InstanceId = new[] { web1 }, FlowsReported = true,
            Flow = seen.Select(s => new { InstanceId = web1, SourceIp = s.Source, IpProtocol = "TCP", s.Port, Minute = minute, s.Connections }).ToArray(),
        });

        var shown = _server.Run("suggest", "--group", "web", "--days", "3");
        Assert.True(shown.ExitCode == 0, shown.Output + shown.Error);
        var json = JsonDocument.Parse(Out("suggest", "--group", web, "--output", "json")).RootElement;
        Assert.Equal(5, json.GetProperty("FlowsKept").GetInt64());
        Assert.Empty(json.GetProperty("Lost").EnumerateArray());

        var applied = _server.Run("suggest", "--group", "web", "--apply", "--yes");
        Assert.True(applied.ExitCode == 0, applied.Output + applied.Error);
        _server.Run("sg", "show", "web");
        // Applied: the same flows are kept by the new rules, which are exactly what is suggested again.
        var again = JsonDocument.Parse(Out("suggest", "--group", web, "--output", "json")).RootElement;
        Assert.Equal(5, again.GetProperty("FlowsKept").GetInt64());
        Assert.Empty(again.GetProperty("Closes").EnumerateArray());
        Assert.Equal(again.GetProperty("Rules").GetArrayLength(), again.GetProperty("Replaced").GetArrayLength());

        var bad = _server.RunUnrecorded("suggest", "--group", "web", "--days", "0");
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("Days", bad.Output + bad.Error, StringComparison.Ordinal);
        Golden.Assert("resources/suggest.txt", _server.Transcript());
    }
}
