using System.Diagnostics;
using System.Diagnostics.Metrics;
using Palisade.Storage;
using Palisade.Storage.Postgres;

namespace Palisade.Server.Hosting;

/// <summary>
/// Where the request path queues for the store's connections (issue 17). The store's API is
/// synchronous: a request that calls it while the pool is empty waits inside
/// <c>OpenConnection</c>, holding a thread-pool thread — at 3,000 agents 150–240 requests waited so
/// and the pool grew to 257–285 threads. Here a request waits for a slot asynchronously, before its
/// synchronous stage runs, and a stage that holds a slot always finds a connection: reads get
/// the pool less the writes' share and one connection for the node's own work (the commit watcher,
/// metrics, retention), writes get the store's writer limit (<see cref="PostgresStore.MaxConcurrentWrites"/>,
/// so they no more wait there either). With a store that keeps no pool (SQLite) the gate is open.
/// A stage takes one slot and uses at most one connection at a time; slots are never nested (a
/// stage is the authentication, or one action's synchronous execution, or one read of a long poll).
/// </summary>
internal sealed class StoreGate : IDisposable
{
    public const string MeterName = "Palisade.Server.StoreGate";

    public enum Kind
    {
        Read,
        Write,
    }

    private static readonly Meter Meter = new(MeterName);
    private static readonly Histogram<double> Wait = Meter.CreateHistogram<double>(
        "palisade.store.gate.duration", "s", "Time a request's stage waited for a store slot (StoreGate), without a thread.");
    private static readonly UpDownCounter<long> Waiting = Meter.CreateUpDownCounter<long>(
        "palisade.store.gate.waiting", "{request}", "Requests' stages waiting for a store slot (StoreGate), by kind.");

    private readonly SemaphoreSlim? _reads;
    private readonly SemaphoreSlim? _writes;

    /// <param name="connections">The store's pool (<see cref="IStore.ConnectionLimit"/>), or null for an open gate.</param>
    /// <param name="writers">The most writes the store runs at once.</param>
    public StoreGate(int? connections, int writers)
    {
        if (connections is not { } pool)
            return;
        // At least one slot of each kind however small the pool; one connection left for the node's own work when there is room.
        Writes = Math.Clamp(Math.Min(writers, pool / 2), 1, Math.Max(1, pool - 1));
        Reads = Math.Max(1, pool - Writes - (pool > 2 ? 1 : 0));
        _reads = new SemaphoreSlim(Reads, Reads);
        _writes = new SemaphoreSlim(Writes, Writes);
    }

    public static StoreGate For(IStore store) => new(store.ConnectionLimit, PostgresStore.MaxConcurrentWrites);

    /// <summary>A gate that never waits (a context made outside the request path).</summary>
    public static StoreGate Open { get; } = new(null, 0);

    /// <summary>Slots for reads and for writes (0 when open).</summary>
    public int Reads { get; }

    public int Writes { get; }

    /// <summary>Stages holding a slot of the kind now (for tests).</summary>
    public int InUse(Kind kind) => Semaphore(kind) is { } s ? (kind == Kind.Read ? Reads : Writes) - s.CurrentCount : 0;

    private SemaphoreSlim? Semaphore(Kind kind) => kind == Kind.Read ? _reads : _writes;

    /// <summary>Runs <paramref name="stage"/> (synchronous store work) once a slot of <paramref name="kind"/> is free; waiting holds no thread.</summary>
    public async ValueTask<T> RunAsync<T>(Kind kind, Func<T> stage, CancellationToken cancel)
    {
        if (Semaphore(kind) is not { } slots)
            return stage();
        if (!slots.Wait(0))
        {
            var tag = new KeyValuePair<string, object?>("state", kind == Kind.Read ? "read" : "write");
            var started = Stopwatch.GetTimestamp();
            Waiting.Add(1, tag);
            try
            {
                await slots.WaitAsync(cancel).ConfigureAwait(false);
            }
            finally
            {
                Waiting.Add(-1, tag);
                Wait.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("operation", kind == Kind.Read ? "read" : "write"));
            }
        }
        try
        {
            return stage();
        }
        finally
        {
            slots.Release();
        }
    }

    public async ValueTask RunAsync(Kind kind, Action stage, CancellationToken cancel) =>
        await RunAsync(kind, () => { stage(); return 0; }, cancel).ConfigureAwait(false);

    public void Dispose()
    {
        _reads?.Dispose();
        _writes?.Dispose();
    }
}
