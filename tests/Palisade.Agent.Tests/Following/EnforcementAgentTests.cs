using Palisade.Agent.Following;
using Palisade.Agent.Kernel;
using Palisade.Agent.Rendering;
using Palisade.Agent.Tests.Rendering;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;
using Palisade.Domain.State;
using Palisade.Engine.Flows;

namespace Palisade.Agent.Tests.Following;

/// <summary>The agent's safety rules, with the kernel and the control plane replaced by fakes.</summary>
public sealed class EnforcementAgentTests
{
    private sealed class FakeKernel : INetfilter
    {
        public List<string> Transactions { get; } = [];
        public Func<KernelShape?> Shape { get; set; } = () => null;
        public bool Refuse { get; set; }
        public Func<string, bool> RefuseIf { get; set; } = _ => false;
        public List<TrackedConnection> Connections { get; } = [];
        public List<TrackedConnection> Deleted { get; } = [];
        public List<string> Missing { get; } = [];

        public Task ApplyAsync(string transaction, CancellationToken cancel)
        {
            if (Refuse || RefuseIf(transaction))
                throw new NetfilterException("Error: Could not process rule");
            Transactions.Add(transaction);
            return Task.CompletedTask;
        }

        public Task CheckAsync(string transaction, CancellationToken cancel) =>
            Refuse || RefuseIf(transaction) ? throw new NetfilterException("Error: Could not process rule") : Task.CompletedTask;

        public Task<KernelShape?> ReadBackAsync(CancellationToken cancel) => Task.FromResult(Shape());

        public Task<IReadOnlyList<TrackedConnection>> ListConnectionsAsync(CancellationToken cancel) => Task.FromResult<IReadOnlyList<TrackedConnection>>(Connections);

        public Task DeleteConnectionAsync(TrackedConnection connection, CancellationToken cancel)
        {
            Deleted.Add(connection);
            return Task.CompletedTask;
        }

        public Task<IReadOnlyList<string>> CheckPrerequisitesAsync(CancellationToken cancel) => Task.FromResult<IReadOnlyList<string>>([.. Missing]);

        /// <summary>What the named counters hold; a harvest returns it and zeroes it, as <c>nft reset counters</c> does.</summary>
        public Dictionary<string, CounterReading> Counters { get; } = [];

        public Task<IReadOnlyDictionary<string, CounterReading>> HarvestCountersAsync(CancellationToken cancel)
        {
            var read = new Dictionary<string, CounterReading>(Counters);
            Counters.Clear();
            return Task.FromResult<IReadOnlyDictionary<string, CounterReading>>(read);
        }
    }

    private sealed class FakeControlPlane(Func<int, HostPolicy> answer) : IControlPlane
    {
        public int Fetches { get; private set; }
        public List<long> Reports { get; } = [];
        public List<int> ReportedNics { get; } = [];
        public int FailReports { get; set; }

        public Task<HostPolicy> FetchAsync(string hostName, CancellationToken cancel) => Task.FromResult(answer(++Fetches));

        public int Waits { get; private set; }

        /// <summary>What the feed answers after its wait: by default "nothing changed".</summary>
        public bool Changed { get; set; }

        public async Task<bool> WaitForChangeAsync(string hostName, long afterRevision, TimeSpan wait, CancellationToken cancel)
        {
            Waits++;
            await Task.Delay(wait, cancel);
            return Changed;
        }

        public Task ReportAsync(string hostName, long appliedRevision, IReadOnlyList<NicRef> nics, CancellationToken cancel)
        {
            if (FailReports > 0)
            {
                FailReports--;
                throw new ControlPlaneUnavailableException("report lost");
            }
            Reports.Add(appliedRevision);
            ReportedNics.Add(nics.Count);
            return Task.CompletedTask;
        }

        public List<IReadOnlyList<RuleHits>> Usage { get; } = [];

        public async Task ReportAsync(string hostName, long appliedRevision, IReadOnlyList<NicRef> nics, IReadOnlyList<RuleHits> usage, CancellationToken cancel)
        {
            await ReportAsync(hostName, appliedRevision, nics, cancel);
            Usage.Add(usage);
        }
    }

    private static HostPolicy Policy(long revision, bool web1InWeb = true, IReadOnlyList<HostBinding>? bindings = null) =>
        new(revision, bindings ?? Scenario.Bindings, Scenario.State(web1InWeb));

    // A whole fetch after every wait, as the agent did before issue 17: these tests feed a new answer per fetch.
    // Each report sent at once, as before reports were coalesced: these tests count them.
    // No warm-up (twenty-fifth session): its line in these tests' logs would depend on which test ran first.
    private static readonly AgentOptions Options = new("host-1") { WarmUp = false, PollWait = TimeSpan.FromMilliseconds(10), RetryDelay = TimeSpan.FromMilliseconds(10), ResyncInterval = TimeSpan.Zero, ReportCoalescing = TimeSpan.Zero };

