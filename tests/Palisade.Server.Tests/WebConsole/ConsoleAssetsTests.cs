using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Palisade.Server.Hosting;
using Palisade.Server.WebConsole;

namespace Palisade.Server.Tests.WebConsole;

/// <summary>
/// The console's files as the server serves them: everything local (no CDN, no other origin), a
/// strict content security policy, revalidation by ETag, and an honest 404. The browser tests
/// (tests/Palisade.WebConsole.Tests) drive the pages themselves.
/// </summary>
public sealed partial class ConsoleAssetsTests : IAsyncLifetime
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "palisade-assets-" + Guid.NewGuid().ToString("N"));
    private WebApplication _server = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_data);
        File.WriteAllText(Path.Combine(_data, "master.key"), Convert.ToBase64String(new byte[32]));
        _server = PalisadeServer.Build(new ServeSettings { Urls = "http://127.0.0.1:0", DataDirectory = _data });
        await _server.StartAsync();
        _http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(_server.Urls.First()) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.StopAsync();
        await _server.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    [GeneratedRegex(@"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", RegexOptions.IgnoreCase)]
    private static partial Regex OtherOrigin();

    [Fact]
    public async Task EveryFile_IsServedFromHere_WithAStrictPolicy()
    {
        var assets = ConsoleAssets.FromAssembly();
        Assert.Contains("index.html", assets.Paths);
        Assert.Contains("app.js", assets.Paths);
        foreach (var path in assets.Paths)
        {
            using var response = await _http.GetAsync("/console/" + path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = await response.Content.ReadAsStringAsync();
            // The SVG namespace is a name, not a place anything is loaded from.
            var foreign = OtherOrigin().Matches(body.Replace("http://www.w3.org/2000/svg", "", StringComparison.Ordinal)).Select(m => m.Value).ToList();
            Assert.True(foreign.Count == 0, $"{path} names another origin: {string.Join(", ", foreign)}");
            var policy = response.Headers.GetValues("Content-Security-Policy").Single();
            Assert.Contains("default-src 'self'", policy);
            Assert.Contains("frame-ancestors 'none'", policy);
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.Equal("no-cache", response.Headers.CacheControl?.ToString());

            using var again = new HttpRequestMessage(HttpMethod.Get, "/console/" + path);
            again.Headers.IfNoneMatch.Add(response.Headers.ETag!);
            using var revalidated = await _http.SendAsync(again);
            Assert.Equal(HttpStatusCode.NotModified, revalidated.StatusCode);
        }
        var scripts = assets.Paths.Where(p => p.EndsWith(".js", StringComparison.Ordinal)).ToList();
        using var index = await _http.GetAsync("/console/");
        var html = await index.Content.ReadAsStringAsync();
        Assert.Equal("text/html; charset=utf-8", index.Content.Headers.ContentType?.ToString());
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        Assert.Contains("app.js", html, StringComparison.Ordinal);
        Assert.NotEmpty(scripts);
    }

    /// <summary>The sign-in page offers the regions of regions.json: exactly the regions DescribeRegions answers.</summary>
    [Fact]
    public async Task TheRegionsFile_ListsTheRegionsTheServerServes()
    {
        using var response = await _http.GetAsync("/console/" + ConsoleAssets.RegionsFile);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(Regions.All.Select(r => r.RegionId), json.RootElement.EnumerateArray().Select(r => r.GetProperty("RegionId").GetString()));
        Assert.All(json.RootElement.EnumerateArray(), r => Assert.False(string.IsNullOrEmpty(r.GetProperty("LocalName").GetString())));
    }

    [Fact]
    public async Task TheBarePath_RedirectsToTheFolder_AndUnknownFilesAre404()
    {
        using var bare = await _http.GetAsync("/console");
        Assert.Equal(HttpStatusCode.Redirect, bare.StatusCode);
        Assert.Equal("/console/", bare.Headers.Location?.ToString());
        using var missing = await _http.GetAsync("/console/nothing.js");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var climbing = await _http.GetAsync("/console/..%2Fpalisade.db");
        Assert.Equal(HttpStatusCode.NotFound, climbing.StatusCode);
    }
}
