using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Palisade.Client;
using Palisade.Storage.Accounts;
using Palisade.Server.Hosting;
using Palisade.TestKit;

namespace Palisade.WebConsole.Tests;

/// <summary>
/// A real <c>palisade serve</c> (Kestrel on a free port, SQLite in a temporary folder) and Debian's
/// Chromium driven by Playwright. Screenshots go to <c>artifacts/console/</c> at the repository root.
/// </summary>
public sealed class ConsoleHost : IAsyncLifetime
{
    public const string Chromium = "/usr/bin/chromium";

    private readonly string _data = Path.Combine(Path.GetTempPath(), "palisade-console-" + Guid.NewGuid().ToString("N"));
    private WebApplication? _server;
    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public string Url { get; private set; } = "";

    private AccountService _accounts = null!;

    public static string Artifacts { get; } = Path.Combine(Golden.RepositoryRoot(), "artifacts", "console");

    /// <summary>Why the browser tests cannot run here, or null. ./test.sh installs Chromium and sets PALISADE_REQUIRE_BROWSER=1, so there they cannot be skipped.</summary>
    public static string? Missing() => File.Exists(Chromium) ? null : $"{Chromium} is not installed (apt-get install chromium)";

    public static bool Required => Environment.GetEnvironmentVariable("PALISADE_REQUIRE_BROWSER") == "1";

    public async Task InitializeAsync()
    {
        if (Missing() is not null)
            return;
        Directory.CreateDirectory(_data);
        Directory.CreateDirectory(Artifacts);
        File.WriteAllText(Path.Combine(_data, "master.key"), Convert.ToBase64String(new byte[32]));
        // An operator's `serve --max-groups 500`: the matrix is shown at 300 groups, three times ECS's default quota.
        _server = PalisadeServer.Build(new ServeSettings
        {
            Urls = "http://127.0.0.1:0",
            DataDirectory = _data,
            // No analysis process warmed up with the test's server (as TestControlPlane's): it starts on the first impact.
            // Sized as an 8-core node whatever the machine, as TestControlPlane's: the analysis budget's default is a share of the cores.
            Options = new ServerOptions { Limits = new Palisade.Domain.Quotas.Limits { GroupsPerRegion = 500 }, Throttling = new Throttling { AnalysisWarmUp = false, NodeCores = Palisade.TestKit.TestNode.Cores } },
        });
        await _server.StartAsync();
        Url = _server.Urls.First();
        _accounts = _server.Services.GetRequiredService<AccountService>();
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Headless = true });
    }

    /// <summary>An account of its own for each test, so that what one test makes never shows in another's pages.</summary>
    public (ClientCredentials Key, EcsClient Api) NewAccount(string name)
    {
        var key = _accounts.CreateAccessKey(_accounts.CreateAccount(name).AccountId);
        var credentials = new ClientCredentials(key.AccessKeyId, key.AccessKeySecret);
        return (credentials, new EcsClient(new HttpClient { BaseAddress = new Uri(Url) }, credentials));
    }

    /// <summary>The operator binds an instance's NIC to a host declared carrying anything, and that host's agent signs with its own credential (issue 18).</summary>
    public EcsClient HostAgent(string instance, string hostName, string interfaceName)
    {
        var hosts = _server!.Services.GetRequiredService<Palisade.Storage.Hosts.HostService>();
        if (!hosts.ListHosts().Any(h => h.HostName == hostName))
            hosts.Declare(hostName, Palisade.Domain.Hosts.HostDeclaration.Parse("*", "0.0.0.0/0 ::/0"));
        hosts.Bind(instance, hostName, interfaceName);
        var credential = hosts.CreateCredential(hostName);
        return new EcsClient(new HttpClient { BaseAddress = new Uri(Url) }, new ClientCredentials(credential.AccessKeyId, credential.AccessKeySecret));
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
            await Browser.CloseAsync();
        _playwright?.Dispose();
        if (_server is not null)
        {
            await _server.StopAsync();
            await _server.DisposeAsync();
        }
        if (Directory.Exists(_data))
            Directory.Delete(_data, recursive: true);
    }

    /// <summary>A fresh browser context (its own sessionStorage) whose page fails the test on any script error or CSP violation.</summary>
    public async Task<(IPage Page, List<string> Problems)> NewPageAsync(int width = 1280, int height = 900)
    {
        var context = await Browser.NewContextAsync(new() { ViewportSize = new() { Width = width, Height = height }, BaseURL = Url });
        // Expectations wait for a condition, never a fixed time: a page of 131 instances took longer
        // than Playwright's 5 s default on a CI machine under load, so the deadlines are generous.
        Assertions.SetDefaultExpectTimeout(30_000);
        context.SetDefaultTimeout(60_000);
        var page = await context.NewPageAsync();
        var problems = new List<string>();
        // An API call's ECS error is an answer the page shows (Chromium logs each 4xx it fetches);
        // any other failed load — a missing script, a refused style — is a defect.
        page.Console += (_, message) =>
        {
            if (message.Type == "error" && !message.Text.StartsWith("Failed to load resource", StringComparison.Ordinal))
                problems.Add($"console error: {message.Text}");
        };
        page.Response += (_, response) =>
        {
            if (response.Status >= 400 && new Uri(response.Url).AbsolutePath != "/")
                problems.Add($"HTTP {response.Status} for {response.Url}");
        };
        page.RequestFailed += (_, request) => problems.Add($"request failed: {request.Url} ({request.Failure})");
        page.PageError += (_, error) => problems.Add($"page error: {error}");
        return (page, problems);
    }

    public static Task ShotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new() { Path = Path.Combine(Artifacts, name + ".png"), FullPage = true });
}
