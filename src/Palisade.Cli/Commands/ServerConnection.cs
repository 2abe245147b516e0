using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Palisade.Client;

namespace Palisade.Cli.Commands;

/// <summary>
/// How a command reaches a running control plane, as the official CLI does: command-line options
/// first, then environment variables (<c>PALISADE_SERVER</c>, <c>ALIBABA_CLOUD_ACCESS_KEY_ID</c>,
/// <c>ALIBABA_CLOUD_ACCESS_KEY_SECRET</c>, <c>ALIBABA_CLOUD_REGION_ID</c>), then the profile in
/// <c>~/.palisade/config.json</c> written by <c>palisade configure</c>.
/// </summary>
public sealed class ServerConnection
{
    public const string DefaultRegion = "cn-hangzhou";

    /// <summary>Where <c>palisade serve</c> listens by default.</summary>
    public const string LocalServer = "http://127.0.0.1:8080";

    /// <summary>The key file <c>palisade serve</c> writes on its first start in the default data directory.</summary>
    public static string LocalCredentials => System.IO.Path.Combine(".palisade", "credentials");

    /// <summary>
    /// The first run: nothing configured, and a <c>palisade serve</c> started in this directory with its
    /// defaults has left its key here. Commands then talk to it (<see cref="LocalServer"/>, <see cref="LocalCredentials"/>)
    /// so that the README's first steps need no configuration.
    /// </summary>
    private static bool LocalServeHere => File.Exists(LocalCredentials);

    public Option<string?> Server { get; } = new("--server")
    {
        Description = "The control plane's URL (default: $PALISADE_SERVER, then the profile's endpoint).",
        HelpName = "URL",
    };

    public Option<string?> Region { get; } = new("--region") { Description = "The region (default: $ALIBABA_CLOUD_REGION_ID, the profile's, cn-hangzhou).", HelpName = "ID" };

    public Option<string?> Credentials { get; } = new("--credentials")
    {
        Description = "A credentials file (as 'palisade serve' writes DIR/credentials); default: $ALIBABA_CLOUD_ACCESS_KEY_*, then the profile.",
        HelpName = "FILE",
    };

    public Option<string?> Profile { get; } = new("--profile") { Description = "The profile of ~/.palisade/config.json (default: its current one).", HelpName = "NAME" };

    public Option<string?> CaCert { get; } = new("--ca-cert")
    {
        Description = "Also trust the PEM certificate(s) in FILE for an https:// server: a private CA, or the one 'palisade serve --tls self-signed' printed.",
        HelpName = "FILE",
    };

    public IEnumerable<Option> Options => [Server, Region, Credentials, Profile, CaCert];

    public string RegionOf(ParseResult parse)
    {
        if (parse.GetValue(Region) is { } given)
            return given;
        if (Environment.GetEnvironmentVariable("ALIBABA_CLOUD_REGION_ID") is { Length: > 0 } env)
            return env;
        return ProfileStore.Find(parse.GetValue(Profile))?.RegionId is { Length: > 0 } stored ? stored : DefaultRegion;
    }

    /// <summary>Whether the command line, the environment or the profile names a server (the analysis commands then ask it).</summary>
    public bool Configured(ParseResult parse) =>
        parse.GetValue(Server) is not null || Environment.GetEnvironmentVariable("PALISADE_SERVER") is { Length: > 0 }
        || ProfileStore.Find(parse.GetValue(Profile))?.Endpoint is { Length: > 0 } || LocalServeHere;

