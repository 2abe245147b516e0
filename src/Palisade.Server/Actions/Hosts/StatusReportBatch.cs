using System.Diagnostics;
using System.Runtime.CompilerServices;
using Palisade.Server.Hosting;

namespace Palisade.Server.Actions.Hosts;

/// <summary>
/// A node's agents' status reports, written together (issue 17): after a change every affected host
/// reports at once, and each report was a store transaction of its own (a connection, the host's
/// lock, the bindings' read, the insert, the trail, the commit) competing for the node's store slots
/// with the fetches of the same change — 100 reports' <c>ReportAgentStatus</c> p50 was 344–459 ms.
/// Now at most one write per <see cref="ServerOptions.StatusReportInterval"/> per node takes every
/// report that arrived meanwhile, in their order, each doing exactly what its own write did
/// (the same work, its own trail event), under every reported host's lock. A report after a quiet
/// interval is written at once, alone.
/// A report is answered only once its batch committed: an agent never holds an answer for a report
/// that was not stored, so a node that stops loses none (a request not answered is sent again). If
/// the batch fails (a report the store refuses, the store away), each of its reports is written on its
/// own, so one report's failure is its own.
/// </summary>
internal sealed class StatusReportBatch
{
    private static readonly ConditionalWeakTable<IStore, StatusReportBatch> ByStore = new();

    /// <summary>The node's batch (one per store, as the node's other per-store memories).</summary>
    public static StatusReportBatch Of(IStore store) => ByStore.GetValue(store, s => new StatusReportBatch(s));

    private readonly IStore _store;
    private readonly Lock _lock = new();
    private List<Pending> _pending = [];
    private bool _scheduled;
    private long _lastWriteAt;
    private bool _wroteOnce;

    private StatusReportBatch(IStore store) => _store = store;

    private sealed record Pending(string Host, string AccessKeyId, Func<IStoreSession, StatusReportWrites, object?> Work, Storage.Records.ActionTrailEntry Trail, TaskCompletionSource<object?> Done);

    /// <summary>Batches written so far (tests and diagnostics).</summary>
    public int Writes => Volatile.Read(ref _writes);

    private int _writes;

    /// <summary>
    /// Adds a host's report: <paramref name="work"/> runs in the next batch's transaction, after the
    /// reports before it, and its event <paramref name="trail"/> is written with it; what it gives the
    /// batch's <see cref="StatusReportWrites"/> is written after the last report. Completes with what
    /// <paramref name="work"/> returned once the batch committed.
    /// </summary>
    public Task<object?> Add(string host, string accessKeyId, Func<IStoreSession, StatusReportWrites, object?> work, Storage.Records.ActionTrailEntry trail, StoreGate gate, TimeSpan interval)
    {
        var pending = new Pending(host, accessKeyId, work, trail, new TaskCompletionSource<object?>(TaskCreationOptions.RunContinuationsAsynchronously));
        TimeSpan delay;
        lock (_lock)
        {
            _pending.Add(pending);
            if (_scheduled)
                return pending.Done.Task;
            _scheduled = true;
            var since = _wroteOnce ? Stopwatch.GetElapsedTime(_lastWriteAt) : TimeSpan.MaxValue;
            delay = since >= interval ? TimeSpan.Zero : interval - since;
        }
        _ = WriteAfterAsync(delay, gate);
        return pending.Done.Task;
    }

    /// <summary>
    /// The most reports one transaction writes (issue 17, fourteenth session): when a whole fleet
    /// reports at once (10,000 agents started, or back after an outage) one transaction of thousands of
    /// reports held them all for most of a minute; the batch is written in transactions of this many,
    /// side by side in the node's write slots.
    /// </summary>
    public const int MaxReportsPerWrite = 100;

    /// <summary>Set while a test holds the node's batches back (<see cref="HoldWrites"/>).</summary>
    private TaskCompletionSource? _held;

