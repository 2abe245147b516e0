using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Palisade.Agent.Following;
using Palisade.Agent.Kernel;
using Palisade.Client;

/// <summary>
/// An agent's first change after its start, in a fresh process (issue 17, twenty-fifth session): with
/// <c>--agent-capture FILE N</c> one account of N hosts is set up on in-process nodes as the fleet's,
/// and host 0's agent's answers (its first fetch, then the woken polls carrying its policy after a join
/// into "db" and a rule in "common") are written to FILE; with <c>--agent-first-change FILE
/// --agent-warm-up on|off</c> a fresh process (no node, nothing compiled but the bench's start) replays
/// them to an <see cref="EcsControlPlane"/> and an <see cref="EnforcementAgent"/> over a kernel that
/// applies nothing, after the process's warm-up (<see cref="AgentWarmUp.OncePerProcess"/>, the entry
/// point every agent's <c>RunAsync</c> starts) or without it: each step's wall time, the methods the
/// runtime compiled during it and their compilation time, and its allocation. <c>--agent-shared</c>: the
/// agent's plane shares content as the fleet bench's simulated agents do.
/// </summary>
internal static class AgentFirstChange
{
    private const string Region = "cn-hangzhou";

    private sealed record Capture(string Host, List<string> Answers);

    /// <summary>A tape that answers <paramref name="answers"/> in order (<see cref="AgentCost.Tape"/>'s replay).</summary>
    private static AgentCost.Tape Replaying(List<string> answers)
    {
        var tape = new AgentCost.Tape(null) { Next = 0 };
        tape.Answers.AddRange(answers);
        return tape;
    }

    public static async Task CaptureAsync(Fleet fleet, string file, int hosts, int nicsPerHost)
    {
        var (api, common, db, vsw, host, credential) = await Agents.SetupForOneAsync(fleet, hosts, nicsPerHost);
        var tape = new AgentCost.Tape(null);
        var plane = new EcsControlPlane(new EcsClient(new HttpClient(tape) { BaseAddress = fleet.Urls[0], Timeout = TimeSpan.FromMinutes(2) }, credential), Region);
        var policy = await plane.FetchAsync(host, CancellationToken.None);
        async Task WokenAsync(string action, object parameters)
        {
            await api.CallAsync(action, parameters);
            policy = (await plane.WaitForPolicyAsync(host, policy.Revision, TimeSpan.FromSeconds(10), null, CancellationToken.None)).Policy ?? throw new InvalidOperationException("the wake carried no policy");
        }
        await WokenAsync("RunInstances", new { RegionId = Region, SecurityGroupId = db, VSwitchId = vsw, ImageId = "img", InstanceType = "ecs.g7.large", Amount = 1 });
        await WokenAsync("AuthorizeSecurityGroup", new { RegionId = Region, SecurityGroupId = common, IpProtocol = "tcp", PortRange = "20000/20000", SourceCidrIp = "192.0.2.0/24" });
        await WokenAsync("RunInstances", new { RegionId = Region, SecurityGroupId = db, VSwitchId = vsw, ImageId = "img", InstanceType = "ecs.g7.large", Amount = 1 });
        File.WriteAllText(file, JsonSerializer.Serialize(new Capture(host, tape.Answers)));
        Console.WriteLine($"captured {tape.Answers.Count} answers of host {host} ({plane.Differences.Rebuilt} parts rebuilt from differences): {string.Join(", ", tape.Answers.Select(a => a.Length.ToString("N0", CultureInfo.InvariantCulture)))} chars");
    }

