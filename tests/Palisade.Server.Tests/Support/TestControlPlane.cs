using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Palisade.Client;
using Palisade.Domain.Quotas;
using Palisade.Storage.Accounts;
using Palisade.Server.Hosting;
using Palisade.Storage;
using Palisade.TestKit;

namespace Palisade.Server.Tests.Support;

/// <summary>
/// The real server, in process, on ASP.NET Core's test host, with its own data directory. Accounts
/// are made through the same service the CLI uses; requests go through a signing client.
/// </summary>
public sealed class TestControlPlane : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _directory;
    private readonly TestStores.PostgresDatabase? _database;

    private TestControlPlane(WebApplication app, string directory, TestStores.PostgresDatabase? database)
    {
        _app = app;
        _directory = directory;
        _database = database;
        Http = app.GetTestClient();
        Http.BaseAddress = new Uri("http://ecs.test.local/");
        Accounts = app.Services.GetRequiredService<AccountService>();
        Store = app.Services.GetRequiredService<IStore>();
    }

    public HttpClient Http { get; }

    public AccountService Accounts { get; }

    public IStore Store { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>The store this plane's server uses: its data directory, or its PostgreSQL database.</summary>
    public (string Directory, string? Database) Location => (_directory, _database?.ConnectionString ?? _sharedDatabase);

    private string? _sharedDatabase;
    private bool _sharesStore;

    /// <param name="sameStoreAs">Another node of the same control plane: this server uses that one's store (and master key).</param>
    /// <param name="logs">Receives the server's log lines: Palisade's at every level, the framework's as the server filters them.</param>
    /// <param name="services">Replaces the server's services after its own registrations (a test's fake).</param>
    /// <param name="analysisWarmUp">Start the analysis process with the server and warm it up, as a server does by default (<see cref="Throttling.AnalysisWarmUp"/>); tests' servers do not unless asked.</param>
    public static async Task<TestControlPlane> StartAsync(Limits? limits = null, TimeProvider? clock = null, ServerOptions? options = null, TestControlPlane? sameStoreAs = null,
        CapturedLogs? logs = null, Action<IServiceCollection>? services = null, bool analysisWarmUp = false)
    {
        if (sameStoreAs is not null)
        {
            var (sharedDirectory, sharedDatabase) = sameStoreAs.Location;
            var node = Build(sharedDirectory, sharedDatabase, limits, clock, options, logs, services, analysisWarmUp);
            await node.StartAsync();
            return new TestControlPlane(node, sharedDirectory, null) { _sharedDatabase = sharedDatabase, _sharesStore = true };
        }
        var directory = Path.Combine(Path.GetTempPath(), "palisade-test-" + Guid.NewGuid().ToString("N"));
        var database = TestStores.NewDatabase();
        if (database is not null)
        {
            // Nodes on one PostgreSQL share the master key (see PalisadeServer).
            Directory.CreateDirectory(directory);
            File.WriteAllText(Path.Combine(directory, "master.key"), Convert.ToBase64String(new byte[32]));
        }
        var app = Build(directory, database?.ConnectionString, limits, clock, options, logs, services, analysisWarmUp);
        await app.StartAsync();
        return new TestControlPlane(app, directory, database);
    }

    /// <summary>A server on a store that exists already (a directory, and a database or null for SQLite), which this plane does not own.</summary>
    public static async Task<TestControlPlane> StartOnAsync(string directory, string? database)
    {
        var node = Build(directory, database, null, null, null, null, null);
        await node.StartAsync();
        return new TestControlPlane(node, directory, null) { _sharedDatabase = database, _sharesStore = true };
    }

    /// <summary>
    /// A test's server sized as an 8-core node unless the test gives its cores: the analysis budget's
    /// default is a share of the node's cores (0.4 CPU-s/s and a 1 s burst at 8; before 2026-12-05 it
    /// was 0.25 s/s and 1 s on any machine), and on a 2-core CI machine its 0.1 s/s and 0.25 s would
    /// refuse a test's quick run of questions (a cold analysis process's first ones cost the most) in
    /// tests that are not about the budget. Tests of the budget set its rate and burst, or the cores.
    /// </summary>
    private static Throttling Sized(Throttling throttling) => throttling.NodeCoresGiven ? throttling : throttling with { NodeCores = Palisade.TestKit.TestNode.Cores };

    /// <summary>The status reports' batch interval of a test's server, unless the test gives another.</summary>
    public static readonly TimeSpan TestStatusReportInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// A test's server batches status reports every <see cref="TestStatusReportInterval"/> unless the
    /// test gives another interval than the server's default: a test reporting in sequence waited for
    /// each report's batch, up to the default's second (RuleUsageTests' 62 reports took 63 s). The batch
    /// path is the same at any interval; its tests give their own.
    /// </summary>
    private static TimeSpan ReportInterval(ServerOptions? options) =>
        options is null || options.StatusReportInterval == ServerOptions.DefaultStatusReportInterval ? TestStatusReportInterval : options.StatusReportInterval;

    private static WebApplication Build(string directory, string? database, Limits? limits, TimeProvider? clock, ServerOptions? options, CapturedLogs? logs, Action<IServiceCollection>? services, bool warmUp = false) =>
        PalisadeServer.Build(new ServeSettings
        {
            DataDirectory = directory,
            Store = database,
            // No analysis process started and warmed up with every test's server (hundreds of them): a
            // test's child starts on its first impact, as AnalysisProcessWarmUpTests' server does not.
            Options = (options ?? new ServerOptions()) with
            {
                Limits = limits ?? options?.Limits ?? new Limits(),
                Throttling = Sized(options?.Throttling ?? new Throttling()) with { AnalysisWarmUp = warmUp },
                StatusReportInterval = ReportInterval(options),
            },
            Clock = clock ?? TimeProvider.System,
            MetricsToken = MetricsToken,
        }, configure: b =>
        {
            b.WebHost.UseTestServer();
            services?.Invoke(b.Services);
            if (logs is not null)
            {
                b.Logging.AddProvider(logs);
                // Palisade's own lines at every level; the framework's as the server configures them.
                b.Logging.AddFilter<CapturedLogs>("Palisade", LogLevel.Trace);
            }
        });

    /// <summary>The bearer token that opens <c>/metrics</c> on these servers.</summary>
    public const string MetricsToken = "test-metrics-token";

    public AccountService.NewKey NewAccount(string? name = null, bool readOnly = false)
    {
        var account = Accounts.CreateAccount(name ?? "acct-" + Guid.NewGuid().ToString("N")[..8]);
        return Accounts.CreateAccessKey(account.AccountId, readOnly);
    }

    /// <summary>The operator's acts on hosts (issue 18), on this plane's store.</summary>
    public Palisade.Storage.Hosts.HostService Hosts => _app.Services.GetRequiredService<Palisade.Storage.Hosts.HostService>();

    /// <summary>The operator binds an instance's NIC; a host not declared yet is declared carrying anything first.</summary>
    public Palisade.Storage.Records.HostBindingRecord Bind(string instance, string host, string interfaceName)
    {
        if (Hosts.ListHosts().FirstOrDefault(h => h.HostName == host) is not { } declared || declared.Declaration.InterfacePatterns.IsEmpty)
            Hosts.Declare(host, Palisade.Domain.Hosts.HostDeclaration.Parse("*", "0.0.0.0/0 ::/0"));
        return Hosts.Bind(instance, host, interfaceName);
    }

    /// <summary>A client signing with a new host credential of <paramref name="host"/>: what its agent uses.</summary>
    public EcsClient HostClient(string host, SignatureStyle style = SignatureStyle.V3, TimeProvider? clock = null)
    {
        var credential = Hosts.CreateCredential(host);
        return new(Http, new ClientCredentials(credential.AccessKeyId, credential.AccessKeySecret), style, clock);
    }

    public EcsClient Client(AccountService.NewKey key, SignatureStyle style = SignatureStyle.V3, TimeProvider? clock = null) =>
        new(Http, new ClientCredentials(key.AccessKeyId, key.AccessKeySecret), style, clock);

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        Store.Dispose();
        _database?.Dispose();
        if (_sharesStore)
            return;
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
