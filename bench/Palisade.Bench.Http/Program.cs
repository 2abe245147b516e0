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
//       and over HTTP on the same node in the same run, and their ratio.
// Diagnostics: --profile times the pieces of a read; --hot loops the handler alone for a profiler
// (dotnet-trace collect -- dotnet …/Palisade.Bench.Http.dll --hot); --feed measures the change feed;
// --host-policy [--runs 30] times a host's policy fetch and its phases (HostPolicyCost.cs).
var seconds = Arg("--seconds", 10);
if (args.Length == 6 && args[0] == "--noisy-tenant")
    return await NoisyNeighbour.NoiseAsync(args[1], args[2], args[3], args[4], args[5] == "vary");
if (args.Contains("--host-policy"))
    return await HostPolicyCost.RunAsync(Arg("--runs", 30));
if (args.Contains("--noisy"))
{
    await NoisyNeighbour.RunAsync(Arg("--seconds", 8), args.Contains("--defaults-only"));
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
    // The HTTPS listener against the HTTP one of the same node, alternating, in one run: reads/s and
    // p99 with keep-alive. The client trusts the node's self-signed certificate as --ca-cert would.
    // A second node on the same store with Kestrel's own TLS output (a record per 4 KiB block): what
    // the 16 KiB records gain, measured beside them.
    var kestrelTls = PalisadeServer.Build(new ServeSettings
    {
        Urls = "https://127.0.0.1:0",
        Tls = new TlsSettings.SelfSigned(),
        DataDirectory = directory,
        Options = new ServerOptions { Limits = new Limits { GroupsPerRegion = 1000 }, Throttling = Throttling.Off },
        LargeTlsRecords = false,
    });
    await kestrelTls.StartAsync();
    HttpClient TlsClient(WebApplication node)
    {
        var tlsHandler = CaCertificates.Handler(Path.Combine(directory, ServerCertificate.SelfSignedCertificateFile));
        tlsHandler.MaxConnectionsPerServer = clients;
        tlsHandler.PooledConnectionLifetime = TimeSpan.FromMinutes(10);
        return new HttpClient(tlsHandler) { BaseAddress = new Uri(node.Urls.First(u => u.StartsWith("https://", StringComparison.Ordinal))) };
    }
    var overTls = TlsClient(app);
    var overKestrelTls = TlsClient(kestrelTls);
    var tlsApi = new EcsClient(overTls, new ClientCredentials(key.AccessKeyId, key.AccessKeySecret));
    var kestrelTlsApi = new EcsClient(overKestrelTls, new ClientCredentials(key.AccessKeyId, key.AccessKeySecret));
    var rows = new List<(string Name, Result Http, Result Https, Result KestrelHttps)>();
    // Each workload runs HTTP, HTTPS, HTTPS with Kestrel's records, the same again backwards, and the
    // two runs of each are pooled, so that a change of load on a shared machine weighs on all alike.
    async Task<(Result Http, Result Https, Result KestrelHttps)> Trio(Func<int, HttpRequestMessage> plain, Func<int, HttpRequestMessage> secure, Func<int, HttpRequestMessage> kestrels)
    {
        var h1 = await Run(plain, client: http);
        var s1 = await Run(secure, client: overTls);
        var k1 = await Run(kestrels, client: overKestrelTls);
        var k2 = await Run(kestrels, client: overKestrelTls);
        var s2 = await Run(secure, client: overTls);
        var h2 = await Run(plain, client: http);
        static Result Pool(Result a, Result b) => new((a.PerSecond + b.PerSecond) / 2, (a.P50 + b.P50) / 2, Math.Max(a.P99, b.P99), a.Errors + b.Errors, (a.CpuMicros + b.CpuMicros) / 2);
        return (Pool(h1, h2), Pool(s1, s2), Pool(k1, k2));
    }
    foreach (var (name, action, parameters) in new[]
    {
        ("DescribeSecurityGroupAttribute, 200 rules (~60 KB)", "DescribeSecurityGroupAttribute", describe),
        ("DescribeRegions (~1 KB)", "DescribeRegions", Array.Empty<KeyValuePair<string, string>>()),
    })
    {
        var (plain, secure, kestrels) = await Trio(_ => api.Build(action, parameters, ApiVersions.Ecs), _ => tlsApi.Build(action, parameters, ApiVersions.Ecs), _ => kestrelTlsApi.Build(action, parameters, ApiVersions.Ecs));
        rows.Add((name, plain, secure, kestrels));
    }
    var (healthPlain, healthSecure, healthKestrel) = await Trio(_ => new HttpRequestMessage(HttpMethod.Get, "/healthz"), _ => new HttpRequestMessage(HttpMethod.Get, "/healthz"), _ => new HttpRequestMessage(HttpMethod.Get, "/healthz"));
    rows.Add(("GET /healthz (no work: the transport alone)", healthPlain, healthSecure, healthKestrel));
    await kestrelTls.StopAsync();
    Console.WriteLine($"{clients} clients, {seconds} s each, keep-alive, V3-signed (signed before the clock starts); {Environment.ProcessorCount} cores; HTTPS with the node's self-signed ECDSA P-256 certificate; HTTP, HTTPS, HTTPS (Kestrel's records), and back, per workload, pooled (p99: the worse of the two); load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} at the end");
    Console.WriteLine();
    Console.WriteLine("HTTPS with Kestrel's own TLS output (a record per 4 KiB), on a second node of the same store, for comparison:");
    Console.WriteLine();
    Console.WriteLine("| workload | HTTPS (Kestrel's records) reads/s | ratio to HTTP | p99 ms | CPU µs/read | CPU ratio HTTP/HTTPS |");
    Console.WriteLine("|---|---:|---:|---:|---:|---:|");
    foreach (var (name, plain, _, kestrels) in rows)
        Console.WriteLine($"| {name} | {kestrels.PerSecond:N0} | {kestrels.PerSecond / plain.PerSecond:F3} | {kestrels.P99:F2} | {kestrels.CpuMicros:F0} | {plain.CpuMicros / kestrels.CpuMicros:F3} |");
    Console.WriteLine();
    // CPU per read (server and clients together, this process's CPU time over the measured window):
    // what TLS costs a read even when other work on the machine takes cores from the run.
    Console.WriteLine("| workload | HTTP reads/s | HTTPS reads/s | ratio HTTPS/HTTP | HTTP p99 ms | HTTPS p99 ms | HTTP CPU µs/read | HTTPS CPU µs/read | CPU ratio HTTP/HTTPS | errors |");
    Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    foreach (var (name, plain, secure, _) in rows)
        Console.WriteLine($"| {name} | {plain.PerSecond:N0} | {secure.PerSecond:N0} | {secure.PerSecond / plain.PerSecond:F3} | {plain.P99:F2} | {secure.P99:F2} | {plain.CpuMicros:F0} | {secure.CpuMicros:F0} | {plain.CpuMicros / secure.CpuMicros:F3} | {plain.Errors + secure.Errors} |");
    foreach (var node in nodes)
        await node.StopAsync();
    Directory.Delete(directory, recursive: true);
    return 0;
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

async Task<Result> Run(Func<int, HttpRequestMessage> make, int capacity = 150_000, HttpClient? client = null)
{
    client ??= http;
    // Warm up with a few thousand, then sign the measured batch up front.
    var warmup = new System.Collections.Concurrent.ConcurrentQueue<HttpRequestMessage>(Enumerable.Range(0, 3000).Select(make));
    await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ => { while (warmup.TryDequeue(out var m)) (await client.SendAsync(m)).Dispose(); }));
    var queue = new System.Collections.Concurrent.ConcurrentQueue<HttpRequestMessage>(Enumerable.Range(0, capacity).Select(make));
    var latencies = new List<double>[clients];
    var errors = 0;
    var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
    var stop = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, clients).Select(async c =>
    {
        var mine = latencies[c] = new List<double>(100_000);
        while (stop.Elapsed.TotalSeconds < seconds && queue.TryDequeue(out var message))
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead);
            // Drain without keeping: the measurement is of the server, not of the client's allocations.
            await (await response.Content.ReadAsStreamAsync()).CopyToAsync(Stream.Null);
            mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            if (response.StatusCode != HttpStatusCode.OK)
                Interlocked.Increment(ref errors);
            message.Dispose();
        }
    }));
    var elapsed = stop.Elapsed.TotalSeconds;
    var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
    while (queue.TryDequeue(out var left))
        left.Dispose();
    var all = latencies.SelectMany(l => l).Order().ToArray();
    return new Result(all.Length / elapsed, all[all.Length / 2], all[(int)(all.Length * 0.99)], errors, cpu.TotalMicroseconds / all.Length);
}

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

internal sealed record Result(double PerSecond, double P50, double P99, int Errors, double CpuMicros);
