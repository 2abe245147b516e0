using Palisade.Agent.Following;
using Palisade.Agent.Kernel;
using Palisade.Agent.Rendering;
using Palisade.Agent.Tests.Rendering;
using Palisade.TestKit;

namespace Palisade.Agent.Tests.Following;

/// <summary>
/// The change path warmed up at the agent's start (<see cref="AgentWarmUp"/>, issue 17, twenty-fifth
/// session): it runs the path it claims, once per process, beside the agent and never through its kernel
/// or its control plane, and a failed one costs the agent one log line. (That its answers are what a
/// server answers: the server's <c>AgentWarmUpAnswersTests</c>.)
/// </summary>
public sealed class AgentWarmUpTests
{
    /// <summary>Counts what the agent asks; each fetch the same policy, each wait "nothing changed".</summary>
    private sealed class CountingControlPlane : IControlPlane
    {
        private int _fetches;
        private int _waits;

        public int Fetches => Volatile.Read(ref _fetches);

        public int Requests => Fetches + Volatile.Read(ref _waits);

        /// <summary>The revision the next fetch answers.</summary>
        public long Revision { get; set; } = 1;

        public Task<HostPolicy> FetchAsync(string hostName, CancellationToken cancel)
        {
            Interlocked.Increment(ref _fetches);
            return Task.FromResult(new HostPolicy(Revision, Scenario.Bindings, Scenario.State(web1InWeb: Revision % 2 == 1)));
        }

        public async Task<bool> WaitForChangeAsync(string hostName, long afterRevision, TimeSpan wait, CancellationToken cancel)
        {
            Interlocked.Increment(ref _waits);
            await Task.Delay(wait, cancel);
            return Revision != afterRevision;
        }

        public Task ReportAsync(string hostName, long appliedRevision, IReadOnlyList<NicRef> nics, CancellationToken cancel) => Task.CompletedTask;
    }

    private static readonly AgentOptions Options = new("host-1") { PollWait = TimeSpan.FromMilliseconds(20), ResyncInterval = TimeSpan.FromHours(1), ReportCoalescing = TimeSpan.Zero };

    private static async Task RunUntil(EnforcementAgent agent, Func<bool> until)
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var run = agent.RunAsync(stop.Token);
        while (!until() && !stop.IsCancellationRequested)
            await Task.Delay(5);
        await stop.CancelAsync();
        await run;
        Assert.True(until(), "the agent did not get there in 30 s");
    }

    private static bool WarmUpLine(string line) => line.StartsWith("change path warmed up", StringComparison.Ordinal) || line.StartsWith("change path not warmed up", StringComparison.Ordinal);

    [Fact]
    public async Task TheWarmUp_ReplaysAFirstPolicyThenJoinsLeavesAndRuleChanges_EachPartRebuiltFromItsDifference()
    {
        var changesBefore = Interlocked.Read(ref AgentWarmUp.ChangesRun);
        var result = await AgentWarmUp.RunAsync(3, CancellationToken.None);
        // Four wakes a round (join, leave, rule, revoke), each applied, each part rebuilt from the difference it came as.
        Assert.Equal(12, result.Changes);
        Assert.Equal(12, result.Rebuilt);
        Assert.True(Interlocked.Read(ref AgentWarmUp.ChangesRun) - changesBefore >= 12);
        Assert.StartsWith("change path warmed up: 12 changes replayed (12 parts rebuilt from differences)", result.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheProcesssWarmUp_RunsOnce_WhateverTheNumberOfAgents_AndOneAgentLogsIt()
    {
        var log = new List<string>();
        var agents = Enumerable.Range(0, 3).Select(_ => new EnforcementAgent(new CountingControlPlane(), new RecordingKernel(), Options, line => { lock (log) log.Add(line); })).ToList();
        await Task.WhenAll(agents.Select(a => RunUntil(a, () => a.AppliedRevision == 1)));
        var once = AgentWarmUp.OncePerProcess(out var started);
        Assert.False(started);
        Assert.Same(once, AgentWarmUp.OncePerProcess(out _));
        await once;
        Assert.Equal(1, AgentWarmUp.OnceRuns);
        // Logged by the agent that started it, if one of these did (another test's agent may have), once.
        await Task.WhenAll(agents.Select(a => RunUntil(a, () => true)));
        lock (log)
            Assert.True(log.Count(WarmUpLine) <= 1, string.Join("\n", log));
    }

    [Fact]
    public async Task TheWarmUp_TouchesNeitherTheAgentsKernelNorItsControlPlane()
    {
        var (plane, kernel, log) = (new CountingControlPlane(), new RecordingKernel(), new List<string>());
        // A warm-up of its own started by this agent, as the process's is by the first agent.
        var agent = new EnforcementAgent(plane, kernel, Options with { WarmUpStart = () => (AgentWarmUp.RunAsync(3, CancellationToken.None), true) }, line => { lock (log) log.Add(line); });
        kernel.Shape = () => agent.Applied is { } applied ? ExpectedShape.Of(applied) : null;
        await RunUntil(agent, () =>
        {
            lock (log)
                return log.Any(WarmUpLine);
        });
        lock (log)
            Assert.Single(log, l => l.StartsWith("change path warmed up: 12 changes", StringComparison.Ordinal));
        // The agent's own work only: the closed table and its one policy; one fetch, and its polls.
        Assert.Equal(2, kernel.Transactions.Count);
        Assert.StartsWith("# palisade: revision 0, 0 NICs", kernel.Transactions[0], StringComparison.Ordinal);
        Assert.StartsWith("# palisade: revision 1, 4 NICs", kernel.Transactions[1], StringComparison.Ordinal);
        Assert.Equal(1, plane.Fetches);
    }

    [Fact]
    public async Task AFailedWarmUp_IsLoggedOnce_AndTheAgentGoesOnApplyingChanges()
    {
        var (plane, kernel, log) = (new CountingControlPlane(), new RecordingKernel(), new List<string>());
        var agent = new EnforcementAgent(plane, kernel, Options with { WarmUpStart = () => (Task.FromException<AgentWarmUp.Result>(new InvalidOperationException("no embedded answer join")), true) },
            line => { lock (log) log.Add(line); });
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var run = agent.RunAsync(stop.Token);
        while (agent.AppliedRevision != 1 && !stop.IsCancellationRequested)
            await Task.Delay(5);
        plane.Revision = 2;
        while (agent.AppliedRevision != 2 && !stop.IsCancellationRequested)
            await Task.Delay(5);
        await Task.Delay(100);
        await stop.CancelAsync();
        await run;
        Assert.Equal(2, agent.AppliedRevision);
        lock (log)
            Assert.Equal(["change path not warmed up (no embedded answer join); the first change compiles it"], log.Where(WarmUpLine));
    }

    [Fact]
    public async Task WithTheWarmUpOff_NoneIsStarted()
    {
        var starts = 0;
        var agent = new EnforcementAgent(new CountingControlPlane(), new RecordingKernel(), Options with { WarmUp = false, WarmUpStart = () => { starts++; return (AgentWarmUp.RunAsync(1, CancellationToken.None), true); } }, _ => { });
        await RunUntil(agent, () => agent.AppliedRevision == 1);
        Assert.Equal(0, starts);
    }
}
