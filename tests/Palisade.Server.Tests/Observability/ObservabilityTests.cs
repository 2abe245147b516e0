using System.Net;
using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Observability;

/// <summary>/healthz, /readyz and /metrics: Prometheus text with requests per action and code, their latency, the store's latency, agents in sync; no secret in it.</summary>
public sealed class ObservabilityTests : IAsyncLifetime
{
    private TestControlPlane _server = null!;

    public async Task InitializeAsync() => _server = await TestControlPlane.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Metrics_CountRequestsByActionAndCode_AndNeverShowASecret()
    {
        var key = _server.NewAccount("metrics");
        var a = new Scenario(_server.Client(key));
        var vpc = await a.VpcAsync();
        var group = await a.GroupAsync(vpc);
        var instance = (await a.RunAsync(group, await a.VSwitchAsync(vpc)))[0];
        await a.Api.CallAsync("BindHostInterface", new { RegionId = Region, InstanceId = instance, HostName = "node-1", InterfaceName = "vnet0" });
        await ApiAssert.FailsAsync(() => a.Api.CallAsync("DeleteSecurityGroup", new { RegionId = Region, SecurityGroupId = "sg-bp1nothere000000" }), "InvalidSecurityGroup.NotFound", 404);
        await ApiAssert.FailsAsync(() => a.Api.CallAsync("NoSuchAction" + key.AccessKeySecret[..6], new { RegionId = Region }), "InvalidAction.NotFound", 404);

        // The exporter collects on scrape; a second scrape sees what the first one started.
        string text = "";
        for (var i = 0; i < 20 && !text.Contains("palisade_agent_nics", StringComparison.Ordinal); i++)
        {
            var response = await _server.Http.GetAsync("/metrics");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            text = await response.Content.ReadAsStringAsync();
            await Task.Delay(100);
        }
        Assert.Matches("palisade_requests_total\\{[^}]*action=\"CreateSecurityGroup\"[^}]*code=\"OK\"", text);
        Assert.Matches("palisade_requests_total\\{[^}]*action=\"DeleteSecurityGroup\"[^}]*code=\"InvalidSecurityGroup.NotFound\"", text);
        Assert.Matches("palisade_requests_total\\{[^}]*action=\"unknown\"", text);
        Assert.Contains("palisade_request_duration_seconds_bucket", text, StringComparison.Ordinal);
        Assert.Matches("palisade_store_duration_seconds_bucket\\{[^}]*operation=\"write\"", text);
        Assert.Matches("palisade_agent_nics\\{[^}]*state=\"behind\"", text);
        Assert.DoesNotContain(key.AccessKeySecret[..6], text, StringComparison.Ordinal);
        Assert.DoesNotContain(key.AccessKeyId, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_AndReadiness()
    {
        Assert.Equal("ok\n", await _server.Http.GetStringAsync("/healthz"));
        Assert.StartsWith("ready, revision ", await _server.Http.GetStringAsync("/readyz"), StringComparison.Ordinal);
    }
}
