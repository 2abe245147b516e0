using System.CommandLine;
using Palisade.Client;

namespace Palisade.Cli.Commands;

/// <summary>
/// How a command reaches a running control plane: <c>--server</c> (or <c>PALISADE_SERVER</c>), the
/// region, and an AccessKey from <c>ALIBABA_CLOUD_ACCESS_KEY_ID</c>/<c>ALIBABA_CLOUD_ACCESS_KEY_SECRET</c>
/// (the official tools' variables) or from a credentials file as <c>palisade serve</c> writes it.
/// </summary>
public sealed class ServerConnection
{
    public Option<string?> Server { get; } = new("--server")
    {
        Description = "The control plane's URL (default: $PALISADE_SERVER).",
        HelpName = "URL",
    };

    public Option<string> Region { get; } = new("--region") { Description = "The region.", DefaultValueFactory = _ => "cn-hangzhou" };

    public Option<string?> Credentials { get; } = new("--credentials")
    {
        Description = "A credentials file (as 'palisade serve' writes DIR/credentials); default: the ALIBABA_CLOUD_ACCESS_KEY_* variables.",
        HelpName = "FILE",
    };

    public IEnumerable<Option> Options => [Server, Region, Credentials];

    /// <summary>A signing client for the parsed command line; an <see cref="InvalidOperationException"/> says what is missing.</summary>
    public (EcsClient Client, Uri Server) Connect(ParseResult parse, TimeSpan? timeout = null)
    {
        var url = parse.GetValue(Server) ?? Environment.GetEnvironmentVariable("PALISADE_SERVER")
            ?? throw new InvalidOperationException("no server: give --server URL or set PALISADE_SERVER");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var server) || server.Scheme is not ("http" or "https"))
            throw new InvalidOperationException($"'{url}' is not an http(s) URL");
        var credentials = ReadCredentials(parse.GetValue(Credentials));
        var http = new HttpClient { BaseAddress = server, Timeout = timeout ?? TimeSpan.FromSeconds(30) };
        return (new EcsClient(http, credentials), server);
    }

    private static ClientCredentials ReadCredentials(string? file)
    {
        if (file is null)
        {
            var id = Environment.GetEnvironmentVariable("ALIBABA_CLOUD_ACCESS_KEY_ID");
            var secret = Environment.GetEnvironmentVariable("ALIBABA_CLOUD_ACCESS_KEY_SECRET");
            if (string.IsNullOrEmpty(id) || string.IsNullOrEmpty(secret))
                throw new InvalidOperationException("no AccessKey: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or give --credentials FILE");
            return new ClientCredentials(id, secret);
        }
        var values = File.ReadAllLines(file)
            .Where(l => !l.StartsWith('#') && l.Contains('=', StringComparison.Ordinal))
            .Select(l => l.Split('=', 2))
            .ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.Ordinal);
        return values.TryGetValue("access_key_id", out var keyId) && values.TryGetValue("access_key_secret", out var keySecret)
            ? new ClientCredentials(keyId, keySecret)
            : throw new InvalidOperationException($"{file} holds no access_key_id and access_key_secret");
    }
}
