namespace Palisade.Server.Actions.Changes;

/// <summary>
/// Palisade extension: the change feed. Every committed change of an account has the account's own
/// gap-free, increasing revision (1, 2, 3, …: another tenant's pace never shows in it); this answers
/// the caller's account's changes after <c>AfterRevision</c>, and with
/// <c>WaitSeconds</c> waits (long poll) until there is one. While it waits it is parked on the
/// node's commit watcher under the account's scope: it holds no thread and asks the store nothing
/// until a commit of its account (on any node) wakes it, or the wait runs out.
/// Called with a host credential (issue 18) it is the host's feed (issue 17): global revisions (the
/// numbering of <c>DescribeHostPolicy</c>'s <c>Revision</c>), and only the commits, of any account,
/// that may alter what the host's agent enforces — decided by the store at commit from what each
/// wrote (<c>revision_hosts</c>), binding changes included. The poll parks on the host alone, so no
/// other commit wakes it.
/// <para>
/// With <c>IncludeHostPolicy=true</c> and the fetch's parameters (<c>RegionId</c>, <c>PerNic</c>,
/// <c>SharedParts</c>, <c>PartDifferences</c>, <c>KnownNic.N.*</c>), a host's poll that answers with
/// changes carries the host's policy at that moment (<c>HostPolicy</c>: <c>DescribeHostPolicy</c>'s answer
/// to the same parameters, by its code): the agent's fetch after each wake, and its round trip, saved
/// (issue 17, eighteenth session). A poll that answers with no change carries none.
/// </para>
/// <para>
/// With <c>CarriesStatusReport=true</c> and <c>ReportAgentStatus</c>'s parameters (<c>AppliedRevision</c>,
/// <c>NetworkInterfaceId.N</c>, <c>InstanceId.N</c>, <c>UsageReported</c>, <c>RuleUsage.N.*</c>,
/// <c>FlowsReported</c>, <c>Flow.N.*</c>, <c>FlowDrop.N.*</c>), a host's poll carries its status report
/// (issue 17, nineteenth session): read at the poll's arrival by the report's own code (bad input refused
/// before the poll parks, nothing stored) and stored through the node's batch of reports while the poll
/// waits, as a <c>ReportAgentStatus</c> call would be (its trail event names that action). An answer
/// after the report's write says <c>StatusReported</c> (true) and <c>FlowSampling</c> (the report's
/// answer); a poll woken before it is answered at once with <c>StatusReported</c> false (twentieth
/// session), and the agent carries its latest report again; a report the store refuses while the poll
/// waits fails the poll with its error at once. So an agent's change is one request, not two.
/// </para>
/// </summary>
internal sealed class DescribeChanges() : ReadAction(cacheable: false), IAsyncEcsAction, Hosts.IHostAgentAction
{
    public bool HostOnly => false;

    public bool ReadsItsCredential => true;

    /// <summary>The longest wait an account's poll may ask for.</summary>
    public const int MaxWaitSeconds = 60;

    /// <summary>
    /// The longest wait a host's agent may ask for (issue 17): each renewal is a request, its
    /// authentication and a store read, and a fleet of 10,000 agents renewing every minute is 170 of
    /// them a second while nothing changes. A longer wait renews less often; what it costs is that a
    /// connection that died silently is noticed later (the agent's client timeout is the wait plus a
    /// margin), and the agent checks its kernel for drift as often as its poll runs out.
    /// </summary>
    public const int MaxHostWaitSeconds = 300;

    /// <summary>The answer is made by <see cref="Answer"/> for this call alone (the policy it carries is only referenced from it).</summary>
    public bool AnswersAnObjectOfItsOwn => true;

    protected override EcsObject Execute(ActionContext context, ParameterReader p) => ExecuteAsync(context, CancellationToken.None).GetAwaiter().GetResult();

