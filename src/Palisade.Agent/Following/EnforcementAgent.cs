using System.Diagnostics;
using Palisade.Agent.Kernel;
using Palisade.Agent.Rendering;

namespace Palisade.Agent.Following;

public sealed record AgentOptions(string HostName)
{
    /// <summary>How long one long poll of the change feed waits; also how often the kernel is checked for drift.</summary>
    public TimeSpan PollWait { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Delete tracked connections the new policy no longer allows (ECS keeps them; so do we unless asked).</summary>
    public bool CutEstablished { get; init; }

    /// <summary>The first wait after the control plane failed; each further failure in a row doubles it, up to <see cref="RetryDelayMax"/>.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The longest wait between tries while the control plane keeps failing. Each wait is drawn
    /// between half and all of its step (issue 17): a fleet whose requests failed together (a node
    /// short of database connections answering 503) does not come back together.
    /// </summary>
    public TimeSpan RetryDelayMax { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Each long poll asks for a wait drawn between <see cref="PollWait"/> × (1 − this) and
    /// <see cref="PollWait"/> (issue 17): agents started together, or woken together by one change,
    /// otherwise renew their polls together for ever, a burst of reads on the server every
    /// <see cref="PollWait"/>. Zero asks for <see cref="PollWait"/> every time.
    /// </summary>
    public double PollJitter { get; init; } = 0.2;

    /// <summary>
    /// Where the jitter of polls and retries is drawn from: a seeded one in tests; by default the
    /// system's cryptographic generator, which is safe to share between threads (the shared
    /// pseudo-random one is kept out of the code, so that no ID can ever come from it).
    /// </summary>
    public Random? Random { get; init; }

    /// <summary>A number in [0, 1) from <see cref="Random"/> or the system's generator.</summary>
    internal double NextUnit() => Random?.NextDouble() ?? System.Security.Cryptography.RandomNumberGenerator.GetInt32(1 << 30) / (double)(1 << 30);

    /// <summary>
    /// How often the agent fetches its whole policy although the feed said nothing changed: the
    /// last resort against a wake-up lost on the server's side, and what keeps a fleet's idle cost
    /// to its long polls (issue 17; a quiet agent otherwise sends nothing but them). Zero fetches
    /// after every wait, as the agent did before.
    /// </summary>
    public TimeSpan ResyncInterval { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// What this host declares it carries, given to the agent locally (issue 18): a binding the
    /// server sends outside it is left closed and reported as not enforced. Null trusts the server.
    /// </summary>
    public Domain.Hosts.HostDeclaration? Declaration { get; init; }

    /// <summary>
    /// Whether the kernel counts what each ECS rule decides (issue 20; <c>palisade agent --no-rule-counters</c>
    /// turns it off): off, the rules carry no counters, nothing is read back and no usage is reported.
    /// </summary>
    public bool RuleCounters { get; init; } = true;

    /// <summary>How often the rules' hit counts are read from the kernel and reported (issue 20); zero never reports them.</summary>
    public TimeSpan UsageInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Sample the new connections the NICs accept when the control plane asks for it (issue 20; the
    /// operator can switch it off per host there); false never samples. Flows are reported with the
    /// usage, every <see cref="UsageInterval"/>.
    /// </summary>
    public bool FlowSampling { get; init; } = true;

    /// <summary>At most this many sampled connections are kept per minute; more are counted as dropped.</summary>
    public int FlowsPerMinute { get; init; } = FlowSampler.DefaultPerMinuteCap;

    /// <summary>At most this many flow aggregates go in one report (the rest wait for the next).</summary>
    public int FlowsPerReport { get; init; } = 2_000;

    /// <summary>The clock of the flows' minutes.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>
    /// How long a status report waits before it is sent, so that a change which follows at once (a
    /// burst: a revoke right after an authorize, a Terraform run) is applied first and only the
    /// burst's last revision is reported: each report is a write on the server, and a report written
    /// while the next change arrives made that change's write and the agent's policy read wait for it
    /// (issue 18). NICs show in sync this much later. Zero sends each report at once.
    /// </summary>
    public TimeSpan ReportCoalescing { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Warm the change path up once per process at the start (<see cref="AgentWarmUp"/>, issue 17,
    /// twenty-fifth session), in the background beside the first poll; false never does.
    /// </summary>
    public bool WarmUp { get; init; } = true;

    /// <summary>Where the warm-up comes from: the process's (<see cref="AgentWarmUp.OncePerProcess"/>), or a test's.</summary>
    internal Func<(Task<AgentWarmUp.Result> Task, bool Started)> WarmUpStart { get; init; } = () => (AgentWarmUp.OncePerProcess(out var started), started);
}

/// <summary>One line of what the agent did, for its log.</summary>
public delegate void AgentLog(string line);

/// <summary>
/// Makes one host enforce what the control plane holds: follows the change feed, renders each NIC's
/// policy, and programs the kernel with one transaction per change — set elements only when a
/// membership change is all there is, both tables whole otherwise. Safe by default: a host with no
/// table yet is closed first; when the control plane is unreachable the last applied ruleset stays
/// (and is repaired if it drifts); on restart the old table stays until the new one replaces it in
/// one transaction, so nothing opens in between.
/// </summary>
public sealed class EnforcementAgent(IControlPlane controlPlane, INetfilter kernel, AgentOptions options, AgentLog log)
{
    /// <summary>What the kernel was last given successfully (null before the first apply or after a failure).</summary>
    public HostRuleset? Applied { get; private set; }

    public long AppliedRevision => Applied?.Revision ?? 0;

    private (long Revision, bool Enforcing) _reported = (-1, false);

    /// <summary>What the host lacks to enforce anything (read back on every round); empty when it can.</summary>
    public IReadOnlyList<string> CannotEnforce { get; private set; } = [];

    /// <summary>Counts for tests and the log: full applies, set-only updates, drift repairs, connections cut.</summary>
    public int FullApplies { get; private set; }

    public int SetUpdates { get; private set; }

    /// <summary>Changes applied by replacing only the chains that changed.</summary>
    public int ChainUpdates { get; private set; }

    public int Repairs { get; private set; }

    /// <summary>Whole policies fetched from the control plane.</summary>
    public int Fetches { get; private set; }

    public int ConnectionsCut { get; private set; }

    /// <summary>
    /// What the rules decided since the last report that reached the server, per NIC, direction and
    /// ECS rule. Bounded by the number of counters; kept across a failed report, so nothing is lost.
    /// </summary>
    private readonly Dictionary<(NicRef Nic, string Direction, string Rule), (long Packets, long Bytes)> _pendingUsage = [];

    private long _usageReportedAt = Stopwatch.GetTimestamp();

    /// <summary>The hits read from the kernel and not yet reported, for tests and the log.</summary>
    public IReadOnlyList<RuleHits> PendingUsage =>
        [.. _pendingUsage.OrderBy(u => u.Key.Nic.Name, StringComparer.Ordinal).ThenBy(u => u.Key.Direction, StringComparer.Ordinal).ThenBy(u => u.Key.Rule, StringComparer.Ordinal)
            .Select(u => new RuleHits(u.Key.Nic.InstanceId, u.Key.Direction, u.Key.Rule, u.Value.Packets, u.Value.Bytes) { Nic = u.Key.Nic })];

    /// <summary>
    /// Reads and zeroes the kernel's counters, adding what they counted to <see cref="PendingUsage"/>
    /// by the ruleset that was applied when they counted (before any apply replaces them).
    /// </summary>
    public async Task HarvestUsageAsync(CancellationToken cancel)
    {
        if (Applied is not { } applied || options.UsageInterval == TimeSpan.Zero || !applied.Counters)
            return;
        var owners = NftText.Counters(applied);
        foreach (var (name, reading) in await kernel.HarvestCountersAsync(cancel))
        {
            if (reading.Packets == 0 || !owners.TryGetValue(name, out var owner))
                continue;
            var key = (owner.Nic, owner.Direction, owner.RuleId);
            var (packets, bytes) = _pendingUsage.GetValueOrDefault(key);
            _pendingUsage[key] = (packets + reading.Packets, bytes + reading.Bytes);
        }
    }

    /// <summary>The flow sampler while the control plane wants flows from this host (null otherwise).</summary>
    public FlowSampler? Sampler { get; private set; }

    private CancellationTokenSource? _sampling;
    private Task? _samplingTask;

    /// <summary>Starts or stops sampling as the control plane's answer says (and the agent's own option allows).</summary>
    private async Task SampleAsync(bool wanted, CancellationToken cancel)
    {
        wanted &= options.FlowSampling && options.UsageInterval > TimeSpan.Zero;
        if (wanted && _samplingTask is { IsCompleted: true } ended)
        {
            // The watch ended by itself (conntrack died): say why, start again.
            log($"flow sampling stopped: {ended.Exception?.InnerException?.Message ?? "the watch ended"}; restarting");
            await StopSamplingAsync();
        }
        if (wanted && _sampling is null)
        {
            Sampler ??= new FlowSampler(() => Applied, options.Clock, options.FlowsPerMinute);
            _sampling = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            var token = _sampling.Token;
            var sampler = Sampler;
            // The watch is opened here, before the line that says sampling is on: the kernel's netlink
            // socket is subscribed when the call returns, so a connection made after the line is seen
            // (opened inside the task, the line came first and a connection right after it could be missed).
            IAsyncEnumerable<IReadOnlyList<TrackedConnection>> batches;
            try
            {
                batches = kernel.WatchNewConnectionBatchesAsync(token);
            }
            catch (Exception e) when (e is NetfilterException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                log($"flow sampling could not start: {e.Message}; trying again at the next answer");
                _sampling.Dispose();
                _sampling = null;
                return;
            }
            _samplingTask = Task.Run(() => sampler.RunAsync(batches, token), CancellationToken.None);
            log($"flow sampling on: new connections the NICs accept, at most {options.FlowsPerMinute} a minute");
        }
        else if (!wanted && _sampling is not null)
        {
            await StopSamplingAsync();
            Sampler = null;
            log("flow sampling off (the control plane asks for none)");
        }
    }

    private async Task CancelHeldReportAsync()
    {
        if (_reportHeld is { } held)
        {
            try
            {
                await held.CancelAsync();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    private async Task StopSamplingAsync()
    {
        if (_sampling is null)
            return;
        await _sampling.CancelAsync();
        try
        {
            await _samplingTask!;
        }
        catch (Exception e) when (e is OperationCanceledException or NetfilterException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
        }
        _sampling.Dispose();
        _sampling = null;
        _samplingTask = null;
    }

    public async Task RunAsync(CancellationToken cancel)
    {
        // Started, not awaited: the first policy is not delayed (the host is closed until it is applied); only the agent that started it logs it.
        if (options.WarmUp && options.WarmUpStart() is { Started: true } warmUp)
            _warmUp = warmUp.Task;
        try
        {
            await FollowAsync(cancel);
        }
        finally
        {
            // A report still on its way is waited for (or its cancellation seen), so nothing it took is lost.
            await SettleReportAsync(CancellationToken.None);
            await StopSamplingAsync();
        }
    }

    /// <summary>What one status report sent, to settle when its answer is in.</summary>
    private sealed record SentReport(long Revision, bool Enforcing, IReadOnlyList<RuleHits> Usage, bool UsageDue, FlowReport? Flows);

    /// <summary>The status report on its way (at most one), and what it sent.</summary>
    private (Task<bool> Answer, SentReport Sent)? _report;

    /// <summary>Cancels the report on its way while it still waits out <see cref="AgentOptions.ReportCoalescing"/> (never one being sent).</summary>
    private CancellationTokenSource? _reportHeld;

    /// <summary>
    /// Sends the host's status report without waiting for its answer (issue 17): the agent goes on to
    /// wait on its feed, so a change that comes while the report is on its way — a revoke right after
    /// an authorize — is fetched at once instead of after the report's round trip (a write on the
    /// server). The answer is settled before the next report (<see cref="SettleReportAsync"/>).
    /// </summary>
    private void StartReport(SentReport sent, CancellationToken cancel)
    {
        var nics = NicsReported(sent);
        var held = options.ReportCoalescing > TimeSpan.Zero ? CancellationTokenSource.CreateLinkedTokenSource(cancel) : null;
        // In an async method, so that a control plane that throws at once still yields a failed answer to settle.
        async Task<bool> Send()
        {
            // Superseded while held: cancelled, settled like a report lost on the way (its flows go
            // back, nothing is logged), and the newer revision is reported instead.
            if (held is not null)
                await Task.Delay(options.ReportCoalescing, held.Token);
            return await controlPlane.ReportAsync(options.HostName, sent.Revision, nics, sent.Usage, sent.Flows, cancel);
        }
        _reportHeld = held;
        _report = (Send(), sent);
    }

    /// <summary>
    /// Whether <paramref name="sent"/> rides on the next long poll (issue 17, nineteenth session: one request
    /// per change instead of two) rather than going as its own <c>ReportAgentStatus</c>. Not the first report
    /// (its answer starts flow sampling at once), not one with usage or flows (it may be large; its flows go
    /// back to the sampler if it is lost, which a parked poll would tell only when it ends), and not after
    /// the control plane left one untaken (a server without the extension: reports go apart from then on).
    /// </summary>
    private bool CarriesReport(SentReport sent) =>
        controlPlane.CarriesReports && !_carryRefused && _reported.Revision >= 0 && !sent.UsageDue
        && sent.Usage.Count == 0 && sent.Flows is not { Flows.Count: > 0 } and not { Drops.Count: > 0 };

    /// <summary>Set once a poll's carried report was not taken: the control plane lacks the extension.</summary>
    private bool _carryRefused;

    /// <summary>The NICs a report names as enforced: none when the host cannot enforce, none the kernel refused.</summary>
    private List<NicRef> NicsReported(SentReport sent) =>
        sent.Enforcing ? Applied!.Nics.Select(n => n.Ref).Where(id => !Refused.Contains(id)).ToList() : [];

    /// <summary>
    /// The outcome of a report a poll carried: stored (<paramref name="wake"/>'s <see cref="Wake.Reported"/> the
    /// host's sampling answer), it counts as a report answered; taken but answered before it was stored
    /// (<see cref="Wake.ReportPending"/>, twentieth session), it is not known stored and the next poll carries the
    /// host's latest report again (the store keeps the newer of the two whichever lands last); not taken, it
    /// goes apart next round and from then on.
    /// </summary>
    private async Task CarriedReportSettledAsync(SentReport sent, Wake wake, CancellationToken cancel)
    {
        if (wake.ReportPending)
        {
            ReportLost(sent);
            return;
        }
        if (wake.Reported is not { } wantsFlows)
        {
            _carryRefused = true;
            ReportLost(sent);
            log($"the control plane did not take the status report of revision {sent.Revision} with the poll; reports are sent apart");
            return;
        }
        await ReportDeliveredAsync(sent, wantsFlows, cancel);
    }

    /// <summary>A report that did not arrive: its flows go back to the sampler; it is sent again next round (<see cref="_reported"/> unchanged).</summary>
    private void ReportLost(SentReport sent)
    {
        if (sent.Flows is { } flows)
            Sampler?.PutBack(flows);
    }

    /// <summary>
    /// Waits for the report on its way and takes in its outcome: delivered, the host's revision counts
    /// as reported and the usage it carried leaves the pending usage (what was harvested meanwhile
    /// stays); lost, its flows go back to the sampler and it is sent again next round.
    /// </summary>
    private async Task SettleReportAsync(CancellationToken cancel)
    {
        if (_report is not { } report)
            return;
        _report = null;
        using var held = _reportHeld;
        _reportHeld = null;
        bool wantsFlows;
        try
        {
            wantsFlows = await report.Answer;
        }
        catch (Exception e)
        {
            ReportLost(report.Sent);
            if (e is not OperationCanceledException)
                log(e is HostCredentialRefusedException ? $"CREDENTIAL REFUSED: {e.Message}; the status report is sent again" : $"status report of revision {report.Sent.Revision} not delivered ({e.Message}); sent again");
            return;
        }
        await ReportDeliveredAsync(report.Sent, wantsFlows, cancel);
    }

    /// <summary>
    /// A report the server has: the host's revision counts as reported, the usage it carried leaves the
    /// pending usage (what was harvested meanwhile stays), and sampling follows the answer.
    /// </summary>
    private async Task ReportDeliveredAsync(SentReport sent, bool wantsFlows, CancellationToken cancel)
    {
        _reported = (sent.Revision, sent.Enforcing);
        if (sent.UsageDue)
        {
            foreach (var hit in sent.Usage)
            {
                var key = (hit.Nic, hit.Direction, hit.SecurityGroupRuleId);
                if (!_pendingUsage.TryGetValue(key, out var pending))
                    continue;
                var left = (pending.Packets - hit.Packets, pending.Bytes - hit.Bytes);
                if (left.Item1 <= 0 && left.Item2 <= 0)
                    _pendingUsage.Remove(key);
                else
                    _pendingUsage[key] = left;
            }
            _usageReportedAt = Stopwatch.GetTimestamp();
        }
        if (!cancel.IsCancellationRequested)
            await SampleAsync(wantsFlows, cancel);
    }

    private async Task FollowAsync(CancellationToken cancel)
    {
        await CloseIfAbsentAsync(cancel);
        // Fetched at the start, after a change, after a failure, and every ResyncInterval; a wait
        // that ends with nothing changed only re-checks the kernel and waits again.
        HostPolicy? policy = null;
        // The policy the last wake carried (issue 17, eighteenth session): applied as a fetch's, without one.
        HostPolicy? carried = null;
        var fetchedAt = long.MinValue;
        // What enforcement depends on outside our tables is read back at the start, whenever a wait
        // ran out (with the drift check), and at least every PollWait — not after every apply: the
        // read is two child processes (tens of milliseconds under load), and a change that came right
        // after an apply (a revoke after an authorize) waited for it before its fetch (issue 17).
        var hostCheckedAt = long.MinValue;
        // Failures of the control plane in a row: the retries back off (RetryDelayAfter).
        var failures = 0;
        while (!cancel.IsCancellationRequested)
        {
            LogWarmUp();
            try
            {
                if (carried is not null || policy is null || Stopwatch.GetElapsedTime(fetchedAt) >= options.ResyncInterval)
                {
                    // The host's whole policy at the server's revision either way, so it counts as the resync's fetch too.
                    (policy, carried) = (carried ?? await controlPlane.FetchAsync(options.HostName, cancel), null);
                    fetchedAt = Stopwatch.GetTimestamp();
                    Fetches++;
                    await ConvergeAsync(policy, cancel);
                }
                if (hostCheckedAt == long.MinValue || Stopwatch.GetElapsedTime(hostCheckedAt) >= options.PollWait)
                {
                    await CheckHostAsync(cancel);
                    hostCheckedAt = Stopwatch.GetTimestamp();
                }
                var enforcing = CannotEnforce.Count == 0;
                // The last report's answer first (it ran while the agent waited or applied).
                await SettleReportAsync(cancel);
                // Reported until the server has it: a report lost to an outage is sent again. A host
                // that cannot enforce reports no NIC as enforced, so none shows in sync.
                var usageDue = options.UsageInterval > TimeSpan.Zero && Stopwatch.GetElapsedTime(_usageReportedAt) >= options.UsageInterval;
                // The report the next poll carries (nineteenth session), if any.
                SentReport? carriedReport = null;
                if (Applied is { } applied && (_reported != (applied.Revision, enforcing) || usageDue))
                {
                    if (usageDue)
                        await HarvestUsageAsync(cancel);
                    var usage = usageDue ? PendingUsage : [];
                    // Flows ride with the usage; taken back when the report does not arrive.
                    var flows = Sampler is { } sampler && _sampling is not null ? (usageDue ? sampler.Take(options.FlowsPerReport) : FlowReport.Empty) : null;
                    var sent = new SentReport(applied.Revision, enforcing, usage, usageDue, flows);
                    if (CarriesReport(sent))
                        carriedReport = sent;
                    else
                        StartReport(sent, cancel);
                }
                Wake wake;
                try
                {
                    wake = carriedReport is { } carrying
                        ? await controlPlane.WaitForPolicyAsync(options.HostName, policy.Revision, PollWaitDrawn(options), new StatusReport(carrying.Revision, NicsReported(carrying), carrying.Usage, carrying.Flows), cancel)
                        : await controlPlane.WaitForPolicyAsync(options.HostName, policy.Revision, PollWaitDrawn(options), cancel);
                    if (carriedReport is { } delivered)
                        await CarriedReportSettledAsync(delivered, wake, cancel);
                }
                catch (ControlPlaneUnavailableException e) when (e is not HostCredentialRefusedException && !cancel.IsCancellationRequested)
                {
                    if (carriedReport is { } lost)
                        ReportLost(lost);
                    // The poll failed (a 503, a timeout): nothing is known to have changed, and the
                    // policy held is still the revision the next poll names, which answers at once
                    // with whatever committed meanwhile. So it is polled again, not fetched: a fleet
                    // whose polls failed together and then fetched together is what made the
                    // 3,000-agent run's store queue grow without end (issue 17).
                    failures++;
                    if (failures == 1 || failures % 10 == 0)
                        log($"control plane unavailable ({e.Message}); keeping revision {AppliedRevision}, polling again from it ({failures} in a row)");
                    await SafeRepairAsync(cancel);
                    await Delay(RetryDelayAfter(failures, options), cancel);
                    continue;
                }
                failures = 0;
                if (wake.Changed)
                {
                    policy = null;
                    carried = wake.Policy;
                    // A report still held is superseded by the change: the revision it names is not the host's for long.
                    await CancelHeldReportAsync();
                }
                else
                {
                    await RepairDriftAsync(cancel);
                    hostCheckedAt = long.MinValue;
                }
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                return;
            }
            catch (HostCredentialRefusedException e)
            {
                // Loud, and not retried at the outage pace: only the operator can mend it.
                policy = null;
                log($"CREDENTIAL REFUSED: {e.Message}; keeping {(Applied is null ? "the ruleset the kernel holds" : $"revision {AppliedRevision}")}, trying again every {options.PollWait.TotalSeconds:0.#} s");
                await SafeRepairAsync(cancel);
                await Delay(options.PollWait, cancel);
            }
            catch (ControlPlaneUnavailableException e)
            {
                policy = null;
                failures++;
                log($"control plane unavailable ({e.Message}); keeping {(Applied is null ? "the ruleset the kernel holds" : $"revision {AppliedRevision}")}");
                await SafeRepairAsync(cancel);
                await Delay(RetryDelayAfter(failures, options), cancel);
            }
            catch (NetfilterException e)
            {
                policy = null;
                log($"kernel refused: {e.Message}; keeping what it enforces, retrying whole");
                Applied = null;
                await Delay(cancel);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                policy = null;
                // Whatever went wrong, the host keeps what the kernel enforces and the agent tries again.
                log($"unexpected {e.GetType().Name}: {e.Message}; keeping {(Applied is null ? "the ruleset the kernel holds" : $"revision {AppliedRevision}")}");
                await Delay(cancel);
            }
        }
    }

    /// <summary>The process's warm-up while this agent has still to log how it went (<see cref="AgentOptions.WarmUp"/>).</summary>
    private Task<AgentWarmUp.Result>? _warmUp;

    /// <summary>How the warm-up went, logged once from the agent's own loop (never awaited: a failed one costs only its line).</summary>
    private void LogWarmUp()
    {
        if (_warmUp is not { IsCompleted: true } done)
            return;
        _warmUp = null;
        log(done.IsCompletedSuccessfully ? done.Result.ToString() : $"change path not warmed up ({done.Exception?.InnerException?.Message ?? "cancelled"}); the first change compiles it");
    }

    /// <summary>Brings the kernel to <paramref name="policy"/>; true when something was applied (a report is due).</summary>
    public async Task<bool> ConvergeAsync(HostPolicy policy, CancellationToken cancel)
    {
        // After an entry edit of prefix lists only, the applied ruleset with those sets rebuilt (the
        // cost of the edit, not of the host); otherwise every NIC rendered again. Not from a ruleset
        // the kernel partly refused: those NICs are tried again whole.
        var next = (Applied is { } applied && _appliedParts is { } parts && Refused.Count == 0
            ? PolicyRenderer.Rerender(applied, parts, policy.Parts, policy.Revision, options.Declaration)
            : PolicyRenderer.Render(policy.Parts, policy.Revision, options.Declaration)) with { Counters = options.RuleCounters };
        foreach (var problem in next.Problems)
            log($"revision {policy.Revision}: {problem}");
        var before = Applied;
        if (before is not null && before.Revision == next.Revision)
            return false;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        // Counters of replaced chains (or a whole new table) start at zero: read what they hold first.
        if (before is not null && !next.SameShapeAs(before))
            await HarvestUsageAsync(cancel);
        if (before is not null && next.SameShapeAs(before))
        {
            if (next.SetsChangedSince(before).Any())
            {
                await kernel.ApplyAsync(NftText.SetUpdate(before, next), cancel);
                Refused = new HashSet<NicRef>();
                SetUpdates++;
                log($"revision {next.Revision}: updated {next.SetsChangedSince(before).Count()} address sets (group members, prefix lists) in {clock.Elapsed.TotalMilliseconds:F1} ms");
            }
        }
        else if (before is not null && NftText.Incremental(before, next) is { } incremental)
        {
            await kernel.ApplyAsync(incremental, cancel);
            Refused = new HashSet<NicRef>();
            ChainUpdates++;
            log($"revision {next.Revision}: {NftText.ChangedChains(before, next).Count} chains replaced in {clock.Elapsed.TotalMilliseconds:F1} ms");
        }
        else
        {
            try
            {
                await kernel.ApplyAsync(NftText.FullApply(next), cancel);
                Refused = new HashSet<NicRef>();
            }
            catch (NetfilterException e)
            {
                next = await NarrowAsync(next, e, cancel);
            }
            FullApplies++;
            log($"revision {next.Revision}: applied {next.Nics.Length} NICs, {next.Nics.Sum(n => n.Ingress.Rules.Length + n.Egress.Rules.Length)} rules, {next.Sets.Length} sets in {clock.Elapsed.TotalMilliseconds:F1} ms");
        }
        Applied = next;
        _appliedParts = policy.Parts;
        if (options.CutEstablished)
            await CutDisallowedAsync(next, cancel);
        return true;
    }

    /// <summary>What <see cref="Applied"/> was rendered from.</summary>
    private IReadOnlyList<HostPart>? _appliedParts;

    /// <summary>The NICs whose policy the kernel refused at the last full apply: closed, and reported as not enforced.</summary>
    public IReadOnlySet<NicRef> Refused { get; private set; } = new HashSet<NicRef>();

    /// <summary>
    /// The kernel refused the whole ruleset: find the NICs it refuses (each NIC's part alone, checked
    /// with <c>nft -c</c>), close those (their chains drop everything, their ports stay pinned), and
    /// apply the rest, so one bad NIC neither keeps the host on an older policy nor opens anything.
    /// Throws when even that is refused (the kernel then keeps what it had).
    /// </summary>
    private async Task<HostRuleset> NarrowAsync(HostRuleset whole, NetfilterException refusal, CancellationToken cancel)
    {
        log($"revision {whole.Revision}: the kernel refused the ruleset ({refusal.Message}); checking NIC by NIC");
        var refused = new HashSet<NicRef>();
        foreach (var nic in whole.Nics)
        {
            try
            {
                await kernel.CheckAsync(NftText.FullApply(whole with { Nics = [nic] }), cancel);
            }
            catch (NetfilterException e)
            {
                refused.Add(nic.Ref);
                log($"revision {whole.Revision}: NIC FAILING: the kernel refuses the policy of {nic.Ref} on {nic.InterfaceName} ({e.Message}); it is closed and reported as not enforced");
            }
        }
        var narrowed = whole with
        {
            Nics = [.. whole.Nics.Select(n => refused.Contains(n.Ref) ? Closed(n) : n)],
            Problems = whole.Problems.AddRange(refused.Select(id => $"{id}: the kernel refused its policy; closed")),
        };
        await kernel.ApplyAsync(NftText.FullApply(narrowed), cancel);
        Refused = refused;
        return narrowed;
    }

    /// <summary>A NIC that takes and sends nothing (its port still pinned to it).</summary>
    private static NftNic Closed(NftNic nic) => nic with
    {
        Ingress = new NftChain(nic.Ingress.Name, [], NftVerdict.Drop),
        Egress = new NftChain(nic.Egress.Name, [], NftVerdict.Drop),
    };

    /// <summary>Compares the kernel with what was applied and puts it back whole when they differ.</summary>
    public async Task<bool> RepairDriftAsync(CancellationToken cancel)
    {
        var applied = Applied;
        if (applied is null)
            return false;
        var shape = await kernel.ReadBackAsync(cancel);
        var expected = ExpectedShape.Of(applied);
        if (shape is not null && shape.SameAs(expected))
            return false;
        log($"drift: the kernel holds {(shape is null ? "no palisade table" : shape.ToString())}; expected {expected}; repairing");
        await kernel.ApplyAsync(NftText.FullApply(applied), cancel);
        Repairs++;
        return true;
    }

    /// <summary>
    /// Reads back what enforcement depends on outside our tables (the bridge-netfilter switches); says
    /// so loudly when it changes. False when the host cannot enforce: our tables then drop the NICs'
    /// IP traffic rather than let it through unjudged, and the NICs are reported as not enforced.
    /// </summary>
    public async Task<bool> CheckHostAsync(CancellationToken cancel)
    {
        var missing = await kernel.CheckPrerequisitesAsync(cancel);
        if (!missing.SequenceEqual(CannotEnforce))
        {
            foreach (var problem in missing)
                log($"CANNOT ENFORCE: {problem}; every NIC of this host is reported as not enforced");
            if (missing.Count == 0)
                log("the host can enforce again; its NICs are reported as enforced");
            CannotEnforce = missing;
        }
        return missing.Count == 0;
    }

    private async Task SafeRepairAsync(CancellationToken cancel)
    {
        try
        {
            await RepairDriftAsync(cancel);
        }
        catch (NetfilterException e)
        {
            log($"repair failed: {e.Message}");
        }
    }

    private async Task CloseIfAbsentAsync(CancellationToken cancel)
    {
        if (await kernel.ReadBackAsync(cancel) is not null)
        {
            log("found the palisade table of an earlier run; it stays until the control plane's policy replaces it");
            return;
        }
        await kernel.ApplyAsync(NftText.FullApply(HostRuleset.Closed), cancel);
        log("no palisade table yet: closed every NIC until the control plane answers");
    }

    private async Task CutDisallowedAsync(HostRuleset ruleset, CancellationToken cancel)
    {
        var simulator = new RulesetSimulator(ruleset);
        foreach (var connection in await kernel.ListConnectionsAsync(cancel))
        {
            if (simulator.NicAt(connection.Zone, connection.Flow.Source) is null && simulator.NicAt(connection.Zone, connection.Flow.Destination) is null)
                continue;
            if (simulator.Allows(connection.Zone, connection.Flow))
                continue;
            await kernel.DeleteConnectionAsync(connection, cancel);
            ConnectionsCut++;
            log($"revision {ruleset.Revision}: cut {connection}, which the policy no longer allows");
        }
    }

    private Task Delay(CancellationToken cancel) => Delay(options.RetryDelay, cancel);

    /// <summary>
    /// The wait before the next try after <paramref name="failures"/> failures in a row (from 1):
    /// <see cref="AgentOptions.RetryDelay"/> doubled per failure up to <see cref="AgentOptions.RetryDelayMax"/>,
    /// drawn between half and all of that.
    /// </summary>
    public static TimeSpan RetryDelayAfter(int failures, AgentOptions options)
    {
        var step = options.RetryDelay.Ticks * Math.Pow(2, Math.Min(Math.Max(failures, 1) - 1, 30));
        var capped = Math.Min(step, Math.Max(options.RetryDelayMax.Ticks, options.RetryDelay.Ticks));
        return TimeSpan.FromTicks((long)(capped * (0.5 + 0.5 * options.NextUnit())));
    }

    /// <summary>The wait one long poll asks for: between <see cref="AgentOptions.PollWait"/> × (1 − <see cref="AgentOptions.PollJitter"/>) and <see cref="AgentOptions.PollWait"/>.</summary>
    public static TimeSpan PollWaitDrawn(AgentOptions options)
    {
        var jitter = Math.Clamp(options.PollJitter, 0, 1);
        return TimeSpan.FromTicks((long)(options.PollWait.Ticks * (1 - jitter * options.NextUnit())));
    }

    private static async Task Delay(TimeSpan delay, CancellationToken cancel)
    {
        try
        {
            await Task.Delay(delay, cancel);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
