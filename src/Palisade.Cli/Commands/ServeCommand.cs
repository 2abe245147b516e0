using System.CommandLine;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Palisade.Storage.Accounts;
using Palisade.Domain.Quotas;
using Palisade.Server.Hosting;
using Palisade.Storage;

namespace Palisade.Cli.Commands;

/// <summary><c>palisade serve</c>: the ECS-compatible control plane.</summary>
public static class ServeCommand
{
    public static Option<string> DataOption() => new("--data")
    {
        Description = "The data directory: palisade.db (SQLite), master.key, credentials.",
        HelpName = "DIR",
        DefaultValueFactory = _ => ".palisade",
    };

    public static Option<string?> StoreOption()
    {
        var option = new Option<string?>("--store")
        {
            Description = "Keep the control plane in PostgreSQL instead of SQLite: a postgres://user@host:port/db URL or an Npgsql connection string. Several nodes may share one. "
                + "A password never goes here (the process list shows it): put the whole URL in PALISADE_STORE or in a file for --store-file.",
            HelpName = "URL",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("PALISADE_STORE"),
        };
        option.Validators.Add(r =>
        {
            if (!r.Implicit && HasPassword(r.GetValueOrDefault<string?>()))
                r.AddError("--store holds a password, which every user of this machine can read in the process list: put the URL in PALISADE_STORE, or in a file (mode 0600) named by --store-file.");
        });
        return option;
    }

