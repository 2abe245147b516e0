using Palisade.Agent.Kernel;
using Palisade.Agent.Rendering;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;

namespace Palisade.Agent.Following;

/// <summary>New connections to a NIC from one source address, by protocol and destination port (0 for protocols without ports), in one minute.</summary>
public sealed record ObservedFlow(InstanceId InstanceId, IpAddress Source, IpProtocol Protocol, int Port, DateTimeOffset Minute, long Connections);

/// <summary>Connections to a NIC the sampler saw but did not keep (over its rate or memory cap).</summary>
public sealed record FlowDrop(InstanceId InstanceId, long Connections);

/// <summary>What the agent reports of the flows it sampled: the aggregates and what it dropped.</summary>
public sealed record FlowReport(IReadOnlyList<ObservedFlow> Flows, IReadOnlyList<FlowDrop> Drops)
{
    public static readonly FlowReport Empty = new([], []);
}

/// <summary>
/// Observed flows (issue 20 item 5): the connections the host accepts, as conntrack confirms them,
/// credited to the NIC they go to (found by conntrack zone — its network — and destination address,
/// as the ruleset the agent applied places them; a connection to no NIC of this host is not ours),
/// added up per NIC, source address, protocol, destination port and minute. Bounded: at most
/// <see cref="PerMinuteCap"/> connections are kept per minute and at most <see cref="MaxPending"/>
/// aggregates wait for a report; beyond either, connections are counted as dropped, per NIC. Thread
/// safe: the watch adds, the agent's loop takes.
/// </summary>
public sealed class FlowSampler(Func<HostRuleset?> applied, TimeProvider clock, int perMinuteCap = FlowSampler.DefaultPerMinuteCap, int maxPending = FlowSampler.DefaultMaxPending)
{
    public const int DefaultPerMinuteCap = 60_000;

    public const int DefaultMaxPending = 100_000;

    public int PerMinuteCap => perMinuteCap;

    public int MaxPending => maxPending;

    private readonly Lock _lock = new();
    private readonly Dictionary<(InstanceId Nic, IpAddress Source, IpProtocol Protocol, int Port, DateTimeOffset Minute), long> _pending = [];
    private readonly Dictionary<InstanceId, long> _drops = [];
    private DateTimeOffset _minute;
    private int _keptThisMinute;
    private HostRuleset? _mapped;
    private Dictionary<(int Zone, IpAddress Address), InstanceId> _nics = [];

    /// <summary>Connections seen (kept or dropped) and ignored (to no NIC of this host), for tests and the log.</summary>
    public long Seen { get; private set; }

    public long Ignored { get; private set; }

    /// <summary>Takes one confirmed connection into account.</summary>
    public void Record(TrackedConnection connection)
    {
        var minute = MinuteOf(clock.GetUtcNow());
        lock (_lock)
        {
            var ruleset = applied();
            if (!ReferenceEquals(ruleset, _mapped))
            {
                _mapped = ruleset;
                _nics = [];
                foreach (var nic in ruleset?.Nics ?? [])
                {
                    foreach (var address in nic.Addresses)
                        _nics.TryAdd((nic.Zone, address), nic.InstanceId);
                }
            }
            if (!_nics.TryGetValue((connection.Zone, connection.Flow.Destination), out var target))
            {
                Ignored++;
                return;
            }
            Seen++;
            if (minute != _minute)
            {
                _minute = minute;
                _keptThisMinute = 0;
            }
            var flow = connection.Flow;
            var key = (target, flow.Source, flow.Protocol, flow.EffectiveDestinationPort, minute);
            if (_keptThisMinute >= perMinuteCap || (!_pending.ContainsKey(key) && _pending.Count >= maxPending))
            {
                _drops[target] = _drops.GetValueOrDefault(target) + 1;
                return;
            }
            _keptThisMinute++;
            _pending[key] = _pending.GetValueOrDefault(key) + 1;
        }
    }

    /// <summary>Reads connections until <paramref name="cancel"/> or the end of <paramref name="connections"/>.</summary>
    public async Task RunAsync(IAsyncEnumerable<TrackedConnection> connections, CancellationToken cancel)
    {
        await foreach (var connection in connections.WithCancellation(cancel))
            Record(connection);
    }

    /// <summary>Aggregates waiting for a report.</summary>
    public int PendingCount
    {
        get
        {
            lock (_lock)
                return _pending.Count;
        }
    }

    /// <summary>
    /// Takes at most <paramref name="max"/> aggregates (oldest minutes first) and every drop counted
    /// so far, for one report; <see cref="PutBack"/> them when the report does not arrive.
    /// </summary>
    public FlowReport Take(int max)
    {
        lock (_lock)
        {
            var taken = _pending.OrderBy(p => p.Key.Minute).ThenBy(p => p.Key.Nic.Value, StringComparer.Ordinal).ThenBy(p => p.Key.Source)
                .ThenBy(p => p.Key.Protocol).ThenBy(p => p.Key.Port).Take(max).ToList();
            foreach (var (key, _) in taken)
                _pending.Remove(key);
            var drops = _drops.OrderBy(d => d.Key.Value, StringComparer.Ordinal).Select(d => new FlowDrop(d.Key, d.Value)).ToList();
            _drops.Clear();
            return new FlowReport([.. taken.Select(p => new ObservedFlow(p.Key.Nic, p.Key.Source, p.Key.Protocol, p.Key.Port, p.Key.Minute, p.Value))], drops);
        }
    }

    /// <summary>A report that did not reach the server: its flows wait for the next (within the cap; beyond, counted as dropped).</summary>
    public void PutBack(FlowReport report)
    {
        lock (_lock)
        {
            foreach (var f in report.Flows)
            {
                var key = (f.InstanceId, f.Source, f.Protocol, f.Port, f.Minute);
                if (_pending.ContainsKey(key) || _pending.Count < maxPending)
                    _pending[key] = _pending.GetValueOrDefault(key) + f.Connections;
                else
                    _drops[f.InstanceId] = _drops.GetValueOrDefault(f.InstanceId) + f.Connections;
            }
            foreach (var d in report.Drops)
                _drops[d.InstanceId] = _drops.GetValueOrDefault(d.InstanceId) + d.Connections;
        }
    }

    public static DateTimeOffset MinuteOf(DateTimeOffset t) => new(t.UtcTicks - t.UtcTicks % TimeSpan.TicksPerMinute, TimeSpan.Zero);
}
