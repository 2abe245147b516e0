using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Palisade.Client;
using Palisade.Storage.Accounts;
using Palisade.Server.Hosting;
using Palisade.Domain.Ecs;

/// <summary>
/// Issue 19: does a tenant running DescribeChangeImpact in a loop move another tenant's read p99?
/// One server on 127.0.0.1 (SQLite, default limits). A quiet tenant reads (DescribeInstances,
/// DescribeSecurityGroups) from 4 clients: first alone, then while a noisy tenant with 100 instances
/// asks 4 DescribeChangeImpact questions at a time (each a new port, so none is a cache hit). The
/// ratio of the quiet tenant's p99 with and without the noise is the figure; the same on a server
/// with the analysis budget off shows what the budget buys.
///   dotnet run -c Release --project bench/Palisade.Bench.Http -- --noisy [--seconds 8]
/// </summary>
internal static class NoisyNeighbour
{
    public static async Task RunAsync(int seconds)
    {
        Console.WriteLine($"noisy neighbour: {seconds} s per phase, quiet tenant 4 clients, noisy tenant 4 DescribeChangeImpact workers");
        // Default limits; the quiet tenant paces its clients (one read per 5 ms each) to stay within its key's rate.
        var off = new Throttling { AnalysisSecondsPerSecond = 0, AnalysisConcurrency = int.MaxValue };
        var runs = new[]
        {
            ("same question in a loop", "on (defaults)", await MeasureAsync(new Throttling(), seconds, vary: false)),
            ("same question in a loop", "off", await MeasureAsync(off, seconds, vary: false)),
            ("a new question each time", "on (defaults)", await MeasureAsync(new Throttling(), seconds, vary: true)),
            ("a new question each time", "off", await MeasureAsync(off, seconds, vary: true)),
        };
        Console.WriteLine();
        Console.WriteLine($"| noisy tenant asks | analysis budget | quiet p99 alone | quiet p99 with noise | ratio | noisy answered / throttled |");
        Console.WriteLine($"|---|---|---|---|---|---|");
        foreach (var (noise, name, r) in runs)
            Console.WriteLine($"| {noise} | {name} | {r.Alone:F2} ms | {r.Noisy:F2} ms | {r.Noisy / r.Alone:F2}× | {r.Answered} / {r.Throttled} |");
    }

    private sealed record Result(double Alone, double Noisy, int Answered, int Throttled);