    public static Option<string?> StoreFileOption()
    {
        var option = new Option<string?>("--store-file")
        {
            Description = "A file holding the --store URL or connection string (with its password), read at start; it takes precedence over --store and PALISADE_STORE.",
            HelpName = "FILE",
        };
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } path && !File.Exists(path))
                r.AddError($"--store-file: '{path}' does not exist.");
        });
        return option;
    }

    /// <summary>The store to open: the file of <c>--store-file</c> when the command has it and it is given, else <c>--store</c> / PALISADE_STORE.</summary>
    public static string? StoreOf(System.CommandLine.ParseResult parse, Option<string?> store)
    {
        var fileOption = parse.CommandResult.Command.Options.OfType<Option<string?>>().FirstOrDefault(o => o.Name == "--store-file");
        if (fileOption is not null && parse.GetValue(fileOption) is { } path)
            return File.ReadAllText(path).Trim() is { Length: > 0 } text ? text : null;
        return parse.GetValue(store);
    }

    /// <summary>A postgres:// URL with user:password@, or a connection string with a Password.</summary>
    internal static bool HasPassword(string? store)
    {
        if (string.IsNullOrEmpty(store))
            return false;
        if (store.StartsWith("postgres://", StringComparison.Ordinal) || store.StartsWith("postgresql://", StringComparison.Ordinal))
            return Uri.TryCreate(store, UriKind.Absolute, out var uri) && uri.UserInfo.Contains(':', StringComparison.Ordinal);
        return store.Split(';').Any(part => part.Split('=', 2)[0].Trim() is var key && (key.Equals("Password", StringComparison.OrdinalIgnoreCase) || key.Equals("Pwd", StringComparison.OrdinalIgnoreCase)));
    }

    private static double? EnvNumber(string name) =>
        double.TryParse(Environment.GetEnvironmentVariable(name), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value) ? value : null;

    public static Command Build()
    {
        var urls = new Option<string>("--urls")
        {
            Description = "Where to listen: http:// and https:// URLs, separated by ';'.",
            HelpName = "URLS",
            DefaultValueFactory = _ => "http://127.0.0.1:8080",
        };
        var tlsCert = new Option<string?>("--tls-cert") { Description = "The PEM certificate of the https:// URLs (its chain may follow it in the file).", HelpName = "FILE" };
        var tlsKey = new Option<string?>("--tls-key") { Description = "The PEM private key of --tls-cert (unencrypted).", HelpName = "FILE" };
        var tls = new Option<string?>("--tls")
        {
            Description = "self-signed: make a certificate for the listen addresses and localhost in DIR on the first start, and print its path and SHA-256 fingerprint.",
        };
        tls.AcceptOnlyFromAmong("self-signed");
        var data = DataOption();
        var store = StoreOption();
        var defaults = new Throttling();
        var keyRate = new Option<double>("--key-rate")
        {
            Description = "Requests per second each AccessKey may make on this node before it gets Throttling.User; 0 turns throttling off. Also PALISADE_KEY_RATE.",
            HelpName = "N",
            DefaultValueFactory = _ => EnvNumber("PALISADE_KEY_RATE") ?? defaults.RequestsPerSecond,
        };
        var keyBurst = new Option<int>("--key-burst")
        {
            Description = "Requests an AccessKey may send at once after a quiet spell. Also PALISADE_KEY_BURST.",
            HelpName = "N",
            DefaultValueFactory = _ => (int?)EnvNumber("PALISADE_KEY_BURST") ?? defaults.Burst,
        };
        var trailDays = new Option<int>("--trail-days")
        {
            Description = "Days the action trail keeps each event; 0 keeps them for ever. Also PALISADE_TRAIL_DAYS.",
            HelpName = "N",
            DefaultValueFactory = _ => (int?)EnvNumber("PALISADE_TRAIL_DAYS") ?? 90,
        };
        var publicPool = new Option<string>("--public-pool")
        {
            Description = "Where VPC instances' public addresses and EIPs come from: CIDR blocks, comma-separated (default 192.0.2.0/24, documentation space that never routes). Also PALISADE_PUBLIC_POOL.",
            HelpName = "CIDRS",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("PALISADE_PUBLIC_POOL") is { Length: > 0 } pool ? pool : "192.0.2.0/24",
        };
        publicPool.Validators.Add(r =>
        {
            if (PublicPool(r.GetValueOrDefault<string>()) is null)
                r.AddError("--public-pool must be CIDR blocks separated by commas, e.g. 192.0.2.0/24,198.51.100.0/24.");
        });
        var logFormat = new Option<string>("--log-format")
        {
            Description = "text: one line per event; json: one JSON object per line (for a log pipeline). Also PALISADE_LOG_FORMAT.",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("PALISADE_LOG_FORMAT") is { Length: > 0 } format ? format : "text",
        };
        logFormat.AcceptOnlyFromAmong("text", "json");
        var logRequests = new Option<bool>("--log-requests")
        {
            Description = "Log every API request: action, HTTP status, ECS code, milliseconds, RequestId (never parameters). Also PALISADE_LOG_REQUESTS=1.",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("PALISADE_LOG_REQUESTS") == "1",
        };
        // Every number option of the throttle: read from its environment variable when not given, never below 0.
        Option<T> NotNegative<T>(string name, string description, string environment, Func<double?, T> fromEnvironment)
        {
            var option = new Option<T>(name) { Description = $"{description} Also {environment}.", HelpName = "N", DefaultValueFactory = _ => fromEnvironment(EnvNumber(environment)) };
            option.Validators.Add(r => { if (r.GetValueOrDefault<T>() is double value && (value < 0 || double.IsNaN(value))) r.AddError($"{name} must be 0 or more."); });
            return option;
        }
        Option<double> Number(string name, string description, string environment, double fallback) =>
            NotNegative(name, description, environment, given => given ?? fallback);
        // No fallback: left out, the server derives it (the analysis budget from the node's cores).
        Option<double?> Optional(string name, string description, string environment) =>
            NotNegative(name, description, environment, given => given);
        var limits = new Limits();
        var connections = new ConnectionLimits();
        var accountRate = Number("--account-rate", "Requests per second one account may make on this node over all its AccessKeys; 0: no account limit.", "PALISADE_ACCOUNT_RATE", defaults.AccountRequestsPerSecond);
        var accountBurst = Number("--account-burst", "Requests an account may send at once.", "PALISADE_ACCOUNT_BURST", defaults.AccountBurst);
        var accountBytesRate = Number("--account-bytes-rate", "Bytes of answers per second one account may be served by this node over all its AccessKeys; 0: no limit.", "PALISADE_ACCOUNT_BYTES_RATE", defaults.AccountBytesPerSecond);
        var accountBytesBurst = Number("--account-bytes-burst", "Bytes of answers an account may be served at once.", "PALISADE_ACCOUNT_BYTES_BURST", defaults.AccountBytesBurst);
        // No default value shown in the help: it is a share of the machine's cores, read at start.
        var analysisRate = Optional("--analysis-rate",
            string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"Seconds of analysis work (reachability, impact, audit, export) per second one account may use (default: {Throttling.AnalysisShareOfNode * 100:0.#} % of the node's cores, {Throttling.AnalysisShareOfNode:0.0#} per core); 0: no budget."),
            "PALISADE_ANALYSIS_RATE");
        var analysisBurst = Optional("--analysis-burst",
            string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Seconds of analysis work an account may use at once (default: {Throttling.AnalysisBurstOfRate:0.#} s of its rate)."),
            "PALISADE_ANALYSIS_BURST");
        // No default value shown in the help: it is the machine's (the cores less one), read at start.
        var analysisWorkers = new Option<double?>("--analysis-workers")
        {
            Description = "Threads that run analyses for all accounts, apart from the request threads (default: the cores less one, at least 1); 0: on the request threads, no cap across accounts. Also PALISADE_ANALYSIS_WORKERS.",
            HelpName = "N",
            DefaultValueFactory = _ => EnvNumber("PALISADE_ANALYSIS_WORKERS"),
        };
        var analysisQueue = Number("--analysis-queue", "Analyses that may wait for a worker, all accounts together; past it a new one gets Throttling.", "PALISADE_ANALYSIS_QUEUE", defaults.AnalysisQueue);
        var analysisPerAccount = Number("--account-analyses", "Analyses one account may have running or waiting at once; past it Throttling.Analysis.", "PALISADE_ACCOUNT_ANALYSES", defaults.AnalysisConcurrency);
        var throttledDelay = Number("--throttled-delay", "Seconds a call refused for its rate (Throttling*) is held before its answer, so a client retrying at once costs little; 0: answer at once.", "PALISADE_THROTTLED_DELAY", defaults.ThrottledAnswerDelay.TotalSeconds);
        throttledDelay.Validators.Add(r => { if (r.GetValueOrDefault<double>() > 60) r.AddError("--throttled-delay must be at most 60 seconds."); });
        var analysisProcess = new Option<string>("--analysis-process")
        {
            HelpName = "AT",
            Description = "Where a dry-run impact (DescribeChangeImpact, a dry run's Impact) is compared: child, a process of its own at niceness 19 with its own heap (default on Linux), or in-process. Also PALISADE_ANALYSIS_PROCESS.",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("PALISADE_ANALYSIS_PROCESS") is { Length: > 0 } where ? where : defaults.AnalysisInChild ? "child" : "in-process",
        };
        analysisProcess.AcceptOnlyFromAmong("child", "in-process");
        var analysisNiceness = Number("--analysis-niceness", "Linux niceness of the analysis workers, 0 (as requests) to 19.", "PALISADE_ANALYSIS_NICENESS", defaults.AnalysisNiceness);
        foreach (var (option, low, high) in new (Option, int, int)[] { (analysisWorkers, 0, 256), (analysisQueue, 0, 100_000), (analysisPerAccount, 1, 1000), (analysisNiceness, 0, 19) })
        {
            option.Validators.Add(r =>
            {
                if (r.GetValueOrDefault<object?>() is double v && (v < low || v > high || v != Math.Floor(v)))
                    r.AddError($"{option.Name} must be a whole number from {low} to {high}.");
            });
        }
        var maxKeys = Number("--max-keys", "AccessKeys one account may hold.", "PALISADE_MAX_KEYS", limits.AccessKeysPerAccount);
        var maxInstances = Number("--max-instances", "Instances one account may hold in a region.", "PALISADE_MAX_INSTANCES", limits.InstancesPerRegion);
        var maxGroups = Number("--max-groups", "Security groups one account may hold in a region.", "PALISADE_MAX_GROUPS", limits.GroupsPerRegion);
        var maxEnis = Number("--max-enis", "Network interfaces (CreateNetworkInterface) one account may hold in a region.", "PALISADE_MAX_ENIS", limits.NetworkInterfacesPerRegion);
        var maxPrefixLists = Number("--max-prefix-lists", "Prefix lists one account may hold in a region.", "PALISADE_MAX_PREFIX_LISTS", limits.PrefixListsPerRegion);
        var maxConnections = Number("--max-connections", "Connections this node holds at once; 0: no cap.", "PALISADE_MAX_CONNECTIONS", connections.MaxConcurrentConnections ?? 0);
        var minBodyRate = Number("--min-body-rate", "Bytes per second a request body must arrive at (after 5 s); slower clients are cut; 0: no minimum.", "PALISADE_MIN_BODY_RATE", connections.MinBodyBytesPerSecond);
        var headerTimeout = Number("--header-timeout", "Seconds a client has to send a request's headers.", "PALISADE_HEADER_TIMEOUT", connections.RequestHeadersTimeout.TotalSeconds);
        var metricsUrls = new Option<string?>("--metrics-urls")
        {
            Description = "Serve /metrics (only) on its own listener, e.g. http://127.0.0.1:9464. Otherwise /metrics needs the bearer token in PALISADE_METRICS_TOKEN. Also PALISADE_METRICS_URLS.",
            HelpName = "URLS",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("PALISADE_METRICS_URLS"),
        };
        trailDays.Validators.Add(r => { if (r.GetValueOrDefault<int>() < 0) r.AddError("--trail-days must be 0 or more."); });
        keyRate.Validators.Add(r => { if (r.GetValueOrDefault<double>() is < 0 or double.NaN) r.AddError("--key-rate must be 0 or more."); });
        keyBurst.Validators.Add(r => { if (r.GetValueOrDefault<int>() < 1) r.AddError("--key-burst must be 1 or more."); });
        var command = new Command("serve", """
            Run the control plane: the ECS API 2014-05-26 (security groups, instances, tags) and the VPC API
            2016-04-28 on one RPC endpoint, signed with V1 (HMAC-SHA1) or V3 (ACS3-HMAC-SHA256), on SQLite.

            On the first start it creates the account 'root' with an AccessKey: the one in
            PALISADE_ROOT_ACCESS_KEY_ID / PALISADE_ROOT_ACCESS_KEY_SECRET when both are set, otherwise a
            new one written to DIR/credentials (mode 0600).

            Examples:
              palisade serve
              palisade serve --urls http://127.0.0.1:9000 --data /var/lib/palisade
              palisade serve --key-rate 50 --key-burst 100
              palisade serve --log-format json --log-requests
              palisade serve --urls "http://127.0.0.1:8080;https://0.0.0.0:8443" --tls-cert server.crt --tls-key server.key
              palisade serve --urls https://127.0.0.1:8443 --tls self-signed

            It prints the API and web console URLs and, on every start, where the first account's key is. A browser
            opening / is sent to the web console at /console/; /healthz and /readyz are on the same address.
            /metrics (Prometheus) is served on --metrics-urls, or on this address to the bearer token in
            PALISADE_METRICS_TOKEN. To explore, load the example account: palisade demo.
            """)
        {
            urls, tlsCert, tlsKey, tls, data, store, StoreFileOption(), keyRate, keyBurst, accountRate, accountBurst, accountBytesRate, accountBytesBurst, analysisRate, analysisBurst,
            analysisWorkers, analysisQueue, analysisPerAccount, analysisNiceness, analysisProcess, throttledDelay, maxKeys, maxInstances, maxGroups, maxEnis, maxPrefixLists,
            maxConnections, minBodyRate, headerTimeout, metricsUrls, trailDays, publicPool, logFormat, logRequests,
        };
        command.Validators.Add(r =>
        {
            var cert = r.GetValue(tlsCert) is not null;
            var key = r.GetValue(tlsKey) is not null;
            if (cert != key)
                r.AddError("--tls-cert and --tls-key go together.");
            else if (cert && r.GetValue(tls) is not null)
                r.AddError("give either --tls-cert and --tls-key or --tls self-signed, not both.");
        });
        command.SetAction(async (parse, cancel) =>
        {
            var settings = new ServeSettings
            {
                Urls = parse.GetValue(urls)!,
                DataDirectory = parse.GetValue(data)!,
                Store = StoreOf(parse, store),
                LogFormat = parse.GetValue(logFormat) == "json" ? LogFormat.Json : LogFormat.Text,
                LogRequests = parse.GetValue(logRequests),
                MetricsUrls = parse.GetValue(metricsUrls),
                // A token in the environment, never on the command line (the process list would show it).
                MetricsToken = Environment.GetEnvironmentVariable("PALISADE_METRICS_TOKEN"),
                Connections = new ConnectionLimits
                {
                    MaxConcurrentConnections = parse.GetValue(maxConnections) is > 0 and var cap ? (long)cap : null,
                    MinBodyBytesPerSecond = parse.GetValue(minBodyRate),
                    RequestHeadersTimeout = TimeSpan.FromSeconds(Math.Max(1, parse.GetValue(headerTimeout))),
                },
                Tls = parse.GetValue(tlsCert) is { } certFile ? new TlsSettings.PemFiles(certFile, parse.GetValue(tlsKey)!)
                    : parse.GetValue(tls) is not null ? new TlsSettings.SelfSigned() : null,
                Options = new ServerOptions
                {
                    Limits = new Limits
                    {
                        AccessKeysPerAccount = (int)parse.GetValue(maxKeys), InstancesPerRegion = (int)parse.GetValue(maxInstances), GroupsPerRegion = (int)parse.GetValue(maxGroups),
                        NetworkInterfacesPerRegion = (int)parse.GetValue(maxEnis), PrefixListsPerRegion = (int)parse.GetValue(maxPrefixLists),
                    },
                    Throttling = new Throttling
                    {
                        RequestsPerSecond = parse.GetValue(keyRate), Burst = parse.GetValue(keyBurst),
                        AccountRequestsPerSecond = parse.GetValue(accountRate), AccountBurst = (int)Math.Max(1, parse.GetValue(accountBurst)),
                        AccountBytesPerSecond = parse.GetValue(accountBytesRate), AccountBytesBurst = Math.Max(1, parse.GetValue(accountBytesBurst)),
                        AnalysisWorkers = (int)(parse.GetValue(analysisWorkers) ?? defaults.AnalysisWorkers), AnalysisQueue = (int)parse.GetValue(analysisQueue),
                        AnalysisConcurrency = (int)parse.GetValue(analysisPerAccount), AnalysisNiceness = (int)parse.GetValue(analysisNiceness),
                        AnalysisInChild = parse.GetValue(analysisProcess) == "child",
                        ThrottledAnswerDelay = TimeSpan.FromSeconds(parse.GetValue(throttledDelay)),
                    }.WithAnalysisBudget(parse.GetValue(analysisRate), parse.GetValue(analysisBurst)),
                    TrailRetention = parse.GetValue(trailDays) is > 0 and var days ? TimeSpan.FromDays(days) : null,
                    PublicAddressPool = PublicPool(parse.GetValue(publicPool))!,
                },
            };
            var output = parse.InvocationConfiguration.Output;
            WebApplication app;
            try
            {
                app = PalisadeServer.Build(settings);
                if (app.Services.GetRequiredService<ServerCertificate>().Note is { } tlsNote)
                    output.WriteLine($"palisade: {tlsNote}");
                if (PalisadeServer.EnsureFirstAccount(app) is { } note)
                    output.WriteLine($"palisade: {note}");
            }
            catch (TlsConfigurationException e)
            {
                parse.InvocationConfiguration.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.BadInput;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                parse.InvocationConfiguration.Error.WriteLine($"error: cannot use the data directory '{settings.DataDirectory}': {e.Message}");
                return ExitCodes.BadInput;
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or ArgumentException or UriFormatException or InvalidOperationException)
            {
                parse.InvocationConfiguration.Error.WriteLine($"error: cannot use the store: {e.Message}");
                return ExitCodes.BadInput;
            }
            await using (app)
            {
                try
                {
                    await app.StartAsync(cancel);
                }
                catch (Exception e) when (e is IOException or InvalidOperationException)
                {
                    parse.InvocationConfiguration.Error.WriteLine($"error: cannot listen on {settings.Urls}: {e.Message}");
                    return ExitCodes.BadInput;
                }
                var where = StoreFactory.IsPostgres(settings.Store) ? "PostgreSQL" : $"SQLite in {Path.GetFullPath(settings.DataDirectory)}";
                output.WriteLine($"palisade: serving ECS 2014-05-26 and VPC 2016-04-28 on {string.Join(", ", app.Urls)} ({where})");
                // Where people go next: the console in a browser, and the API for SDKs and the CLI.
                output.WriteLine($"palisade: API {string.Join(", ", app.Urls.Select(u => u.TrimEnd('/') + "/"))}   web console {string.Join(", ", app.Urls.Select(u => u.TrimEnd('/') + "/console/"))}");
                output.Flush();
                await app.WaitForShutdownAsync(cancel);
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The blocks of <c>--public-pool</c>; null when one is not a CIDR block.</summary>
    private static IReadOnlyList<Palisade.Domain.Networking.Cidr>? PublicPool(string? text)
    {
        var blocks = new List<Palisade.Domain.Networking.Cidr>();
        foreach (var part in (text ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!Palisade.Domain.Networking.Cidr.TryParse(part, out var block))
                return null;
            blocks.Add(block);
        }
        return blocks.Count == 0 ? null : blocks;
    }
}
