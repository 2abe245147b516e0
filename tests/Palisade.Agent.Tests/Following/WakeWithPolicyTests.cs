using Palisade.Agent.Following;
using Palisade.Agent.Kernel;
using Palisade.Agent.Rendering;
using Palisade.Agent.Tests.Rendering;
using Palisade.Engine.Flows;
using Palisade.TestKit;

namespace Palisade.Agent.Tests.Following;

/// <summary>
/// The agent's loop with a wake that carries the policy (issue 17, eighteenth session): applied as a
/// fetch's answer without a fetch; a wake without it (a server without the extension) is followed by a
/// fetch, as before.
/// </summary>
public sealed class WakeWithPolicyTests
{
    /// <summary>A feed that answers its waits from a script: each a wake with a policy, a bare wake, or (past the script) nothing.</summary>
    private sealed class ScriptedControlPlane(HostPolicy[] fetches, Wake[] wakes) : IControlPlane
    {
        public int Fetches;
        public int Waits;
        public List<long> Reports { get; } = [];
        public List<long> PolledAfter { get; } = [];

        public Task<HostPolicy> FetchAsync(string hostName, CancellationToken cancel) => Task.FromResult(fetches[Fetches++]);

        public Task<bool> WaitForChangeAsync(string hostName, long afterRevision, TimeSpan wait, CancellationToken cancel) =>
            throw new InvalidOperationException("the agent waits with WaitForPolicyAsync");

        public async Task<Wake> WaitForPolicyAsync(string hostName, long afterRevision, TimeSpan wait, CancellationToken cancel)
        {
            PolledAfter.Add(afterRevision);
            if (Waits < wakes.Length)
                return wakes[Waits++];
            await Task.Delay(wait, cancel);
            return new Wake(false);
        }

        public Task ReportAsync(string hostName, long appliedRevision, IReadOnlyList<NicRef> nics, CancellationToken cancel)
        {
            lock (Reports)
                Reports.Add(appliedRevision);
            return Task.CompletedTask;
        }
    }

    private static HostPolicy Policy(long revision, bool web1InWeb) => new(revision, Scenario.Bindings, Scenario.State(web1InWeb));

    [Fact]
    public async Task APolicyCarriedByTheWake_IsAppliedWithoutAFetch_ABareWakeIsFollowedByOne()
    {
        var fetched = new[] { Policy(1, true), Policy(4, true) };
        var wakes = new[] { new Wake(true, Policy(2, false)), new Wake(true, Policy(3, true)), new Wake(true), new Wake(false) };
        var plane = new ScriptedControlPlane(fetched, wakes);
        var kernel = new RecordingKernel();
        var options = new AgentOptions("host-1") { PollWait = TimeSpan.FromMilliseconds(10), RetryDelay = TimeSpan.FromMilliseconds(10), ReportCoalescing = TimeSpan.Zero, UsageInterval = TimeSpan.Zero };
        var agent = new EnforcementAgent(plane, kernel, options, _ => { });
        kernel.Shape = () => agent.Applied is null ? null : ExpectedShape.Of(agent.Applied);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var run = agent.RunAsync(stop.Token);
        while (plane.Waits < wakes.Length && !stop.IsCancellationRequested)
            await Task.Delay(5);
        await stop.CancelAsync();
        await run;
        // Fetched at the start and after the bare wake; the two carried policies applied without a fetch.
        Assert.Equal(2, plane.Fetches);
        Assert.Equal(4, agent.Fetches);
        Assert.Equal(4, agent.AppliedRevision);
        // Each poll from the revision applied last: the carried ones count as the agent's revision.
        Assert.Equal([1L, 2L, 3L, 4L], plane.PolledAfter.Take(4));
        // Every revision reached the kernel and was reported, in order; what the kernel holds is the fetch after the bare wake.
        Assert.Equal([1L, 2L, 3L, 4L], plane.Reports.Take(4));
        Assert.Equal(NftText.FullApply(PolicyRenderer.Render(Policy(4, true).Parts, 4) with { Counters = true }), NftText.FullApply(agent.Applied!));
    }
}
