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

    private static readonly Histogram<double> OpenDuration = Meter.CreateHistogram<double>(
        "palisade.store.open.duration", "s", "Time to get a connection for a store transaction (the pool's queue, or a new connection).");

    /// <summary>Opens a connection through <paramref name="open"/>, recording how long it took (<c>palisade.store.open.duration</c>).</summary>
    public static T Open<T>(string kind, Func<T> open)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            return open();
        }
        finally
        {
            OpenDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("store", kind));
        }
    }

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
