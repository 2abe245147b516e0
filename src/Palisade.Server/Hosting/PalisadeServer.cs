using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using Palisade.Storage.Accounts;
using Palisade.Server.Accounts;
using Palisade.Server.WebConsole;
using Palisade.Server.Actions;
using Palisade.Server.Protocol;
using Palisade.Storage;

namespace Palisade.Server.Hosting;

/// <summary>What <c>palisade serve</c> needs to start.</summary>
public sealed record ServeSettings
{
    public string Urls { get; init; } = "http://127.0.0.1:8080";

    /// <summary>The data directory: <c>palisade.db</c>, <c>nonces.db</c>, <c>master.key</c>, <c>credentials</c>.</summary>
    public string DataDirectory { get; init; } = ".palisade";

    /// <summary>Null for SQLite in <see cref="DataDirectory"/>; a <c>postgres://</c> URL or Npgsql connection string to share PostgreSQL between nodes.</summary>
    public string? Store { get; init; }

    public ServerOptions Options { get; init; } = new();

    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>Log lines as text (one line each) or as JSON objects (one per line, for a log pipeline).</summary>
    public LogFormat LogFormat { get; init; } = LogFormat.Text;

    /// <summary>What a connection may cost before Kestrel cuts it (slow bodies, slow headers, too many).</summary>
    public ConnectionLimits Connections { get; init; } = new();

    /// <summary>A listener of its own for <c>/metrics</c> (e.g. <c>http://127.0.0.1:9464</c>), where nothing else is served; null: none.</summary>
    public string? MetricsUrls { get; init; }

    /// <summary>A bearer token that opens <c>/metrics</c> on the API's listener; null: it stays closed there.</summary>
    public string? MetricsToken { get; init; }

    /// <summary>One log line per API request (action, status, code, milliseconds, RequestId); off by default, as it costs at high rates.</summary>
    public bool LogRequests { get; init; }

    /// <summary>The certificate of the https:// URLs; null when every URL is http://.</summary>
    public TlsSettings? Tls { get; init; }

    /// <summary>
    /// How answers leave TLS (see <see cref="TlsRecords"/>). Only the default is served; the others are
    /// kept so that bench/Palisade.Bench.Http --tls measures them against it in one process.
    /// </summary>
    internal TlsOutput TlsOutput { get; init; } = TlsOutput.GatheredRecords;
}

/// <summary>
/// Kestrel's limits against clients that hold connections open for little work: a request body must
/// arrive at <see cref="MinBodyBytesPerSecond"/> after a grace period (a body at 250 B/s was held
/// for minutes), headers within <see cref="RequestHeadersTimeout"/>, and at most
/// <see cref="MaxConcurrentConnections"/> connections at once (null: no cap).
/// </summary>
public sealed record ConnectionLimits
{
    public double MinBodyBytesPerSecond { get; init; } = 1024;

    public TimeSpan BodyGracePeriod { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan RequestHeadersTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public long? MaxConcurrentConnections { get; init; } = 1000;

    public TimeSpan KeepAliveTimeout { get; init; } = TimeSpan.FromSeconds(60);
}

public enum LogFormat
{
    Text,
    Json,
}

/// <summary>Builds the ASP.NET Core application of the control plane.</summary>
public static class PalisadeServer
{
    private const int MinWorkerThreads = 256;

