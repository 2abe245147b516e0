using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;

/// <summary>
/// What the nodes allocate, by type (issue 17, twentieth session): the runtime's allocation ticks (one
/// event per ~100 KiB allocated, naming the type of the object that crossed the mark), summed per
/// window. On only with <c>PALISADE_BENCH_ALLOCATION_TYPES=1</c> (the listener costs a little itself);
/// a sample, not a count: a type's share of the ticks is its share of the bytes, roughly.
/// </summary>
internal sealed class AllocationTypes : EventListener
{
    private readonly ConcurrentDictionary<string, long> _bytes = new(StringComparer.Ordinal);

    public static AllocationTypes? StartIfAsked() =>
        Environment.GetEnvironmentVariable("PALISADE_BENCH_ALLOCATION_TYPES") == "1" ? new AllocationTypes() : null;

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
            EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1 /* GC */);
    }

    // What the window's collections kept (twenty-third session): the bytes each promoted out of gen0 and out of gen1, summed.
    private long _promoted0, _promoted1, _collections;

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventName is { } heapStats && heapStats.StartsWith("GCHeapStats", StringComparison.Ordinal) && e.Payload is not null)
        {
            var stats = e.PayloadNames!;
            if (stats.IndexOf("TotalPromotedSize0") is var p0 and >= 0 && stats.IndexOf("TotalPromotedSize1") is var p1 and >= 0)
            {
                Interlocked.Add(ref _promoted0, Convert.ToInt64(e.Payload[p0], CultureInfo.InvariantCulture));
                Interlocked.Add(ref _promoted1, Convert.ToInt64(e.Payload[p1], CultureInfo.InvariantCulture));
                Interlocked.Increment(ref _collections);
            }
            return;
        }
        if (e.EventName is null || !e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null)
            return;
        var names = e.PayloadNames!;
        var type = names.IndexOf("TypeName") is var t and >= 0 ? e.Payload[t] as string ?? "?" : "?";
        var amount = names.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(e.Payload[a], CultureInfo.InvariantCulture) : 100_000;
        _bytes.AddOrUpdate(type, amount, (_, v) => v + amount);
    }

    /// <summary>The top types since the last take, in MiB, and starts again.</summary>
    public string Take(int top = 20)
    {
        var all = _bytes.ToArray();
        _bytes.Clear();
        var total = all.Sum(x => x.Value);
        var (promoted0, promoted1, collections) = (Interlocked.Exchange(ref _promoted0, 0), Interlocked.Exchange(ref _promoted1, 0), Interlocked.Exchange(ref _collections, 0));
        return string.Create(CultureInfo.InvariantCulture, $"promoted by the window's {collections} collections: out of gen0 {promoted0 / 1048576.0:F1} MiB, out of gen1 {promoted1 / 1048576.0:F1} MiB; {total / 1048576.0:F0} MiB sampled: ") + string.Join("; ", all.OrderByDescending(x => x.Value).Take(top)
            .Select(x => string.Create(CultureInfo.InvariantCulture, $"{x.Key} {x.Value / 1048576.0:F1}")));
    }
}
