using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Palisade.Server.Hosting;

namespace Palisade.Server.WebConsole;

/// <summary>
/// The web console: static files compiled into this assembly and served at <c>/console/</c>. The
/// console is one more client of the ECS API — it signs each request with V3 in the browser, with
/// the AccessKey the person typed — so it needs no session, cookie or endpoint of its own, and
/// every click is authenticated, throttled and trailed like an SDK call. Nothing comes from a CDN.
/// </summary>
internal sealed class ConsoleAssets
{
    public const string Prefix = "/console";

    /// <summary>
    /// A person opening the server's address in a browser: a GET of <c>/</c> without any parameter that
    /// accepts HTML. An API call always carries parameters (an Action at least) and SDKs ask for JSON or
    /// XML, so they keep getting ECS errors on <c>/</c>.
    /// </summary>
    public static bool IsBrowserVisit(HttpRequest request) =>
        HttpMethods.IsGet(request.Method) && !request.QueryString.HasValue
        && request.Headers.Accept.Any(a => a is not null && a.Contains("text/html", StringComparison.OrdinalIgnoreCase));

    /// <summary>Sends a browser to the console (302, so that the API may answer on <c>/</c> again later).</summary>
    public static Task RedirectToConsole(HttpContext http)
    {
        http.Response.Redirect(Prefix + "/");
        return Task.CompletedTask;
    }

    private const string ResourcePrefix = "console/";

    public const string RegionsFile = "regions.json";

    // Everything the console loads is its own: no inline script, no other origin, no framing.
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

    private sealed record Asset(byte[] Content, string ContentType, string ETag);

    private readonly FrozenDictionary<string, Asset> _assets;

    private ConsoleAssets(FrozenDictionary<string, Asset> assets) => _assets = assets;

    public IEnumerable<string> Paths => _assets.Keys;

    public static ConsoleAssets FromAssembly()
    {
        var assembly = typeof(ConsoleAssets).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var content = copy.ToArray();
            var path = name[ResourcePrefix.Length..].Replace('\\', '/');
            assets[path] = new Asset(content, ContentTypeOf(path), $"\"{Convert.ToHexStringLower(SHA256.HashData(content))[..16]}\"");
        }
        // The regions this server serves, for the sign-in page (before any key is given): the same
        // list DescribeRegions answers, so the page never offers a region the server would refuse.
        var regions = JsonSerializer.SerializeToUtf8Bytes(Regions.All.Select(r => new { r.RegionId, r.LocalName }));
        assets[RegionsFile] = new Asset(regions, "application/json; charset=utf-8", $"\"{Convert.ToHexStringLower(SHA256.HashData(regions))[..16]}\"");
        return new ConsoleAssets(assets.ToFrozenDictionary(StringComparer.Ordinal));
    }

    private static string ContentTypeOf(string path) => Path.GetExtension(path) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        _ => "application/octet-stream",
    };

    public void Map(WebApplication app)
    {
        // Routing matches "/console" and "/console/" alike; only the first is sent on, so that the
        // page's relative URLs (app.js, console.css) resolve under /console/.
        app.MapGet(Prefix, (HttpContext context) => context.Request.Path.Value!.EndsWith('/') ? Serve(context, "index.html") : Results.Redirect(Prefix + "/"));
        app.MapGet(Prefix + "/{**path}", (HttpContext context, string? path) => Serve(context, string.IsNullOrEmpty(path) ? "index.html" : path));
    }

    private IResult Serve(HttpContext context, string path)
    {
        if (!_assets.TryGetValue(path, out var asset))
            return Results.Text("Not found: the console has no such file.\n", "text/plain; charset=utf-8", statusCode: 404);
        var headers = context.Response.Headers;
        headers.ETag = asset.ETag;
        // Revalidated on every load, so a new server version is never mixed with an old script.
        headers.CacheControl = "no-cache";
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        if (context.Request.Headers.IfNoneMatch == asset.ETag)
            return Results.StatusCode(StatusCodes.Status304NotModified);
        return Results.Bytes(asset.Content, asset.ContentType);
    }
}
