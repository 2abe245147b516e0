using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Palisade.Agent.Kernel;
using Palisade.Client;

namespace Palisade.Agent.Following;

/// <summary>
/// The agent's change path compiled before the first change it must apply (issue 17, twenty-fifth
/// session): the runtime compiles a method the first time it runs and again, optimized, after some
/// thirty calls, so an agent's first join or rule change after its start paid for compiling the
/// woken poll's reading (<see cref="EcsControlPlane"/>, the part differences, the held union), the
/// rendering and the nft text — 0.7–1.4 s of a 1,000-agent process's first measured join in the
/// twenty-fourth session. Once per process, in the background beside the agent's first poll, the real
/// code runs over answers a server really gave (<c>WarmUp/*.json</c>, embedded; the server's tests
/// check a server set up the same way still answers them, <c>AgentWarmUpAnswersTests</c>): a first
/// policy, then a join (a part difference), its leave, a rule added and revoked, replayed until the
/// runtime has promoted what they run. It runs a private <see cref="EcsControlPlane"/> over an
/// in-memory handler and a private <see cref="EnforcementAgent"/> over a kernel that applies nothing:
/// no request leaves the process, the kernel and the agent's own state are never touched, and nothing
/// it made is kept.
/// </summary>
public static class AgentWarmUp
{
    /// <summary>The host and region the answers were captured for.</summary>
    internal const string Host = "warm-up-0";

    internal const string Region = "cn-hangzhou";

    /// <summary>The answers in the order they are asked for: the first policy, then four wakes that bring the part back to it (so they repeat).</summary>
    internal static readonly string[] AnswerNames = ["first-policy", "join", "leave", "rule", "revoke"];

    /// <summary>
    /// Rounds of the four changes: the first two compile the path (tier 0); the rest, in two halves each
    /// after the process compiled nothing for 300 ms (the runtime counts calls only once no new method was
    /// compiled for 100 ms), make every method of it called more than 30 times counted, so it is compiled
    /// optimized in the background.
    /// <c>PALISADE_AGENT_WARM_UP_ROUNDS</c> changes it (measurement only: 0 none, 1 tier 0 alone).
    /// </summary>
    internal static int DefaultRounds =>
        int.TryParse(Environment.GetEnvironmentVariable("PALISADE_AGENT_WARM_UP_ROUNDS"), out var rounds) && rounds >= 0 ? rounds : 40;

