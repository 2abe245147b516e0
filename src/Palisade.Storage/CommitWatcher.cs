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

/// <summary>One committed revision as the watcher reads it: its global number and the scopes it touched.</summary>
internal sealed record CommittedRevision(long Revision, IReadOnlyList<CommitScope> Scopes);

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
        _origin = seen;
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

    /// <summary>The revision the watcher started from: it knows what every later commit touched.</summary>
    private readonly long _origin;

    /// <summary>The revision the watcher started from (tests).</summary>
    internal long Origin => _origin;

    /// <summary>
    /// The last revision (after <see cref="_origin"/>, up to <see cref="Seen"/> at least) that touched each
    /// scope the watcher saw touched: one entry per host and account that changed since the node started.
    /// </summary>
    private readonly ConcurrentDictionary<string, long> _lastTouched = new(StringComparer.Ordinal);

    /// <summary>
    /// Whether the watcher can prove that no commit after global revision <paramref name="after"/>
    /// touched any of <paramref name="scopes"/> (issue 17, fourteenth session): <paramref name="after"/>
    /// is no older than the watcher's start and no newer than what it has seen, and no revision it saw
    /// since touched them. Then a poll from <paramref name="after"/> would read an empty feed; a commit
    /// the watcher has not seen yet wakes the poll once seen, as for any parked poll. False when it
    /// cannot say: the caller reads the store.
    /// </summary>
    public bool UntouchedSince(IReadOnlyList<CommitScope> scopes, long after)
    {
        // Seen first: every touch of a revision up to it is recorded before Seen moves past it.
        var seen = Seen;
        if (after < _origin || after > seen)
            return false;
        foreach (var scope in scopes)
        {
            if (_lastTouched.TryGetValue(scope.Key, out var last) && last > after)
                return false;
        }
        return true;
    }

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
        IReadOnlyList<CommittedRevision> committed;
        try
        {
            committed = _readAfter(Seen);
        }
        catch (Exception e) when (e is StoreUnavailableException or InvalidOperationException or System.Data.Common.DbException)
        {
            // The store cannot answer now: the next signal or safety look tries again; polls time out meanwhile.
            return;
        }
        foreach (var revision in committed)
        {
            foreach (var scope in revision.Scopes)
            {
                // Before Seen moves past the revision (UntouchedSince reads them in the other order).
                _lastTouched.AddOrUpdate(scope.Key, revision.Revision, (_, last) => Math.Max(last, revision.Revision));
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