    public static WebApplication Build(ServeSettings settings, string[]? args = null, Action<WebApplicationBuilder>? configure = null)
    {
        // Writers wait in turn for the one write lock (the store's queue blocks a thread each), and the
        // thread pool adds threads only slowly: a burst of writes must not starve the requests and
        // connection opens that would let them through, which ended in pool timeouts (503s) under load.
        ThreadPool.GetMinThreads(out var workers, out var io);
        if (workers < MinWorkerThreads)
            ThreadPool.SetMinThreads(MinWorkerThreads, Math.Max(io, MinWorkerThreads));
        // No configuration file is read, so nothing needs watching: a reload watcher over the content
        // root costs CPU on every file written under it.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [.. args ?? [], "--hostBuilder:reloadConfigOnChange=false"],
            ContentRootPath = AppContext.BaseDirectory,
        });
        var listen = Listeners.Parse(settings.MetricsUrls is { Length: > 0 } metricsUrls ? $"{settings.Urls};{metricsUrls}" : settings.Urls);
        var certificate = ServerCertificate.Prepare(settings.Urls, settings.Tls, settings.DataDirectory, settings.Clock);
        builder.Services.AddSingleton(certificate);
        if (certificate.Certificate is not null)
            builder.WebHost.UseKestrelHttpsConfiguration(); // the slim builder leaves HTTPS out unless asked
        builder.WebHost.ConfigureKestrel(k =>
        {
            if (certificate.Certificate is { } serverCertificate)
                k.ConfigureHttpsDefaults(https => https.ServerCertificate = serverCertificate);
            Listeners.Bind(k, listen, settings.TlsOutput);
            k.Limits.MaxRequestBodySize = RpcEndpoint.MaxBodyBytes;
            // The current SDKs put every parameter in the query string, even 100 Permissions.N of 20 fields each.
            k.Limits.MaxRequestLineSize = 512 * 1024;
            k.Limits.MaxRequestHeadersTotalSize = 576 * 1024;
            var limits = settings.Connections;
            k.Limits.MinRequestBodyDataRate = limits.MinBodyBytesPerSecond > 0 ? new Microsoft.AspNetCore.Server.Kestrel.Core.MinDataRate(limits.MinBodyBytesPerSecond, limits.BodyGracePeriod) : null;
            k.Limits.RequestHeadersTimeout = limits.RequestHeadersTimeout;
            k.Limits.MaxConcurrentConnections = limits.MaxConcurrentConnections;
            k.Limits.MaxConcurrentUpgradedConnections = limits.MaxConcurrentConnections;
            k.Limits.KeepAliveTimeout = limits.KeepAliveTimeout;
        });
        builder.Logging.ClearProviders();
        if (settings.LogFormat == LogFormat.Json)
            builder.Logging.AddJsonConsole(o => { o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ"; o.UseUtcTimestamp = true; o.IncludeScopes = true; });
        else
            builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ "; o.UseUtcTimestamp = true; });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        // Its Information lines hold each request's whole URL, query and all, which may carry a Password: never below Warning.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning);
        builder.Logging.AddFilter("Palisade.Server.Hosting.RpcEndpoint", settings.LogRequests ? LogLevel.Information : LogLevel.Warning);
        ConfigureServices(builder.Services, settings);
        configure?.Invoke(builder);

        var app = builder.Build();
        var endpoint = app.Services.GetRequiredService<RpcEndpoint>();
        var metricsAccess = app.Services.GetRequiredService<MetricsAccess>();
        app.Use(async (http, next) =>
        {
            var isMetrics = http.Request.Path.Equals("/metrics", StringComparison.OrdinalIgnoreCase);
            if (isMetrics ? !metricsAccess.Allows(http) : metricsAccess.IsMetricsListener(http))
            {
                http.Response.StatusCode = isMetrics ? 401 : 404;
                http.Response.ContentType = "text/plain; charset=utf-8";
                await http.Response.WriteAsync(isMetrics ? "/metrics needs the operator's bearer token, or the metrics listener (see docs/compat.md)\n" : "only /metrics is served here\n");
                return;
            }
            await next(http);
        });
        // Every method reaches the endpoint, so that a PUT gets an ECS error rather than an empty 405.
        app.Map("/", http => ConsoleAssets.IsBrowserVisit(http.Request) ? ConsoleAssets.RedirectToConsole(http) : endpoint.HandleAsync(http));
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", (IStore store, AnalysisPathWarmUp warmUp) =>
        {
            // Until the server's analysis path is warm, a load balancer is told to send no tenant here (it is served meanwhile).
            if (!warmUp.Done.IsCompleted)
                return Results.Text("not ready: warming up\n", statusCode: 503);
            try
            {
                // Whether the store answers, and nothing of what it holds: anyone may ask.
                store.Read(s => s.CurrentRevision());
                return Results.Text("ready\n");
            }
            catch (StoreUnavailableException)
            {
                return Results.Text("not ready: the store is unavailable\n", statusCode: 503);
            }
        });
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.Services.GetRequiredService<ConsoleAssets>().Map(app);
        // Other paths are not the API: an ECS error, not an empty 404.
        app.MapFallback(endpoint.HandleUnknownPathAsync);
        return app;
    }

