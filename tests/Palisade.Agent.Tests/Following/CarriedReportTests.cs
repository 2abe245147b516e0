using CsCheck;
using Palisade.Agent.Following;
using Palisade.Agent.Kernel;
using Palisade.Agent.Rendering;
using Palisade.Agent.Tests.Rendering;
using Palisade.Engine.Flows;
using Palisade.TestKit;

namespace Palisade.Agent.Tests.Following;

/// <summary>
/// The agent's loop with its status report carried by its next long poll (issue 17, nineteenth session):
/// against a control plane that takes it, one that cannot carry it (the slow twin: each report its own
/// <c>ReportAgentStatus</c>) and one whose server ignores it (no extension), the agent applies the same
/// transactions and every revision it applied reaches the server, in order; the first report goes apart
/// (its answer starts sampling), then the carried ones; a report left untaken goes apart, and from then on.
/// Against one that answers a woken poll before the report's write (twentieth session), every other such
/// write failing, the agent applies the same and its last revision is still stored, carried.
/// </summary>
public sealed class CarriedReportTests
{
    /// <summary>What one wait brings: a change whose policy the wake carries, a change to fetch, nothing, or a failed poll.</summary>
    public enum Event { Carried, Bare, Nothing, Failure }

    /// <summary>
    /// How the control plane treats a report with the poll: takes it (stored before the answer), cannot carry
    /// it, ignores it (no extension), or answers a poll that brings a change before the report's write
    /// (twentieth session: <see cref="Wake.ReportPending"/>), every other such write then failing.
    /// </summary>
    private enum Carrying { Takes, CannotCarry, Ignores, AnswersBeforeWrite }

    /// <summary>A scripted feed: each wait takes the next event; every policy it hands out is a new revision.</summary>
    private sealed class ScriptedControlPlane(Event[] script, bool[] members, Carrying carrying) : IControlPlane
    {
        private int _next;
        private long _revision;

        /// <summary>The revisions handed out (each applied once), and the reports the server stored: revision and how it came.</summary>
        public List<long> Handed { get; } = [];
        public List<(long Revision, bool Carried)> Stored { get; } = [];
        public int Waits => Volatile.Read(ref _next);

        private HostPolicy Next()
        {
            _revision++;
            lock (Handed)
                Handed.Add(_revision);
            return new HostPolicy(_revision, Scenario.Bindings, Scenario.State(members[(int)(_revision % members.Length)]));
        }

        public Task<HostPolicy> FetchAsync(string hostName, CancellationToken cancel) => Task.FromResult(Next());

        public Task<bool> WaitForChangeAsync(string hostName, long afterRevision, TimeSpan wait, CancellationToken cancel) =>
            throw new InvalidOperationException("the agent waits with WaitForPolicyAsync");

        public bool CarriesReports => carrying != Carrying.CannotCarry;

        public Task<Wake> WaitForPolicyAsync(string hostName, long afterRevision, TimeSpan wait, CancellationToken cancel) =>
            WaitForPolicyAsync(hostName, afterRevision, wait, null, cancel);

        public async Task<Wake> WaitForPolicyAsync(string hostName, long afterRevision, TimeSpan wait, StatusReport? report, CancellationToken cancel)
        {
            Assert.True(report is null || CarriesReports, "a report carried by a control plane that cannot carry it");
            Assert.Equal(_revision, afterRevision);
            var at = _next < script.Length ? script[_next] : (Event?)null;
            if (at == Event.Failure)
            {
                _next++;
                throw new ControlPlaneUnavailableException("scripted failure");
            }
            // Stored at the poll's arrival, as the server does; answered before its write, stored or lost (the write failed).
            var taken = report is not null && carrying is Carrying.Takes or Carrying.AnswersBeforeWrite;
            var pending = taken && carrying == Carrying.AnswersBeforeWrite && at is Event.Carried or Event.Bare;
            if (taken && (!pending || _pendingWrites++ % 2 == 0))
            {
                lock (Stored)
                    Stored.Add((report!.AppliedRevision, true));
            }
            Wake wake;
            if (at is null)
            {
                await Task.Delay(wait, cancel);
                wake = new Wake(false);
            }
            else
            {
                _next++;
                wake = at switch
                {
                    Event.Carried => new Wake(true, Next()),
                    Event.Bare => new Wake(true),
                    _ => new Wake(false),
                };
            }
            return pending ? wake with { ReportPending = true } : wake with { Reported = taken ? false : null };
        }

        private int _pendingWrites;

        public Task ReportAsync(string hostName, long appliedRevision, IReadOnlyList<NicRef> nics, CancellationToken cancel)
        {
            lock (Stored)
                Stored.Add((appliedRevision, false));
            return Task.CompletedTask;
        }
    }

