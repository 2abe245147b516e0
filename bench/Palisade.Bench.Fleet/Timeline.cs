using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Palisade.Agent.Following;
using Palisade.Agent.Rendering;

/// <summary>
/// What one simulated agent did and when (issue 17 follow-up: where the seconds of a fleet's apply
/// go). Each mark is a <see cref="Stopwatch"/> timestamp; after a change, the first of each phase
/// after the one before it is that agent's path from the commit to its status report.
/// </summary>
internal sealed class Timeline
{
    public enum Phase
    {
        /// <summary>The host's long poll came back with a change.</summary>
        Wake,

        /// <summary>The fetch (<c>DescribeHostPolicy</c>) left the agent's HTTP client.</summary>
        FetchSent,

        /// <summary>Its answer was read whole (server queue, server work, transfer).</summary>
        FetchAnswered,

        /// <summary>The agent's control plane had read the answer into a policy (parse, assemble, state files read).</summary>
        Fetched,

        /// <summary>The agent handed the kernel its transaction: rendering is done.</summary>
        ApplyStarted,

        ApplyDone,

        /// <summary>The host's status report (<c>ReportAgentStatus</c>, a write) was answered.</summary>
        ReportAnswered,
    }

    private readonly List<(Phase Phase, long At)> _marks = [];

    public void Mark(Phase phase) => Mark(phase, Stopwatch.GetTimestamp());

    public void Mark(Phase phase, long at)
    {
        lock (_marks)
            _marks.Add((phase, at));
    }

    /// <summary>The first <paramref name="phase"/> at or after <paramref name="from"/>; null when none.</summary>
    public long? First(Phase phase, long from)
    {
        lock (_marks)
        {
            foreach (var (p, at) in _marks)
            {
                if (p == phase && at >= from)
                    return at;
            }
        }
        return null;
    }

    /// <summary>
    /// One agent's path after a change made at <paramref name="sent"/>: each phase's timestamp, each
    /// the first after the previous one; null from the first phase that did not happen.
    /// </summary>
    public long?[] PathAfter(long sent)
    {
        var phases = Enum.GetValues<Phase>();
        var path = new long?[phases.Length];
        var from = sent;
        for (var i = 0; i < phases.Length; i++)
        {
            if (First(phases[i], from) is not { } at)
                break;
            path[i] = at;
            from = at;
        }
        return path;
    }

    /// <summary>Forgets marks before <paramref name="before"/> (a long run would otherwise scan them all).</summary>
    public void Trim(long before)
    {
        lock (_marks)
            _marks.RemoveAll(m => m.At < before);
    }
}

/// <summary>The agent's control plane with its wake-ups, fetches and reports marked on a <see cref="Timeline"/>.</summary>
internal sealed class TracingControlPlane(IControlPlane inner, Timeline timeline, Action<bool>? pollAnswered = null, Action? policyCarried = null) : IControlPlane
{
    /// <summary>
    /// A wake that carried the policy (eighteenth session) is the change's fetch: <paramref name="policyCarried"/>
    /// counts it as one and marks its sending and answer at the poll's answer; read, it is fetched.
    /// </summary>
    public Task<Wake> WaitForPolicyAsync(string hostName, long afterRevision, TimeSpan wait, CancellationToken cancel) =>
        WaitForPolicyAsync(hostName, afterRevision, wait, null, cancel);

    public bool CarriesReports => inner.CarriesReports;

    /// <summary>A status report the poll carried (nineteenth session) is stored when the poll arrives; its answer comes with the poll's, so no report mark is made for it.</summary>
    public async Task<Wake> WaitForPolicyAsync(string hostName, long afterRevision, TimeSpan wait, StatusReport? report, CancellationToken cancel)
    {
        var wake = await inner.WaitForPolicyAsync(hostName, afterRevision, wait, report, cancel);
        pollAnswered?.Invoke(wake.Changed);
        if (wake.Policy is not null)
        {
            policyCarried?.Invoke();
            timeline.Mark(Timeline.Phase.Fetched);
        }
        else if (wake.Changed)
            timeline.Mark(Timeline.Phase.Wake);
        return wake;
    }

