using System.Collections.Concurrent;

namespace Palisade.Storage;

/// <summary>
/// What a committed revision touched, as the feeds wait on it: an account (every change of it) and
/// the hosts whose enforced policy it may change. A parked poll names the scopes it waits for.
/// </summary>
public readonly record struct CommitScope(string Key)
{
    public static CommitScope Account(long accountId) => new("a:" + accountId.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>A host (of the operator, carrying NICs of any account): the commits that may alter what its agent enforces (<c>revision_hosts</c>).</summary>
    public static CommitScope Host(string hostName) => new("h:" + hostName);

    /// <summary>Every host: a commit that could not be narrowed (a restore). A host's poll parks on it too.</summary>
    public static CommitScope EveryHost { get; } = new("h*");
}

/// <summary>One committed revision as the watcher reads it: its global number, the scopes it touched, and its account's own revision (none for a write of no account).</summary>
internal sealed record CommittedRevision(long Revision, IReadOnlyList<CommitScope> Scopes, long? AccountId = null, long? AccountRevision = null)
{
    /// <summary>The commit's action and time, as the feed answers them (<see cref="CommitLedger.HostFeed"/>); null when the reader did not read them.</summary>
    public string? Action { get; init; }

    public DateTimeOffset CommittedAt { get; init; }
}

/// <summary>
/// One per node: learns of commits and wakes only the parked polls whose scope a commit touched.
/// It learns that something may have committed from a signal (this node's own commits at once; on
/// PostgreSQL every node's, through <c>LISTEN</c>/<c>NOTIFY</c>), and from a slow safety look that
/// covers a lost signal. Either way it then asks the store once what committed after the last
/// revision it saw, so a signal carries nothing and a lost or doubled one costs nothing but delay.
/// A parked poll is a registered completion source and nothing else: no thread, no periodic work,
/// however many there are; the node's cost while nothing changes is one look per safety interval.
/// </summary>
public sealed class CommitWatcher : IDisposable
{
    private readonly Func<long, IReadOnlyList<CommittedRevision>> _readAfter;
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<Parked, byte>> _parked = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _signal = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly Timer _sweep;
    private long _seen;

    /// <param name="readAfter">Reads the revisions committed after the given global one, oldest first, with their scopes.</param>
    /// <param name="seen">The global revision already committed when the watcher starts.</param>
    /// <param name="safetyInterval">How often to look without a signal: the bound on the delay a lost signal causes.</param>
    internal CommitWatcher(Func<long, IReadOnlyList<CommittedRevision>> readAfter, long seen, TimeSpan safetyInterval)
    {
        _readAfter = readAfter;
        _seen = seen;
        Ledger = new CommitLedger(seen);
        SafetyInterval = safetyInterval;
        _loop = Task.Run(LoopAsync);
        _sweep = new Timer(_ => Sweep(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    public TimeSpan SafetyInterval { get; }

    /// <summary>
    /// The stores' safety look: the longest a lost signal delays a wake-up. One indexed query per
    /// node per interval is the whole idle cost, whatever the number of parked polls.
    /// </summary>
    public static readonly TimeSpan DefaultSafetyInterval = TimeSpan.FromSeconds(2);

    /// <summary>What every commit since the watcher started touched (issue 17: the host fetch served from memory, the renewal without a read).</summary>
    public CommitLedger Ledger { get; }

    /// <summary>The revision the watcher started from (tests).</summary>
    internal long Origin => Ledger.Since;

    /// <summary>
    /// Whether the watcher can prove that no commit after global revision <paramref name="after"/>
    /// touched any of <paramref name="scopes"/> (issue 17, fourteenth session): see
    /// <see cref="CommitLedger.UntouchedSince"/>. False when it cannot say: the caller reads the store.
    /// </summary>
    public bool UntouchedSince(IReadOnlyList<CommitScope> scopes, long after) => Ledger.UntouchedSince(scopes, after);

    /// <summary>The newest global revision the watcher has seen and woken the polls of.</summary>
    public long Seen => Interlocked.Read(ref _seen);

    /// <summary>How many looks at the store the watcher made (signalled or not): its whole cost while idle.</summary>
    public long Looks => Interlocked.Read(ref _looks);

    private long _looks;

    /// <summary>How many parked polls are waiting now.</summary>
    public int ParkedCount => _parked.Values.Sum(s => s.Count);

    /// <summary>
    /// When set, signals are ignored (the test of a lost notification): only the safety look finds commits.
    /// </summary>
    public bool DropSignals { get; set; }

    /// <summary>Something may have committed: look soon (signals arriving during a look coalesce into one more).</summary>
    public void Signal()
    {
        if (DropSignals)
            return;
        try
        {
            _signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // A look is due already.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>
    /// Parks a poll on <paramref name="scopes"/>. Park before reading the store, then wait: a commit
    /// between the read and the wait still wakes it. Dispose it when done.
    /// </summary>
    public Parked Park(IReadOnlyList<CommitScope> scopes)
    {
        var parked = new Parked(this, scopes);
        foreach (var scope in scopes)
            _parked.GetOrAdd(scope.Key, _ => new ConcurrentDictionary<Parked, byte>()).TryAdd(parked, 0);
        return parked;
    }

    private void Unpark(Parked parked)
    {
        foreach (var scope in parked.Scopes)
        {
            if (_parked.TryGetValue(scope.Key, out var set))
            {
                set.TryRemove(parked, out _);
                // An empty set is left for the next poll of the scope (agents come back at once);
                // removing it would race with a concurrent Park.
            }
        }
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await _signal.WaitAsync(SafetyInterval, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            LookOnce();
        }
    }

    /// <summary>Reads what committed after the last revision seen and wakes the polls parked on its scopes.</summary>
    internal void LookOnce()
    {
        Interlocked.Increment(ref _looks);
        var number = Interlocked.Increment(ref _looksStarted);
        IReadOnlyList<CommittedRevision> committed;
        try
        {
            committed = _readAfter(Seen);
        }
        catch (Exception e) when (e is StoreUnavailableException or InvalidOperationException or System.Data.Common.DbException)
        {
            // The store cannot answer now: the next signal or safety look tries again; polls time out meanwhile.
            Finished(number, caughtUp: false);
            return;
        }
        // Recorded before anyone is woken: a woken agent's fetch finds the commit in the ledger.
        Ledger.Record(committed);
        foreach (var revision in committed)
        {
            foreach (var scope in revision.Scopes)
            {
                if (_parked.TryGetValue(scope.Key, out var set))
                {
                    foreach (var parked in set.Keys)
                        parked.Wake();
                }
            }
            Interlocked.Exchange(ref _seen, revision.Revision);
        }
        // A burst longer than one read: look again at once for the rest.
        if (committed.Count >= ReadBatch)
            Signal();
        Finished(number, caughtUp: committed.Count < ReadBatch);
    }

    // The looks' numbering, for LookedAfterAsync: the last look started, the last finished and how.
    private long _looksStarted;
    private (long Number, bool CaughtUp) _lastFinished;
    private TaskCompletionSource _lookFinished = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void Finished(long number, bool caughtUp)
    {
        // The result first, then the completion: a waiter that took the old completion source sees it done,
        // one that took the new one sees the result.
        lock (_looksLock)
            _lastFinished = (number, caughtUp);
        Interlocked.Exchange(ref _lookFinished, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    private readonly Lock _looksLock = new();

    /// <summary>
    /// Waits for a look that starts after this call and reads every revision committed before it
    /// (issue 17, the host fetch served from memory): then <see cref="Ledger"/> holds every commit made
    /// before the call, as a store read begun now would see them. Asks for the look at once (concurrent
    /// callers share it: looks coalesce). False when a look failed (the store cannot answer) or
    /// <paramref name="timeout"/> ran out: the caller reads the store instead.
    /// </summary>
    public async Task<bool> LookedAfterAsync(TimeSpan timeout, CancellationToken cancel)
    {
        var after = Interlocked.Read(ref _looksStarted);
        var until = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        // Not Signal(): this asks for a look in the node itself; DropSignals stands for lost notifications.
        // (A look already asked for is not asked again: a thousand fetches at once would each throw and catch.)
        try
        {
            if (_signal.CurrentCount == 0)
                _signal.Release();
        }
        catch (SemaphoreFullException)
        {
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
        while (true)
        {
            var finished = Volatile.Read(ref _lookFinished).Task;
            (long Number, bool CaughtUp) last;
            lock (_looksLock)
                last = _lastFinished;
            if (last.Number > after)
            {
                if (!last.CaughtUp)
                    return false;
                return true;
            }
            var left = until - Environment.TickCount64;
            if (left <= 0)
                return false;
            await ((Task)finished.WaitAsync(TimeSpan.FromMilliseconds(left), cancel)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            cancel.ThrowIfCancellationRequested();
        }
    }

    /// <summary>
    /// Waits this long or longer (a host's renewal waits 60–300 s) run out by one sweep a second of the
    /// watcher, not each by a timer of its own (issue 17, thirteenth session): with 10,000 parked polls
    /// the runtime's timer queue walking 10,000 timers took a tenth of the nodes' idle CPU. A shorter wait
    /// keeps its own timer (its second of lateness would matter).
    /// </summary>
    public static readonly TimeSpan SweptWaitsFrom = TimeSpan.FromSeconds(5);

    /// <summary>The parked waits by the second (of <see cref="Environment.TickCount64"/>) they run out in.</summary>
    private readonly ConcurrentDictionary<long, ConcurrentQueue<Parked>> _runningOut = new();

    /// <summary>How many waits the sweep holds (woken ones stay until their second comes; tests).</summary>
    internal int RunningOut => _runningOut.Values.Sum(q => q.Count);

    private void RunOutAfter(Parked parked, TimeSpan timeout)
    {
        // Rounded up to the second: never before its time, at most one sweep after it. The second is at
        // least SweptWaitsFrom ahead, so the sweep never takes its queue while it is added to.
        var second = (Environment.TickCount64 + (long)Math.Ceiling(timeout.TotalMilliseconds) + 999) / 1000;
        _runningOut.GetOrAdd(second, _ => new ConcurrentQueue<Parked>()).Enqueue(parked);
    }

    private void Sweep()
    {
        var now = Environment.TickCount64 / 1000;
        foreach (var second in _runningOut.Keys)
        {
            if (second <= now && _runningOut.TryRemove(second, out var due))
            {
                foreach (var parked in due)
                    parked.RunOut();
            }
        }
    }

    /// <summary>At most this many revisions per look (what the stores' reader is asked for).</summary>
    public const int ReadBatch = 1000;

    private int _disposed;

    /// <summary>Stops looking and wakes every parked poll (they answer what they have). Safe to call twice.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
            return;
        _stop.Cancel();
        _sweep.Dispose();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
        foreach (var set in _parked.Values)
        {
            foreach (var parked in set.Keys)
                parked.Wake();
        }
        _stop.Dispose();
    }

    /// <summary>A poll waiting for a commit in its scopes.</summary>
    public sealed class Parked : IDisposable
    {
        private readonly CommitWatcher _watcher;

        /// <summary>True when a commit woke it; false when the watcher's sweep ran its wait out.</summary>
        private readonly TaskCompletionSource<bool> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

        internal Parked(CommitWatcher watcher, IReadOnlyList<CommitScope> scopes)
        {
            _watcher = watcher;
            Scopes = scopes;
        }

        public IReadOnlyList<CommitScope> Scopes { get; }

        internal void Wake() => _ended.TrySetResult(true);

        internal void RunOut() => _ended.TrySetResult(false);

        /// <summary>
        /// True when a commit in its scopes woke it; false when <paramref name="timeout"/> ran out first.
        /// A wait of <see cref="SweptWaitsFrom"/> or more runs out by the watcher's sweep (within a second
        /// after its time, never before), not by a timer of its own.
        /// </summary>
        public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancel)
        {
            if (timeout <= TimeSpan.Zero)
                return _ended.Task.IsCompletedSuccessfully && _ended.Task.Result;
            // A wait that runs out is how nearly every renewal of a fleet's polls ends (issue 17): no
            // TimeoutException thrown and caught for it, only whether the commit came.
            if (timeout < SweptWaitsFrom)
                await ((Task)_ended.Task.WaitAsync(timeout, cancel)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            else
            {
                _watcher.RunOutAfter(this, timeout);
                await ((Task)_ended.Task.WaitAsync(cancel)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
            if (_ended.Task.IsCompletedSuccessfully)
                return _ended.Task.Result;
            cancel.ThrowIfCancellationRequested();
            return false;
        }

        public void Dispose() => _watcher.Unpark(this);
    }
}