    public static async Task RunAsync(string file, bool warmUp, bool shared, int agents)
    {
        var capture = JsonSerializer.Deserialize<Capture>(File.ReadAllText(file))!;
        var process = Process.GetCurrentProcess();
        (TimeSpan Wall, TimeSpan Cpu, long Methods, TimeSpan Jit, long Bytes) Mark()
        {
            process.Refresh();
            return (Stopwatch.GetElapsedTime(0), process.TotalProcessorTime, System.Runtime.JitInfo.GetCompiledMethodCount(), System.Runtime.JitInfo.GetCompilationTime(), GC.GetTotalAllocatedBytes());
        }
        string Since((TimeSpan Wall, TimeSpan Cpu, long Methods, TimeSpan Jit, long Bytes) before, TimeSpan wall) =>
            string.Create(CultureInfo.InvariantCulture, $"{wall.TotalMilliseconds:F1} ms wall, {(Mark().Cpu - before.Cpu).TotalMilliseconds:F0} ms CPU, {Mark().Methods - before.Methods} methods compiled in {(Mark().Jit - before.Jit).TotalMilliseconds:F1} ms, {(Mark().Bytes - before.Bytes) / 1024.0:F0} KiB allocated");
        Console.WriteLine($"agent's first change, fresh process: warm-up {(warmUp ? "on" : "off")}, {(agents > 1 ? $"{agents} agents sharing content (the fleet bench's)" : shared ? "shared content (the fleet bench's agents)" : "own content (a real agent)")}; {capture.Answers.Count} answers of host {capture.Host}; methods compiled at the start {System.Runtime.JitInfo.GetCompiledMethodCount()}");
        if (warmUp)
        {
            var before = Mark();
            var clock = Stopwatch.StartNew();
            var result = await AgentWarmUp.OncePerProcess(out _);
            Console.WriteLine($"  warm-up: {Since(before, clock.Elapsed)}; its own line: {result}");
        }
        if (agents > 1)
        {
            await ManyAsync(capture, agents, Mark, Since);
            return;
        }
        if (agents > 1)
        {
            await ManyAsync(capture, agents, Mark, Since);
            return;
        }
        var plane = new EcsControlPlane(new EcsClient(new HttpClient(Replaying(capture.Answers)) { BaseAddress = new Uri("http://replay.invalid/") }, new ClientCredentials("bench", "bench")), Region)
        {
            Shared = shared ? new SharedContent() : null,
        };
        var agent = new EnforcementAgent(plane, new AgentCost.NullKernel(), new AgentOptions(capture.Host) { WarmUp = false }, _ => { });
        {
            var before = Mark();
            var clock = Stopwatch.StartNew();
            await agent.ConvergeAsync(await plane.FetchAsync(capture.Host, CancellationToken.None), CancellationToken.None);
            Console.WriteLine($"  first policy: {Since(before, clock.Elapsed)}");
        }
        var policy = agent.Applied!;
        foreach (var step in new[] { "first join", "first rule change", "second join" })
        {
            var before = Mark();
            var clock = Stopwatch.StartNew();
            var wake = await plane.WaitForPolicyAsync(capture.Host, policy.Revision, TimeSpan.FromSeconds(5), CancellationToken.None);
            await agent.ConvergeAsync(wake.Policy!, CancellationToken.None);
            Console.WriteLine($"  {step}: {Since(before, clock.Elapsed)}");
            policy = agent.Applied!;
        }
        Console.WriteLine($"  parts rebuilt from differences {plane.Differences.Rebuilt}, fetched whole again {plane.Differences.FetchedWholeAgain}");
    }

    /// <summary>
    /// The fleet bench's agents in small (<c>--agents N</c>): N agents of one process sharing content, each
    /// fed the same answers at once on the thread pool — their first policies, one warm-up change of each kind
    /// (the join, the rule), as the fleet bench's <c>--warmup 1</c>, then the measured join.
    /// </summary>
    private static async Task ManyAsync(Capture capture, int count, Func<(TimeSpan Wall, TimeSpan Cpu, long Methods, TimeSpan Jit, long Bytes)> mark,
        Func<(TimeSpan Wall, TimeSpan Cpu, long Methods, TimeSpan Jit, long Bytes), TimeSpan, string> since)
    {
        var shared = new SharedContent();
        var agents = Enumerable.Range(0, count).Select(_ =>
        {
            var plane = new EcsControlPlane(new EcsClient(new HttpClient(Replaying(capture.Answers)) { BaseAddress = new Uri("http://replay.invalid/") }, new ClientCredentials("bench", "bench")), Region) { Shared = shared };
            return (Plane: plane, Agent: new EnforcementAgent(plane, new AgentCost.NullKernel(), new AgentOptions(capture.Host) { WarmUp = false }, _ => { }));
        }).ToList();
        async Task StepAsync(string step, Func<(EcsControlPlane Plane, EnforcementAgent Agent), Task> each)
        {
            var before = mark();
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(agents.Select(a => Task.Run(() => each(a))));
            Console.WriteLine($"  {count} agents' {step}: {since(before, clock.Elapsed)}");
        }
        await StepAsync("first policies", async a => await a.Agent.ConvergeAsync(await a.Plane.FetchAsync(capture.Host, CancellationToken.None), CancellationToken.None));
        await Task.Delay(TimeSpan.FromSeconds(3));
        foreach (var step in new[] { "warm-up join", "warm-up rule change", "measured join" })
        {
            await StepAsync(step, async a => await a.Agent.ConvergeAsync((await a.Plane.WaitForPolicyAsync(capture.Host, a.Agent.AppliedRevision, TimeSpan.FromSeconds(5), CancellationToken.None)).Policy!, CancellationToken.None));
            await Task.Delay(TimeSpan.FromSeconds(3));
        }
    }
}