    public async Task<HostPolicy> FetchAsync(string hostName, CancellationToken cancel)
    {
        var policy = await inner.FetchAsync(hostName, cancel);
        timeline.Mark(Timeline.Phase.Fetched);
        return policy;
    }

    public async Task<bool> WaitForChangeAsync(string hostName, long afterRevision, TimeSpan wait, CancellationToken cancel)
    {
        var changed = await inner.WaitForChangeAsync(hostName, afterRevision, wait, cancel);
        pollAnswered?.Invoke(changed);
        if (changed)
            timeline.Mark(Timeline.Phase.Wake);
        return changed;
    }

    public async Task ReportAsync(string hostName, long appliedRevision, IReadOnlyList<NicRef> nics, CancellationToken cancel)
    {
        await inner.ReportAsync(hostName, appliedRevision, nics, cancel);
        timeline.Mark(Timeline.Phase.ReportAnswered);
    }

    public async Task<bool> ReportAsync(string hostName, long appliedRevision, IReadOnlyList<NicRef> nics, IReadOnlyList<RuleHits> usage, FlowReport? flows, CancellationToken cancel)
    {
        var answer = await inner.ReportAsync(hostName, appliedRevision, nics, usage, flows, cancel);
        timeline.Mark(Timeline.Phase.ReportAnswered);
        return answer;
    }
}

/// <summary>
/// The nodes' own timings, read from their metrics in this process: each request's server time by
/// action (<c>palisade.request.duration</c>: from reading the request to its answer, so it includes
/// waiting for a store connection) and each store transaction by operation.
/// </summary>
internal sealed class ServerTimings : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(string Name, double Seconds, long At)> _seen = new();

    public ServerTimings()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Name is "palisade.request.duration" or "palisade.store.duration" or "palisade.store.open.duration" or "palisade.store.gate.duration")
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            // The store's opening of a connection (its pool's queue) and the request path's wait for a store slot (StoreGate), apart from the transactions.
            string? name = instrument.Name == "palisade.store.open.duration" ? "store open" : null;
            foreach (var tag in tags)
            {
                if (tag.Key is "action" or "operation")
                    name = instrument.Name switch { "palisade.store.duration" => "store ", "palisade.store.gate.duration" => "gate ", _ => "" } + tag.Value;
            }
            if (name is not null)
                _seen.Enqueue((name, value, Stopwatch.GetTimestamp()));
        });
        _listener.Start();
    }

    /// <summary>Per action or store operation seen between the two timestamps: count, p50, p99, sum (ms).</summary>
    public IEnumerable<string> Summary(long from, long to, params string[] names)
    {
        var inWindow = _seen.Where(s => s.At >= from && s.At <= to).ToList();
        foreach (var name in names)
        {
            var ms = inWindow.Where(s => s.Name == name).Select(s => s.Seconds * 1000).Order().ToList();
            if (ms.Count == 0)
                continue;
            yield return string.Create(CultureInfo.InvariantCulture,
                $"{name} ×{ms.Count}: p50 {Percentile(ms, 0.5):F1} ms, p99 {Percentile(ms, 0.99):F1} ms, sum {ms.Sum():F0} ms");
        }
    }

    /// <summary>When each <paramref name="name"/> seen between the two timestamps ended (its measurement's timestamp).</summary>
    public List<long> Ends(string name, long from, long to) =>
        [.. _seen.Where(s => s.At >= from && s.At <= to && s.Name == name).Select(s => s.At)];

    /// <summary>
    /// When each host fetch seen between the two timestamps was answered: each <c>DescribeHostPolicy</c>, and each
    /// long poll that ended before half its least wait (eighteenth session: a woken poll carries the policy, the
    /// change's fetch; a renewal that ran out waited at least 80 % of <paramref name="pollWaitSeconds"/>).
    /// </summary>
    /// <param name="wakesCarry">False (<c>--fetch-after-wake</c>): a woken poll carries no policy, only <c>DescribeHostPolicy</c> counts.</param>
    public List<long> Served(long from, long to, int pollWaitSeconds, bool wakesCarry) =>
        [.. _seen.Where(s => s.At >= from && s.At <= to && (s.Name == "DescribeHostPolicy" || (wakesCarry && s.Name == "DescribeChanges" && s.Seconds < pollWaitSeconds * 0.4))).Select(s => s.At)];

    /// <summary>Forgets what was seen before <paramref name="before"/>.</summary>
    public void Trim(long before)
    {
        while (_seen.TryPeek(out var s) && s.At < before)
            _seen.TryDequeue(out _);
    }

    public static double Percentile(IReadOnlyList<double> sorted, double q) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, Math.Max(0, (int)Math.Ceiling(q * sorted.Count) - 1))];

    public void Dispose() => _listener.Dispose();
}

