using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using Palisade.Cli.Evaluation;
using Palisade.Cli.Pull;
using Palisade.Client;
using Palisade.Domain.State;

namespace Palisade.Cli.Commands;

/// <summary>
/// <c>palisade pull</c>: an account — on Alibaba Cloud or on a Palisade control plane — read through
/// the standard ECS API into state files, for the offline commands and <c>import</c>.
/// </summary>
public static class PullCommand
{
    /// <summary>Where a region is asked when no endpoint is given: Alibaba Cloud's own.</summary>
    public static string AlibabaCloudEndpoint(string region) => $"https://ecs.{region}.aliyuncs.com";

    private const string RegionPlaceholder = "{region}";

    public static Command Build()
    {
        var endpoint = new Option<string?>("--endpoint")
        {
            Description = "The ECS endpoint, a URL or a host name (https): a Palisade server, or Alibaba Cloud's (default: https://ecs.REGION.aliyuncs.com).",
            HelpName = "URL|HOST",
        };
        var regions = new Option<string[]>("--region")
        {
            Description = "A region to read; repeat for several (default: $ALIBABA_CLOUD_REGION_ID, the profile's, cn-hangzhou).",
            HelpName = "ID",
            AllowMultipleArgumentsPerToken = false,
        };
        var allRegions = new Option<bool>("--all-regions") { Description = "Every region the endpoint serves (DescribeRegions)." };
        var output = new Option<string>("--out")
        {
            Description = "The state file to write; with several regions it must hold {region}, e.g. state-{region}.json.",
            HelpName = "FILE",
            Required = true,
        };
        var credentials = new Option<string?>("--credentials")
        {
            Description = "A credentials file (access_key_id=…, access_key_secret=…); default: $ALIBABA_CLOUD_ACCESS_KEY_*, the Palisade profile, then the aliyun CLI's (~/.aliyun/config.json).",
            HelpName = "FILE",
        };
        var profile = new Option<string?>("--profile") { Description = "A profile of ~/.palisade/config.json, else of ~/.aliyun/config.json.", HelpName = "NAME" };
        var caCert = new Option<string?>("--ca-cert") { Description = "Also trust the PEM certificate(s) in FILE (a private CA, or a self-signed Palisade server's).", HelpName = "FILE" };
        var pageSize = new Option<int>("--page-size") { Description = "Items asked for per page (10–100).", DefaultValueFactory = _ => 100, HelpName = "N" };
        pageSize.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 10 or > 100)
                r.AddError("--page-size must be from 10 to 100 (what DescribeSecurityGroups and DescribeInstances take)");
        });
        var command = new Command("pull", """
            Read an account's security groups, rules and instances through the standard ECS API only
            (DescribeRegions, DescribeSecurityGroups, DescribeSecurityGroupAttribute, DescribeInstances, and the
            prefix and port-range lists' Describe actions; a read-only key is enough) and write each region as a state file, the shape 'export' writes: for
            eval, reach, whatif, audit and import. Works against Alibaba Cloud and against a Palisade server.
            Throttling and unavailable answers are retried with backoff, a bounded number of times.

            Examples:
              palisade pull --region cn-hangzhou --out prod.json               (Alibaba Cloud, key from the environment)
              palisade pull --all-regions --out 'prod-{region}.json'
              palisade pull --endpoint https://127.0.0.1:8443 --ca-cert ca.pem --credentials key --out state.json
            """) { endpoint, regions, allRegions, output, credentials, profile, caCert, pageSize };
        command.SetAction((parse, cancel) => Remote.Guard(parse, async () =>
        {
            var named = parse.GetValue(regions) ?? [];
            if (named.Length > 0 && parse.GetValue(allRegions))
                throw new UsageException("give --region or --all-regions, not both");
            var outPath = parse.GetValue(output)!;
            var palisadeProfile = ProfileStore.Find(parse.GetValue(profile));
            var keys = Credentials(parse.GetValue(credentials), parse.GetValue(profile), palisadeProfile);
            var clients = new Clients(keys, parse.GetValue(caCert));
            var given = parse.GetValue(endpoint) is { } e ? EndpointOf(e) : null;
            var size = parse.GetValue(pageSize);

            List<(string Region, Uri Endpoint)> targets;
            if (parse.GetValue(allRegions))
            {
                var asked = given ?? EndpointOf(AlibabaCloudEndpoint(DefaultRegion(palisadeProfile)));
                var listed = await new AccountReader(clients.For(asked), size).RegionsAsync(cancel);
                if (listed.Count == 0)
                    throw new UsageException($"{asked} serves no region (DescribeRegions answered none)");
                targets = [.. listed.Select(r => (r.RegionId, given ?? (r.Endpoint.Length > 0 ? EndpointOf(r.Endpoint) : EndpointOf(AlibabaCloudEndpoint(r.RegionId)))))];
            }
            else
            {
                var wanted = named.Length > 0 ? named.Distinct(StringComparer.Ordinal).ToArray() : [DefaultRegion(palisadeProfile)];
                targets = [.. wanted.Select(r => (r, given ?? EndpointOf(AlibabaCloudEndpoint(r))))];
            }
            if (targets.Count > 1 && !outPath.Contains(RegionPlaceholder, StringComparison.Ordinal))
                throw new UsageException($"{targets.Count} regions to write: --out must hold {RegionPlaceholder} (e.g. state-{RegionPlaceholder}.json)");

            foreach (var (region, at) in targets)
            {
                var api = clients.For(at);
                var before = api.Retries;
                JsonDocument state;
                using (var progress = ProgressBar.For(parse, "pull"))
                {
                    var reader = new AccountReader(api, size, progress);
                    state = JsonDocument.Parse((await reader.ReadRegionAsync(region, cancel)).ToJsonString());
                    foreach (var skipped in reader.Skipped)
                        parse.InvocationConfiguration.Error.WriteLine($"warning: {region}: left out, the endpoint refused {skipped}");
                }
                using (state)
                {
                    var text = JsonSerializer.Serialize(state.RootElement, Written) + "\n";
                    // What pull writes must read back: a service answering shapes we do not know is said here, not by a later command.
                    NetworkState read;
                    try
                    {
                        read = StateFileReader.Read(text);
                    }
                    catch (StateFileException problem)
                    {
                        throw new UsageException($"{region}: the answers of {at} do not make a state file: {problem.Path}: {problem.Problem}");
                    }
                    var file = outPath.Replace(RegionPlaceholder, region, StringComparison.Ordinal);
                    WriteWhole(file, text);
                    var retries = api.Retries - before;
                    parse.InvocationConfiguration.Output.WriteLine(
                        $"{region}: {Count(read.Groups.Length, "security group")}, {Count(read.Groups.Sum(g => g.Rules.Length), "rule")}, {Count(read.Instances.Length, "instance")}{Lists(read)} -> {file}"
                        + (retries > 0 ? $" ({Count(retries, "retry", "retries")})" : ""));
                }
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static readonly JsonSerializerOptions Written = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string Lists(NetworkState read) =>
        (read.PrefixLists.Length > 0 ? $", {Count(read.PrefixLists.Length, "prefix list")}" : "")
        + (read.PortRangeLists.Length > 0 ? $", {Count(read.PortRangeLists.Length, "port-range list")}" : "");

    private static string Count(int n, string one, string? many = null) => $"{n} {(n == 1 ? one : many ?? one + "s")}";

    private static string DefaultRegion(ProfileStore.Profile? profile) =>
        Environment.GetEnvironmentVariable("ALIBABA_CLOUD_REGION_ID") is { Length: > 0 } env ? env
        : profile?.RegionId is { Length: > 0 } stored ? stored
        : ServerConnection.DefaultRegion;

    /// <summary>A URL as given, a bare host name as https (the official tools' default).</summary>
    internal static Uri EndpointOf(string text)
    {
        var withScheme = text.Contains("://", StringComparison.Ordinal) ? text : "https://" + text;
        return Uri.TryCreate(withScheme, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.Host.Length > 0
            ? uri
            : throw new UsageException($"'{text}' is not an endpoint: give an http(s) URL or a host name");
    }

    /// <summary>As the official tools take them: a file, the environment, a profile (Palisade's, then the aliyun CLI's).</summary>
    private static ClientCredentials Credentials(string? file, string? profileName, ProfileStore.Profile? palisadeProfile)
    {
        if (file is not null || palisadeProfile is { AccessKeyId.Length: > 0 }
            || (Environment.GetEnvironmentVariable("ALIBABA_CLOUD_ACCESS_KEY_ID") is { Length: > 0 } && Environment.GetEnvironmentVariable("ALIBABA_CLOUD_ACCESS_KEY_SECRET") is { Length: > 0 }))
            return ServerConnection.ReadCredentials(file, palisadeProfile);
        var aliyun = ProfileStore.Find(profileName, ProfileStore.AliyunPath);
        return aliyun is { AccessKeyId.Length: > 0, AccessKeySecret.Length: > 0 }
            ? new ClientCredentials(aliyun.AccessKeyId, aliyun.AccessKeySecret)
            : throw new InvalidOperationException("no AccessKey: give --credentials FILE, set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or configure a profile ('palisade configure' or 'aliyun configure')");
    }

    /// <summary>Written beside the target and moved over it: a pull that fails leaves the old file as it was.</summary>
    private static void WriteWhole(string file, string text)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(file))!;
        var temporary = Path.Combine(directory, $".{Path.GetFileName(file)}.{Environment.ProcessId}.tmp");
        File.WriteAllText(temporary, text);
        File.Move(temporary, file, overwrite: true);
    }

    /// <summary>One retrying client per endpoint (each region may have its own).</summary>
    private sealed class Clients(ClientCredentials keys, string? caCert)
    {
        private readonly Dictionary<Uri, EcsRetry> _byEndpoint = [];

        public EcsRetry For(Uri endpoint)
        {
            if (!_byEndpoint.TryGetValue(endpoint, out var api))
            {
                var http = new HttpClient(CaCertificates.Handler(caCert)) { BaseAddress = endpoint, Timeout = TimeSpan.FromSeconds(30) };
                _byEndpoint[endpoint] = api = new EcsRetry(new EcsClient(http, keys));
            }
            return api;
        }
    }
}