    /// <summary>What a warm-up did and cost.</summary>
    public sealed record Result(int Changes, long Rebuilt, TimeSpan Wall, TimeSpan Cpu, long Allocated, long MethodsCompiled, TimeSpan CompilationTime)
    {
        public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"change path warmed up: {Changes} changes replayed ({Rebuilt} parts rebuilt from differences) in {Wall.TotalMilliseconds:F0} ms, {Cpu.TotalMilliseconds:F0} ms CPU in the process, {Allocated / 1024.0 / 1024.0:F1} MiB allocated; {MethodsCompiled} methods compiled in {CompilationTime.TotalMilliseconds:F0} ms");
    }

    /// <summary>Warm-ups run in this process (for tests: once, whatever the number of agents).</summary>
    internal static int Runs;

    /// <summary>Warm-ups <see cref="OncePerProcess"/> started (for tests: at most one).</summary>
    internal static int OnceRuns;

    /// <summary>Changes a warm-up applied (for tests).</summary>
    internal static long ChangesRun;

    private static Task<Result>? _once;

    /// <summary>
    /// The process's warm-up: started by the first call (on the thread pool, at once), the same task for
    /// every later one; <paramref name="started"/> says whether this call started it (that agent logs it).
    /// </summary>
    public static Task<Result> OncePerProcess(out bool started)
    {
        if (Volatile.Read(ref _once) is { } running)
        {
            started = false;
            return running;
        }
        var mine = new Task<Task<Result>>(() => RunAsync(DefaultRounds, CancellationToken.None));
        if (Interlocked.CompareExchange(ref _once, mine.Unwrap(), null) is { } other)
        {
            started = false;
            return other;
        }
        started = true;
        Interlocked.Increment(ref OnceRuns);
        mine.Start(TaskScheduler.Default);
        return _once!;
    }

    /// <summary>One warm-up (each call runs it; the agent's is <see cref="OncePerProcess"/>).</summary>
    internal static async Task<Result> RunAsync(int rounds, CancellationToken cancel)
    {
        Interlocked.Increment(ref Runs);
        if (rounds == 0)
            return new Result(0, 0, TimeSpan.Zero, TimeSpan.Zero, 0, 0, TimeSpan.Zero);
        var (clock, cpu, allocated) = (Stopwatch.StartNew(), Process.GetCurrentProcess().TotalProcessorTime, GC.GetTotalAllocatedBytes());
        var (methods, compiling) = (System.Runtime.JitInfo.GetCompiledMethodCount(), System.Runtime.JitInfo.GetCompilationTime());
        var answers = Answers();
        using var handler = new Canned(answers);
        using var http = new HttpClient(handler) { BaseAddress = new Uri("http://warm-up.invalid/") };
        var plane = new EcsControlPlane(new EcsClient(http, new ClientCredentials("warm-up", "warm-up")), Region);
        var agent = new EnforcementAgent(plane, new NoKernel(), new AgentOptions(Host) { WarmUp = false, UsageInterval = TimeSpan.Zero, FlowSampling = false }, _ => { });
        var policy = await plane.FetchAsync(Host, cancel);
        await agent.ConvergeAsync(policy, cancel);
        var changes = 0;
        for (var round = 0; round < rounds; round++)
        {
            // After the first rounds (compiled, tier 0), the rest in two halves, each once the process compiled nothing
            // for a while: the runtime counts calls only 100 ms after the last new method it compiled (an agent's start,
            // a thousand in one process, compiles for seconds), and promotes a method after 30 counted calls.
            if (round == 2 || (round > 2 && round == 2 + (rounds - 2) / 2))
                await QuietAsync(TimeSpan.FromSeconds(30), cancel);
            for (var c = 1; c < answers.Length; c++)
            {
                // As the agent's loop polls: its report riding on the poll (the canned answer takes none: it goes apart, unsent).
                var report = new StatusReport(policy.Revision, [.. agent.Applied!.Nics.Select(n => n.Ref)], [], null);
                var wake = await plane.WaitForPolicyAsync(Host, policy.Revision, TimeSpan.FromSeconds(5), report, cancel);
                if (wake.Policy is not { } next)
                    throw new InvalidOperationException($"the canned answer {AnswerNames[c]} woke no policy");
                if (!await agent.ConvergeAsync(next, cancel))
                    throw new InvalidOperationException($"the canned answer {AnswerNames[c]} changed nothing");
                policy = next;
                changes++;
                Interlocked.Increment(ref ChangesRun);
            }
        }
        if (plane.Differences.FetchedWholeAgain > 0 || handler.Unexpected is { } unexpected)
            throw new InvalidOperationException($"the canned answers do not add up: {plane.Differences.FetchedWholeAgain} fetched whole again{(handler.Unexpected is { } u ? $", {u}" : "")}");
        // The optimized code is compiled in the background: waited for (a little), so the cost is told whole.
        await QuietAsync(TimeSpan.FromSeconds(5), cancel);
        return new Result(changes, plane.Differences.Rebuilt, clock.Elapsed, Process.GetCurrentProcess().TotalProcessorTime - cpu, GC.GetTotalAllocatedBytes() - allocated,
            System.Runtime.JitInfo.GetCompiledMethodCount() - methods, System.Runtime.JitInfo.GetCompilationTime() - compiling);
    }

    /// <summary>Until the process compiled no method for 300 ms, or <paramref name="most"/> passed.</summary>
    private static async Task QuietAsync(TimeSpan most, CancellationToken cancel)
    {
        var (last, quiet) = (System.Runtime.JitInfo.GetCompiledMethodCount(), 0);
        for (var waited = 0; waited < most.TotalMilliseconds / 100 && quiet < 3; waited++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), cancel);
            var now = System.Runtime.JitInfo.GetCompiledMethodCount();
            (quiet, last) = (now == last ? quiet + 1 : 0, now);
        }
    }

    /// <summary>The embedded answers, as the server's bytes.</summary>
    internal static byte[][] Answers()
    {
        var assembly = typeof(AgentWarmUp).Assembly;
        return [.. AnswerNames.Select(name =>
        {
            using var stream = assembly.GetManifestResourceStream($"Palisade.Agent.WarmUp.{name}.json") ?? throw new InvalidOperationException($"no embedded answer {name}");
            using var bytes = new MemoryStream();
            stream.CopyTo(bytes);
            return bytes.ToArray();
        })];
    }

    /// <summary>
    /// Answers the first request (<c>DescribeHostPolicy</c>) with the first policy and each later one
    /// (<c>DescribeChanges</c>) with the next wake, round and round; nothing leaves the process.
    /// </summary>
    private sealed class Canned(byte[][] answers) : HttpMessageHandler
    {
        private int _next;

        /// <summary>The first request that was not the action expected.</summary>
        public string? Unexpected { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var index = _next == 0 ? 0 : 1 + (_next - 1) % (answers.Length - 1);
            var expected = index == 0 ? "DescribeHostPolicy" : "DescribeChanges";
            var action = request.Headers.TryGetValues("x-acs-action", out var header) ? header.FirstOrDefault() : null;
            if (action != expected)
                Unexpected ??= $"asked {action ?? "(no action)"} where {expected} was expected";
            _next++;
            var content = new ByteArrayContent(answers[index]);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = content, RequestMessage = request });
        }
    }

    /// <summary>A kernel that applies nothing and holds no table: the warm-up never reaches the host's.</summary>
    private sealed class NoKernel : INetfilter
    {
        public Task ApplyAsync(string transaction, CancellationToken cancel) => Task.CompletedTask;

        public Task CheckAsync(string transaction, CancellationToken cancel) => Task.CompletedTask;

        public Task<KernelShape?> ReadBackAsync(CancellationToken cancel) => Task.FromResult<KernelShape?>(null);

        public Task<IReadOnlyList<TrackedConnection>> ListConnectionsAsync(CancellationToken cancel) => Task.FromResult<IReadOnlyList<TrackedConnection>>([]);

        public Task DeleteConnectionAsync(TrackedConnection connection, CancellationToken cancel) => Task.CompletedTask;

        public Task<IReadOnlyList<string>> CheckPrerequisitesAsync(CancellationToken cancel) => Task.FromResult<IReadOnlyList<string>>([]);
    }
}
