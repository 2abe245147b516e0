using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Palisade.Server.Hosting;

namespace Palisade.Server.Tests.Support;

/// <summary>
/// Every action a test of this assembly called, with the codes it answered: read off the server's
/// own request counter (the one <c>/metrics</c> shows), so nothing in the server serves tests alone.
/// </summary>
public static class CalledActions
{
    private static readonly ConcurrentDictionary<(string Action, string Code), int> Calls = new();
    private static MeterListener? _listener;

    [ModuleInitializer]
    internal static void Listen()
    {
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == ServerMetrics.MeterName && instrument.Name == "palisade.requests")
                    listener.EnableMeasurementEvents(instrument);
            },
        };
        _listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            string? action = null, code = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "action")
                    action = tag.Value as string;
                else if (tag.Key == "code")
                    code = tag.Value as string;
            }
            if (action is not null && code is not null)
                Calls.AddOrUpdate((action, code), 1, (_, n) => n + 1);
        });
        _listener.Start();
    }

    /// <summary>The actions that answered with this code at least once (OK: a success).</summary>
    public static IReadOnlySet<string> With(string code) => Calls.Keys.Where(k => k.Code == code).Select(k => k.Action).ToHashSet(StringComparer.Ordinal);

    public static int Total => Calls.Values.Sum();
}
