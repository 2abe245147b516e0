using Palisade.Domain.Quotas;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Palisade.Client;
using Palisade.Storage.Accounts;
using Palisade.Server.Hosting;
using Palisade.Domain.Ecs;

// Load over real HTTP on loopback: the server on Kestrel, several keep-alive clients signing V3
// requests, each workload timed against a trivial endpoint of the same server in the same run.
//   dotnet run -c Release --project bench/Palisade.Bench.Http -- [--seconds 10] [--clients 16]
//   … -- --postgres "Host=127.0.0.1;Port=5432;Username=postgres;Database=postgres" --nodes 2
//       N server nodes on one PostgreSQL (a fresh database), requests spread over the nodes.
//   … -- --tls --clients 8: the same reads over HTTPS (a self-signed certificate, TLS 1.3, keep-alive)
//       and over HTTP on the same node in the same run, and their ratio; with --client-process the
//       clients run in a process of their own and the server's own CPU per read is reported;
//       --against records|kestrel: the other HTTPS output measured beside the served one.
// Diagnostics: --profile times the pieces of a read; --hot loops the handler alone for a profiler
// (dotnet-trace collect -- dotnet …/Palisade.Bench.Http.dll --hot); --feed measures the change feed;
// --host-policy [--runs 30] times a host's policy fetch and its phases (HostPolicyCost.cs).
var seconds = Arg("--seconds", 10);
if (args.Length == 7 && args[0] == "--noisy-tenant")
    return await NoisyNeighbour.NoiseAsync(args[1], args[2], args[3], args[4], Enum.Parse<NoisyNeighbour.Noise>(args[5]), int.Parse(args[6], CultureInfo.InvariantCulture));
if (args.Length == 12 && args[0] == TlsComparison.ClientMode)
    return await TlsComparison.ClientProcessAsync(args);
if (args.Contains("--host-policy"))
    return await HostPolicyCost.RunAsync(Arg("--runs", 30));
if (args.Contains("--noisy-warmth"))
{
    await NoisyNeighbour.WarmthAsync(Arg("--runs", 200), !args.Contains("--no-warm-up"));
    return 0;
}
if (args.Contains("--noisy-profile"))
{
    await NoisyNeighbour.ProfileAsync(Arg("--runs", 30));
    return 0;
}
if (args.Contains("--noisy") && System.Runtime.GCSettings.IsServerGC && ArgText("--collector") != "server")
{
    // This project runs the server collector (for the load benchmarks); `palisade serve` runs the
    // workstation one (concurrent) with the gen0 budget its systemd unit sets
    // (deploy/systemd/palisade-serve.service: DOTNET_GCgen0size=0x4000000), and a collector's pauses
    // are part of what the noisy benchmark measures: it runs again under serve's collector.
    // --collector workstation: without the unit's gen0 budget; --collector server: this process's.
    var again = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false };
    if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet")
        again.ArgumentList.Add(typeof(NoisyNeighbour).Assembly.Location);
    foreach (var argument in args)
        again.ArgumentList.Add(argument);
    again.Environment["DOTNET_gcServer"] = "0";
    if (ArgText("--collector") != "workstation")
        again.Environment["DOTNET_GCgen0size"] = "0x4000000";
    // serve's runtime settings (src/Palisade.Cli/Palisade.Cli.csproj), unless the environment says otherwise.
    again.Environment.TryAdd("DOTNET_ThreadPool_UnfairSemaphoreSpinLimit", "0");
    // --loh-threshold BYTES: the collector's large-object threshold (the runtime's default is 85,000 bytes).
    if (ArgText("--loh-threshold") is { } loh)
        again.Environment["DOTNET_GCLOHThreshold"] = Convert.ToString(long.Parse(loh, CultureInfo.InvariantCulture), 16);
    using var child = Process.Start(again)!;
    await child.WaitForExitAsync();
    return child.ExitCode;
}
if (args.Contains("--noisy"))
{
    NoisyNeighbour.GcDetail = args.Contains("--gc-detail");
    if (ArgText("--analysis-burst") is { } burst)
        NoisyNeighbour.Burst = double.Parse(burst, CultureInfo.InvariantCulture);
    if (ArgText("--analysis-rate") is { } rate)
        NoisyNeighbour.Rate = double.Parse(rate, CultureInfo.InvariantCulture);
    if (ArgText("--noisy-client-nice") is { } nice)
        NoisyNeighbour.NoisyClientNiceness = int.Parse(nice, CultureInfo.InvariantCulture);
    NoisyNeighbour.Pairs = Arg("--pairs", 3);
    NoisyNeighbour.NoWarmUp = args.Contains("--no-warm-up");
    await NoisyNeighbour.RunAsync(Arg("--seconds", 8), args.Contains("--defaults-only") ? 4 : args.Contains("--shipped-only") ? 3 : 6);
    return 0;
}
var clients = Arg("--clients", 16);
var nodeCount = Arg("--nodes", 1);
var postgresServer = ArgText("--postgres");
var tls = args.Contains("--tls");

