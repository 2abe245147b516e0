using System.Diagnostics;
using System.Net;
using Palisade.Cli.Tests.Server;
using Palisade.TestKit;

namespace Palisade.Cli.Tests.FirstRun;

/// <summary>
/// Issue 21 item 1: a first run that guides. <c>serve</c> says where the API, the console and the key
/// are on every start; a browser opening <c>/</c> lands on the console while API clients keep their
/// ECS errors; <c>palisade demo</c> loads an account with mistakes the audit finds; <c>configure</c>
/// checks the key before saving it.
/// </summary>
[Collection(EnvironmentCollection.Name)]
public sealed class FirstRunTests : IAsyncLifetime
{
    private CliServer _server = null!;

    public async Task InitializeAsync() => _server = await CliServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Root_SendsBrowsersToTheConsole_AndApiClientsGetEcsErrors()
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(_server.Url) };
        using var browser = new HttpRequestMessage(HttpMethod.Get, "/");
        browser.Headers.Accept.ParseAdd("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8");
        using var redirected = await http.SendAsync(browser);
        Assert.Equal(HttpStatusCode.Redirect, redirected.StatusCode);
        Assert.Equal("/console/", redirected.Headers.Location?.OriginalString);
        // An API client (no HTML in Accept, or parameters) still gets the ECS error.
        using var api = await http.GetAsync("/?Format=JSON");
        Assert.Equal(HttpStatusCode.BadRequest, api.StatusCode);
        Assert.Contains("\"Code\":\"MissingParameter\"", (await api.Content.ReadAsStringAsync()).Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
        using var plain = await http.GetAsync("/");
        Assert.Equal(HttpStatusCode.BadRequest, plain.StatusCode);
        using var withAction = new HttpRequestMessage(HttpMethod.Get, "/?Action=DescribeRegions");
        withAction.Headers.Accept.ParseAdd("text/html");
        using var signedless = await http.SendAsync(withAction);
        Assert.NotEqual(HttpStatusCode.Redirect, signedless.StatusCode);
    }

    [Fact]
    public void Demo_LoadsAnAccountWhoseMistakesTheAuditFinds_Once()
    {
        var loaded = _server.Run("demo");
        Assert.Equal(ExitCodes.Ok, loaded.ExitCode);
        Golden.Assert("firstrun/demo.txt", _server.Transcript());
        var audit = _server.RunUnrecorded("audit");
        Assert.Equal(ExitCodes.Denied, audit.ExitCode);
        foreach (var check in new[] { "inner-access-spans-tiers", "risky-port-exposed", "internal-wide-cidr", "internal-all-ports", "shadowed-rule", "unused-group", "undocumented-group" })
            Assert.Contains(check, audit.Output, StringComparison.Ordinal);
        Assert.Contains("inner-access-spans-tiers       monitoring (sg-", audit.Output, StringComparison.Ordinal);
        // The web tier faces the internet through public addresses of the server's pool: its open SSH is exposed now.
        Assert.Contains("HIGH   risky-port-exposed             web-1 (i-", audit.Output, StringComparison.Ordinal);
        // The names the demo's "next" lines use work.
        Assert.Equal(ExitCodes.Ok, _server.RunUnrecorded("instance", "show", "web-1").ExitCode);
        Assert.Equal(ExitCodes.Ok, _server.RunUnrecorded("eval", "--src", "web-1", "--dst", "db-1", "--protocol", "tcp", "--port", "5432").ExitCode);
        Assert.Equal(ExitCodes.Ok, _server.RunUnrecorded("whatif", "policy", "--group", "monitoring", "--inner-access", "drop").ExitCode is ExitCodes.Ok or ExitCodes.Denied ? ExitCodes.Ok : -1);
        var again = _server.RunUnrecorded("demo");
        Assert.Equal(ExitCodes.BadInput, again.ExitCode);
        Assert.StartsWith("error: the demo is already loaded in cn-hangzhou: it has a group named '", again.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Configure_ChecksTheKey_BeforeSavingIt()
    {
        var file = Path.Combine(_server.Data, "config.json");
        Environment.SetEnvironmentVariable("PALISADE_CONFIG_FILE", file);
        try
        {
            var saved = CliTester.Run("configure", "--endpoint", _server.Url, "--credentials", _server.Credentials);
            Assert.Equal(ExitCodes.Ok, saved.ExitCode);
            Assert.StartsWith($"checked: {_server.Key.AccessKeyId} signs as account ", saved.Output, StringComparison.Ordinal);
            Assert.True(File.Exists(file));
            File.Delete(file);
            var wrong = CliTester.RunWithInput("not-the-secret\n", "configure", "--endpoint", _server.Url, "--access-key-id", _server.Key.AccessKeyId);
            Assert.Equal(ExitCodes.BadInput, wrong.ExitCode);
            Assert.StartsWith("error: SignatureDoesNotMatch: ", wrong.Error, StringComparison.Ordinal);
            Assert.False(File.Exists(file));
            var neither = CliTester.Run("configure", "--endpoint", _server.Url);
            Assert.Equal(ExitCodes.BadInput, neither.ExitCode);
            Assert.Contains("say which key: --access-key-id ID (the secret is then asked for) or --credentials FILE.", neither.Error, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable("PALISADE_CONFIG_FILE", null);
        }
    }

    [Fact]
    public async Task Serve_SaysWhereTheApiTheConsoleAndTheKeyAre_OnEveryStart()
    {
        var data = Path.Combine(Path.GetTempPath(), "palisade-first-" + Guid.NewGuid().ToString("N"));
        try
        {
            var first = await StartAndStopAsync(data);
            Assert.Contains($"created account 'root' (", first, StringComparison.Ordinal);
            Assert.Contains($"its AccessKey is in {Path.Combine(data, "credentials")}", first, StringComparison.Ordinal);
            Assert.Matches(@"palisade: API http://127\.0\.0\.1:\d+/   web console http://127\.0\.0\.1:\d+/console/", first);
            var second = await StartAndStopAsync(data);
            Assert.Contains($"palisade: the first account's AccessKey is in {Path.Combine(data, "credentials")}", second, StringComparison.Ordinal);
            Assert.Contains("/console/", second, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>Starts the real <c>palisade serve</c>, reads its lines up to the console's URL, and stops it.</summary>
    private static async Task<string> StartAndStopAsync(string data)
    {
        var start = new ProcessStartInfo("dotnet", [typeof(PalisadeCli).Assembly.Location, "serve", "--urls", "http://127.0.0.1:0", "--data", data])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment.Remove("PALISADE_ROOT_ACCESS_KEY_ID");
        start.Environment.Remove("PALISADE_ROOT_ACCESS_KEY_SECRET");
        using var process = Process.Start(start)!;
        var lines = new List<string>();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                lines.Add(line);
                if (line.Contains("web console", StringComparison.Ordinal))
                    break;
            }
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        return string.Join("\n", lines);
    }
}