    private static async Task RunFor(EnforcementAgent agent, Func<bool> until)
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var run = agent.RunAsync(stop.Token);
        while (!until() && !stop.IsCancellationRequested)
            await Task.Delay(5);
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task NoTableYet_ClosesEveryNicFirst_ThenAppliesThePolicy()
    {
        var kernel = new FakeKernel();
        var controlPlane = new FakeControlPlane(_ => Policy(42));
        var agent = new EnforcementAgent(controlPlane, kernel, Options, _ => { });
        kernel.Shape = () => agent.Applied is null ? null : ExpectedShape.Of(agent.Applied);
        await RunFor(agent, () => controlPlane.Reports.Count > 0);
        Assert.StartsWith("# palisade: revision 0, 0 NICs", kernel.Transactions[0], StringComparison.Ordinal);
        Assert.StartsWith("# palisade: revision 42, 4 NICs", kernel.Transactions[1], StringComparison.Ordinal);
        Assert.Equal(42, controlPlane.Reports[0]);
    }

    [Fact]
    public async Task BridgeNetfilterOff_NicsAreReportedNotEnforced_LoudlyAndAgainWhenItComesBack()
    {
        var kernel = new FakeKernel();
        kernel.Missing.Add("net.bridge.bridge-nf-call-iptables is 0, not 1");
        var controlPlane = new FakeControlPlane(_ => Policy(42));
        var log = new List<string>();
        var agent = new EnforcementAgent(controlPlane, kernel, Options, line => { lock (log) log.Add(line); });
        kernel.Shape = () => agent.Applied is null ? null : ExpectedShape.Of(agent.Applied);
        await RunFor(agent, () => controlPlane.Reports.Count > 0);
        Assert.Equal([0], controlPlane.ReportedNics); // revision 42 applied, but no NIC counts as enforced
        Assert.Contains(log, l => l.StartsWith("CANNOT ENFORCE: net.bridge.bridge-nf-call-iptables is 0", StringComparison.Ordinal));
        Assert.Equal(["net.bridge.bridge-nf-call-iptables is 0, not 1"], agent.CannotEnforce);

        kernel.Missing.Clear();
        await RunFor(agent, () => controlPlane.Reports.Count > 1);
        Assert.Equal([0, 4], controlPlane.ReportedNics);
        Assert.Empty(agent.CannotEnforce);
    }