/// <summary>
/// What queued in the process during a window (issue 17, the 3,000-agent stall): the Npgsql pools'
/// instruments (connections in use, requests waiting for one, timeouts; every instrument of the
/// "Npgsql" meter, by name and pool, its peak in the window), the thread pool's threads and queue
/// (sampled every 100 ms), the agents' log lines by kind, and requests that failed, by action and why.
/// </summary>
internal sealed class Queues : IDisposable
{
    /// <summary>One for the process, started before the nodes so that the pools' counters are seen from their start.</summary>
    public static Queues Shared { get; } = new();

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, double> _current = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, double> _peak = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _events = new(StringComparer.Ordinal);
    private readonly Timer _sampler;

    public Queues()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name.StartsWith("Npgsql", StringComparison.Ordinal) || instrument.Name == "palisade.store.gate.waiting")
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Take(i, v, tags));
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Take(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Take(i, v, tags));
        _listener.Start();
        _sampler = new Timer(_ =>
        {
            _listener.RecordObservableInstruments();
            Set("threadpool threads", ThreadPool.ThreadCount);
            Set("threadpool queued", ThreadPool.PendingWorkItemCount);
        }, null, 100, 100);
    }

    private void Take(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var key = instrument.Name;
        foreach (var tag in tags)
        {
            if (tag.Key.Contains("pool", StringComparison.Ordinal) && tag.Value is string pool)
                key += " [" + (pool.Contains("synchronous_commit", StringComparison.Ordinal) ? "nonces" : pool.Contains("Pooling=False", StringComparison.OrdinalIgnoreCase) ? "listen" : "main") + "]";
            else if (tag.Key.Contains("state", StringComparison.Ordinal))
                key += " " + tag.Value;
        }
        if (instrument.GetType().Name.StartsWith("Histogram", StringComparison.Ordinal))
        {
            _events.AddOrUpdate(key + " count", 1, (_, c) => c + 1);
            _events.AddOrUpdate(key + " sum ms", (long)(value * 1000), (_, c) => c + (long)(value * 1000));
            return;
        }
        if (instrument.IsObservable)
            Set(key, value);
        else
            Set(key, _current.AddOrUpdate(key, value, (_, c) => c + value));
    }

    private void Set(string key, double value)
    {
        _current[key] = value;
        _peak.AddOrUpdate(key, value, (_, p) => Math.Max(p, value));
    }

    /// <summary>Counts one event (an agent's log line by kind, a failed request).</summary>
    public void Count(string what) => _events.AddOrUpdate(what, 1, (_, c) => c + 1);

    /// <summary>The window's peaks and counts, then a new window.</summary>
    public string TakeWindow()
    {
        var peaks = _peak.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} peak {p.Value:F0}"));
        var counts = _events.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key}: {p.Value}"));
        var text = string.Join("; ", peaks) + " | " + string.Join("; ", counts);
        _peak.Clear();
        foreach (var (k, v) in _current)
            _peak[k] = v;
        _events.Clear();
        return text;
    }

    public void Dispose()
    {
        _sampler.Dispose();
        _listener.Dispose();
    }
}
