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
/// with the analysis budget off shows what the budget buys. A control, on the shipped configuration:
/// the noisy tenant asks only DescribeSecurityGroups (no analysis) as fast as its key's rate lets it.
/// The benchmark runs under serve's collector (workstation, the systemd unit's gen0 budget; Program.cs).
///   dotnet run -c Release --project bench/Palisade.Bench.Http -- --noisy [--seconds 8]
///     [--shipped-only (what ships, the same with impacts in-process, and with refusals answered at once) | --defaults-only (and niceness 10)] [--gc-detail] [--collector workstation|server] [--noisy-client-nice N]
///   … -- --noisy-profile [--runs 30]: one DescribeChangeImpact at a time, its CPU, bytes and answer
/// </summary>
internal static class NoisyNeighbour
{
    /// <summary>Print why collections started and which types were allocated, per phase.</summary>
    public static bool GcDetail { get; set; }

    /// <param name="configurations">How many of <see cref="Configurations"/>: 3 what ships, the same with impacts in-process and with refusals answered at once, 4 and niceness 10, 6 all.</param>
    public static async Task RunAsync(int seconds, int configurations = 4)
    {
        Console.WriteLine($"collector: {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}, {(AppContext.TryGetSwitch("System.GC.Concurrent", out var concurrent) && !concurrent ? "not concurrent" : "concurrent")}, " +
            $"gen0 budget {Environment.GetEnvironmentVariable("DOTNET_GCgen0size") ?? "the runtime's"}, large-object threshold {(Environment.GetEnvironmentVariable("DOTNET_GCLOHThreshold") is { } loh ? "0x" + loh : "the runtime's")}, latency mode {System.Runtime.GCSettings.LatencyMode}; {Environment.ProcessorCount} cores");
        Console.WriteLine($"load average: {LoadAverage()}");
        Console.WriteLine($"noisy neighbour: {seconds} s per phase, quiet tenant 4 clients, noisy tenant 4 DescribeChangeImpact workers");
        // Default limits; the quiet tenant paces its clients (one read per 5 ms each) to stay within its key's rate.
        var runs = new List<(string Noise, string Admission, Result R)>();
        var index = 0;
        foreach (var (admission, throttling) in Configurations().Take(configurations))
        {
            // What ships alternates alone and noisy phases Pairs times (an 8 s phase's p99 on two shared cores
            // is noisy); the other configurations, for comparison, one pair each.
            var pairs = index == 0 ? Pairs : 1;
            // The control (no analysis) on what ships and on what shipped before refusals were held.
            foreach (var noise in new[] { Noise.Same, Noise.New }.Concat(index++ < 2 ? [Noise.Reads] : []))
                runs.Add((Describe(noise), admission, await MeasureAsync(admission, throttling, seconds, noise, pairs)));
        }
        Console.WriteLine();
        Console.WriteLine($"load average after: {LoadAverage()}");
        Console.WriteLine("Pooled over a configuration's pairs (all alone reads against all noisy reads); client-observed p99 (the must-show's ratio) and, beside it, the server's own time (arrival → answer written).");
        Console.WriteLine("| noisy tenant asks | admission of analyses | pairs | quiet p99 alone → with noise (client) | p99 ratio, pooled | each pair's p99 ratio | server-side p99 alone → with noise | server-side ratio | noisy answered / throttled | charged to the noisy account (CPU-s/s, per pair) | last noisy phase: CPU, GC, pool |");
        Console.WriteLine("|---|---|---:|---|---:|---|---|---:|---|---|---|");
        foreach (var (noise, admission, r) in runs)
            Console.WriteLine($"| {noise} | {admission} | {r.Pairs.Count} | {r.AloneP99:F2} → {r.NoisyP99:F2} ms | {r.NoisyP99 / r.AloneP99:F2}× | {r.PairRatios} | {r.AloneServerP99:F2} → {r.NoisyServerP99:F2} ms | {r.NoisyServerP99 / r.AloneServerP99:F2}× | {r.Answered} / {r.Throttled} | {r.ChargedCores} | {r.NoisyUse} |");
    }

    /// <summary><c>--noisy-client-nice N</c>: run the noisy tenant's client process at this Linux niceness (default: as the server).</summary>
    public static int? NoisyClientNiceness { get; set; }

    /// <summary><c>--no-warm-up</c>: the analysis process started on the first impact, cold, as before the thirteenth session.</summary>
    public static bool NoWarmUp { get; set; }

    /// <summary><c>--analysis-burst S</c>: the account's burst of analysis time in the admitted configurations (default: what ships).</summary>
    public static double? Burst { get; set; }

    /// <summary><c>--analysis-rate R</c>: the account's analysis time per second in the admitted configurations (default: what ships).</summary>
    public static double? Rate { get; set; }