var directory = Path.Combine(Path.GetTempPath(), "palisade-bench-" + Guid.NewGuid().ToString("N"));
Directory.CreateDirectory(directory);
File.WriteAllText(Path.Combine(directory, "master.key"), Convert.ToBase64String(new byte[32]));
string? database = null;
if (postgresServer is not null)
{
    var name = "palisade_bench_" + Guid.NewGuid().ToString("N");
    using (var admin = new Npgsql.NpgsqlConnection(postgresServer))
    {
        admin.Open();
        using var create = new Npgsql.NpgsqlCommand($"CREATE DATABASE {name}", admin);
        create.ExecuteNonQuery();
    }
    database = new Npgsql.NpgsqlConnectionStringBuilder(postgresServer) { Database = name, MaxPoolSize = 50 }.ConnectionString;
}
var nodes = new List<WebApplication>();
for (var n = 0; n < nodeCount; n++)
{
    var node = PalisadeServer.Build(new ServeSettings
    {
        Urls = tls ? "http://127.0.0.1:0;https://127.0.0.1:0" : "http://127.0.0.1:0",
        Tls = tls ? new TlsSettings.SelfSigned() : null,
        DataDirectory = directory,
        Store = database,
        // One key drives the whole load here: the per-key rate limit would measure itself.
        Options = new ServerOptions { Limits = new Limits { GroupsPerRegion = 1000 }, Throttling = Throttling.Off },
    });
    await node.StartAsync();
    nodes.Add(node);
}
var app = nodes[0];
var url = new Uri(app.Urls.First(u => u.StartsWith("http://", StringComparison.Ordinal)));
var accounts = app.Services.GetRequiredService<AccountService>();
var key = accounts.CreateAccessKey(accounts.CreateAccount("bench").AccountId);

var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(10), MaxConnectionsPerServer = clients };
var http = new HttpClient(handler) { BaseAddress = url };
var api = new EcsClient(http, new ClientCredentials(key.AccessKeyId, key.AccessKeySecret));
// One client per node; requests of a workload go round-robin over the nodes.
var apis = nodes.Select(n => new EcsClient(new HttpClient(handler) { BaseAddress = new Uri(n.Urls.First(u => u.StartsWith("http://", StringComparison.Ordinal))) }, new ClientCredentials(key.AccessKeyId, key.AccessKeySecret))).ToArray();
var spread = -1;
EcsClient NextApi() => apis[(int)((uint)Interlocked.Increment(ref spread) % apis.Length)];

// A VPC, a 200-rule group to read, and groups to write into.
var vpc = (await api.CallAsync("CreateVpc", new { RegionId = "cn-hangzhou", CidrBlock = "10.0.0.0/8" }, ApiVersions.Vpc)).GetProperty("VpcId").GetString()!;
async Task<string> Group(string name) =>
    (await api.CallAsync("CreateSecurityGroup", new { RegionId = "cn-hangzhou", VpcId = vpc, SecurityGroupName = name })).GetProperty("SecurityGroupId").GetString()!;