    [Fact]
    public async Task ARefusedTransaction_IsNarrowedToTheFailingNic_WhichIsClosedAndReportedNotEnforced()
    {
        // The kernel refuses anything holding redis's rule (as it would a rule it cannot take).
        var kernel = new FakeKernel { RefuseIf = t => t.Contains("sgr-redisweb", StringComparison.Ordinal) };
        var controlPlane = new FakeControlPlane(_ => Policy(42));
        var log = new List<string>();
        var agent = new EnforcementAgent(controlPlane, kernel, Options, line => { lock (log) log.Add(line); });
        kernel.Shape = () => agent.Applied is null ? null : ExpectedShape.Of(agent.Applied);
        await RunFor(agent, () => controlPlane.Reports.Count > 0);
        Assert.Equal(["i-redis1"], agent.Refused.Select(n => n.Name));
        Assert.Equal([3], controlPlane.ReportedNics); // the three others are enforced at revision 42
        var applied = kernel.Transactions[^1];
        Assert.StartsWith("# palisade: revision 42, 4 NICs", applied, StringComparison.Ordinal);
        Assert.Contains("sgr-http", applied, StringComparison.Ordinal); // web's policy is in
        var redis = agent.Applied!.Nics.Single(n => n.InstanceId.Value == "i-redis1");
        Assert.Empty(redis.Ingress.Rules);
        Assert.Equal(NftVerdict.Drop, redis.Egress.Default); // closed both ways, its port still pinned
        Assert.Contains("bridge", applied, StringComparison.Ordinal);
        Assert.Contains(log, l => l.Contains("NIC FAILING", StringComparison.Ordinal) && l.Contains("i-redis1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RuleHits_AreReadFromTheCounters_AndReportedAsDeltasPerNicDirectionAndRule_NoneLostToAFailedReport()
    {
        var kernel = new FakeKernel();
        var controlPlane = new FakeControlPlane(_ => Policy(42)) { FailReports = 1 };
        var agent = new EnforcementAgent(controlPlane, kernel, Options with { UsageInterval = TimeSpan.FromMilliseconds(1) }, _ => { });
        kernel.Shape = () => agent.Applied is null ? null : ExpectedShape.Of(agent.Applied);
        kernel.Counters[NftText.CounterName(PolicyRenderer.IngressChainName(InstanceId.Parse("i-web1")), "sgr-http")] = new CounterReading(3, 180);
        kernel.Counters[NftText.CounterName(PolicyRenderer.EgressChainName(InstanceId.Parse("i-ops1")), "sgr-dns")] = new CounterReading(2, 120);
        kernel.Counters["c_not_ours"] = new CounterReading(9, 9);
        var added = false;
        await RunFor(agent, () =>
        {
            // After the lost report, more packets arrive before the next one.
            if (!added && controlPlane.FailReports == 0)
            {
                kernel.Counters[NftText.CounterName(PolicyRenderer.IngressChainName(InstanceId.Parse("i-web1")), "sgr-http")] = new CounterReading(1, 60);
                added = true;
            }
            return controlPlane.Usage.Count > 0;
        });
        var first = controlPlane.Usage[0];
        Assert.Equal(
            ["i-ops1 egress sgr-dns 2 120", "i-web1 ingress sgr-http 4 240"],
            first.Select(u => $"{u.InstanceId} {u.Direction} {u.SecurityGroupRuleId} {u.Packets} {u.Bytes}"));
        Assert.Empty(agent.PendingUsage);
    }

    [Fact]
    public void Counters_NameEachEcsRuleOfEachChainOnce_AndARunSetCountsForEveryRuleItMerges()
    {
        var ruleset = PolicyRenderer.Render(Scenario.State(true), Scenario.Bindings, 1);
        var counters = NftText.Counters(ruleset);
        Assert.Contains(counters, c => c.Value == new CounterOwner(InstanceId.Parse("i-web1"), "ingress", "sgr-http"));
        Assert.Contains(counters, c => c.Value == new CounterOwner(InstanceId.Parse("i-ops1"), "egress", "sgr-dns"));
        // Every counted rule of a chain has its counter, and only those.
        foreach (var nic in ruleset.Nics)
        {
            Assert.Equal(nic.Ingress.CountedRules.Order(StringComparer.Ordinal),
                counters.Values.Where(c => c.InstanceId == nic.InstanceId && c.Direction == "ingress").Select(c => c.RuleId).Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public async Task AReportLostToAnOutage_IsSentAgain()
    {
        var kernel = new FakeKernel();
        var controlPlane = new FakeControlPlane(_ => Policy(42)) { FailReports = 2 };
        var agent = new EnforcementAgent(controlPlane, kernel, Options, _ => { });
        kernel.Shape = () => agent.Applied is null ? null : ExpectedShape.Of(agent.Applied);
        await RunFor(agent, () => controlPlane.Reports.Count > 0);
        Assert.Equal([42L], controlPlane.Reports);
        Assert.Equal(2, kernel.Transactions.Count); // closed, then the policy once: a lost report is not a reason to apply again
    }

    /// <summary>A control plane whose status reports hang until released, with a feed that says "changed" once the first report is on its way.</summary>
    private sealed class SlowReportControlPlane : IControlPlane
    {
        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Fetches;
        public List<long> Reports { get; } = [];
        public int ReportsStarted;

        public Task<HostPolicy> FetchAsync(string hostName, CancellationToken cancel) =>
            Task.FromResult(Policy(41 + Interlocked.Increment(ref Fetches), web1InWeb: Fetches % 2 == 0));

        public async Task<bool> WaitForChangeAsync(string hostName, long afterRevision, TimeSpan wait, CancellationToken cancel)
        {
            // The next change comes while the first report is still unanswered.
            if (Volatile.Read(ref ReportsStarted) == 1 && afterRevision == 42)
                return true;
            await Task.Delay(wait, cancel);
            return false;
        }

        public async Task ReportAsync(string hostName, long appliedRevision, IReadOnlyList<NicRef> nics, CancellationToken cancel)
        {
            Interlocked.Increment(ref ReportsStarted);
            await Release.Task.WaitAsync(cancel);
            lock (Reports)
                Reports.Add(appliedRevision);
        }
    }

    [Fact]
    public async Task AChangeWhileTheStatusReportIsOnItsWay_IsAppliedWithoutWaitingForItsAnswer_AndTheNewRevisionIsReportedAfter()
    {
        var kernel = new FakeKernel();
        var controlPlane = new SlowReportControlPlane();
        var agent = new EnforcementAgent(controlPlane, kernel, Options with { PollWait = TimeSpan.FromMilliseconds(20), ResyncInterval = TimeSpan.FromHours(1) }, _ => { });
        kernel.Shape = () => agent.Applied is null ? null : ExpectedShape.Of(agent.Applied);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var run = agent.RunAsync(stop.Token);
        while (agent.AppliedRevision < 43 && !stop.IsCancellationRequested)
            await Task.Delay(5);
        // Revision 43 is enforced while the report of 42 is still unanswered.
        Assert.Equal(43, agent.AppliedRevision);
        Assert.Empty(controlPlane.Reports);
        controlPlane.Release.SetResult();
        while (!controlPlane.Reports.Contains(43) && !stop.IsCancellationRequested)
            await Task.Delay(5);
        Assert.Equal([42L, 43L], controlPlane.Reports);
        await stop.CancelAsync();
        await run;
    }

    /// <summary>A feed with a burst of changes: revisions 42 to 45, each announced as soon as the one before is applied; then quiet.</summary>
    private sealed class BurstControlPlane : IControlPlane
    {
        public const long Last = 45;
        private long _revision = 41;
        public List<long> Reports { get; } = [];

        public Task<HostPolicy> FetchAsync(string hostName, CancellationToken cancel)
        {
            var revision = Math.Min(Interlocked.Increment(ref _revision), Last);
            return Task.FromResult(Policy(revision, web1InWeb: revision % 2 == 0));
        }

        public async Task<bool> WaitForChangeAsync(string hostName, long afterRevision, TimeSpan wait, CancellationToken cancel)
        {
            if (afterRevision < Last)
                return true;
            await Task.Delay(wait, cancel);
            return false;
        }

        public Task ReportAsync(string hostName, long appliedRevision, IReadOnlyList<NicRef> nics, CancellationToken cancel)
        {
            lock (Reports)
                Reports.Add(appliedRevision);
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task ABurstOfChanges_IsAppliedChangeByChange_AndOnlyItsLastRevisionIsReported()
    {
        var kernel = new FakeKernel();
        var controlPlane = new BurstControlPlane();
        var agent = new EnforcementAgent(controlPlane, kernel, Options with { ReportCoalescing = TimeSpan.FromSeconds(2), PollWait = TimeSpan.FromSeconds(5), ResyncInterval = TimeSpan.FromHours(1) }, _ => { });
        kernel.Shape = () => agent.Applied is null ? null : ExpectedShape.Of(agent.Applied);
        await RunFor(agent, () => { lock (controlPlane.Reports) return controlPlane.Reports.Count > 0; });
        Assert.Equal(BurstControlPlane.Last, agent.AppliedRevision);
        // Each revision of the burst reached the kernel (the closing transaction, then 42 to 45)...
        Assert.Equal(5, kernel.Transactions.Count);
        // ...and one report, of the last, was written on the server instead of four.
        lock (controlPlane.Reports)
            Assert.Equal([BurstControlPlane.Last], controlPlane.Reports);
    }

    [Fact]
    public async Task Restart_KeepsTheEarlierTableUntilTheNewPolicyReplacesItWhole()
    {
        var kernel = new FakeKernel { Shape = () => new KernelShape(new Dictionary<string, int> { ["inet forward"] = 10 }, new HashSet<string>()) };
        var controlPlane = new FakeControlPlane(_ => Policy(42));
        var agent = new EnforcementAgent(controlPlane, kernel, Options, _ => { });
        await RunFor(agent, () => controlPlane.Reports.Count > 0);
        Assert.StartsWith("# palisade: revision 42, 4 NICs", kernel.Transactions[0], StringComparison.Ordinal);
        Assert.Contains("delete table inet palisade\ntable inet palisade {", kernel.Transactions[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task MembershipChangeOfAnInstanceElsewhere_IsOneSetElementTransaction()
    {
        var kernel = new FakeKernel();
        var elsewhere = Scenario.Bindings.Where(b => b.InterfaceName != "vh-web1").ToList();
        var agent = new EnforcementAgent(new FakeControlPlane(_ => Policy(1)), kernel, Options, _ => { });
        Assert.True(await agent.ConvergeAsync(Policy(42, bindings: elsewhere), CancellationToken.None));
        Assert.True(await agent.ConvergeAsync(Policy(43, web1InWeb: false, bindings: elsewhere), CancellationToken.None));
        Assert.False(await agent.ConvergeAsync(Policy(43, web1InWeb: false, bindings: elsewhere), CancellationToken.None));
        Assert.Equal(2, kernel.Transactions.Count);
        Assert.StartsWith("# palisade: revision 42 -> 43, set elements only", kernel.Transactions[1], StringComparison.Ordinal);
        Assert.Equal((1, 1), (agent.FullApplies, agent.SetUpdates));
    }

    [Fact]
    public async Task RuleChange_ReplacesTheChangedChainsOnly_AndANewNicMeansAWholeApply()
    {
        var kernel = new FakeKernel();
        var agent = new EnforcementAgent(new FakeControlPlane(_ => Policy(1)), kernel, Options, _ => { });
        await agent.ConvergeAsync(new HostPolicy(42, Scenario.Bindings.Take(3).ToList(), Scenario.State()), CancellationToken.None);
        await agent.ConvergeAsync(new HostPolicy(43, Scenario.Bindings.Take(3).ToList(), Scenario.WithRedisSsh()), CancellationToken.None);
        Assert.StartsWith("# palisade: revision 42 -> 43, 1 chains", kernel.Transactions[1], StringComparison.Ordinal);
        await agent.ConvergeAsync(new HostPolicy(44, Scenario.Bindings, Scenario.WithRedisSsh()), CancellationToken.None);
        Assert.StartsWith("# palisade: revision 44, 4 NICs", kernel.Transactions[2], StringComparison.Ordinal);
        Assert.Equal((2, 1), (agent.FullApplies, agent.ChainUpdates));
    }

    [Fact]
    public async Task AQuietFeed_CostsNoFetch_OnlyTheWaits_AndTheKernelIsStillCheckedForDrift()
    {
        var kernel = new FakeKernel();
        var controlPlane = new FakeControlPlane(_ => Policy(42));
        var agent = new EnforcementAgent(controlPlane, kernel, Options with { ResyncInterval = TimeSpan.FromMinutes(10) }, _ => { });
        kernel.Shape = () => agent.Applied is null ? null : ExpectedShape.Of(agent.Applied);
        await RunFor(agent, () => controlPlane.Waits >= 20);
        Assert.Equal(1, controlPlane.Fetches);
        Assert.Equal(1, agent.Fetches);
        Assert.Equal(2, kernel.Transactions.Count); // closed, then the policy once
    }

    [Fact]
    public async Task AMissedWakeUpIsCaughtByTheResync_AndAChangeOnTheFeedIsFetchedAtOnce()
    {
        var kernel = new FakeKernel();
        var revision = 42L;
        var controlPlane = new FakeControlPlane(_ => Policy(Interlocked.Read(ref revision), web1InWeb: Interlocked.Read(ref revision) == 42));
        var agent = new EnforcementAgent(controlPlane, kernel, Options with { ResyncInterval = TimeSpan.FromMilliseconds(500) }, _ => { });
        kernel.Shape = () => agent.Applied is null ? null : ExpectedShape.Of(agent.Applied);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var run = agent.RunAsync(stop.Token);
        async Task Until(Func<bool> condition)
        {
            while (!condition() && !stop.IsCancellationRequested)
                await Task.Delay(5);
        }
        await Until(() => agent.AppliedRevision == 42);
        // The server's wake-up is lost: the feed keeps saying "nothing", yet the resync (one run, no restart) finds revision 43.
        var waits = controlPlane.Waits;
        Interlocked.Exchange(ref revision, 43);
        await Until(() => agent.AppliedRevision == 43);
        Assert.Equal(43, agent.AppliedRevision);
        // Found by the resync: quiet waits went by first, and the only fetch since the first is the resync's
        // (an agent that fetched after every wait would have fetched many times). How many waits fit in the
        // resync interval depends on the machine's load, so only "at least one" is asserted.
        Assert.True(controlPlane.Waits > waits, "revision 43 was found by a resync after quiet waits, not at once");
        Assert.Equal(2, controlPlane.Fetches);
        // A feed that says "changed" is fetched at once, without waiting for the resync.
        Interlocked.Exchange(ref revision, 44);
        controlPlane.Changed = true;
        await Until(() => agent.AppliedRevision == 44);
        Assert.Equal(44, agent.AppliedRevision);
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task ControlPlaneUnreachable_KeepsTheLastRuleset_AndRepairsDriftMeanwhile()
    {
        var kernel = new FakeKernel();
        var log = new List<string>();
        var controlPlane = new FakeControlPlane(n => n == 1 ? Policy(42) : throw new ControlPlaneUnavailableException("Connection refused"));
        var agent = new EnforcementAgent(controlPlane, kernel, Options, l => { lock (log) log.Add(l); });
        var drifted = false;
        kernel.Shape = () => agent.Applied is null ? null : drifted ? new KernelShape(new Dictionary<string, int>(), new HashSet<string>()) : ExpectedShape.Of(agent.Applied);
        await RunFor(agent, () => controlPlane.Fetches >= 3);
        var applied = kernel.Transactions.Count;
        drifted = true;
        await RunFor(agent, () => agent.Repairs > 0);
        Assert.Equal(42, agent.AppliedRevision);
        Assert.Contains(log, l => l.Contains("control plane unavailable", StringComparison.Ordinal));
        Assert.StartsWith("# palisade: revision 42, 4 NICs", kernel.Transactions[^1], StringComparison.Ordinal);
        Assert.True(kernel.Transactions.Count > applied);
    }

    /// <summary>
    /// A revoked or rotated-out credential (issue 18): the agent says its credential is the problem,
    /// keeps enforcing what it applied, and picks up again once the control plane accepts it.
    /// </summary>
    [Fact]
    public async Task ARefusedCredential_IsSaidLoudly_AndTheRulesetStays()
    {
        var kernel = new FakeKernel();
        var log = new List<string>();
        var refused = true;
        var controlPlane = new FakeControlPlane(n => n == 1 ? Policy(42)
            : Volatile.Read(ref refused) ? throw new HostCredentialRefusedException("DescribeHostPolicy: the control plane refuses this agent's credential (InvalidAccessKeyId.NotFound: Specified access key is not found.)")
            : Policy(43));
        var options = Options with { ResyncInterval = TimeSpan.Zero, PollWait = TimeSpan.FromMilliseconds(50), RetryDelay = TimeSpan.FromMilliseconds(1) };
        var agent = new EnforcementAgent(controlPlane, kernel, options, l => { lock (log) log.Add(l); });
        kernel.Shape = () => agent.Applied is null ? null : ExpectedShape.Of(agent.Applied);
        await RunFor(agent, () => controlPlane.Fetches >= 3);
        Assert.Equal(42, agent.AppliedRevision);
        lock (log)
            Assert.Contains(log, l => l.StartsWith("CREDENTIAL REFUSED: DescribeHostPolicy: the control plane refuses this agent's credential (InvalidAccessKeyId.NotFound", StringComparison.Ordinal)
                && l.Contains("keeping revision 42", StringComparison.Ordinal));
        Assert.StartsWith("# palisade: revision 42, 4 NICs", kernel.Transactions[^1], StringComparison.Ordinal);
        Volatile.Write(ref refused, false);
        await RunFor(agent, () => agent.AppliedRevision == 43);
        Assert.Equal(43, agent.AppliedRevision);
    }

    [Fact]
    public async Task AnythingUnexpected_KeepsTheRuleset_AndTheAgentGoesOn()
    {
        var kernel = new FakeKernel();
        var log = new List<string>();
        var controlPlane = new FakeControlPlane(n => n is 2 or 3 ? throw new InvalidDataException("a surprise") : Policy(n < 2 ? 42 : 43, web1InWeb: n < 2));
        var agent = new EnforcementAgent(controlPlane, kernel, Options, l => { lock (log) log.Add(l); });
        kernel.Shape = () => agent.Applied is null ? null : ExpectedShape.Of(agent.Applied);
        await RunFor(agent, () => agent.AppliedRevision == 43);
        Assert.Equal(43, agent.AppliedRevision);
        Assert.Contains(log, l => l.StartsWith("unexpected InvalidDataException: a surprise; keeping revision 42", StringComparison.Ordinal));
    }

    [Fact]
    public async Task KernelRefuses_NothingIsTakenAsApplied_AndTheNextTryIsWhole()
    {
        var kernel = new FakeKernel();
        var agent = new EnforcementAgent(new FakeControlPlane(_ => Policy(1)), kernel, Options, _ => { });
        await agent.ConvergeAsync(Policy(42), CancellationToken.None);
        kernel.Refuse = true;
        await Assert.ThrowsAsync<NetfilterException>(() => agent.ConvergeAsync(Policy(43, web1InWeb: false), CancellationToken.None));
        Assert.Equal(42, agent.AppliedRevision);
        kernel.Refuse = false;
        await agent.ConvergeAsync(Policy(43, web1InWeb: false), CancellationToken.None);
        Assert.Equal(43, agent.AppliedRevision);
    }

    [Fact]
    public async Task CutEstablished_DeletesOnlyConnectionsThePolicyNoLongerAllows()
    {
        var kernel = new FakeKernel();
        Flow Tcp(string from, string to, int port) => new(IpAddress.Parse(from), IpAddress.Parse(to), IpProtocol.Tcp, port, 40000);
        var webToRedis = Tcp("198.18.1.11", "198.18.1.21", 6379);
        var web2ToRedis = Tcp("198.18.1.12", "198.18.1.21", 6379);
        var outsiders = Tcp("203.0.113.1", "203.0.113.2", 6379);
        var first = Policy(42);
        var zone = PolicyRenderer.Render(first.Parts, 42).Nics[0].Zone;
        // The same addresses in another network's zone are another tenant's connection: never cut for this one.
        var otherNetwork = new TrackedConnection(webToRedis, zone % ConntrackZones.Count + 1);
        kernel.Connections.AddRange([new(webToRedis, zone), new(web2ToRedis, zone), new(outsiders, zone), otherNetwork]);
        var agent = new EnforcementAgent(new FakeControlPlane(_ => Policy(1)), kernel, Options with { CutEstablished = true }, _ => { });
        await agent.ConvergeAsync(first, CancellationToken.None);
        Assert.Empty(kernel.Deleted);
        await agent.ConvergeAsync(Policy(43, web1InWeb: false), CancellationToken.None);
        Assert.Equal([new TrackedConnection(webToRedis, zone)], kernel.Deleted);

        var keeping = new FakeKernel();
        keeping.Connections.Add(new(webToRedis, zone));
        var byDefault = new EnforcementAgent(new FakeControlPlane(_ => Policy(1)), keeping, Options, _ => { });
        await byDefault.ConvergeAsync(Policy(43, web1InWeb: false), CancellationToken.None);
        Assert.Empty(keeping.Deleted); // ECS keeps established connections, and so does the default
    }

    /// <summary>Issue 20: with the rule counters off the kernel gets no counter at all, and nothing is read back as usage.</summary>
    [Fact]
    public async Task RuleCountersOff_NoCounterReachesTheKernel_AndNoUsageIsRead()
    {
        var kernel = new FakeKernel();
        var agent = new EnforcementAgent(new FakeControlPlane(_ => Policy(42)), kernel, Options with { RuleCounters = false }, _ => { });
        await agent.ConvergeAsync(Policy(42), CancellationToken.None);
        await agent.ConvergeAsync(new HostPolicy(43, Scenario.Bindings, Scenario.WithRedisSsh()), CancellationToken.None);
        Assert.Equal((1, 1), (agent.FullApplies, agent.ChainUpdates));
        Assert.All(kernel.Transactions, t => Assert.DoesNotContain("counter", t, StringComparison.Ordinal));
        Assert.False(agent.Applied!.Counters);
        kernel.Counters["c_in_i-web1_sgr-anything"] = new CounterReading(5, 300);
        await agent.HarvestUsageAsync(CancellationToken.None);
        Assert.Empty(agent.PendingUsage);
    }

    /// <summary>
    /// Issue 16: a prefix-list entry edit, fetched as state text, is re-rendered from the applied ruleset
    /// (no NIC compiled again) and sent as set elements only; a later rule change renders whole again.
    /// </summary>
    [Fact]
    public async Task AnEntryEdit_IsReRenderedFromTheAppliedRuleset_AndSentAsElements()
    {
        static HostPolicy Fetched(long revision, string entries, string port = "22/22")
        {
            var text = $$$"""
                {"PrefixLists": [{"PrefixListId": "pl-office", "AddressFamily": "IPv4", "MaxEntries": 10, "Entries": {"Entry": [{{{entries}}}]}}],
                 "SecurityGroups": [{"SecurityGroupId": "sg-web", "VpcId": "vpc-a", "Permissions": {"Permission": [
                   {"SecurityGroupRuleId": "sgr-office", "Direction": "ingress", "IpProtocol": "TCP", "PortRange": "{{{port}}}", "SourcePrefixListId": "pl-office", "Priority": 1}]}}],
                 "Instances": [{"InstanceId": "i-web1", "VpcAttributes": {"VpcId": "vpc-a", "PrivateIpAddress": {"IpAddress": ["198.18.1.11"]}}, "SecurityGroupIds": {"SecurityGroupId": ["sg-web"]}}]}
                """;
            return new HostPolicy(revision, [new HostPart(StateFileReader.Read(text), [new HostBinding(InstanceId.Parse("i-web1"), "vh-web1")]) { Source = text }]);
        }
        var kernel = new FakeKernel();
        var agent = new EnforcementAgent(new FakeControlPlane(_ => Fetched(1, "")), kernel, Options, _ => { });
        await agent.ConvergeAsync(Fetched(1, """{"Cidr": "198.19.0.0/16"}"""), CancellationToken.None);
        var chains = agent.Applied!.Nics[0];
        await agent.ConvergeAsync(Fetched(2, """{"Cidr": "198.19.0.0/16"}, {"Cidr": "198.20.0.0/24"}"""), CancellationToken.None);
        Assert.Same(chains, agent.Applied!.Nics[0]);
        Assert.Equal(1, agent.SetUpdates);
        Assert.Equal(["# palisade: revision 1 -> 2, set elements only", "add element inet palisade pl4_pl-office { 198.20.0.0/24 }"], kernel.Transactions[^1].TrimEnd().Split('\n'));
        await agent.ConvergeAsync(Fetched(3, """{"Cidr": "198.19.0.0/16"}, {"Cidr": "198.20.0.0/24"}""", port: "2222/2222"), CancellationToken.None);
        Assert.NotSame(chains, agent.Applied!.Nics[0]);
        Assert.Equal(1, agent.ChainUpdates);
    }

    /// <summary>A feed whose first <c>failing</c> polls fail (a node answering 503); it records the wait each poll asked for.</summary>
    private sealed class FailingFeedControlPlane(int failing) : IControlPlane
    {
        public int Fetches;
        public int Waits;
        public List<TimeSpan> Asked { get; } = [];

        public Task<HostPolicy> FetchAsync(string hostName, CancellationToken cancel)
        {
            Interlocked.Increment(ref Fetches);
            return Task.FromResult(Policy(42));
        }

        public async Task<bool> WaitForChangeAsync(string hostName, long afterRevision, TimeSpan wait, CancellationToken cancel)
        {
            lock (Asked)
                Asked.Add(wait);
            if (Interlocked.Increment(ref Waits) <= failing)
                throw new ControlPlaneUnavailableException("DescribeChanges: ServiceUnavailable the store is busy");
            await Task.Delay(TimeSpan.FromMilliseconds(1), cancel);
            return false;
        }

        public Task ReportAsync(string hostName, long appliedRevision, IReadOnlyList<NicRef> nics, CancellationToken cancel) => Task.CompletedTask;
    }

    [Fact]
    public async Task AFailedPoll_IsPolledAgain_NotFetched()
    {
        // Issue 17: at 3,000 agents, polls that failed together turned into whole fetches together.
        var kernel = new FakeKernel();
        var controlPlane = new FailingFeedControlPlane(failing: 5);
        var agent = new EnforcementAgent(controlPlane, kernel, Options with { ResyncInterval = TimeSpan.FromHours(1), RetryDelay = TimeSpan.FromMilliseconds(1), RetryDelayMax = TimeSpan.FromMilliseconds(4) }, _ => { });
        kernel.Shape = () => agent.Applied is null ? null : ExpectedShape.Of(agent.Applied);
        await RunFor(agent, () => Volatile.Read(ref controlPlane.Waits) > 8);
        Assert.Equal(42, agent.AppliedRevision);
        // One fetch at the start; the five failed polls were polled again from revision 42.
        Assert.Equal(1, controlPlane.Fetches);
    }

    [Fact]
    public async Task EveryPoll_AsksForAWaitDrawnWithinItsJitter()
    {
        var kernel = new FakeKernel();
        var controlPlane = new FailingFeedControlPlane(failing: 0);
        var options = Options with { PollWait = TimeSpan.FromSeconds(60), PollJitter = 0.2, ResyncInterval = TimeSpan.FromHours(1), Random = new Random(17) };
        var agent = new EnforcementAgent(controlPlane, kernel, options, _ => { });
        kernel.Shape = () => agent.Applied is null ? null : ExpectedShape.Of(agent.Applied);
        await RunFor(agent, () => Volatile.Read(ref controlPlane.Waits) > 20);
        List<TimeSpan> asked;
        lock (controlPlane.Asked)
            asked = [.. controlPlane.Asked];
        Assert.All(asked, w => Assert.InRange(w, TimeSpan.FromSeconds(48), TimeSpan.FromSeconds(60)));
        // Agents started together drift apart: the waits are not all the same.
        Assert.True(asked.Distinct().Count() > asked.Count / 2, $"{asked.Distinct().Count()} distinct waits of {asked.Count}");
    }

    [Fact]
    public void RetryDelays_DoubleUpToTheMaximum_EachDrawnBetweenHalfAndAllOfItsStep()
    {
        var options = new AgentOptions("h") { RetryDelay = TimeSpan.FromSeconds(1), RetryDelayMax = TimeSpan.FromSeconds(30), Random = new Random(3) };
        for (var failures = 1; failures <= 40; failures++)
        {
            var step = Math.Min(Math.Pow(2, failures - 1), 30);
            var drawn = Enumerable.Range(0, 50).Select(_ => EnforcementAgent.RetryDelayAfter(failures, options).TotalSeconds).ToList();
            Assert.All(drawn, d => Assert.InRange(d, step / 2, step));
            Assert.True(drawn.Distinct().Count() > 25, $"after {failures} failures: {drawn.Distinct().Count()} distinct delays of 50");
        }
    }
}