    private static IEnumerable<(string, Throttling)> Configurations()
    {
        // As serve's --analysis-rate/--analysis-burst: what is not given is the node's default (a share of its cores).
        var shipped = new Throttling { AnalysisWarmUp = !NoWarmUp }.WithAnalysisBudget(Rate, Burst);
        var note = string.Create(CultureInfo.InvariantCulture, $", budget {shipped.AnalysisSecondsPerSecond:0.###} s/s burst {shipped.AnalysisBurstSeconds:0.###} s{(Rate is null && Burst is null ? $" ({shipped.NodeCores} cores' default)" : "")}")
            + (NoWarmUp ? ", no warm-up" : "");
        // What ships: analyses admitted by estimate, one per account, on workers below the request threads;
        // on Linux a dry-run impact compared in the analysis process (issue 19, fifth session).
        yield return ($"on (defaults: {shipped.AnalysisWorkers} worker, queue {shipped.AnalysisQueue}, refusals held {shipped.ThrottledAnswerDelay.TotalSeconds:0.#} s, impacts {(shipped.AnalysisInChild ? "in the analysis process" : "in-process")}{note})", shipped);
        // The same with impacts compared in the server's process (as before the fifth session).
        yield return ($"on, impacts in-process{note}", shipped with { AnalysisInChild = false });
        // The same, with every refusal answered at once (as before the hold).
        yield return ($"on, refusals answered at once{note}", shipped with { ThrottledAnswerDelay = TimeSpan.Zero });
        yield return ($"on, workers at niceness 10{note}", shipped with { AnalysisNiceness = 10 });
        // Issue 19's first answer: the budget and one analysis per account, run on the request threads.
        yield return ($"budget only (analyses on request threads){note}", shipped with { AnalysisWorkers = 0 });
        // Nothing: every analysis runs at once, on the request threads.
        yield return ("off", new Throttling { AnalysisSecondsPerSecond = 0, AccountBytesPerSecond = 0, AnalysisConcurrency = int.MaxValue, AnalysisWorkers = 0, ThrottledAnswerDelay = TimeSpan.Zero });
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

    /// <summary>
    /// The noisy tenant's process: 4 workers asking DescribeChangeImpact in a loop until a line comes
    /// on stdin, then it prints "answered throttled". Started by <see cref="MeasureAsync"/>.
    /// </summary>
    /// <summary>What the noisy tenant asks: one impact again and again, a new one each time, or (the control, with no analysis) its own groups.</summary>
    public enum Noise
    {
        Same,
        New,
        Reads,
    }

    private static string Describe(Noise noise) => noise switch
    {
        Noise.Same => "same question in a loop",
        Noise.New => "a new question each time",
        _ => "control: DescribeSecurityGroups in a loop (no analysis)",
    };

    public static async Task<int> NoiseAsync(string url, string keyId, string secret, string target, Noise kind, int firstPort)
    {
        var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 8 }) { BaseAddress = new Uri(url) };
        var noisy = new EcsClient(http, new ClientCredentials(keyId, secret));
        using var stop = new CancellationTokenSource();
        // Each noisy phase starts its ports elsewhere: a new question is new across phases too (never a cache hit).
        int answered = 0, throttled = 0, port = firstPort;
        var workers = Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            while (!stop.IsCancellationRequested)
            {
                var p = (kind == Noise.New ? Interlocked.Increment(ref port) : port).ToString(CultureInfo.InvariantCulture);
                var response = kind == Noise.Reads ? await noisy.SendAsync("DescribeSecurityGroups", [new("RegionId", "cn-hangzhou")]) : await noisy.SendAsync("DescribeChangeImpact", [new("RegionId", "cn-hangzhou"), new("ChangeAction", "AuthorizeSecurityGroup"), new("SecurityGroupId", target),
                    new("IpProtocol", "tcp"), new("PortRange", $"{p}/{p}"), new("SourceCidrIp", "0.0.0.0/0")]);
                if (response.IsSuccess)
                    Interlocked.Increment(ref answered);
                else if (response.Code is { } code && Palisade.Domain.Errors.EcsErrorCodes.IsThrottling(code))
                    Interlocked.Increment(ref throttled);
                else
                    throw new InvalidOperationException($"the noisy tenant got {response.Status} {response.Code}");
            }
        }));
        Console.WriteLine("started");
        await Console.In.ReadLineAsync();
        await stop.CancelAsync();
        await workers;
        Console.WriteLine($"{answered} {throttled}");
        return 0;
    }

    /// <summary>One alone phase and the noisy phase after it: the quiet tenant's client-observed and server-side p99s, the noisy tenant's count and cost.</summary>
    private sealed record Pair(double AloneP50, double AloneP99, double NoisyP50, double NoisyP99, double AloneServerP99, double NoisyServerP99, int Answered, int Throttled, double ChargedCores, Use AloneUse, Use NoisyUse)
    {
        public double Ratio => NoisyP99 / AloneP99;

        public double ServerRatio => NoisyServerP99 / AloneServerP99;
    }

    /// <summary>
    /// A configuration's pairs, and its pooled figures: every alone phase's reads together against every
    /// noisy phase's (client-observed, and the server's own time from request arrival to answer written).
    /// </summary>
    private sealed record Result(List<Pair> Pairs, double AloneP50, double AloneP99, double NoisyP50, double NoisyP99, double AloneServerP99, double NoisyServerP99)
    {
        public int Answered => Pairs.Sum(p => p.Answered);

        public int Throttled => Pairs.Sum(p => p.Throttled);

        public Use NoisyUse => Pairs[^1].NoisyUse;

        public string PairRatios => string.Join(", ", Pairs.Select(p => $"{p.Ratio:F2}×"));

        public string ChargedCores => string.Join("/", Pairs.Select(p => $"{p.ChargedCores:F2}"));
    }

    /// <summary><c>--pairs N</c>: alone/noisy phase pairs per noise on what ships (default 3); the other configurations run one pair.</summary>
    public static int Pairs
    {
        get;
        // A noisy phase's new questions take ports from 3000 + 10,000 × its pair: six pairs fit below 65,536.
        set => field = Math.Clamp(value, 1, 6);
    } = 3;

    private static async Task<Result> MeasureAsync(string name, Throttling throttling, int seconds, Noise kind, int pairs)
    {
        var directory = Path.Combine(Path.GetTempPath(), "palisade-noisy-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "master.key"), Convert.ToBase64String(new byte[32]));
        var app = PalisadeServer.Build(new ServeSettings
        {
            Urls = "http://127.0.0.1:0", DataDirectory = directory,
            Options = new ServerOptions { Throttling = throttling },
        });
        // The quiet tenant's time in the server: from the request's arrival (its headers read) to its answer
        // written to the connection; the client-observed time adds the loopback, the client's signing and
        // reading, and the waits for a core on either side.
        var serverSide = new List<double>();
        string? quietKeyId = null;
        app.Use(async (http, next) =>
        {
            var arrived = Stopwatch.GetTimestamp();
            await next(http);
            if (quietKeyId is not null && http.Request.Headers.Authorization.ToString().Contains(quietKeyId, StringComparison.Ordinal))
            {
                var took = Stopwatch.GetElapsedTime(arrived).TotalMilliseconds;
                lock (serverSide)
                    serverSide.Add(took);
            }
        });
        await app.StartAsync();
        try
        {
            var (noisy, quiet, keys, target) = await TenantsAsync(app);
            quietKeyId = keys["quiet"].AccessKeyId;
            const string region = "cn-hangzhou";
            async Task<(List<double> Client, List<double> Server)> QuietReads(TimeSpan length)
            {
                lock (serverSide)
                    serverSide.Clear();
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
                        var took = watch.Elapsed;
                        mine.Add(took.TotalMilliseconds);
                        if (took < TimeSpan.FromMilliseconds(5))
                            await Task.Delay(TimeSpan.FromMilliseconds(5) - took);
                    }
                    lock (all)
                        all.AddRange(mine);
                }));
                lock (serverSide)
                    return (all, [.. serverSide]);
            }
            await QuietReads(TimeSpan.FromSeconds(1)); // warm up
            // The analysis process's warm-up is the server's start, not a phase: measured after it (a minute at most).
            var analysis = app.Services.GetRequiredService<Palisade.Server.Protocol.AnalysisProcess>();
            for (var waited = Stopwatch.StartNew(); analysis.WarmsUp && analysis.WarmUpCost is null && waited.Elapsed < TimeSpan.FromMinutes(1);)
                await Task.Delay(100);
            // And the server's own analysis path's warm-up (issue 19, fifteenth session): /readyz says ready after it.
            var serverWarmUp = app.Services.GetRequiredService<Palisade.Server.Hosting.AnalysisPathWarmUp>();
            await serverWarmUp.Done.WaitAsync(TimeSpan.FromMinutes(2));
            if (serverWarmUp.Enabled)
                Console.WriteLine($"  {name}: the server's analysis path warmed up with {serverWarmUp.Answered} analyses; JIT so far {System.Runtime.JitInfo.GetCompiledMethodCount():N0} methods");
            if (analysis.WarmsUp)
                Console.WriteLine($"  {name}: analysis process warmed up with {analysis.WarmUpAnswered} questions, {analysis.ChildCpu.TotalSeconds:F2} s of its CPU; the first {analysis.WarmUpCost?.First.TotalMilliseconds:F1} ms, the last round's median {analysis.WarmUpCost?.Last.TotalMilliseconds:F1} ms");
            var noisyKey = keys["noisy"];
            var budget = app.Services.GetRequiredService<Palisade.Server.Protocol.AnalysisBudget>();
            var noisyAccount = app.Services.GetRequiredService<AccountService>().FindKey(noisyKey.AccessKeyId)!.Record.AccountId;
            var result = new List<Pair>();
            List<double> aloneAll = [], noisyAll = [], aloneServerAll = [], noisyServerAll = [];
            for (var pair = 0; pair < pairs; pair++)
            {
                var aloneProbe = Probe.Start();
                var alone = await QuietReads(TimeSpan.FromSeconds(seconds));
                var aloneUse = aloneProbe.Stop();
                // The noisy tenant is another process, as a real one would be: its own client's work (signing,
                // reading answers of hundreds of KB) is not this process's garbage.
                // --noisy-client-nice N: the noisy client at a lower priority, the nearest this 2-core machine comes
                // to a client on another machine (its signing and reading then take only what the server leaves).
                var start = new ProcessStartInfo(NoisyClientNiceness is null ? Environment.ProcessPath! : "nice") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
                if (NoisyClientNiceness is { } niceness)
                {
                    start.ArgumentList.Add("-n");
                    start.ArgumentList.Add(niceness.ToString(CultureInfo.InvariantCulture));
                    start.ArgumentList.Add(Environment.ProcessPath!);
                }
                // Under `dotnet run` this process is the apphost, which takes no assembly argument; under `dotnet X.dll`, the host needs it.
                if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet")
                    start.ArgumentList.Add(typeof(NoisyNeighbour).Assembly.Location);
                foreach (var argument in new[] { "--noisy-tenant", app.Urls.First(), noisyKey.AccessKeyId, noisyKey.AccessKeySecret, target, kind.ToString(), (kind == Noise.New ? 3000 + 10_000 * pair : 3000).ToString(CultureInfo.InvariantCulture) })
                    start.ArgumentList.Add(argument);
                using var noise = Process.Start(start)!;
                if (await noise.StandardOutput.ReadLineAsync() != "started")
                    throw new InvalidOperationException("the noisy tenant did not start");
                await Task.Delay(500);
                var noisyProbe = Probe.Start();
                var noiseCpu = noise.TotalProcessorTime;
                var analysisProcess = app.Services.GetRequiredService<Palisade.Server.Protocol.AnalysisProcess>();
                var analysisCpu = analysisProcess.ChildCpu;
                var charged = budget.Spent(noisyAccount);
                // What the account's budget holds as the measured phase starts and ends: the burst it had left, and any debt.
                var leftAtStart = budget.Left(noisyAccount);
                var late = analysisProcess.Late;
                var noiseWall = Stopwatch.StartNew();
                var noisyReads = await QuietReads(TimeSpan.FromSeconds(seconds));
                var noisyUse = noisyProbe.Stop() with
                {
                    ClientCores = (noise.TotalProcessorTime - noiseCpu).TotalSeconds / noiseWall.Elapsed.TotalSeconds,
                    AnalysisCores = throttling.AnalysisInChild ? (analysisProcess.ChildCpu - analysisCpu).TotalSeconds / noiseWall.Elapsed.TotalSeconds : null,
                };
                var chargedCores = (budget.Spent(noisyAccount) - charged).TotalSeconds / noiseWall.Elapsed.TotalSeconds;
                var leftAtEnd = budget.Left(noisyAccount);
                // Impacts the analysis process did not answer within its deadline, or not sent while it was behind: compared in-process.
                var lateHere = analysisProcess.Late - late;
                await noise.StandardInput.WriteLineAsync("stop");
                await noise.StandardInput.FlushAsync();
                var counts = (await noise.StandardOutput.ReadLineAsync() ?? "").Split(' ');
                await noise.WaitForExitAsync();
                int answered = int.Parse(counts[0], CultureInfo.InvariantCulture), throttled = int.Parse(counts[1], CultureInfo.InvariantCulture);
                var p = new Pair(Percentile(alone.Client, 0.50), Percentile(alone.Client, 0.99), Percentile(noisyReads.Client, 0.50), Percentile(noisyReads.Client, 0.99),
                    Percentile(alone.Server, 0.99), Percentile(noisyReads.Server, 0.99), answered, throttled, chargedCores, aloneUse, noisyUse);
                result.Add(p);
                aloneAll.AddRange(alone.Client);
                noisyAll.AddRange(noisyReads.Client);
                aloneServerAll.AddRange(alone.Server);
                noisyServerAll.AddRange(noisyReads.Server);
                Console.WriteLine($"  {name}, {Describe(kind)}, pair {pair + 1}/{pairs}: alone {alone.Client.Count} reads p50 {p.AloneP50:F2} ms p99 {p.AloneP99:F2} ms (server {p.AloneServerP99:F2}) [{aloneUse}]; " +
                    $"with noise {noisyReads.Client.Count} reads p50 {p.NoisyP50:F2} ms p99 {p.NoisyP99:F2} ms (server {p.NoisyServerP99:F2}) [{noisyUse}]; p99 {p.Ratio:F2}× (server {p.ServerRatio:F2}×); " +
                    $"noisy answered {answered}, throttled {throttled}, charged {chargedCores:F2} CPU-s/s (budget {leftAtStart:F2} → {leftAtEnd:F2} s){(throttling.AnalysisInChild ? $", {lateHere} compared in-process (the analysis process late)" : "")}");
                if (GcDetail)
                    Console.WriteLine($"    alone: {aloneUse.Collections}\n    with noise: {noisyUse.Collections}");
            }
            return new Result(result, Percentile(aloneAll, 0.50), Percentile(aloneAll, 0.99), Percentile(noisyAll, 0.50), Percentile(noisyAll, 0.99), Percentile(aloneServerAll, 0.99), Percentile(noisyServerAll, 0.99));
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>The two tenants on a started server: the noisy one with 10 groups and 100 instances, the quiet one with 2 and 10.</summary>
    private static async Task<(EcsClient Noisy, EcsClient Quiet, Dictionary<string, ClientCredentials> Keys, string Target)> TenantsAsync(WebApplication app)
    {
        var accounts = app.Services.GetRequiredService<AccountService>();
        var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 16 }) { BaseAddress = new Uri(app.Urls.First()) };
        var keys = new Dictionary<string, ClientCredentials>();
        EcsClient Client(string name)
        {
            var key = accounts.CreateAccessKey(accounts.CreateAccount(name).AccountId);
            keys[name] = new ClientCredentials(key.AccessKeyId, key.AccessKeySecret);
            return new EcsClient(http, keys[name]);
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
        return (noisy, quiet, keys, groups[0]);
    }

    /// <summary>
    /// <c>--noisy-profile [--runs 30]</c>: what one DescribeChangeImpact with a new question costs this
    /// process (server and, here, its client): wall time, CPU, bytes allocated, answer size, and which
    /// types took the bytes; one analysis at a time, no budget.
    /// </summary>
    public static async Task ProfileAsync(int runs)
    {
        // The before kept per account revision (what ships) against loaded afresh for every question
        // (no read caching: the slow twin), in one process, one after the other.
        // Two rounds: the first configuration of the first round also pays for this process's JIT.
        for (var round = 1; round <= 2; round++)
        {
            Console.WriteLine($"round {round}");
            await ProfileAsync(runs, "before kept per revision, compared in the analysis process", cacheReads: true, inChild: true);
            await ProfileAsync(runs, "before kept per revision, compared in-process", cacheReads: true, inChild: false);
            await ProfileAsync(runs, "before loaded per question (reads not cached), in-process", cacheReads: false, inChild: false);
        }
    }

    /// <summary>
    /// <c>--noisy-warmth [--runs 200]</c>: a fresh server's first new questions, one at a time, in batches
    /// of 20: what each cost the analysis process (its whole process), this process (server and client)
    /// and the account's charge. A cold analysis process (its code still being compiled and tiered up)
    /// shows as batches costlier than the later ones.
    /// </summary>
    public static async Task WarmthAsync(int runs, bool warmUp)
    {
        var directory = Path.Combine(Path.GetTempPath(), "palisade-noisy-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "master.key"), Convert.ToBase64String(new byte[32]));
        var app = PalisadeServer.Build(new ServeSettings
        {
            Urls = "http://127.0.0.1:0", DataDirectory = directory,
            Options = new ServerOptions { Throttling = new Throttling { AnalysisSecondsPerSecond = 0, RequestsPerSecond = 0, AccountRequestsPerSecond = 0, AccountBytesPerSecond = 0, AnalysisWarmUp = warmUp } },
        });
        var started = Stopwatch.StartNew();
        await app.StartAsync();
        try
        {
            var (noisy, _, keys, target) = await TenantsAsync(app);
            var budget = app.Services.GetRequiredService<Palisade.Server.Protocol.AnalysisBudget>();
            var account = app.Services.GetRequiredService<AccountService>().FindKey(keys["noisy"].AccessKeyId)!.Record.AccountId;
            var child = app.Services.GetRequiredService<Palisade.Server.Protocol.AnalysisProcess>();
            child.Deadline = TimeSpan.FromMinutes(1);
            // The warm-up is the server's start: measured after it (a minute at most).
            for (var waited = Stopwatch.StartNew(); child.WarmsUp && child.WarmUpCost is null && waited.Elapsed < TimeSpan.FromMinutes(1);)
                await Task.Delay(100);
            Console.WriteLine($"load {LoadAverage()}; server started, tenants made (and the warm-up waited for) in {started.Elapsed.TotalSeconds:F1} s; analysis process {(child.ChildId is { } id ? $"{id} running, {child.ChildCpu.TotalMilliseconds:F0} ms CPU so far" : "not started")}; " +
                $"warm-up {(warmUp ? $"{child.WarmUpAnswered} questions answered{(child.WarmUpCost is { } cost ? $", the first {cost.First.TotalMilliseconds:F1} ms, the last round's median {cost.Last.TotalMilliseconds:F1} ms" : ", not done")}" : "off")}");
            const int batch = 20;
            for (var first = 0; first < runs; first += batch)
            {
                var wall = Stopwatch.StartNew();
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var childCpu = child.ChildCpu;
                var charged = budget.Spent(account);
                for (var i = first; i < first + batch; i++)
                {
                    var p = (3000 + i).ToString(CultureInfo.InvariantCulture);
                    var response = await noisy.SendAsync("DescribeChangeImpact", [new("RegionId", "cn-hangzhou"), new("ChangeAction", "AuthorizeSecurityGroup"), new("SecurityGroupId", target),
                        new("IpProtocol", "tcp"), new("PortRange", $"{p}/{p}"), new("SourceCidrIp", "0.0.0.0/0")]);
                    if (!response.IsSuccess)
                        throw new InvalidOperationException(response.Code);
                }
                Console.WriteLine($"  questions {first + 1}-{first + batch}: {wall.Elapsed.TotalMilliseconds / batch:F1} ms wall, analysis process {(child.ChildCpu - childCpu).TotalMilliseconds / batch:F1} ms CPU, " +
                    $"this process {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds / batch:F1} ms, charged {(budget.Spent(account) - charged).TotalMilliseconds / batch:F1} ms each; {child.Late} late in all");
            }
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task ProfileAsync(int runs, string label, bool cacheReads, bool inChild)
    {
        var directory = Path.Combine(Path.GetTempPath(), "palisade-noisy-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "master.key"), Convert.ToBase64String(new byte[32]));
        var app = PalisadeServer.Build(new ServeSettings
        {
            Urls = "http://127.0.0.1:0", DataDirectory = directory,
            Options = new ServerOptions { CacheReads = cacheReads, Throttling = new Throttling { AnalysisSecondsPerSecond = 0, RequestsPerSecond = 0, AccountRequestsPerSecond = 0, AccountBytesPerSecond = 0, AnalysisInChild = inChild } },
        });
        await app.StartAsync();
        try
        {
            var (noisy, _, keys, target) = await TenantsAsync(app);
            var budget = app.Services.GetRequiredService<Palisade.Server.Protocol.AnalysisBudget>();
            var account = app.Services.GetRequiredService<AccountService>().FindKey(keys["noisy"].AccessKeyId)!.Record.AccountId;
            async Task<int> Ask(int port)
            {
                var p = port.ToString(CultureInfo.InvariantCulture);
                var response = await noisy.SendAsync("DescribeChangeImpact", [new("RegionId", "cn-hangzhou"), new("ChangeAction", "AuthorizeSecurityGroup"), new("SecurityGroupId", target),
                    new("IpProtocol", "tcp"), new("PortRange", $"{p}/{p}"), new("SourceCidrIp", "0.0.0.0/0")]);
                return response.IsSuccess ? response.Body.Length : throw new InvalidOperationException(response.Code);
            }
            // A profile of the analysis process waits for it however loaded the machine (no in-process fallback).
            app.Services.GetRequiredService<Palisade.Server.Protocol.AnalysisProcess>().Deadline = TimeSpan.FromMinutes(1);
            for (var i = 0; i < 5; i++)
                await Ask(2000 + i);
            GcDetail = true;
            var probe = Probe.Start();
            var allocated = GC.GetTotalAllocatedBytes(true);
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var child = app.Services.GetRequiredService<Palisade.Server.Protocol.AnalysisProcess>();
            var childCpu = child.ChildCpu;
            var charged = budget.Spent(account);
            var wall = Stopwatch.StartNew();
            long answered = 0;
            for (var i = 0; i < runs; i++)
                answered += await Ask(3000 + i);
            var elapsed = wall.Elapsed;
            var bytes = GC.GetTotalAllocatedBytes(true) - allocated;
            var used = Process.GetCurrentProcess().TotalProcessorTime - cpu;
            var usedThere = child.ChildCpu - childCpu;
            var use = probe.Stop();
            var chargedEach = (budget.Spent(account) - charged).TotalMilliseconds / runs;
            // The same question again, answered from the read cache: this process's CPU for a cached answer
            // of the same size is the client's work (signing, reading) and the server's cheapest path, so the
            // difference is what the server did for a new question here.
            var cpuCached = Process.GetCurrentProcess().TotalProcessorTime;
            var chargedBeforeHits = budget.Spent(account);
            for (var i = 0; i < (cacheReads ? runs : 0); i++)
                await Ask(3000);
            var usedCached = Process.GetCurrentProcess().TotalProcessorTime - cpuCached;
            var chargedHit = cacheReads ? (budget.Spent(account) - chargedBeforeHits).TotalMilliseconds / runs : 0;
            Console.WriteLine($"DescribeChangeImpact, {label}, a new question each time, 100 instances, {runs} runs one at a time (load {LoadAverage()}): " +
                $"{elapsed.TotalMilliseconds / runs:F1} ms wall, {used.TotalMilliseconds / runs:F1} ms CPU here (server and client){(inChild ? $" + {usedThere.TotalMilliseconds / runs:F1} ms in the analysis process" : "")}, {bytes / runs / 1024.0:F0} KiB allocated, answer {answered / runs / 1024.0:F0} KiB (characters) each; GC {use.Gen0}/{use.Gen1}/{use.Gen2}");
            if (cacheReads)
                Console.WriteLine($"  charged to the account {chargedEach:F1} ms each; the node's CPU for it: {(used - usedCached).TotalMilliseconds / runs:F1} ms here above a cached answer of the same question ({usedCached.TotalMilliseconds / runs:F1} ms)" +
                $"{(inChild ? $" + {usedThere.TotalMilliseconds / runs:F1} ms in the analysis process" : "")} = {((used - usedCached) + usedThere).TotalMilliseconds / runs:F1} ms; " +
                $"a cached answer charged {chargedHit:F2} ms (its rendering)");
            Console.WriteLine($"  {use.Collections}");
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static double Percentile(List<double> values, double p)
    {
        values.Sort();
        return values[(int)Math.Clamp(Math.Ceiling(values.Count * p) - 1, 0, values.Count - 1)];
    }

    /// <summary>
    /// Where the time went during a phase (server and clients share this process): CPU used by the
    /// process per second of wall time, garbage collections and the time they paused every thread,
    /// the thread pool's largest backlog and thread count, sampled every 10 ms.
    /// </summary>
    private sealed class Probe
    {
        private readonly GcEvents? _events = GcDetail ? new() : null;
        private readonly long _allocated = GC.GetTotalAllocatedBytes();
        private readonly Stopwatch _wall = Stopwatch.StartNew();
        private readonly TimeSpan _cpu = Process.GetCurrentProcess().TotalProcessorTime;
        private readonly TimeSpan _pause = GC.GetTotalPauseDuration();
        private readonly int[] _collections = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
        // The server's process compiling (first compilations and tiering up): what a cold path costs a phase.
        private readonly long _jitted = System.Runtime.JitInfo.GetCompiledMethodCount();
        private readonly TimeSpan _jitTime = System.Runtime.JitInfo.GetCompilationTime();
        private readonly CancellationTokenSource _stop = new();
        private long _maxQueue;
        private int _maxThreads;
        private Task _sampler = Task.CompletedTask;

        public static Probe Start()
        {
            var probe = new Probe();
            probe._sampler = Task.Run(async () =>
            {
                while (!probe._stop.IsCancellationRequested)
                {
                    probe._maxQueue = Math.Max(probe._maxQueue, ThreadPool.PendingWorkItemCount);
                    probe._maxThreads = Math.Max(probe._maxThreads, ThreadPool.ThreadCount);
                    try { await Task.Delay(10, probe._stop.Token); } catch (OperationCanceledException) { }
                }
            });
            return probe;
        }

        public Use Stop()
        {
            _stop.Cancel();
            _sampler.Wait();
            var wall = _wall.Elapsed.TotalSeconds;
            var allocated = (GC.GetTotalAllocatedBytes() - _allocated) / wall / (1 << 20);
            _events?.Dispose();
            return new Use((Process.GetCurrentProcess().TotalProcessorTime - _cpu).TotalSeconds / wall,
                GC.CollectionCount(0) - _collections[0], GC.CollectionCount(1) - _collections[1], GC.CollectionCount(2) - _collections[2],
                (GC.GetTotalPauseDuration() - _pause).TotalMilliseconds, _maxQueue, _maxThreads, allocated, _events?.Summary() ?? "")
            {
                Jitted = System.Runtime.JitInfo.GetCompiledMethodCount() - _jitted,
                JitMs = (System.Runtime.JitInfo.GetCompilationTime() - _jitTime).TotalMilliseconds,
            };
        }
    }

    private sealed record Use(double Cores, int Gen0, int Gen1, int Gen2, double PauseMs, long MaxQueue, int MaxThreads, double AllocatedMiBPerSecond, string Collections, double? ClientCores = null, double? AnalysisCores = null)
    {
        public long Jitted { get; init; }

        public double JitMs { get; init; }

        public override string ToString() =>
            $"{Cores:F2} cores{(ClientCores is { } c ? $" (noisy client process {c:F2})" : "")}{(AnalysisCores is { } a ? $" (analysis process {a:F2})" : "")}, GC {Gen0}/{Gen1}/{Gen2} pausing {PauseMs:F0} ms, allocating {AllocatedMiBPerSecond:F0} MiB/s, pool queue ≤ {MaxQueue}, threads ≤ {MaxThreads}, JIT {Jitted} methods {JitMs:F0} ms";
    }

    /// <summary>
    /// The runtime's own GC events in this process during a phase: why each gen1/gen2 collection
    /// started, and (from the allocation ticks, one per ~100 KB allocated) which types took the
    /// bytes, small- and large-object heap apart. Printed with <c>--gc-detail</c>.
    /// </summary>
    private sealed class GcEvents : System.Diagnostics.Tracing.EventListener
    {
        private static readonly string[] Reasons =
            ["small alloc", "induced", "low memory", "empty", "large alloc", "out of space SOH", "out of space LOH", "induced not forced", "stress", "low memory induced", "induced compacting", "provisional", "BGC"];
        private readonly Dictionary<string, int> _starts = [];
        private readonly Dictionary<string, long> _types = [];
        private readonly Dictionary<string, double> _paused = [];
        private string _current = "?";
        private DateTime? _suspended;
        private readonly Lock _gate = new();

        protected override void OnEventSourceCreated(System.Diagnostics.Tracing.EventSource source)
        {
            if (source.Name == "Microsoft-Windows-DotNETRuntime")
                EnableEvents(source, System.Diagnostics.Tracing.EventLevel.Verbose, (System.Diagnostics.Tracing.EventKeywords)1); // GC
        }

        protected override void OnEventWritten(System.Diagnostics.Tracing.EventWrittenEventArgs e)
        {
            if (e.Payload is null || e.PayloadNames is null)
                return;
            object? Field(string name) => e.PayloadNames.IndexOf(name) is >= 0 and var i ? e.Payload[i] : null;
            if (e.EventName is { } n && n.StartsWith("GCStart", StringComparison.Ordinal))
            {
                var depth = Convert.ToInt32(Field("Depth"), CultureInfo.InvariantCulture);
                var reason = Convert.ToInt32(Field("Reason"), CultureInfo.InvariantCulture);
                var key = $"gen{depth} {(reason < Reasons.Length ? Reasons[reason] : reason.ToString(CultureInfo.InvariantCulture))}{(Convert.ToInt32(Field("Type"), CultureInfo.InvariantCulture) == 1 ? " (background)" : "")}";
                lock (_gate)
                {
                    _starts[key] = _starts.GetValueOrDefault(key) + 1;
                    _current = key;
                }
            }
            else if (e.EventName is { } b && b.StartsWith("GCSuspendEEBegin", StringComparison.Ordinal))
                _suspended = e.TimeStamp;
            else if (e.EventName is { } r && r.StartsWith("GCRestartEEEnd", StringComparison.Ordinal) && _suspended is { } since)
            {
                lock (_gate)
                    _paused[_current] = _paused.GetValueOrDefault(_current) + (e.TimeStamp - since).TotalMilliseconds;
                _suspended = null;
            }
            else if (e.EventName is { } a && a.StartsWith("GCAllocationTick", StringComparison.Ordinal))
            {
                var kind = Convert.ToInt32(Field("AllocationKind"), CultureInfo.InvariantCulture) == 1 ? "LOH " : "";
                var amount = Field("AllocationAmount64") is { } big ? Convert.ToInt64(big, CultureInfo.InvariantCulture) : Convert.ToInt64(Field("AllocationAmount"), CultureInfo.InvariantCulture);
                var key = kind + (Field("TypeName") as string ?? "?");
                lock (_gate)
                    _types[key] = _types.GetValueOrDefault(key) + amount;
            }
        }

        public string Summary()
        {
            lock (_gate)
            {
                var total = Math.Max(1, _types.Values.Sum());
                return $"collections: {string.Join(", ", _starts.OrderByDescending(p => p.Value).Select(p => $"{p.Key} ×{p.Value} ({_paused.GetValueOrDefault(p.Key):F0} ms stopped)"))}; "
                    + $"allocated by type: {string.Join(", ", _types.OrderByDescending(p => p.Value).Take(12).Select(p => $"{p.Key} {100.0 * p.Value / total:F0}%"))}";
            }
        }
    }
}