    private static async Task<(ScriptedControlPlane Plane, RecordingKernel Kernel, EnforcementAgent Agent)> RunAsync(Event[] script, bool[] members, Carrying carrying)
    {
        var plane = new ScriptedControlPlane(script, members, carrying);
        var kernel = new RecordingKernel();
        var options = new AgentOptions("host-1")
        {
            PollWait = TimeSpan.FromMilliseconds(5), RetryDelay = TimeSpan.FromMilliseconds(1), RetryDelayMax = TimeSpan.FromMilliseconds(2),
            ReportCoalescing = TimeSpan.Zero, UsageInterval = TimeSpan.Zero, Random = new Random(1),
            // No warm-up (twenty-fifth session): its seconds of CPU beside the first runs would change these runs' timing against their twins'.
            WarmUp = false,
        };
        var agent = new EnforcementAgent(plane, kernel, options, _ => { });
        kernel.Shape = () => agent.Applied is null ? null : ExpectedShape.Of(agent.Applied);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var run = agent.RunAsync(stop.Token);
        // Until the script is spent and the last revision applied is stored (carried by the poll after it, or apart).
        bool Done()
        {
            lock (plane.Stored)
                return plane.Waits >= script.Length && agent.AppliedRevision == plane.Handed.Count && plane.Stored.Count > 0 && plane.Stored[^1].Revision == agent.AppliedRevision;
        }
        while (!Done() && !stop.IsCancellationRequested)
            await Task.Delay(2);
        await stop.CancelAsync();
        await run;
        Assert.True(Done(), "the agent did not apply and report its last revision");
        return (plane, kernel, agent);
    }

    [Fact]
    public async Task AReportCarriedByThePoll_ReachesTheServerAsTheReportApartWould()
    {
        var (carried, apart, untaken) = (0, 0, 0);
        var gen = Gen.Select(Gen.Enum<Event>().Array[0, 10], Gen.Bool.Array[1, 3]);
        await gen.SampleAsync(async t =>
        {
            var (script, members) = t;
            var takes = await RunAsync(script, members, Carrying.Takes);
            var twin = await RunAsync(script, members, Carrying.CannotCarry);
            var older = await RunAsync(script, members, Carrying.Ignores);
            var early = await RunAsync(script, members, Carrying.AnswersBeforeWrite);
            foreach (var (name, run) in new[] { ("cannot carry", twin), ("ignores", older), ("answers before the write of", early) })
            {
                Assert.True(takes.Kernel.Transactions.SequenceEqual(run.Kernel.Transactions), $"the kernel was told otherwise with a control plane that {name} reports");
                Assert.Equal(takes.Plane.Handed, run.Plane.Handed);
            }
            foreach (var (plane, _, _) in new[] { takes, twin, older, early })
            {
                // In order (a report lost to a failed poll is sent again: a repeat, never a step back), the last revision last.
                var stored = plane.Stored.Select(s => s.Revision).ToList();
                Assert.True(stored.Zip(stored.Skip(1)).All(p => p.First <= p.Second), $"reports out of order: {string.Join(" ", stored)}");
                Assert.Equal(plane.Handed[^1], stored[^1]);
            }
            // Every revision applied reached the server, carried or apart. (Without the extension, the report the
            // server ignored is superseded when that poll brought a change: the next revision goes apart instead.)
            Assert.Equal(takes.Plane.Handed, takes.Plane.Stored.Select(s => s.Revision).Distinct());
            Assert.Equal(twin.Plane.Handed, twin.Plane.Stored.Select(s => s.Revision).Distinct());
            // The first report apart (its answer says whether to sample), every later one carried.
            Assert.Equal([false, .. Enumerable.Repeat(true, takes.Plane.Stored.Count - 1)], takes.Plane.Stored.Select(s => s.Carried));
            Assert.All(twin.Plane.Stored, s => Assert.False(s.Carried));
            Assert.All(older.Plane.Stored, s => Assert.False(s.Carried));
            // Answered before their writes (some of which failed), the reports are still carried, never sent apart,
            // and the last revision applied is stored (RunAsync waits for it): the agent carried its latest again.
            Assert.Equal([false, .. Enumerable.Repeat(true, early.Plane.Stored.Count - 1)], early.Plane.Stored.Select(s => s.Carried));
            carried += takes.Plane.Stored.Count(s => s.Carried);
            apart += twin.Plane.Stored.Count;
            untaken += older.Plane.Stored.Count;
        }, iter: 60, threads: 1, print: t => $"[{string.Join(",", t.Item1)}] members [{string.Join(",", t.Item2)}]");
        Assert.True(carried > 0 && apart > 0 && untaken > 0, "the paths were not exercised");
    }
}