    private static async Task<Result> MeasureAsync(Throttling throttling, int seconds, bool vary)
    {
        var directory = Path.Combine(Path.GetTempPath(), "palisade-noisy-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "master.key"), Convert.ToBase64String(new byte[32]));
        var app = PalisadeServer.Build(new ServeSettings
        {
            Urls = "http://127.0.0.1:0", DataDirectory = directory,
            Options = new ServerOptions { Throttling = throttling },
        });
        await app.StartAsync();
        try
        {
            var accounts = app.Services.GetRequiredService<AccountService>();
            var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 16 }) { BaseAddress = new Uri(app.Urls.First()) };
            EcsClient Client(string name)
            {
                var key = accounts.CreateAccessKey(accounts.CreateAccount(name).AccountId);
                return new EcsClient(http, new ClientCredentials(key.AccessKeyId, key.AccessKeySecret));
            }
            var noisy = Client("noisy");
            var quiet = Client("quiet");
            const string region = "cn-hangzhou";
            var groups = new List<string>();
            foreach (var api in new[] { noisy, quiet })
            {
                var vpc = (await api.CallAsync("CreateVpc", new { RegionId = region, CidrBlock = "192.168.0.0/16" }, ApiVersions.Vpc)).GetProperty("VpcId").GetString()!;
                await Task.Delay(1500); // the VPC becomes Available
                var vsw = (await api.CallAsync("CreateVSwitch", new { RegionId = region, VpcId = vpc, CidrBlock = "192.168.0.0/20", ZoneId = "cn-hangzhou-h" }, ApiVersions.Vpc)).GetProperty("VSwitchId").GetString()!;
                var count = api == noisy ? 10 : 2;
                for (var g = 0; g < count; g++)
                {
                    var sg = (await api.CallAsync("CreateSecurityGroup", new { RegionId = region, VpcId = vpc, SecurityGroupName = $"sg{g}" })).GetProperty("SecurityGroupId").GetString()!;
                    await api.CallAsync("AuthorizeSecurityGroup", new { RegionId = region, SecurityGroupId = sg, IpProtocol = "tcp", PortRange = $"{1000 + g}/{2000 + g}", SourceCidrIp = "10.0.0.0/8" });
                    if (g > 0)
                        await api.CallAsync("AuthorizeSecurityGroup", new { RegionId = region, SecurityGroupId = sg, IpProtocol = "tcp", PortRange = "22/22", SourceGroupId = groups[^1] });
                    groups.Add(sg);
                    await api.CallAsync("RunInstances", new { RegionId = region, SecurityGroupId = sg, VSwitchId = vsw, Amount = api == noisy ? 10 : 5, ImageId = "img", InstanceType = "ecs.g7.large" });
                }
            }
            var target = groups[0];
            async Task<List<double>> QuietReads(TimeSpan length)
            {
                var stop = Stopwatch.StartNew();
                var all = new List<double>();
                await Task.WhenAll(Enumerable.Range(0, 4).Select(async w =>
                {
                    var mine = new List<double>();
                    while (stop.Elapsed < length)
                    {
                        var watch = Stopwatch.StartNew();
                        var response = await quiet.SendAsync(w % 2 == 0 ? "DescribeInstances" : "DescribeSecurityGroups", [new("RegionId", region)]);
                        if (!response.IsSuccess)
                            throw new InvalidOperationException($"the quiet tenant's read failed: {response.Code}");
                        mine.Add(watch.Elapsed.TotalMilliseconds);
                        if (watch.Elapsed < TimeSpan.FromMilliseconds(5))
                            await Task.Delay(TimeSpan.FromMilliseconds(5) - watch.Elapsed);
                    }
                    lock (all)
                        all.AddRange(mine);
                }));
                return all;
            }
            await QuietReads(TimeSpan.FromSeconds(1)); // warm up
            var alone = await QuietReads(TimeSpan.FromSeconds(seconds));
            using var stopNoise = new CancellationTokenSource();
            int answered = 0, throttled = 0, port = 3000;
            var noise = Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
            {
                while (!stopNoise.IsCancellationRequested)
                {
                    var p = (vary ? Interlocked.Increment(ref port) : port).ToString(CultureInfo.InvariantCulture);
                    var response = await noisy.SendAsync("DescribeChangeImpact", [new("RegionId", region), new("ChangeAction", "AuthorizeSecurityGroup"), new("SecurityGroupId", target),
                        new("IpProtocol", "tcp"), new("PortRange", $"{p}/{p}"), new("SourceCidrIp", "0.0.0.0/0")]);
                    if (response.IsSuccess)
                        Interlocked.Increment(ref answered);
                    else if (response.Code is "Throttling.Analysis" or "Throttling.User")
                        Interlocked.Increment(ref throttled);
                    else
                        throw new InvalidOperationException($"the noisy tenant got {response.Status} {response.Code}");
                }
            }));
            await Task.Delay(500);
            var noisyReads = await QuietReads(TimeSpan.FromSeconds(seconds));
            await stopNoise.CancelAsync();
            await noise;
            var result = new Result(P99(alone), P99(noisyReads), answered, throttled);
            Console.WriteLine($"  budget {(throttling.AnalysisSecondsPerSecond > 0 ? "on" : "off")}, {(vary ? "new questions" : "same question")}: alone {alone.Count} reads p99 {result.Alone:F2} ms; with noise {noisyReads.Count} reads p99 {result.Noisy:F2} ms; noisy answered {answered}, throttled {throttled}");
            return result;
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static double P99(List<double> values)
    {
        values.Sort();
        return values[(int)Math.Min(values.Count - 1, Math.Ceiling(values.Count * 0.99) - 1)];
    }
}