    public async Task<EcsObject> ExecuteAsync(ActionContext c, CancellationToken cancel)
    {
        var p = c.Parameters;
        var afterText = p.Required("AfterRevision");
        if (!long.TryParse(afterText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var after))
            throw new EcsException(EcsErrors.ParameterInvalid("AfterRevision", $"'{afterText}' is not a revision (an integer from 0)."));
        var host = c.Caller.HostName;
        var wait = TimeSpan.FromSeconds(p.Int("WaitSeconds", 0, 0, host is null ? MaxWaitSeconds : MaxHostWaitSeconds));
        if (host is not null && HostRenewals.Of(c.Commits).LongestWait is { } longest && wait > longest)
            wait = longest;
        var max = p.Int("MaxResults", 100, 1, 1000);
        // Counted from the request's arrival, not from here: the authentication's read may have queued for a
        // store slot, and a poll answered after the agent's own timeout is a poll the agent sends again.
        var deadline = c.Arrived + wait;
        // An account's key reads its account's feed; the host feed is its host credential's (a tenant
        // never learns which of its changes reach which host).
        if (host is null && p.Optional("HostName") is not null)
            throw new EcsException(EcsErrors.HostCredentialRequired("DescribeChanges with HostName"));
        // The host's policy with the wake (eighteenth session): its parameters are the fetch's, checked now, at
        // the poll's arrival, by the fetch's own code (bad input is refused before the poll parks).
        var policyQuery = p.Bool("IncludeHostPolicy")
            ? host is null ? throw new EcsException(EcsErrors.HostCredentialRequired("DescribeChanges with IncludeHostPolicy")) : Hosts.DescribeHostPolicy.QueryOf(c)
            : null;
        // The host's status report with the poll (nineteenth session): read now by the report's own code, so
        // bad input is refused before the poll parks and nothing of it is stored; written while it waits.
        // An account's key carrying one is refused as ReportAgentStatus's call is, and on the trail as it is (the
        // event goes to the caller's own account: no tenant learns of another).
        var report = p.Bool("CarriesStatusReport")
            ? Hosts.ReportAgentStatus.ReadCarried(c, PollsOwn, host is null ? EcsErrors.HostCredentialRequired("DescribeChanges with CarriesStatusReport") : null)
            : null;
        var stored = report is null ? null : Hosts.ReportAgentStatus.StoreInBatchAsync(c, report);
        CommitScope[] scope = host is null ? [CommitScope.Account(c.AccountId)] : [CommitScope.Host(host), CommitScope.EveryHost];
        var renewals = host is not null && c.HostRenewalsFromWatcher ? HostRenewals.Of(c.Commits) : null;
        var reads = 0;
        ValueTask<(long, IReadOnlyList<Storage.Records.RevisionRecord>)> Read()
        {
            // A poll woken by a commit for its host (after a change, every affected host's at once): the
            // watcher recorded that commit before waking it, so the ledger can answer what a read at the
            // watcher's revision would (issue 17, fifteenth session). Not the first read: a poll that
            // arrives after a commit the watcher has not seen yet must still see it.
            if (reads++ > 0 && renewals is not null && c.HostWakesFromLedger
                && renewals.Woken(c.Commits, c.Caller.AccessKeyId, host!, after, max) is { } fromLedger)
                return ValueTask.FromResult<(long, IReadOnlyList<Storage.Records.RevisionRecord>)>(fromLedger);
            // A renewal with nothing new for the host (nearly every one): the watcher knows, no store read.
            // Only for a poll that will wait long enough for the watcher to see what committed just
            // before it (at most its safety look): such a commit then wakes it, and it reads. A poll
            // that would answer at once reads, so it never misses a commit the watcher has not seen yet.
            if (renewals is not null && deadline - c.Clock.GetUtcNow() >= renewals.MinimumWait
                && renewals.Untouched(c.Commits, c.Caller.AccessKeyId, host!, scope, after) is { } seen)
                return ValueTask.FromResult<(long, IReadOnlyList<Storage.Records.RevisionRecord>)>((seen, []));
            return c.Gate.RunAsync(Hosting.StoreGate.Kind.Read, () => c.Read(s =>
            {
                if (host is null)
                    return (s.LatestRevision(c.AccountId), s.ListRevisions(c.AccountId, after, max));
                // Revoked while parked: the revocation woke the poll (it names the host), and it ends refused.
                // Revoked before the poll: the authenticator trusted the secret it holds for the ID
                // (IHostAgentAction.ReadsItsCredential), and this read refuses it.
                if (s.FindHostCredential(c.Caller.AccessKeyId) is not { } credential || credential.HostName != host)
                    throw new EcsException(EcsErrors.AccessKeyNotFound());
                var current = s.CurrentRevision();
                // In the read's snapshot the credential existed at this revision.
                renewals?.Found(c.Caller.AccessKeyId, host, current);
                return (current, s.ListHostRevisions(host, after, max));
            }), cancel);
        }
        // A report the store refuses (a credential revoked meanwhile, the store away) ends the poll with its
        // error at once, not after its wait: the agent then knows to send it again.
        using var reportFailed = stored is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var polled = PollAsync(() => c.Commits.Park(scope), Read, deadline, c.Clock, reportFailed?.Token ?? cancel);
        EcsObject answer;
        // Set once the poll answers before its report's write ended: the write goes on, and the call's trail with it.
        var handedOff = false;
        try
        {
            if (stored is not null && await Task.WhenAny(polled, stored) == stored && !stored.IsCompletedSuccessfully)
            {
                await reportFailed!.CancelAsync();
                await stored;
            }
            var (current, changes) = await polled;
            answer = Answer(current, after, changes);
            if (stored is not null)
            {
                // Woken (or answering at once with changes) before the report's batch was written (twentieth session): answered now, not
                // after the write — a change within a report interval of the host's last apply waited for it, up to
                // a second a change in a burst. The answer says it is not stored yet, and the agent carries its
                // latest report again with its next poll until an answer says one is stored: a write that then
                // fails loses nothing, and one that lands after a newer report of the host leaves the newer's
                // rows (the store's guard, SaveHostReports). Stored already: said so, with the report's answer.
                // A poll with no change for its host (its wait ran out, a renewal) is not in a hurry: it still waits,
                // so the agent learns its report is stored and need not carry it again.
                if (stored.IsCompletedSuccessfully || changes.Count == 0 || c.CarriedReportWaitsForItsWrite)
                {
                    var sampling = await stored;
                    answer.Add("StatusReported", true);
                    answer.Add("FlowSampling", sampling);
                }
                else
                {
                    answer.Add("StatusReported", false);
                    c.CarriedWriteInFlight = stored;
                    handedOff = true;
                }
            }
            // Woken (or answering at once) with changes for the host: its policy now, as DescribeHostPolicy would
            // answer it at this moment — served by its code, which reads (or proves from the ledger) the host's
            // credential and bindings now, so a credential revoked while the poll was parked gets no policy.
            if (policyQuery is not null && changes.Count > 0)
                answer.Add("HostPolicy", await Hosts.DescribeHostPolicy.ServeAsync(c, policyQuery, cancel));
        }
        finally
        {
            // A poll that ends otherwise (its client gone, its read refused) ends after its report's write, so the
            // call is on the trail once: by the write's event, or by its refusal's when nothing was written. One
            // answered before the write leaves its trail to the write's outcome (CarriedWriteInFlight).
            if (stored is not null && !handedOff)
            {
                await Task.WhenAll(polled, stored).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }
        return answer;
    }

    /// <summary>The poll's own parameters (and the fetch's, with <c>IncludeHostPolicy</c>): not the status report's it carries.</summary>
    private static bool PollsOwn(string name) =>
        name is "AfterRevision" or "WaitSeconds" or "MaxResults" or "CarriesStatusReport" or "IncludeHostPolicy" || Hosts.DescribeHostPolicy.IsFetchParameter(name);

    /// <summary>
    /// A node's knowledge for renewing host polls without a store read (issue 17, fourteenth session):
    /// at 10,000 agents the renewals were the nodes' only store reads while nothing changed (one
    /// transaction of three statements each). A renewal may skip its read when the commit watcher
    /// proves that no commit touched the host (or every host) since the poll's revision and since a read
    /// of this node last found the caller's credential: a revocation or rotation deletes the credential
    /// in a commit that touches its host, and every change of what the host enforces touches it too.
    /// The answer is then the read's would be — no changes — with the watcher's revision as the current one.
    /// </summary>
    internal sealed class HostRenewals
    {
        private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Storage.CommitWatcher, HostRenewals> ByWatcher = new();

        public static HostRenewals Of(Storage.CommitWatcher watcher) => ByWatcher.GetValue(watcher, _ => new HostRenewals());

        /// <summary>
        /// The least wait left for a poll to skip its read: more than the watcher's safety look, so a
        /// commit made before the poll that the watcher has not seen yet still wakes it in time. A host's
        /// renewal waits 60–300 s. Tests shorten it.
        /// </summary>
        public TimeSpan MinimumWait { get; set; } = Storage.CommitWatcher.SweptWaitsFrom;

        /// <summary>
        /// The longest a host's poll on this node waits, whatever it asked for; null (always, but in
        /// tests) waits what it asked. The API's unit is a whole second, and the renewal twins' tests
        /// waited out some hundred polls of a second each (47 s of a CI run's API suite on SQLite, 64 s
        /// on PostgreSQL). A capped poll is the poll that asked for that wait; set it above
        /// <see cref="MinimumWait"/>, or no renewal skips its read.
        /// </summary>
        public TimeSpan? LongestWait { get; set; }

        /// <summary>Each credential a read found, its host and the global revision it was found at.</summary>
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (string Host, long Revision)> _found = new(StringComparer.Ordinal);

        /// <summary>Renewals answered without a read (tests, diagnostics).</summary>
        public long Skipped => Interlocked.Read(ref _skipped);

        private long _skipped;

        public void Found(string accessKeyId, string host, long revision)
        {
            // Bounded as the authenticator's key cache: a forgotten credential is read again.
            if (_found.Count > 100_000)
                _found.Clear();
            _found[accessKeyId] = (host, revision);
        }

        /// <summary>Woken polls answered from the ledger without a read (tests, diagnostics).</summary>
        public long WokenFromLedger => Interlocked.Read(ref _wokenFromLedger);

        private long _wokenFromLedger;

        /// <summary>
        /// A woken poll's answer from the ledger (<see cref="Storage.CommitLedger.HostFeed"/>): the host's
        /// commits after <paramref name="after"/> up to the watcher's revision, when no credential write
        /// and no every-host commit came since the credential was found here; else null (the poll reads).
        /// </summary>
        public (long, IReadOnlyList<Storage.Records.RevisionRecord>)? Woken(Storage.CommitWatcher watcher, string accessKeyId, string host, long after, int max)
        {
            if (!_found.TryGetValue(accessKeyId, out var found) || found.Host != host)
                return null;
            if (watcher.Ledger.HostFeed(host, after, found.Revision, max) is not { } feed)
                return null;
            // The ledger proved that no credential write named the host up to its revision: the credential
            // is there at it, as if a read had found it then. So the agent's next poll, from the change it
            // was just told of, is a renewal that need not read either.
            if (feed.Revision > found.Revision)
                Found(accessKeyId, host, feed.Revision);
            Interlocked.Increment(ref _wokenFromLedger);
            return feed;
        }

        /// <summary>The watcher's revision when nothing touched the host since <paramref name="after"/> and since the credential was found; else null.</summary>
        public long? Untouched(Storage.CommitWatcher watcher, string accessKeyId, string host, IReadOnlyList<CommitScope> scope, long after)
        {
            if (!_found.TryGetValue(accessKeyId, out var found) || found.Host != host)
                return null;
            var seen = watcher.Seen;
            if (!watcher.UntouchedSince(scope, Math.Min(after, found.Revision)))
                return null;
            Interlocked.Increment(ref _skipped);
            return seen;
        }
    }

    /// <summary>
    /// The long poll: reads, and while the read found nothing and the deadline is ahead, waits parked for
    /// a commit in its scopes, then reads again. Parked before each read, so a commit between the read and
    /// the wait still wakes it. A wait that runs out unwoken answers what the last read found: nothing in
    /// its scopes committed since, and a second read would only queue for a store slot again — at 10,000
    /// agents every minute's renewals did, and were answered after the agents' timeout (issue 17).
    /// </summary>
    internal static async Task<(long Current, IReadOnlyList<Storage.Records.RevisionRecord> Changes)> PollAsync(
        Func<Storage.CommitWatcher.Parked> park, Func<ValueTask<(long, IReadOnlyList<Storage.Records.RevisionRecord>)>> read,
        DateTimeOffset deadline, TimeProvider clock, CancellationToken cancel)
    {
        while (true)
        {
            using var parked = park();
            var (current, changes) = await read();
            var left = deadline - clock.GetUtcNow();
            if (changes.Count > 0 || left <= TimeSpan.Zero || !await parked.WaitAsync(left, cancel))
                return (current, changes);
        }
    }

    private static EcsObject Answer(long current, long after, IReadOnlyList<Storage.Records.RevisionRecord> changes) => new()
    {
        { "CurrentRevision", current },
        { "NextRevision", changes.Count > 0 ? changes[^1].Revision : Math.Max(after, 0) },
        { "Changes", EcsList.Of("Change", changes.Select(r => new EcsObject
            {
                { "Revision", r.Revision },
                { "Action", r.Action },
                { "CommittedAt", Time.Format(r.CommittedAt) },
            })) },
    };
}