var big = await Group("big");
for (var batch = 0; batch < 2; batch++)
{
    await api.CallAsync("AuthorizeSecurityGroup", EcsClient.Flatten(new
    {
        RegionId = "cn-hangzhou",
        SecurityGroupId = big,
        Permissions = Enumerable.Range(1, 100).Select(i => new { IpProtocol = "tcp", PortRange = $"{batch * 100 + i}/{batch * 100 + i}", SourceCidrIp = $"10.{i}.0.0/16", Priority = (i % 100 + 1).ToString(CultureInfo.InvariantCulture), Description = "bench rule" }).ToArray(),
    }));
}
var writeGroups = new List<string>();
for (var i = 0; i < 150; i++)
    writeGroups.Add(await Group($"write{i}"));

if (args.Contains("--feed"))
{
    // Change-feed latency: from a write's answer to the answer of a long poll that was waiting for it.
    var delays = new List<double>();
    for (var i = 0; i < 50; i++)
    {
        // The watcher waits on the last node; the change is made on the first.
        var watcher = apis[^1];
        var current = (await watcher.CallAsync("DescribeChanges", new { AfterRevision = "0" })).GetProperty("CurrentRevision").GetInt64();
        var poll = watcher.CallAsync("DescribeChanges", new { AfterRevision = current.ToString(CultureInfo.InvariantCulture), WaitSeconds = 30 });
        await Task.Delay(100);
        await apis[0].CallAsync("ModifySecurityGroupAttribute", new { RegionId = "cn-hangzhou", SecurityGroupId = big, Description = $"change {i}" });
        var written = Stopwatch.GetTimestamp();
        await poll;
        delays.Add(Stopwatch.GetElapsedTime(written).TotalMilliseconds);
    }
    delays.Sort();
    Console.WriteLine($"change feed, {nodeCount} node(s), {(database is null ? "SQLite" : "PostgreSQL")}, 50 changes made on node 1 and watched on node {nodeCount}: wake-up after the write's answer p50 {delays[25]:F1} ms, p99 {delays[49]:F1} ms, max {delays[^1]:F1} ms");
    return 0;
}

if (args.Contains("--hot"))
{
    // A loop for a profiler to look at: the handler alone, on a cached read.
    var hotEndpoint = app.Services.GetRequiredService<RpcEndpoint>();
    var until = DateTime.UtcNow.AddSeconds(Arg("--seconds", 15));
    var count = 0;
    while (DateTime.UtcNow < until)
    {
        using var m = api.Build("DescribeSecurityGroupAttribute", [new("RegionId", "cn-hangzhou"), new("SecurityGroupId", big)], ApiVersions.Ecs);
        var ctx = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        ctx.Request.Method = "POST";
        ctx.Request.Path = "/";
        ctx.Request.QueryString = new Microsoft.AspNetCore.Http.QueryString(m.RequestUri!.Query);
        ctx.Request.Host = new Microsoft.AspNetCore.Http.HostString(url.Authority);
        foreach (var h in m.Headers)
            ctx.Request.Headers[h.Key] = string.Join(",", h.Value);
        ctx.Response.Body = new MemoryStream();
        await hotEndpoint.HandleAsync(ctx);
        count++;
    }
    Console.WriteLine($"hot loop: {count} requests, {Arg("--seconds", 15) * 1e6 / count:F1} µs each");
    return 0;
}