    /// <summary>
    /// On the first start, the first account and its AccessKey (from the environment, or made and
    /// written to the data directory's <c>credentials</c>); what to tell the operator, or null.
    /// </summary>
    public static string? EnsureFirstAccount(WebApplication app) => app.Services.GetRequiredService<Accounts.Bootstrap>().EnsureFirstAccount();

    public static void ConfigureServices(IServiceCollection services, ServeSettings settings)
    {
        var data = Path.GetFullPath(settings.DataDirectory);
        PrivateFiles.Directory(data);
        services.AddSingleton(settings);
        services.AddSingleton(settings.Options);
        services.AddSingleton(settings.Clock);
        services.AddSingleton(_ => StoreFactory.Open(settings.Store, data, settings.Clock, recordsMetrics: settings.Options.PublishesMetrics));
        var masterKey = Path.Combine(data, "master.key");
        // Nodes sharing PostgreSQL must share the key that encrypts the AccessKey secrets.
        if (StoreFactory.IsPostgres(settings.Store) && Environment.GetEnvironmentVariable("PALISADE_MASTER_KEY") is not { Length: > 0 } && !File.Exists(masterKey))
            throw new InvalidOperationException($"with a PostgreSQL store every node needs the same master key: set PALISADE_MASTER_KEY (base64 of 32 random bytes, e.g. from 'openssl rand -base64 32') or copy it to {masterKey}");
        services.AddSingleton(_ => SecretProtector.ForDataDirectory(masterKey));
        services.AddSingleton<AccountService>();
        services.AddSingleton<Palisade.Storage.Hosts.HostService>();
        services.AddSingleton<INonceRegistry>(sp => StoreFactory.IsPostgres(settings.Store)
            ? new StoreNonceRegistry(sp.GetRequiredService<IStore>(), settings.Clock)
            : new LocalNonceRegistry(Path.Combine(data, "nonces.db"), settings.Clock));
        services.AddSingleton<Authenticator>();
        services.AddSingleton<MetricsAccess>();
        services.AddSingleton<RequestThrottle>();
        services.AddSingleton<AccountThrottle>();
        services.AddSingleton<AnalysisBudget>();
        services.AddSingleton<ThrottledAnswerHold>();
        services.TryAddSingleton<CpuMeter>();
        services.AddSingleton<AnalysisScheduler>();
        services.AddSingleton(sp => new AnalysisProcess(sp.GetService<ILogger<AnalysisProcess>>())
        {
            WarmsUp = settings.Options.Throttling is { AnalysisInChild: true, AnalysisWarmUp: true },
        });
        services.AddHostedService<AnalysisProcessStart>();
        services.AddSingleton<AnalysisPathWarmUp>();
        services.AddHostedService(sp => sp.GetRequiredService<AnalysisPathWarmUp>());
        services.AddSingleton<AnalysisAdmission>();
        services.AddSingleton<RefusalTrail>();
        services.AddSingleton(ActionCatalog.FromAssembly());
        services.AddSingleton<ReadCache>();
        services.AddSingleton(sp => StoreGate.For(sp.GetRequiredService<IStore>()));
        services.AddSingleton<RpcEndpoint>();
        services.AddSingleton<ServerMetrics>();
        services.AddSingleton(_ => ConsoleAssets.FromAssembly());
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(ServerMetrics.MeterName, StoreMetrics.MeterName, RefusalTrail.MeterName)
            .AddPrometheusExporter());
        services.AddSingleton<Bootstrap>();
        services.AddSingleton<TrailRetention>();
        services.AddHostedService(sp => sp.GetRequiredService<TrailRetention>());
    }
}
