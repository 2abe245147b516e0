using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;

/// <summary>
/// Each collection of a window, one line each (issue 17, twenty-fourth session): its generation and reason, its
/// pause (the runtime suspended → resumed), what it promoted out of gen0 and gen1, and what it marked by where the
/// mark came from: the stacks, the finalization queue, handles, and older generations' cards (an old object written
/// to point at a young one). A gen1 pause that marks mostly through cards is paid for the old objects a change
/// writes into, not for what it keeps. On only with <c>PALISADE_BENCH_GC_TRACE=1</c>.
/// </summary>
internal sealed class CollectionTrace : EventListener
{
    private static readonly string[] RootKinds = ["stack", "finalizer", "handles", "cards", "sized", "overflow", "dependent", "new-fq", "steal", "bgc"];
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly object _gate = new();
    private Current? _current;
    private DateTime _suspended;

    private sealed class Current
    {
        public int Generation, Reason;
        public DateTime Started;
        public double PauseMs;
        public long Promoted0, Promoted1;
        public readonly long[] Marked = new long[RootKinds.Length];
    }

    public static CollectionTrace? StartIfAsked() =>
        Environment.GetEnvironmentVariable("PALISADE_BENCH_GC_TRACE") == "1" ? new CollectionTrace() : null;

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
            EnableEvents(source, EventLevel.Informational, (EventKeywords)0x1 /* GC */);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        var name = e.EventName;
        if (name is null || e.Payload is null)
            return;
        lock (_gate)
        {
            if (name.StartsWith("GCSuspendEEBegin", StringComparison.Ordinal))
                _suspended = e.TimeStamp;
            else if (name.StartsWith("GCStart", StringComparison.Ordinal))
                _current = new Current { Generation = Int(e, "Depth"), Reason = Int(e, "Reason"), Started = e.TimeStamp };
            else if (name.StartsWith("GCMarkWithType", StringComparison.Ordinal) && _current is { } marking)
            {
                var kind = Int(e, "Type");
                if (kind >= 0 && kind < RootKinds.Length)
                    marking.Marked[kind] += Long(e, "Bytes");
            }
            else if (name.StartsWith("GCHeapStats", StringComparison.Ordinal) && _current is { } stats)
            {
                stats.Promoted0 = Long(e, "TotalPromotedSize0");
                stats.Promoted1 = Long(e, "TotalPromotedSize1");
            }
            else if (name.StartsWith("GCRestartEEEnd", StringComparison.Ordinal) && _current is { } ended)
            {
                ended.PauseMs = (e.TimeStamp - _suspended).TotalMilliseconds;
                var marked = string.Join(", ", ended.Marked.Select((bytes, kind) => (bytes, kind)).Where(x => x.bytes > 0)
                    .Select(x => string.Create(CultureInfo.InvariantCulture, $"{RootKinds[x.kind]} {x.bytes / 1048576.0:F1}")));
                _lines.Enqueue(string.Create(CultureInfo.InvariantCulture,
                    $"gen{ended.Generation} (reason {ended.Reason}) at {ended.Started:HH:mm:ss.fff}, paused {ended.PauseMs:F0} ms; promoted out of gen0 {ended.Promoted0 / 1048576.0:F1} MiB, out of gen1 {ended.Promoted1 / 1048576.0:F1} MiB; marked (MiB) {marked}"));
                _current = null;
            }
        }
    }

    private static int Int(EventWrittenEventArgs e, string field) => (int)Long(e, field);

    private static long Long(EventWrittenEventArgs e, string field) =>
        e.PayloadNames!.IndexOf(field) is var i and >= 0 ? Convert.ToInt64(e.Payload![i], CultureInfo.InvariantCulture) : -1;

    /// <summary>The collections since the last take, one line each, and starts again.</summary>
    public IReadOnlyList<string> Take()
    {
        var taken = new List<string>();
        while (_lines.TryDequeue(out var line))
            taken.Add(line);
        return taken;
    }
}

/// <summary>The agents' process's one trace of its collections, started with the process's first measured change.</summary>
internal static class AgentsCollections
{
    public static readonly CollectionTrace? Trace = CollectionTrace.StartIfAsked();
}