if (args.Contains("--profile"))
{
    var store = app.Services.GetRequiredService<Palisade.Storage.IStore>();
    var id = Palisade.Domain.Identifiers.SecurityGroupId.Parse(big);
    void Time(string what, Action action)
    {
        for (var i = 0; i < 300; i++)
            action();
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < 500; i++)
            action();
        Console.WriteLine($"{what}: {sw.Elapsed.TotalMicroseconds / 500:F1} µs");
    }
    Time("empty read", () => store.Read(s => 0));
    Time("find group", () => store.Read(s => s.FindGroupAnyAccount(id)));
    Time("list 200 rules", () => store.Read(s => s.ListRules(id)));
    var rules = store.Read(s => s.ListRules(id));
    var rule = rules[0];
    Time("cidr tostring x200", () => { for (var i = 0; i < 200; i++) _ = ((Palisade.Domain.Rules.RulePeer.CidrBlock)rule.Peer).Cidr.ToString(); });
    Time("cidr parse x200", () => { for (var i = 0; i < 200; i++) Palisade.Domain.Networking.Cidr.Parse("10.1.0.0/16"); });
    Time("time format x200", () => { for (var i = 0; i < 200; i++) Palisade.Storage.Time.Format(rule.CreateTime); });
    Time("time parse x200", () => { for (var i = 0; i < 200; i++) Palisade.Storage.Time.Parse("2026-01-01T00:00:00Z"); });
    Time("ports tostring x200", () => { for (var i = 0; i < 200; i++) _ = rule.Ports.ToString(); });
    Time("views x200", () => { foreach (var r in rules) Palisade.Server.Actions.Views.Permission(r); });
    Time("render 200 rules", () => Palisade.Server.Responses.ResponseWriter.Json(new Palisade.Server.Responses.EcsObject { { "P", Palisade.Server.Responses.EcsList.Of("Permission", rules.Select(r => Palisade.Server.Actions.Views.Permission(r))) } }));
    Time("whole request", () => api.SendAsync("DescribeSecurityGroupAttribute", [new("RegionId", "cn-hangzhou"), new("SecurityGroupId", big)]).GetAwaiter().GetResult());
    var nonces = app.Services.GetRequiredService<Palisade.Server.Protocol.INonceRegistry>();
    Time("nonce", () => nonces.TryUse("k", Guid.NewGuid().ToString(), DateTimeOffset.UtcNow.AddMinutes(5)));
    Time("revision", () => store.Read(s => s.CurrentRevision()));
    Time("sign only", () => api.Build("DescribeSecurityGroupAttribute", [new("RegionId", "cn-hangzhou"), new("SecurityGroupId", big)], ApiVersions.Ecs).Dispose());
    var auth = app.Services.GetRequiredService<Palisade.Server.Protocol.Authenticator>();
    Time("authenticate", () =>
    {
        using var m = api.Build("DescribeRegions", [], ApiVersions.Ecs);
        var headers = m.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => string.Join(",", h.Value));
        var rq = new Palisade.Server.Protocol.RpcRequest("POST", url.Authority, [], [], headers, []);
        auth.Authenticate(rq);
    });
    var endpoint = app.Services.GetRequiredService<RpcEndpoint>();
    Time("handler only (DescribeRegions)", () =>
    {
        using var m = api.Build("DescribeRegions", [], ApiVersions.Ecs);
        var ctx = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        ctx.Request.Method = "POST";
        ctx.Request.Path = "/";
        ctx.Request.Host = new Microsoft.AspNetCore.Http.HostString(url.Authority);
        foreach (var h in m.Headers)
            ctx.Request.Headers[h.Key] = string.Join(",", h.Value);
        ctx.Response.Body = new MemoryStream();
        endpoint.HandleAsync(ctx).GetAwaiter().GetResult();
        if (ctx.Response.StatusCode != 200) throw new InvalidOperationException(ctx.Response.StatusCode.ToString());
    });
    Time("healthz request", () => http.GetAsync("/healthz").GetAwaiter().GetResult());
    Time("DescribeRegions request", () => api.SendAsync("DescribeRegions", []).GetAwaiter().GetResult());
    return 0;
}

var describe = new KeyValuePair<string, string>[] { new("RegionId", "cn-hangzhou"), new("SecurityGroupId", big) };

