using System.Diagnostics;
using System.Globalization;
using Palisade.Client;
using Palisade.Domain.Ecs;

/// <summary>
/// The HTTPS listener against the HTTP one of the same node, alternating, in one run: reads/s, p99
/// and CPU per read with keep-alive (issue 15). A second node on the same store with another HTTPS
/// output (16 KiB records each sent alone, or Kestrel's own records of 4 KiB) shows what the served
/// output gains.
///
/// With <c>--client-process</c> the clients run in a process of their own (this program started
/// again with <see cref="ClientMode"/>) and the server's CPU per read is read from its process: on this
/// 2-core machine the in-process figure also pays the clients' TLS (decrypting every answer) on the
/// same cores, which a server whose clients are elsewhere does not; the server's own CPU per read is
/// what such a CPU-bound server serves per core.
/// </summary>
internal static class TlsComparison
{
    public const string ClientMode = "--tls-clients";

    /// <summary>Set to <c>https</c> or <c>http</c> (with <c>--client-process</c>): only the 60 KB read over that transport, for <c>perf record -p</c> on the server.</summary>
    public const string ProfileVariable = "PALISADE_BENCH_TLS_PROFILE";

    public sealed record Endpoints(string Http, string Https, string OtherHttps, string Other, string CaFile, string KeyId, string Secret, string Group);

