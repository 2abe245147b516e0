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

    private sealed record Pending(string Host, Func<IStoreSession, object?> Work, Storage.Records.ActionTrailEntry Trail, TaskCompletionSource<object?> Done);

    /// <summary>Batches written so far (tests and diagnostics).</summary>
    public int Writes => Volatile.Read(ref _writes);

    private int _writes;

    /// <summary>
    /// Adds a host's report: <paramref name="work"/> runs in the next batch's transaction, after the
    /// reports before it, and its event <paramref name="trail"/> is written with it. Completes with what
    /// <paramref name="work"/> returned once the batch committed.
    /// </summary>
    public Task<object?> Add(string host, Func<IStoreSession, object?> work, Storage.Records.ActionTrailEntry trail, StoreGate gate, TimeSpan interval)
    {
        var pending = new Pending(host, work, trail, new TaskCompletionSource<object?>(TaskCreationOptions.RunContinuationsAsynchronously));
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

    private async Task WriteAfterAsync(TimeSpan delay, StoreGate gate)
    {
        if (delay > TimeSpan.Zero)
            await Task.Delay(delay).ConfigureAwait(false);
        else
            // Off the reporting request's own path, which would otherwise run the whole batch.
            await Task.Yield();
        List<Pending> batch;
        lock (_lock)
        {
            batch = _pending;
            _pending = [];
            _scheduled = false;
            _lastWriteAt = Stopwatch.GetTimestamp();
            _wroteOnce = true;
        }
        Interlocked.Increment(ref _writes);
        object?[] results;
        try
        {
            results = await gate.RunAsync(StoreGate.Kind.Write, () => Write(batch), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception) when (batch.Count > 1)
        {
            // One report (or the store) failed the batch: each is written on its own, so each gets its own outcome.
            foreach (var one in batch)
            {
                try
                {
                    var result = await gate.RunAsync(StoreGate.Kind.Write, () => Write([one])[0], CancellationToken.None).ConfigureAwait(false);
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
            batch[0].Done.SetException(e);
            return;
        }
        for (var i = 0; i < batch.Count; i++)
            batch[i].Done.SetResult(results[i]);
    }

    /// <summary>
    /// One transaction for the batch. Alone, a report takes its host's lock as it always did; a batch
    /// takes one lock of its own (two nodes' batches take turns) and then every host's, in one order.
    /// </summary>
    private object?[] Write(IReadOnlyList<Pending> batch)
    {
        var resource = batch.Count == 1 ? "host:" + batch[0].Host : "host-reports";
        return _store.WriteOn("ReportAgentStatus", resource, s =>
        {
            if (batch.Count > 1)
                s.SerializeWithAll([.. batch.Select(p => "host:" + p.Host).Distinct(StringComparer.Ordinal)]);
            var results = new object?[batch.Count];
            for (var i = 0; i < batch.Count; i++)
            {
                results[i] = batch[i].Work(s);
                s.AddTrail(batch[i].Trail);
            }
            return results;
        });
    }
}