if (tls)
{
    // A second node on the same store whose HTTPS output is another shape (--against records: 16 KiB
    // records each sent on its own, the default; --against kestrel: Kestrel's own record per 4 KiB
    // block), measured beside what is served (TlsComparison.cs).
    var against = ArgText("--against") ?? "records";
    var otherOutput = against switch
    {
        "records" => TlsOutput.Records,
        "kestrel" => TlsOutput.Kestrels,
        _ => throw new ArgumentException($"--against {against}: records or kestrel"),
    };
    var other = PalisadeServer.Build(new ServeSettings
    {
        Urls = "https://127.0.0.1:0",
        Tls = new TlsSettings.SelfSigned(),
        DataDirectory = directory,
        Options = new ServerOptions { Limits = new Limits { GroupsPerRegion = 1000 }, Throttling = Throttling.Off },
        TlsOutput = otherOutput,
    });
    await other.StartAsync();
    static string Https(WebApplication node) => node.Urls.First(u => u.StartsWith("https://", StringComparison.Ordinal));
    var endpoints = new TlsComparison.Endpoints(url.ToString(), Https(app), Https(other), otherOutput == TlsOutput.Records ? "16 KiB records, each sent alone" : "Kestrel's records of 4 KiB", Path.Combine(directory, ServerCertificate.SelfSignedCertificateFile), key.AccessKeyId, key.AccessKeySecret, big);
    var exit = 0;
    if (args.Contains("--client-process"))
        exit = await TlsComparison.InClientProcessAsync(endpoints, clients, seconds);
    else
        await TlsComparison.CompareAsync(endpoints, clients, seconds, serverPid: null);
    await other.StopAsync();
    foreach (var node in nodes)
        await node.StopAsync();
    Directory.Delete(directory, recursive: true);
    return exit;
}
var writeCounter = -1;
var results = new List<(string Name, Result Result)>();

// Requests are signed before the clock starts (each with its own nonce), so the figures measure
// the server, not the load generator's signing; a request still has to be verified on arrival.
results.Add(("GET /healthz (baseline)", await Run(_ => new HttpRequestMessage(HttpMethod.Get, "/healthz"))));
results.Add(("DescribeSecurityGroupAttribute, 200 rules", await Run(_ => NextApi().Build("DescribeSecurityGroupAttribute", describe, ApiVersions.Ecs))));
results.Add(("AuthorizeSecurityGroup, one new rule", await Run(_ =>
{
    var n = Interlocked.Increment(ref writeCounter);
    var group = writeGroups[n % writeGroups.Count];
    var port = n / writeGroups.Count + 1;
    return NextApi().Build("AuthorizeSecurityGroup", [new("RegionId", "cn-hangzhou"), new("SecurityGroupId", group), new("IpProtocol", "tcp"), new("PortRange", $"{port}/{port}"), new("SourceCidrIp", "192.168.0.0/16")], ApiVersions.Ecs);
}, capacity: 25_000)));

var baseline = results[0].Result.PerSecond;
Console.WriteLine($"{clients} clients, {seconds} s each, keep-alive, V3-signed (signed before the clock starts); {Environment.ProcessorCount} cores; {nodeCount} node(s) on {(database is null ? "SQLite WAL synchronous=FULL" : "one PostgreSQL")}");
Console.WriteLine();
Console.WriteLine("| workload | requests/s | ratio to baseline | p50 ms | p99 ms | errors |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|");
foreach (var (name, r) in results)
    Console.WriteLine($"| {name} | {r.PerSecond:N0} | {r.PerSecond / baseline:F3} | {r.P50:F2} | {r.P99:F2} | {r.Errors} |");
foreach (var node in nodes)
    await node.StopAsync();
Directory.Delete(directory, recursive: true);
return 0;

Task<Result> Run(Func<int, HttpRequestMessage> make, int capacity = 150_000, HttpClient? client = null) =>
    Load.RunAsync(client ?? http, make, clients, seconds, capacity);

string? ArgText(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

int Arg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}
