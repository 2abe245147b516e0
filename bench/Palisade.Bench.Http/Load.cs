using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;

/// <summary>
/// One measured load: <c>clients</c> keep-alive clients draining pre-signed requests for
/// <c>seconds</c>, after a warm-up. Besides reads/s and latency it reports CPU per read twice: this
/// process's (the clients, and the server too when it runs here) and the server process's alone when
/// its PID is given — what a read costs the server whoever else shares the machine, which is what a
/// CPU-bound server with its clients on other machines serves per core.
/// </summary>
internal static class Load
{
    public static async Task<Result> RunAsync(HttpClient client, Func<int, HttpRequestMessage> make, int clients, double seconds, int capacity = 150_000, int? serverPid = null)
    {
        // Warm up with a few thousand, then sign the measured batch up front.
        var warmup = new ConcurrentQueue<HttpRequestMessage>(Enumerable.Range(0, 3000).Select(make));
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ => { while (warmup.TryDequeue(out var m)) (await client.SendAsync(m)).Dispose(); }));
        var queue = new ConcurrentQueue<HttpRequestMessage>(Enumerable.Range(0, capacity).Select(make));
        var latencies = new List<double>[clients];
        var errors = 0;
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var serverBefore = ServerCpu(serverPid);
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
        var serverCpu = ServerCpu(serverPid) - serverBefore;
        while (queue.TryDequeue(out var left))
            left.Dispose();
        var all = latencies.SelectMany(l => l).Order().ToArray();
        return new Result(all.Length / elapsed, all[all.Length / 2], all[(int)(all.Length * 0.99)], errors, cpu.TotalMicroseconds / all.Length,
            serverPid is null ? null : serverCpu.TotalMicroseconds / all.Length);
    }

    /// <summary>The user and system CPU the server's process has used (Linux reads it from /proc/PID/stat).</summary>
    private static TimeSpan ServerCpu(int? pid)
    {
        if (pid is null)
            return TimeSpan.Zero;
        using var process = Process.GetProcessById(pid.Value);
        return process.TotalProcessorTime;
    }
}

/// <param name="CpuMicros">This process's CPU per read.</param>
/// <param name="ServerCpuMicros">The server process's CPU per read, when the server runs in another process.</param>
internal sealed record Result(double PerSecond, double P50, double P99, int Errors, double CpuMicros, double? ServerCpuMicros = null);
