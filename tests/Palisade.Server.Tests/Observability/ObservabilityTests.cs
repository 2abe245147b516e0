using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using System.Net;
using Palisade.Server.Tests.Support;
using static Palisade.Server.Tests.Support.Scenario;
using Palisade.Storage.Accounts;

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
        _server.Bind(instance, "node-1", "vnet0");
        await ApiAssert.FailsAsync(() => a.Api.CallAsync("DeleteSecurityGroup", new { RegionId = Region, SecurityGroupId = "sg-bp1nothere000000" }), "InvalidSecurityGroup.NotFound", 404);
        await ApiAssert.FailsAsync(() => a.Api.CallAsync("NoSuchAction" + key.AccessKeySecret[..6], new { RegionId = Region }), "InvalidAction.NotFound", 404);

        // The exporter collects on scrape; a second scrape sees what the first one started.
        string text = "";
        for (var i = 0; i < 20 && !text.Contains("palisade_agent_nics", StringComparison.Ordinal); i++)
        {
            using var scrape = new HttpRequestMessage(HttpMethod.Get, "/metrics");
            scrape.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestControlPlane.MetricsToken);
            var response = await _server.Http.SendAsync(scrape);
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
        // Ready or not, and nothing of the store's activity (issue 19: the revision told every tenant the others' pace).
        var key = _server.NewAccount("busy");
        await new Scenario(_server.Client(key)).VpcAsync();
        Assert.Equal("ready\n", await _server.Http.GetStringAsync("/readyz"));
    }

    [Fact]
    public async Task Metrics_AreClosed_WithoutTheOperatorsToken()
    {
        var key = _server.NewAccount("curious");
        await _server.Client(key).CallAsync("DescribeRegions");
        var anonymous = await _server.Http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.DoesNotContain("palisade_requests", await anonymous.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        wrong.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestControlPlane.MetricsToken + "x");
        Assert.Equal(HttpStatusCode.Unauthorized, (await _server.Http.SendAsync(wrong)).StatusCode);
    }

    [Fact]
    public async Task Metrics_OnTheirOwnListener_AndOnlyThere()
    {
        var data = Path.Combine(Path.GetTempPath(), "palisade-metrics-" + Guid.NewGuid().ToString("N"));
        var apiPort = FreePort();
        var metricsPort = FreePort();
        var app = Hosting.PalisadeServer.Build(new Hosting.ServeSettings
        {
            Urls = $"http://127.0.0.1:{apiPort}", MetricsUrls = $"http://127.0.0.1:{metricsPort}", DataDirectory = data,
        });
        try
        {
            await app.StartAsync();
            using var http = new HttpClient();
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync($"http://127.0.0.1:{apiPort}/metrics")).StatusCode);
            var scraped = await http.GetAsync($"http://127.0.0.1:{metricsPort}/metrics");
            Assert.Equal(HttpStatusCode.OK, scraped.StatusCode);
            // The API is not reachable through the metrics listener.
            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"http://127.0.0.1:{metricsPort}/?Action=DescribeRegions")).StatusCode);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            Directory.Delete(data, recursive: true);
        }
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Issue 19: a raw, unauthenticated Action with a carriage return forged a log line in the text format.</summary>
    [Fact]
    public async Task LoggedValues_CannotForgeOrHideLines()
    {
        var logs = new CapturedLogs();
        await using var plane = await TestControlPlane.StartAsync(logs: logs);
        var forged = "DescribeRegions\r\n2026-12-02T10:00:00.000Z info: Palisade.Server.Hosting.RpcEndpoint[0] DeleteSecurityGroup 200 OK\u001b[2K\u202e";
        var response = await plane.Http.GetAsync("/?Action=" + Uri.EscapeDataString(System.Text.RegularExpressions.Regex.Unescape(forged)) + "&Version=2014-05-26");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await plane.Http.GetAsync("/?Action=DescribeRegions&Version=2014-05-26");
        var lines = logs.Lines.Where(l => l.Contains("RpcEndpoint", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, lines.Count);
        Assert.All(lines, l => Assert.DoesNotMatch("[\\r\\n\\u001b\\u202e]", l.TrimEnd()));
        Assert.StartsWith("Information Palisade.Server.Hosting.RpcEndpoint: unknown 400 ", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("Information Palisade.Server.Hosting.RpcEndpoint: DescribeRegions 400 ", lines[1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("plain-value", "plain-value")]
    [InlineData("a\rb\nc", @"a\u000db\u000ac")]
    [InlineData("esc\u001b[31m", @"esc\u001b[31m")]
    [InlineData("bidi\u202egpj.exe", @"bidi\u202egpj.exe")]
    [InlineData(@"back\slash", @"back\\slash")]
    public void LogValues_EscapeEveryControlAndFormatCharacter(string raw, string logged) =>
        Assert.Equal(logged, Hosting.LogValues.Escape(raw));

    /// <summary><c>palisade serve --log-format json --log-requests</c>: JSON lines, one per request, with the action, code and RequestId and never a parameter.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task RequestLogs_AreStructured_AndOnlyWhenAskedFor(bool logRequests)
    {
        var data = Path.Combine(Path.GetTempPath(), "palisade-logs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(data);
        File.WriteAllText(Path.Combine(data, "master.key"), Convert.ToBase64String(new byte[32]));
        var captured = new CapturedLogs();
        var app = Hosting.PalisadeServer.Build(
            new Hosting.ServeSettings { Urls = "http://127.0.0.1:0", DataDirectory = data, LogFormat = Hosting.LogFormat.Json, LogRequests = logRequests },
            configure: b => b.Logging.AddProvider(captured));
        try
        {
            await app.StartAsync();
            var console = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>>().CurrentValue;
            Assert.Equal(Microsoft.Extensions.Logging.Console.ConsoleFormatterNames.Json, console.FormatterName);
            var accounts = app.Services.GetRequiredService<Palisade.Storage.Accounts.AccountService>();
            var key = accounts.CreateAccessKey(accounts.CreateAccount("logs").AccountId);
            var api = new Client.EcsClient(new HttpClient { BaseAddress = new Uri(app.Urls.First()) }, new Client.ClientCredentials(key.AccessKeyId, key.AccessKeySecret));
            var failure = await ApiAssert.FailsAsync(() => api.CallAsync("DescribeSecurityGroupAttribute", new { RegionId = Region, SecurityGroupId = "sg-bp1secretlooking00" }), "InvalidSecurityGroupId.NotFound", 404);
            var line = captured.Lines.FirstOrDefault(l => l.Contains("DescribeSecurityGroupAttribute", StringComparison.Ordinal));
            if (logRequests)
            {
                Assert.NotNull(line);
                Assert.Contains("404 InvalidSecurityGroupId.NotFound", line);
                Assert.Contains(failure.RequestId, line);
                Assert.DoesNotContain("sg-bp1secretlooking00", line);
            }
            else
            {
                Assert.Null(line);
            }
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            Directory.Delete(data, recursive: true);
        }
    }
}
