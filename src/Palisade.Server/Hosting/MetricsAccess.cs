using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Palisade.Server.Hosting;

/// <summary>
/// Who may read <c>/metrics</c>. Its counters (requests per action and code, agents in sync) describe
/// all tenants together, so they are not for any tenant: they are served on a listener of their own
/// (<see cref="ServeSettings.MetricsUrls"/>, for a scraper on a private network) or, on the API's
/// listener, only to a request carrying <c>Authorization: Bearer</c> the operator's token
/// (<see cref="ServeSettings.MetricsToken"/>). With neither configured, <c>/metrics</c> is off.
/// </summary>
internal sealed class MetricsAccess(ServeSettings settings)
{
    private readonly HashSet<int> _ports = [.. Split(settings.MetricsUrls).Select(u => new Uri(u.Replace("*", "localhost", StringComparison.Ordinal).Replace("+", "localhost", StringComparison.Ordinal)).Port)];
    private readonly byte[]? _token = settings.MetricsToken is { Length: > 0 } t ? Encoding.UTF8.GetBytes("Bearer " + t) : null;

    internal static IEnumerable<string> Split(string? urls) => (urls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public bool Allows(HttpContext http)
    {
        if (_ports.Count > 0 && _ports.Contains(http.Connection.LocalPort) && !Split(settings.Urls).Any(u => SamePort(u, http.Connection.LocalPort)))
            return true;
        if (_token is null)
            return false;
        var given = Encoding.UTF8.GetBytes(http.Request.Headers.Authorization.ToString());
        return CryptographicOperations.FixedTimeEquals(given, _token);
    }

    private static bool SamePort(string url, int port) =>
        Uri.TryCreate(url.Replace("*", "localhost", StringComparison.Ordinal).Replace("+", "localhost", StringComparison.Ordinal), UriKind.Absolute, out var u) && u.Port == port;

    /// <summary>Only <c>/metrics</c> is served on the metrics listener: the API is not reachable through it.</summary>
    public bool IsMetricsListener(HttpContext http) =>
        _ports.Count > 0 && _ports.Contains(http.Connection.LocalPort) && !Split(settings.Urls).Any(u => SamePort(u, http.Connection.LocalPort));
}
