using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Palisade.Server.Actions;
using Palisade.Server.Actions.Trail;
using Palisade.Server.Hosting;
using Palisade.Storage.Records;

namespace Palisade.Server.Protocol;

/// <summary>
/// What the action trail keeps of refused calls, and how many. A refusal changed nothing, yet each
/// one was a row written through the store's one write queue: a tenant could fill the disk and hold
/// up every other tenant's writes by sending refused calls. So a refusal's event is small (action,
/// code, parameter names, at most ~1 KB of values: <see cref="TrailParameters.RefusalJson"/>), an
/// account's refusals are written at most at <see cref="Throttling.RefusalEventsPerSecond"/> (the
/// rest are counted, not written), and the bytes each account's refusals put on the trail are counted.
/// </summary>
internal sealed class RefusalTrail : IDisposable
{
    public const string MeterName = "Palisade.Trail";

    private readonly ServerOptions _options;
    private readonly TokenBuckets<long> _buckets;
    private readonly ConcurrentDictionary<long, Totals> _totals = new();
    private readonly Meter _meter;
    private readonly Counter<long> _written;
    private readonly Counter<long> _dropped;
    private readonly Counter<long> _bytes;

    public RefusalTrail(ServerOptions options, TimeProvider clock)
    {
        _options = options;
        _buckets = new(clock);
        _meter = new(Hosting.ServerMetrics.Named(MeterName, options));
        _written = _meter.CreateCounter<long>("palisade.trail.refusals.written", "{event}", "Refused calls written to the action trail.");
        _dropped = _meter.CreateCounter<long>("palisade.trail.refusals.dropped", "{event}", "Refused calls past their account's trail rate: answered, counted, not written.");
        _bytes = _meter.CreateCounter<long>("palisade.trail.refusals.bytes", "By", "Bytes of parameters refused calls put on the action trail.");
    }

    /// <summary>Per account, since this node started: refusals written and left out, and the bytes written.</summary>
    public sealed class Totals
    {
        public long Written;
        public long Dropped;
        public long Bytes;
    }

    /// <summary>The event to write for a refused call, or null when its account's refusals are past their rate.</summary>
    public ActionTrailEntry? Admit(ActionContext context, int httpStatus, string code)
    {
        var limits = _options.Throttling;
        var totals = _totals.GetOrAdd(context.AccountId, _ => new Totals());
        if (limits.RefusalEventsPerSecond <= 0 || !_buckets.TryTake(context.AccountId, limits.RefusalEventsPerSecond, limits.RefusalEventsBurst))
        {
            Interlocked.Increment(ref totals.Dropped);
            _dropped.Add(1);
            return null;
        }
        var entry = context.TrailEntry(httpStatus, code) with { Parameters = TrailParameters.RefusalJson(context.Request, context.CarriedWriteLeavesOut) };
        var size = System.Text.Encoding.UTF8.GetByteCount(entry.Parameters);
        Interlocked.Increment(ref totals.Written);
        Interlocked.Add(ref totals.Bytes, size);
        _written.Add(1);
        _bytes.Add(size);
        return entry;
    }

    public Totals Of(long accountId) => _totals.GetOrAdd(accountId, _ => new Totals());

    public void Dispose() => _meter.Dispose();
}