    /// <summary>A signing client for the parsed command line; an <see cref="InvalidOperationException"/> says what is missing.</summary>
    public (EcsClient Client, Uri Server) Connect(ParseResult parse, TimeSpan? timeout = null)
    {
        var profile = ProfileStore.Find(parse.GetValue(Profile));
        var url = parse.GetValue(Server) ?? Environment.GetEnvironmentVariable("PALISADE_SERVER");
        url ??= profile?.Endpoint is { Length: > 0 } endpoint ? endpoint : LocalServeHere ? LocalServer
            : throw new InvalidOperationException("no server: give --server URL, set PALISADE_SERVER, or run 'palisade configure'");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var server) || server.Scheme is not ("http" or "https"))
            throw new InvalidOperationException($"'{url}' is not an http(s) URL");
        var credentials = ReadCredentials(parse.GetValue(Credentials), profile);
        var http = new HttpClient(CaCertificates.Handler(parse.GetValue(CaCert))) { BaseAddress = server, Timeout = timeout ?? TimeSpan.FromSeconds(30) };
        return (new EcsClient(http, credentials), server);
    }

    /// <summary>A transport failure in one line, with the TLS reason (an untrusted or mismatched certificate) that .NET keeps in the inner exception.</summary>
    public static string Describe(Exception e) =>
        e.InnerException is System.Security.Authentication.AuthenticationException tls
            ? $"{e.Message} {tls.Message} (for a private CA or a self-signed server, give --ca-cert FILE)"
            : e.Message;

    internal static ClientCredentials ReadCredentials(string? file, ProfileStore.Profile? profile)
    {
        if (file is null)
        {
            var id = Environment.GetEnvironmentVariable("ALIBABA_CLOUD_ACCESS_KEY_ID");
            var secret = Environment.GetEnvironmentVariable("ALIBABA_CLOUD_ACCESS_KEY_SECRET");
            if (!string.IsNullOrEmpty(id) && !string.IsNullOrEmpty(secret))
                return new ClientCredentials(id, secret);
            if (profile is { AccessKeyId.Length: > 0, AccessKeySecret.Length: > 0 })
                return new ClientCredentials(profile.AccessKeyId, profile.AccessKeySecret);
            if (LocalServeHere)
                return ReadCredentialsFile(LocalCredentials);
            throw new InvalidOperationException("no AccessKey: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, give --credentials FILE, or run 'palisade configure'");
        }
        return ReadCredentialsFile(file);
    }

    /// <summary>A credentials file as <c>palisade serve</c> writes it: <c>access_key_id=…</c> and <c>access_key_secret=…</c> lines.</summary>
    public static ClientCredentials ReadCredentialsFile(string file)
    {
        var values = File.ReadAllLines(file)
            .Where(l => !l.StartsWith('#') && l.Contains('=', StringComparison.Ordinal))
            .Select(l => l.Split('=', 2))
            .ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.Ordinal);
        return values.TryGetValue("access_key_id", out var keyId) && values.TryGetValue("access_key_secret", out var keySecret)
            ? new ClientCredentials(keyId, keySecret)
            : throw new InvalidOperationException($"{file} holds no access_key_id and access_key_secret");
    }
}

/// <summary>
/// <c>~/.palisade/config.json</c> (or <c>$PALISADE_CONFIG_FILE</c>), in the official CLI's shape:
/// <c>{"current": "default", "profiles": [{"name", "mode": "AK", "access_key_id", "access_key_secret", "region_id", "endpoint"}]}</c>,
/// readable by its owner only.
/// </summary>
public static class ProfileStore
{
    public sealed record Profile(string Name, string Endpoint, string RegionId, string AccessKeyId, string AccessKeySecret);

    public static string Path =>
        Environment.GetEnvironmentVariable("PALISADE_CONFIG_FILE") is { Length: > 0 } file ? file
        : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".palisade", "config.json");

    /// <summary>The official <c>aliyun</c> CLI's profiles (<c>~/.aliyun/config.json</c>): the same shape, read (never written) by <c>pull</c>.</summary>
    public static string AliyunPath =>
        System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".aliyun", "config.json");

    public static Profile? Find(string? name) => Find(name, Path);

    /// <summary>A profile of the file at <paramref name="path"/>; only AccessKey profiles (<c>mode</c> AK, or none) carry credentials we can sign with.</summary>
    public static Profile? Find(string? name, string path)
    {
        if (!File.Exists(path))
            return name is null ? null : throw new InvalidOperationException($"no profile '{name}': {path} does not exist (run 'palisade configure')");
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidOperationException($"{path} is not valid JSON: {e.Message}");
        }
        name ??= root?["current"]?.GetValue<string>() is { Length: > 0 } current ? current : "default";
        var found = (root?["profiles"] as JsonArray)?.FirstOrDefault(p => p?["name"]?.GetValue<string>() == name);
        if (found is null)
            throw new InvalidOperationException($"no profile '{name}' in {path}");
        string Field(string key) => found[key]?.GetValue<string>() ?? "";
        if (Field("mode") is { Length: > 0 } mode && mode != "AK")
            throw new InvalidOperationException($"profile '{name}' in {path} is of mode {mode}: only AccessKey (AK) profiles are supported; give --credentials FILE or set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET");
        return new Profile(name, Field("endpoint"), Field("region_id"), Field("access_key_id"), Field("access_key_secret"));
    }

    /// <summary>Adds or replaces a profile and makes it the current one.</summary>
    public static void Save(Profile profile)
    {
        var root = File.Exists(Path) ? JsonNode.Parse(File.ReadAllText(Path)) as JsonObject ?? [] : [];
        var profiles = root["profiles"] as JsonArray ?? [];
        foreach (var old in profiles.Where(p => p?["name"]?.GetValue<string>() == profile.Name).ToList())
            profiles.Remove(old);
        profiles.Add(new JsonObject
        {
            ["name"] = profile.Name,
            ["mode"] = "AK",
            ["access_key_id"] = profile.AccessKeyId,
            ["access_key_secret"] = profile.AccessKeySecret,
            ["region_id"] = profile.RegionId,
            ["endpoint"] = profile.Endpoint,
        });
        root["profiles"] = profiles;
        root["current"] = profile.Name;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(Path, options))
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
            root.WriteTo(writer);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }
}