    /// <summary>
    /// Holds this node's batches back until the answer is disposed (tests: a report whose write is under way
    /// for as long as the test needs, without a timed wait — a poll woken meanwhile, a newer report on another
    /// node written first). Reports added meanwhile wait in the batch; released, they are written.
    /// </summary>
    internal IDisposable HoldWrites()
    {
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
            _held = held;
        return new Release(() =>
        {
            lock (_lock)
                _held = null;
            held.SetResult();
        });
    }

    private sealed class Release(Action release) : IDisposable
    {
        public void Dispose() => release();
    }

    private async Task WriteAfterAsync(TimeSpan delay, StoreGate gate)
    {
        if (delay > TimeSpan.Zero)
            await Task.Delay(delay).ConfigureAwait(false);
        else
            // Off the reporting request's own path, which would otherwise run the whole batch.
            await Task.Yield();
        Task? held;
        lock (_lock)
            held = _held?.Task;
        if (held is not null)
            await held.ConfigureAwait(false);
        List<Pending> batch;
        lock (_lock)
        {
            batch = _pending;
            _pending = [];
            _scheduled = false;
            _lastWriteAt = Stopwatch.GetTimestamp();
            _wroteOnce = true;
        }
        await Task.WhenAll(batch.Chunk(MaxReportsPerWrite).Select(part => WritePartAsync(part, gate))).ConfigureAwait(false);
    }

    private async Task WritePartAsync(Pending[] part, StoreGate gate)
    {
        Interlocked.Increment(ref _writes);
        object?[] results;
        try
        {
            results = await Gated(gate, () => Write(part)).ConfigureAwait(false);
        }
        catch (Exception) when (part.Length > 1)
        {
            // One report (or the store) failed the batch: each is written on its own, so each gets its own outcome.
            foreach (var one in part)
            {
                try
                {
                    var result = await Gated(gate, () => Write([one])[0]).ConfigureAwait(false);
                    one.Done.SetResult(result);
                }
                catch (Exception e)
                {
                    one.Done.SetException(e);
                }
            }
            return;
        }
        catch (Exception e)
        {
            part[0].Done.SetException(e);
            return;
        }
        for (var i = 0; i < part.Length; i++)
            part[i].Done.SetResult(results[i]);
    }

    /// <summary>
    /// The write in one of the node's write slots. A node stopping (its gate or store disposed while a
    /// batch waited) is the store being unavailable: the agent is told to send its report again.
    /// </summary>
    private static async Task<T> Gated<T>(StoreGate gate, Func<T> write)
    {
        try
        {
            return await gate.RunAsync(StoreGate.Kind.Write, write, CancellationToken.None).ConfigureAwait(false);
        }
        catch (ObjectDisposedException e)
        {
            throw new Storage.StoreUnavailableException("the node is shutting down", e);
        }
    }

    /// <summary>
    /// One transaction for part of a batch. Alone, a report takes its host's lock as it always did; a
    /// part takes every reported host's lock in one statement, in one order (the keys'), so parts of two
    /// batches, of one node or two, never wait for each other crosswise.
    /// </summary>
    private object?[] Write(IReadOnlyList<Pending> batch)
    {
        var hosts = batch.Select(p => "host:" + p.Host).Distinct(StringComparer.Ordinal).ToList();
        // The write's own resource is one nobody else names when it locks several hosts: taking one of
        // them first, out of the keys' order, could wait crosswise with another part.
        var resource = hosts.Count == 1 ? hosts[0] : "host-reports:" + Guid.NewGuid().ToString("N");
        return _store.WriteOn("ReportAgentStatus", resource, s =>
        {
            if (hosts.Count > 1)
                s.SerializeWithAll(hosts);
            var results = new object?[batch.Count];
            var writes = new StatusReportWrites(
                batch.Select(p => p.Host).ToHashSet(StringComparer.Ordinal), batch.Select(p => p.AccessKeyId).ToHashSet(StringComparer.Ordinal));
            for (var i = 0; i < batch.Count; i++)
            {
                results[i] = batch[i].Work(s, writes);
                s.AddTrail(batch[i].Trail);
            }
            // The reports' rows, usage marks and purges: once for the batch, not once a report.
            writes.Write(s);
            return results;
        });
    }
}
