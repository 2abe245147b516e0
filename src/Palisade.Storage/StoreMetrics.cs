using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Palisade.Storage;

/// <summary>How long the store takes, per operation and kind of store (<c>palisade.store.duration</c>).</summary>
public static class StoreMetrics
{
    public const string MeterName = "Palisade.Storage";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Histogram<double> Duration = Meter.CreateHistogram<double>(
        "palisade.store.duration", "s", "Time of one store transaction (reads and writes, including the wait for the write lock).");

    public static T Time<T>(string kind, string operation, Func<T> work)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            return work();
        }
        finally
        {
            Duration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds,
                new KeyValuePair<string, object?>("store", kind), new KeyValuePair<string, object?>("operation", operation));
        }
    }
}
