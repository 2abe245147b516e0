using CsCheck;
using System.Text.Json;
using Palisade.Client;
using Palisade.Server.Hosting;
using Palisade.Server.Protocol;
using Palisade.Server.Tests.Support;
using Palisade.TestKit;
using Microsoft.Extensions.DependencyInjection;
using static Palisade.Server.Tests.Support.Scenario;

namespace Palisade.Server.Tests.Protocol;

/// <summary>
/// Issue 19: what one tenant's analyses can cost the others. Analyses are admitted before they run
/// (one per account at a time, a bounded queue across accounts, an estimate against the budget) and
/// run on workers apart from the request threads. A worker is held by a job the test releases, so
/// every state here is reached by waiting for it, never by timing.
/// </summary>
public sealed class AnalysisAdmissionTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private sealed record Tenant(long AccountId, Scenario Api, string GroupId)
    {
        public Task Impact(int port) => Api.Api.CallAsync("DescribeChangeImpact", EcsClient.Flatten(new
        {
            RegionId = Region, ChangeAction = "AuthorizeSecurityGroup", SecurityGroupId = GroupId, IpProtocol = "tcp", PortRange = $"{port}/{port}", SourceCidrIp = "10.0.0.0/8",
        }));

        public Task Reachability() => Api.Api.CallAsync("DescribeReachability", new { RegionId = Region });

        public Task Groups() => Api.Api.CallAsync("DescribeSecurityGroups", new { RegionId = Region });
    }

    private static async Task<Tenant> TenantAsync(TestControlPlane plane, string name)
    {
        var key = plane.NewAccount(name);
        var api = new Scenario(plane.Client(key));
        var vpc = await api.VpcAsync();
        var sg = await api.GroupAsync(vpc);
        await api.RunAsync(sg, await api.VSwitchAsync(vpc), amount: 2);
        return new Tenant(key.AccountId, api, sg);
    }

    private static Task<TestControlPlane> PlaneAsync(int workers, int queue, int perAccount = 1) =>
        TestControlPlane.StartAsync(options: new ServerOptions
        {
            Throttling = new Throttling { AnalysisWorkers = workers, AnalysisQueue = queue, AnalysisConcurrency = perAccount, ThrottledAnswerDelay = TimeSpan.Zero },
        });

    /// <summary>A job that holds one analysis worker, in the name of an account, until released.</summary>
    private sealed class Blocker : IAsyncDisposable
    {
        private readonly ManualResetEventSlim _gate = new();
        private readonly AnalysisScheduler.Place _place;
        private readonly Task<int> _done;

        private Blocker(AnalysisScheduler scheduler, long accountId, TaskCompletionSource running)
        {
            _place = scheduler.Admit(accountId);
            _done = _place.RunAsync(() =>
            {
                running.SetResult();
                _gate.Wait();
                return 0;
            }, _ => { }, CancellationToken.None);
        }

        public static async Task<Blocker> HoldAsync(AnalysisScheduler scheduler, long accountId)
        {
            var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var blocker = new Blocker(scheduler, accountId, running);
            await running.Task.WaitAsync(Patience);
            return blocker;
        }

        public async ValueTask DisposeAsync()
        {
            _gate.Set();
            await _done.WaitAsync(Patience);
            _place.Dispose();
        }
    }

    private static async Task WaitForAsync(AnalysisScheduler scheduler, int waiting)
    {
        using var cancel = new CancellationTokenSource(Patience);
        while (scheduler.Load.Waiting != waiting)
            await Task.Delay(10, cancel.Token);
    }

    [Fact]
    public async Task AnAccount_HasOneAnalysisAtATime_ItsSecondIsRefused_WhileItsPlainCallsAndOtherAccountsGoOn()
    {
        await using var plane = await PlaneAsync(workers: 1, queue: 4);
        var scheduler = plane.Services.GetRequiredService<AnalysisScheduler>();
        var a = await TenantAsync(plane, "a");
        var b = await TenantAsync(plane, "b");
        var someone = await TenantAsync(plane, "someone");

        Task first, others;
        await using (await Blocker.HoldAsync(scheduler, someone.AccountId))
        {
            // A's first analysis is admitted and waits for the worker.
            first = a.Impact(22);
            await WaitForAsync(scheduler, waiting: 1);
            // Its second, of any kind, is refused at once: an impact, a reachability question, a dry run's impact.
            var refused = await ApiAssert.FailsAsync(() => a.Impact(23).WaitAsync(Patience), "Throttling.Analysis", 400);
            Assert.Contains("analysis", refused.EcsMessage, StringComparison.Ordinal);
            await ApiAssert.FailsAsync(() => a.Reachability().WaitAsync(Patience), "Throttling.Analysis", 400);
            await ApiAssert.FailsAsync(() => a.Api.Api.CallAsync("AuthorizeSecurityGroup", new
            {
                RegionId = Region, SecurityGroupId = a.GroupId, IpProtocol = "tcp", PortRange = "80/80", SourceCidrIp = "10.0.0.0/8", DryRun = true,
            }).WaitAsync(Patience), "Throttling.Analysis", 400);
            // A's plain calls do not wait behind analyses, and B's analysis takes its own place.
            await a.Groups().WaitAsync(Patience);
            others = b.Reachability();
            await WaitForAsync(scheduler, waiting: 2);
            Assert.False(first.IsCompleted);
        }
        await first.WaitAsync(Patience);
        await others.WaitAsync(Patience);
        // With its analysis done, A is admitted again.
        await a.Impact(24).WaitAsync(Patience);
        Assert.Equal((0, 0), scheduler.Load);
    }

    [Fact]
    public async Task TheServersQueue_Full_RefusesANewAnalysisWithThrottling_AndPlainCallsGoOn()
    {
        await using var plane = await PlaneAsync(workers: 1, queue: 2);
        var scheduler = plane.Services.GetRequiredService<AnalysisScheduler>();
        var a = await TenantAsync(plane, "a");
        var b = await TenantAsync(plane, "b");
        var c = await TenantAsync(plane, "c");
        var someone = await TenantAsync(plane, "someone");

        Task fromA, fromB;
        await using (await Blocker.HoldAsync(scheduler, someone.AccountId))
        {
            fromA = a.Impact(22);
            fromB = b.Reachability();
            await WaitForAsync(scheduler, waiting: 2);
            // One worker busy, two waiting: the third account's analysis is refused, with the code SDKs retry.
            var revision = plane.Store.CurrentRevision();
            var refused = await ApiAssert.FailsAsync(() => c.Impact(22).WaitAsync(Patience), "Throttling", 400);
            Assert.Contains("analyses", refused.EcsMessage, StringComparison.Ordinal);
            // So is a dry run, whose impact is an analysis: an ECS error (no 5xx), and nothing changed.
            await ApiAssert.FailsAsync(() => c.Api.Api.CallAsync("AuthorizeSecurityGroup", new
            {
                RegionId = Region, SecurityGroupId = c.GroupId, IpProtocol = "tcp", PortRange = "80/80", SourceCidrIp = "10.0.0.0/8", DryRun = true,
            }).WaitAsync(Patience), "Throttling", 400);
            Assert.Equal(revision, plane.Store.CurrentRevision());
            await c.Groups().WaitAsync(Patience);
            await a.Groups().WaitAsync(Patience);
        }
        await fromA.WaitAsync(Patience);
        await fromB.WaitAsync(Patience);
        await c.Impact(22).WaitAsync(Patience);
    }

    [Fact]
    public async Task AnotherAccountsAnalysis_IsAnswered_WhileAnAnalysisHoldsAWorker()
    {
        await using var plane = await PlaneAsync(workers: 2, queue: 0);
        var scheduler = plane.Services.GetRequiredService<AnalysisScheduler>();
        var a = await TenantAsync(plane, "a");
        var b = await TenantAsync(plane, "b");

        await using (await Blocker.HoldAsync(scheduler, a.AccountId))
        {
            await ApiAssert.FailsAsync(() => a.Impact(22).WaitAsync(Patience), "Throttling.Analysis", 400);
            await b.Impact(22).WaitAsync(Patience);
            await b.Reachability().WaitAsync(Patience);
        }
        await a.Impact(22).WaitAsync(Patience);
    }

    [Fact]
    public async Task WaitingAnalyses_AreServedAccountByAccountInTurn()
    {
        using var scheduler = new AnalysisScheduler(new ServerOptions { Throttling = new Throttling { AnalysisWorkers = 1, AnalysisQueue = 10, AnalysisConcurrency = 10 } });
        const long heavy = 1, light = 2, blocker = 3;
        var held = await Blocker.HoldAsync(scheduler, blocker);
        var order = new List<string>();
        var places = new List<AnalysisScheduler.Place>();
        var jobs = new List<Task<int>>();
        void Queue(long account, string name)
        {
            var place = scheduler.Admit(account);
            places.Add(place);
            jobs.Add(place.RunAsync(() =>
            {
                lock (order)
                    order.Add(name);
                return 0;
            }, _ => { }, CancellationToken.None));
        }
        // The heavy account queues three before the light one asks once.
        Queue(heavy, "h1");
        Queue(heavy, "h2");
        Queue(heavy, "h3");
        Queue(light, "l1");
        await WaitForAsync(scheduler, waiting: 4);
        await held.DisposeAsync();
        await Task.WhenAll(jobs).WaitAsync(Patience);
        Assert.Equal(["h1", "l1", "h2", "h3"], order);
        places.ForEach(p => p.Dispose());
    }

    [Fact]
    public async Task Workers_RunAtTheConfiguredNiceness()
    {
        // Palisade serves on Linux; niceness is a Linux thread's.
        Assert.True(OperatingSystem.IsLinux());
        using var scheduler = new AnalysisScheduler(new ServerOptions { Throttling = new Throttling { AnalysisWorkers = 1, AnalysisNiceness = 10 } });
        using var place = scheduler.Admit(1);
        var used = TimeSpan.Zero;
        var niceness = await place.RunAsync(() => ThreadCpu.Niceness(), cpu => used = cpu, CancellationToken.None).WaitAsync(Patience);
        Assert.Equal(ThreadCpu.Niceness() + 10, niceness);
        Assert.True(used >= TimeSpan.Zero);
    }

    [Fact]
    public void AnAnalysis_IsWeighedByItsEstimateBeforeItRuns_AndSettledAtWhatItUsed()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 12, 3, 6, 0, 0, TimeSpan.Zero));
        var budget = new AnalysisBudget(new ServerOptions { Throttling = new Throttling { AnalysisSecondsPerSecond = 0.01, AnalysisBurstSeconds = 1 } }, clock);
        const string kind = "DescribeChangeImpact";
        // 100 instances: 10,000 pairs at the assumed 50 µs a pair, half a second.
        Assert.Equal(0.5, budget.Estimate(kind, 100), 6);
        var first = budget.Take(1, kind, 100);
        // Half a second left: a second estimate of 0.5 s fits, a third (before anything ended) does not, and nothing ran to learn it.
        var second = budget.Take(1, kind, 100);
        var refused = Assert.Throws<Palisade.Domain.Errors.EcsException>(() => budget.Take(1, kind, 100));
        Assert.Equal("Throttling.Analysis", refused.Error.Code);
        Assert.Contains("estimated at 0.50 s", refused.Error.Message, StringComparison.Ordinal);
        // A small account of the same kind is still admitted by another account's budget, and the first's small questions fit its own.
        budget.Take(2, kind, 100).Settle(TimeSpan.FromSeconds(0.5));
        // The analyses used a tenth of their estimate: the difference comes back, and the kind's cost per pair is learnt.
        first.Settle(TimeSpan.FromSeconds(0.05));
        second.Settle(TimeSpan.FromSeconds(0.05));
        Assert.True(budget.Estimate(kind, 100) < 0.5);
        budget.Take(1, kind, 100).Settle(TimeSpan.FromSeconds(0.05));
        // A state bigger than the whole budget is admitted only with the budget full, then the account owes it.
        var huge = budget.Take(3, kind, 1000);
        huge.Settle(TimeSpan.FromSeconds(3));
        Assert.Throws<Palisade.Domain.Errors.EcsException>(() => budget.Take(3, kind, 2));
        clock.Advance(TimeSpan.FromSeconds(1000));
        budget.Take(3, kind, 2).Settle(TimeSpan.Zero);
    }

    /// <summary>A meter on which each measured piece of the server's work costs <paramref name="step"/>, whatever the thread did.</summary>
    /// <summary>Each reading of the clock steps <paramref name="step"/>, each of the allocations <paramref name="bytesStep"/> bytes, each costing the collector <paramref name="collectorPerByte"/>.</summary>
    private sealed class SteppingMeter(TimeSpan step, long bytesStep = 0, double collectorPerByte = 0) : CpuMeter
    {
        /// <summary>What each measured piece costs from now on.</summary>
        public TimeSpan Step { get; set; } = step;

        private readonly ThreadLocal<long> _ticks = new(() => 0);
        private readonly ThreadLocal<long> _bytes = new(() => 0);

        public override TimeSpan Now() => TimeSpan.FromTicks(_ticks.Value += Step.Ticks);

        public override long Allocated() => _bytes.Value += bytesStep;

        public override double CollectorSecondsPerByte() => collectorPerByte;
    }

    /// <summary>
    /// Issue 19: the budget charged a new question's comparing (and its rehearsal), while the server
    /// also rendered the answer of 100 KB and more and kept it in the read cache, uncharged: the noisy
    /// tenant's questions cost the node more than its budget said. Each piece is measured here on a
    /// meter where every piece costs 0.35 s: three pieces a question, 1.05 s, more than the 1 s burst.
    /// </summary>
    [Fact]
    public async Task ANewQuestion_IsChargedTheRehearsalTheComparingAndTheRenderedAnswer_SoTheNextIsRefused()
    {
        // Given a budget of 1 s at once that (on this clock) does not refill until the test moves it
        var clock = new ManualClock(new DateTimeOffset(2026, 12, 4, 18, 0, 0, TimeSpan.Zero));
        await using var plane = await TestControlPlane.StartAsync(clock: clock, options: new ServerOptions
        {
            Throttling = new Throttling { AnalysisSecondsPerSecond = 0.001, AnalysisBurstSeconds = 1, AnalysisInChild = false, ThrottledAnswerDelay = TimeSpan.Zero },
        }, services: s => s.AddSingleton<CpuMeter>(new SteppingMeter(TimeSpan.FromSeconds(0.35))));
        var key = plane.NewAccount("noisy");
        var api = new Scenario(plane.Client(key, SignatureStyle.V3, clock));
        var vpc = await api.VpcAsync();
        var sg = await api.GroupAsync(vpc);
        await api.RunAsync(sg, await api.VSwitchAsync(vpc), amount: 2);
        Task Impact(int port) => api.Api.CallAsync("DescribeChangeImpact", EcsClient.Flatten(new
        {
            RegionId = Region, ChangeAction = "AuthorizeSecurityGroup", SecurityGroupId = sg, IpProtocol = "tcp", PortRange = $"{port}/{port}", SourceCidrIp = "10.0.0.0/8",
        }));
        var budget = plane.Services.GetRequiredService<AnalysisBudget>();

        // When the account asks one new question
        await Impact(3000);

        // Then it is charged all three pieces of the server's work, and its next new question is refused
        Assert.Equal(TimeSpan.FromSeconds(1.05), budget.Spent(key.AccountId));
        await ApiAssert.FailsAsync(() => Impact(3001), "Throttling.Analysis", 400);
        // With time the budget refills.
        clock.Advance(TimeSpan.FromMinutes(30));
        await Impact(3001);
        Assert.Equal(TimeSpan.FromSeconds(2.1), budget.Spent(key.AccountId));
    }

    /// <summary>A server with a budget of <paramref name="burst"/> s at once that (on this clock) does not refill until the test moves it; its analyses in-process.</summary>
    private static Task<TestControlPlane> MeteredPlaneAsync(ManualClock clock, CpuMeter meter, double burst = 1) =>
        TestControlPlane.StartAsync(clock: clock, options: new ServerOptions
        {
            Throttling = new Throttling { AnalysisSecondsPerSecond = 0.001, AnalysisBurstSeconds = burst, AnalysisInChild = false, ThrottledAnswerDelay = TimeSpan.Zero },
        }, services: s => s.AddSingleton(meter));

    /// <summary>A tenant with 2 instances in one group, and its DescribeChangeImpact of a port.</summary>
    private static async Task<(Func<int, Task<JsonElement>> Impact, long Account)> MeteredTenantAsync(TestControlPlane plane, ManualClock clock, string name)
    {
        var key = plane.NewAccount(name);
        var api = new Scenario(plane.Client(key, SignatureStyle.V3, clock));
        var vpc = await api.VpcAsync();
        var sg = await api.GroupAsync(vpc);
        await api.RunAsync(sg, await api.VSwitchAsync(vpc), amount: 2);
        return (port => api.Api.CallAsync("DescribeChangeImpact", EcsClient.Flatten(new
        {
            RegionId = Region, ChangeAction = "AuthorizeSecurityGroup", SecurityGroupId = sg, IpProtocol = "tcp", PortRange = $"{port}/{port}", SourceCidrIp = "10.0.0.0/8",
        })), key.AccountId);
    }

    private static string Flows(JsonElement e) => string.Join('\n', e.EnumerateObject().Where(p => p.Name != "RequestId").Select(p => p.Name + "=" + p.Value.GetRawText()));

    /// <summary>
    /// Issue 19: an analysis's answer from the read cache was free, then (fourteenth, fifteenth sessions)
    /// charged what rendering it had cost — ~0.2 ms warm, while serving it (reading and authenticating
    /// the request, copying 114 KB into the response) cost the node more: the same question in a loop
    /// (~1,200 hits a second) moved another tenant's p99 2.5×. A hit is now charged what serving it
    /// used, measured on the hit (here each measured stretch of the request costs the meter's step),
    /// settled after it is answered: past the budget the account is in debt and its next hit is refused,
    /// estimated at what its last hit cost.
    /// </summary>
    [Fact]
    public async Task TheSameQuestionAgain_FromTheReadCache_IsChargedWhatServingItUsed_AndRefusedPastTheBudget()
    {
        // Given a budget of 1 s at once, and a question computed at 0.35 s a piece (rehearsal, comparing, rendering)
        var clock = new ManualClock(new DateTimeOffset(2026, 12, 5, 0, 30, 0, TimeSpan.Zero));
        var meter = new SteppingMeter(TimeSpan.FromSeconds(0.35));
        await using var plane = await MeteredPlaneAsync(clock, meter);
        var (impact, account) = await MeteredTenantAsync(plane, clock, "noisy");
        var budget = plane.Services.GetRequiredService<AnalysisBudget>();
        var first = await impact(3000);
        Assert.Equal(TimeSpan.FromSeconds(1.05), budget.Spent(account));

        // When the budget is over (1.05 s of 1 s), the same question again is refused, not served free
        await ApiAssert.FailsAsync(() => impact(3000), "Throttling.Analysis", 400);
        Assert.Equal(TimeSpan.FromSeconds(1.05), budget.Spent(account));

        // Then, refilled, a hit whose serving measures 0.15 s a stretch is admitted at its estimate (the
        // rendering's 0.35 s), answers the same flows, and is charged what serving it used: whole stretches
        // of 0.15 s, not the rendering's 0.35 s
        clock.Advance(TimeSpan.FromMinutes(30));
        meter.Step = TimeSpan.FromSeconds(0.15);
        var again = await impact(3000);
        Assert.Equal(Flows(first), Flows(again));
        var served = (budget.Spent(account) - TimeSpan.FromSeconds(1.05)).TotalSeconds;
        Assert.True(served >= 0.15, $"a hit was charged {served} s");
        Assert.Equal(Math.Round(served / 0.15), served / 0.15, 6);
        Assert.NotEqual(0.35, served, 6);

        // And the next hits are estimated at what that one used: admitted while the budget holds it, then refused
        var left = 1 - served;
        for (; left >= served + 1e-6; left -= served)
            await impact(3000);
        var refused = await ApiAssert.FailsAsync(() => impact(3000), "Throttling.Analysis", 400);
        Assert.Contains(FormattableString.Invariant($"estimated at {served:F2} s"), refused.EcsMessage, StringComparison.Ordinal);
        Assert.Equal(1.05 + 1 - left, budget.Spent(account).TotalSeconds, 6);
    }

    /// <summary>
    /// What a hit used is its own request's, measured when it is served: the same cached answer served
    /// while the meter's stretches cost three times as much is charged three times as much.
    /// </summary>
    [Fact]
    public async Task ACachedAnswersCharge_IsMeasuredOnEachHit()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 12, 5, 6, 30, 0, TimeSpan.Zero));
        var meter = new SteppingMeter(TimeSpan.FromSeconds(0.05));
        await using var plane = await MeteredPlaneAsync(clock, meter, burst: 100);
        var (impact, account) = await MeteredTenantAsync(plane, clock, "noisy");
        var budget = plane.Services.GetRequiredService<AnalysisBudget>();
        await impact(3000);

        meter.Step = TimeSpan.FromSeconds(0.2);
        var before = budget.Spent(account);
        await impact(3000);
        var once = budget.Spent(account) - before;

        meter.Step = TimeSpan.FromSeconds(0.6);
        before = budget.Spent(account);
        await impact(3000);
        var thrice = budget.Spent(account) - before;

        Assert.True(once >= TimeSpan.FromSeconds(0.2), $"a hit was charged {once}");
        Assert.Equal(3 * once.TotalSeconds, thrice.TotalSeconds, 6);
    }

    /// <summary>
    /// Before any hit of its account was measured, a hit is estimated at its bytes × what rendering the
    /// account's answers has cost per byte lately (fifteenth session): here three answers of one size
    /// rendered at 0.35, 0.05 and 0.35 s, so the hit of the first is estimated at 0.25 s, not its own 0.35 s.
    /// </summary>
    [Fact]
    public async Task ACachedAnswer_BeforeAnyHitIsMeasured_IsEstimatedAtTheRecentRenderingCostPerByte()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 12, 5, 3, 30, 0, TimeSpan.Zero));
        var meter = new SteppingMeter(TimeSpan.FromSeconds(0.35));
        await using var plane = await MeteredPlaneAsync(clock, meter);
        var (impact, account) = await MeteredTenantAsync(plane, clock, "noisy");

        // Given renderings of 0.35 s, 0.05 s and 0.35 s (each question 3 pieces), leaving the budget 0.20 s in debt
        await impact(3000);
        clock.Advance(TimeSpan.FromMinutes(30));
        meter.Step = TimeSpan.FromSeconds(0.05);
        await impact(3001);
        meter.Step = TimeSpan.FromSeconds(0.35);
        await impact(3002);

        // When the first question is asked again, its hit is refused, estimated at the renderings' average per byte
        var refused = await ApiAssert.FailsAsync(() => impact(3000), "Throttling.Analysis", 400);
        Assert.Contains("estimated at 0.25 s", refused.EcsMessage, StringComparison.Ordinal);
    }

    /// <summary>
    /// A tenant's cache hits are estimated at what its own hits have cost to serve (and, before any, its
    /// own answers to render): another tenant whose answers render and serve slowly (or who makes them
    /// so) neither raises nor lowers what this one is estimated at, and each hit is charged its own use.
    /// </summary>
    [Fact]
    public async Task ACachedAnswersCharge_IsSetByItsOwnAccountsRenderings_NotAnotherTenants()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 12, 5, 5, 30, 0, TimeSpan.Zero));
        var meter = new SteppingMeter(TimeSpan.FromSeconds(0.05));
        await using var plane = await MeteredPlaneAsync(clock, meter, burst: 1000);
        var quiet = await MeteredTenantAsync(plane, clock, "quiet");
        var noisy = await MeteredTenantAsync(plane, clock, "noisy");
        var budget = plane.Services.GetRequiredService<AnalysisBudget>();
        var admission = plane.Services.GetRequiredService<AnalysisAdmission>();
        const long bytes = 1_000_000;

        // Given the quiet tenant's question rendered and served at 0.05 s a stretch
        await quiet.Impact(3000);
        var rendered = admission.RenderingOf(quiet.Account).Of(bytes);
        var spent = budget.Spent(quiet.Account);
        await quiet.Impact(3000);
        var servedOnce = budget.Spent(quiet.Account) - spent;
        var estimate = admission.ServingOf(quiet.Account).Of(bytes);

        // When another tenant's question renders and serves at 4 s a stretch
        meter.Step = TimeSpan.FromSeconds(4);
        await noisy.Impact(3000);
        await noisy.Impact(3000);
        Assert.True(admission.ServingOf(noisy.Account).Of(bytes) > estimate);

        // Then the quiet tenant's estimates are its own as before, and its next hit is charged its own use
        Assert.Equal(rendered, admission.RenderingOf(quiet.Account).Of(bytes));
        Assert.Equal(estimate, admission.ServingOf(quiet.Account).Of(bytes));
        meter.Step = TimeSpan.FromSeconds(0.05);
        spent = budget.Spent(quiet.Account);
        await quiet.Impact(3000);
        Assert.Equal(servedOnce.TotalSeconds, (budget.Spent(quiet.Account) - spent).TotalSeconds, 6);
    }

    /// <summary>The running sums over the window agree with summing the last renderings afresh (the slow twin).</summary>
    [Fact]
    public void TheRenderingCost_IsTheLastRenderingsSecondsOverTheirBytes()
    {
        Gen.Select(Gen.Int[1, 500_000], Gen.Int[0, 50_000]).Array[1, 100].Select(Gen.Int[1, 1_000_000]).Sample((renderings, bytes) =>
        {
            var cost = new AnalysisAdmission.RenderingCost();
            foreach (var (b, t) in renderings)
                cost.Learn(b, TimeSpan.FromTicks(t));
            var last = renderings.TakeLast(AnalysisAdmission.RenderingCost.Window).ToList();
            var slow = TimeSpan.FromTicks((long)Math.Round((double)last.Sum(r => (long)r.Item2) * bytes / last.Sum(r => (long)r.Item1)));
            return Math.Abs((cost.Of(bytes) - slow).Ticks) <= 1;
        });
    }

    /// <summary>
    /// Issue 19: a question's garbage (1.8–2.5 MB per new question) is collected on whichever thread
    /// allocates next, maybe a quiet tenant's; each measured piece is also charged its bytes × the
    /// process's collection cost per byte (here 1 MB a piece at 0.1 µs a byte: 0.1 s).
    /// </summary>
    [Fact]
    public async Task ANewQuestion_IsAlsoChargedTheCollectorsShareOfWhatItAllocated()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 12, 5, 0, 30, 0, TimeSpan.Zero));
        await using var plane = await TestControlPlane.StartAsync(clock: clock, options: new ServerOptions
        {
            Throttling = new Throttling { AnalysisSecondsPerSecond = 0.001, AnalysisBurstSeconds = 1, AnalysisInChild = false, ThrottledAnswerDelay = TimeSpan.Zero },
        }, services: s => s.AddSingleton<CpuMeter>(new SteppingMeter(TimeSpan.FromSeconds(0.35), bytesStep: 1_000_000, collectorPerByte: 1e-7)));
        var key = plane.NewAccount("noisy");
        var api = new Scenario(plane.Client(key, SignatureStyle.V3, clock));
        var vpc = await api.VpcAsync();
        var sg = await api.GroupAsync(vpc);
        await api.RunAsync(sg, await api.VSwitchAsync(vpc), amount: 2);
        var budget = plane.Services.GetRequiredService<AnalysisBudget>();

        await api.Api.CallAsync("DescribeChangeImpact", EcsClient.Flatten(new
        {
            RegionId = Region, ChangeAction = "AuthorizeSecurityGroup", SecurityGroupId = sg, IpProtocol = "tcp", PortRange = "3000/3000", SourceCidrIp = "10.0.0.0/8",
        }));

        // Three pieces (rehearsal, comparing, rendering), each 0.35 s of its thread and 0.1 s of the collector's
        Assert.Equal(1.35, budget.Spent(key.AccountId).TotalSeconds, 6);
    }

    /// <summary>
    /// Issue 19, seventeenth session: the budget was 0.25 CPU-s/s and a 1 s burst on any node — a tenth of
    /// a 2-core node's CPU before its burst, and its new questions moved another tenant's read p99 2.2×.
    /// By default it is now a share of the node's cores (5 %, and 2.5 s of that rate at once); a rate or
    /// burst the operator gives is used as given, a burst not given following the rate given.
    /// </summary>
    [Theory]
    [InlineData(1, null, null, 0.05, 0.125)]
    [InlineData(2, null, null, 0.1, 0.25)]
    [InlineData(16, null, null, 0.8, 2)]
    [InlineData(2, 0.5, null, 0.5, 1.25)]
    [InlineData(2, null, 3.0, 0.1, 3)]
    [InlineData(16, 0.25, 1.0, 0.25, 1)]
    public void TheBudgetsDefault_IsAShareOfTheNodesCores_AndAGivenRateOrBurstIsUsedAsGiven(int cores, double? rate, double? burst, double secondsPerSecond, double burstSeconds)
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 12, 5, 10, 0, 0, TimeSpan.Zero));
        var budget = new AnalysisBudget(new ServerOptions { Throttling = new Throttling { NodeCores = cores }.WithAnalysisBudget(rate, burst) }, clock);
        const string kind = "DescribeChangeImpact";

        // A full bucket holds the burst; a question estimated above all of it is answered at once from it (1,000 instances: 50 s).
        Assert.Equal(burstSeconds, budget.Left(1), 9);
        budget.Take(1, kind, 1000).Settle(TimeSpan.FromSeconds(burstSeconds));
        // Spent: the next, however small, waits for the rate.
        Assert.Throws<Palisade.Domain.Errors.EcsException>(() => budget.Take(1, kind, 2));
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(2 * secondsPerSecond, budget.Left(1), 9);
        budget.Take(1, kind, 2).Settle(TimeSpan.Zero);
        // However long the quiet spell, no more than the burst.
        clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(burstSeconds, budget.Left(1), 9);
    }

    /// <summary>The tests' <c>palisade serve</c> children get the budget the in-process test servers derive from their cores.</summary>
    [Fact]
    public void TheTestsServerProcesses_GetTheBudgetOfATestNodesCores()
    {
        Assert.Equal(Palisade.TestKit.TestNode.ProcessAnalysisRate, new Throttling { NodeCores = Palisade.TestKit.TestNode.Cores }.AnalysisSecondsPerSecond, 9);
    }

    [Fact]
    public void AGivenRateOfZero_TurnsTheBudgetOff_WhateverTheCores()
    {
        var budget = new AnalysisBudget(new ServerOptions { Throttling = new Throttling { NodeCores = 64 }.WithAnalysisBudget(0, null) }, TimeProvider.System);
        Assert.False(budget.Enabled);
        Assert.True(new AnalysisBudget(new ServerOptions { Throttling = new Throttling { NodeCores = 64 } }, TimeProvider.System).Enabled);
    }

    /// <summary>
    /// The same through the server: new questions of 0.15 s each (three measured pieces of 0.05 s) from a
    /// full bucket, on a clock that does not move. A 2-core node's account gets two answered (0.25 s and
    /// what is left admits the second, which leaves it in debt), a 16-core node's fourteen (2 s); on the
    /// 2-core node with the operator's rate of 0.8 s/s (its burst 2 s), fourteen as well.
    /// </summary>
    [Theory]
    [InlineData(2, null, 2)]
    [InlineData(16, null, 14)]
    [InlineData(2, 0.8, 14)]
    public async Task AnAccountsNewQuestions_AreAnsweredAsTheNodesShareHoldsThem(int cores, double? rate, int answered)
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 12, 5, 10, 0, 0, TimeSpan.Zero));
        await using var plane = await TestControlPlane.StartAsync(clock: clock, options: new ServerOptions
        {
            Throttling = new Throttling { NodeCores = cores, AnalysisInChild = false, ThrottledAnswerDelay = TimeSpan.Zero }.WithAnalysisBudget(rate, null),
        }, services: s => s.AddSingleton<CpuMeter>(new SteppingMeter(TimeSpan.FromSeconds(0.05))));
        var (impact, account) = await MeteredTenantAsync(plane, clock, "tenant");

        for (var i = 0; i < answered; i++)
            await impact(3000 + i);
        await ApiAssert.FailsAsync(() => impact(4000), "Throttling.Analysis", 400);
        Assert.Equal(answered * 0.15, plane.Services.GetRequiredService<AnalysisBudget>().Spent(account).TotalSeconds, 6);
    }
}