    /// <summary>Runs the clients in a separate process against <paramref name="endpoints"/> and prints what it prints.</summary>
    public static async Task<int> InClientProcessAsync(Endpoints endpoints, int clients, int seconds)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = false, UseShellExecute = false };
        start.ArgumentList.Add(typeof(TlsComparison).Assembly.Location);
        foreach (var argument in new[] { ClientMode, Environment.ProcessId.ToString(CultureInfo.InvariantCulture), endpoints.Http, endpoints.Https, endpoints.OtherHttps, endpoints.Other, endpoints.CaFile, endpoints.KeyId, endpoints.Secret, endpoints.Group, clients.ToString(CultureInfo.InvariantCulture), seconds.ToString(CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the client process");
        await process.WaitForExitAsync();
        return process.ExitCode;
    }

    /// <summary>The client process: <c>--tls-clients PID http https other-https other-name ca key-id secret group clients seconds</c>.</summary>
    public static async Task<int> ClientProcessAsync(string[] args)
    {
        var serverPid = int.Parse(args[1], CultureInfo.InvariantCulture);
        var endpoints = new Endpoints(args[2], args[3], args[4], args[5], args[6], args[7], args[8], args[9]);
        await CompareAsync(endpoints, int.Parse(args[10], CultureInfo.InvariantCulture), int.Parse(args[11], CultureInfo.InvariantCulture), serverPid);
        return 0;
    }

    /// <summary>Measures and prints; <paramref name="serverPid"/> is the server's process when it is not this one.</summary>
    public static async Task CompareAsync(Endpoints endpoints, int clients, int seconds, int? serverPid)
    {
        var credentials = new ClientCredentials(endpoints.KeyId, endpoints.Secret);
        var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(10), MaxConnectionsPerServer = clients }) { BaseAddress = new Uri(endpoints.Http) };
        HttpClient TlsClient(string url)
        {
            var handler = CaCertificates.Handler(endpoints.CaFile);
            handler.MaxConnectionsPerServer = clients;
            handler.PooledConnectionLifetime = TimeSpan.FromMinutes(10);
            return new HttpClient(handler) { BaseAddress = new Uri(url) };
        }
        var overTls = TlsClient(endpoints.Https);
        var overOtherTls = TlsClient(endpoints.OtherHttps);
        var api = new EcsClient(http, credentials);
        var tlsApi = new EcsClient(overTls, credentials);
        var otherTlsApi = new EcsClient(overOtherTls, credentials);
        Task<Result> Run(Func<int, HttpRequestMessage> make, HttpClient client) => Load.RunAsync(client, make, clients, seconds, serverPid: serverPid);

        var describe = new KeyValuePair<string, string>[] { new("RegionId", "cn-hangzhou"), new("SecurityGroupId", endpoints.Group) };
        if (Environment.GetEnvironmentVariable(ProfileVariable) is { } profiled && profiled is "https" or "http")
        {
            // For a profiler attached to the server: the 60 KB read over one transport alone, one long run.
            var alone = profiled == "https"
                ? await Run(_ => tlsApi.Build("DescribeSecurityGroupAttribute", describe, ApiVersions.Ecs), overTls)
                : await Run(_ => api.Build("DescribeSecurityGroupAttribute", describe, ApiVersions.Ecs), http);
            Console.WriteLine($"{profiled} 60 KB alone: {alone.PerSecond:N0} reads/s, CPU {alone.CpuMicros:F0} µs/read here, server {alone.ServerCpuMicros:F0} µs/read");
            return;
        }
        var rows = new List<(string Name, Result Http, Result Https, Result OtherHttps)>();
        // Each workload runs HTTP, HTTPS, HTTPS with the other output, the same again backwards, and the
        // two runs of each are pooled, so that a change of load on a shared machine weighs on all alike.
        async Task<(Result Http, Result Https, Result OtherHttps)> Trio(Func<int, HttpRequestMessage> plain, Func<int, HttpRequestMessage> secure, Func<int, HttpRequestMessage> others)
        {
            var h1 = await Run(plain, http);
            var s1 = await Run(secure, overTls);
            var k1 = await Run(others, overOtherTls);
            var k2 = await Run(others, overOtherTls);
            var s2 = await Run(secure, overTls);
            var h2 = await Run(plain, http);
            static Result Pool(Result a, Result b) => new((a.PerSecond + b.PerSecond) / 2, (a.P50 + b.P50) / 2, Math.Max(a.P99, b.P99), a.Errors + b.Errors, (a.CpuMicros + b.CpuMicros) / 2,
                a.ServerCpuMicros is null ? null : (a.ServerCpuMicros + b.ServerCpuMicros) / 2);
            return (Pool(h1, h2), Pool(s1, s2), Pool(k1, k2));
        }
        foreach (var (name, action, parameters) in new[]
        {
            ("DescribeSecurityGroupAttribute, 200 rules (~60 KB)", "DescribeSecurityGroupAttribute", describe),
            ("DescribeRegions (~1 KB)", "DescribeRegions", Array.Empty<KeyValuePair<string, string>>()),
        })
        {
            var (plain, secure, others) = await Trio(_ => api.Build(action, parameters, ApiVersions.Ecs), _ => tlsApi.Build(action, parameters, ApiVersions.Ecs), _ => otherTlsApi.Build(action, parameters, ApiVersions.Ecs));
            rows.Add((name, plain, secure, others));
        }
        var (healthPlain, healthSecure, healthOther) = await Trio(_ => new HttpRequestMessage(HttpMethod.Get, "/healthz"), _ => new HttpRequestMessage(HttpMethod.Get, "/healthz"), _ => new HttpRequestMessage(HttpMethod.Get, "/healthz"));
        rows.Add(("GET /healthz (no work: the transport alone)", healthPlain, healthSecure, healthOther));

        var CpuOf = serverPid is null ? "CPU" : "server CPU";
        var where = serverPid is null ? "clients and server in one process" : "clients in their own process, the server's CPU read from its process";
        Console.WriteLine($"{clients} clients, {seconds} s each, keep-alive, V3-signed (signed before the clock starts); {Environment.ProcessorCount} cores; {where}; HTTPS with the node's self-signed ECDSA P-256 certificate; HTTP, HTTPS, HTTPS (the other output), and back, per workload, pooled (p99: the worse of the two); load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} at the end");
        Console.WriteLine();
        Console.WriteLine($"HTTPS with another output ({endpoints.Other}), on a second node of the same store, for comparison:");
        Console.WriteLine();
        Console.WriteLine($"| workload | HTTPS ({endpoints.Other}) reads/s | ratio to HTTP | p99 ms | {CpuOf} µs/read | CPU ratio HTTP/HTTPS |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (var (name, plain, _, others) in rows)
            Console.WriteLine($"| {name} | {others.PerSecond:N0} | {others.PerSecond / plain.PerSecond:F3} | {others.P99:F2} | {Cpu(others)} | {CpuRatio(plain, others)} |");
        Console.WriteLine();
        // CPU per read: with the clients here, this process's CPU (server and clients together) over the
        // measured window; with the clients apart, the server process's alone.
        Console.WriteLine($"| workload | HTTP reads/s | HTTPS reads/s | ratio HTTPS/HTTP | HTTP p99 ms | HTTPS p99 ms | HTTP {CpuOf} µs/read | HTTPS {CpuOf} µs/read | CPU ratio HTTP/HTTPS | errors |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (name, plain, secure, _) in rows)
            Console.WriteLine($"| {name} | {plain.PerSecond:N0} | {secure.PerSecond:N0} | {secure.PerSecond / plain.PerSecond:F3} | {plain.P99:F2} | {secure.P99:F2} | {Cpu(plain)} | {Cpu(secure)} | {CpuRatio(plain, secure)} | {plain.Errors + secure.Errors} |");

        string Cpu(Result r) => (serverPid is null ? r.CpuMicros : r.ServerCpuMicros!.Value).ToString("F0", CultureInfo.InvariantCulture);
        string CpuRatio(Result a, Result b) => serverPid is null
            ? (a.CpuMicros / b.CpuMicros).ToString("F3", CultureInfo.InvariantCulture)
            : (a.ServerCpuMicros!.Value / b.ServerCpuMicros!.Value).ToString("F3", CultureInfo.InvariantCulture);
    }
}
