using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Palisade.Agent.Kernel;
using Palisade.Agent.Rendering;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;

namespace Palisade.Agent.Following;

/// <summary>New connections to a NIC from one source address, by protocol and destination port (0 for protocols without ports), in one minute.</summary>
public sealed record ObservedFlow(InstanceId InstanceId, IpAddress Source, IpProtocol Protocol, int Port, DateTimeOffset Minute, long Connections)
{
    /// <summary>The ENI that saw it (<see cref="NicRef.NetworkInterfaceId"/>): a secondary ENI, or the primary when the binding names it; null for a NIC bound by instance.</summary>
    public NetworkInterfaceId? NetworkInterfaceId { get; init; }
}

/// <summary>Connections to a NIC the sampler saw but did not keep (over its rate or memory cap).</summary>
public sealed record FlowDrop(InstanceId InstanceId, long Connections)
{
    /// <summary>The ENI, as in <see cref="ObservedFlow.NetworkInterfaceId"/>.</summary>
    public NetworkInterfaceId? NetworkInterfaceId { get; init; }
}

/// <summary>What the agent reports of the flows it sampled: the aggregates and what it dropped.</summary>
public sealed record FlowReport(IReadOnlyList<ObservedFlow> Flows, IReadOnlyList<FlowDrop> Drops)
{
    public static readonly FlowReport Empty = new([], []);
}

/// <summary>
/// Observed flows (issue 20 item 5): the connections the host accepts, as conntrack confirms them,
/// credited to the NIC they go to (found by conntrack zone — its network — and destination address,
/// as the ruleset the agent applied places them; a connection to no NIC of this host is not ours) —
/// each ENI its own NIC, so a flow to a secondary ENI is reported as that ENI's (<see cref="NicRef"/>),
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
    private readonly Dictionary<(Nic Nic, IpAddress Source, IpProtocol Protocol, int Port, DateTimeOffset Minute), long> _pending = [];
    private readonly Dictionary<Nic, long> _drops = [];
    private DateTimeOffset _minute;
    private int _keptThisMinute;
    private HostRuleset? _mapped;
    private Dictionary<(int Zone, IpAddress Address), Nic> _nics = [];

    /// <summary>Connections seen (kept or dropped) and ignored (to no NIC of this host), for tests and the log.</summary>
    public long Seen { get; private set; }

    public long Ignored { get; private set; }

    /// <summary>Takes one confirmed connection into account.</summary>
    public void Record(TrackedConnection connection)
    {
        var minute = MinuteOf(clock.GetUtcNow());
        lock (_lock)
            RecordLocked(connection, minute);
    }

    /// <summary>Takes a batch of confirmed connections (one read of the kernel's events) into account: one lock and one clock reading for all.</summary>
    public void RecordBatch(IReadOnlyList<TrackedConnection> batch)
    {
        var minute = MinuteOf(clock.GetUtcNow());
        lock (_lock)
        {
            foreach (var connection in batch)
                RecordLocked(connection, minute);
        }
    }

    private void RecordLocked(TrackedConnection connection, DateTimeOffset minute)
    {
        var ruleset = applied();
        if (!ReferenceEquals(ruleset, _mapped))
        {
            _mapped = ruleset;
            _nics = [];
            foreach (var nic in ruleset?.Nics ?? [])
            {
                foreach (var address in nic.Addresses)
                    _nics.TryAdd((nic.Zone, address), new Nic(nic.InstanceId, nic.Ref.NetworkInterfaceId));
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
        // One lookup of the aggregate, not three: this runs for every new connection of the host.
        ref var count = ref _keptThisMinute < perMinuteCap ? ref CollectionsMarshal.GetValueRefOrNullRef(_pending, key) : ref Unsafe.NullRef<long>();
        if (_keptThisMinute >= perMinuteCap || (Unsafe.IsNullRef(ref count) && _pending.Count >= maxPending))
        {
            _drops[target] = _drops.GetValueOrDefault(target) + 1;
            return;
        }
        _keptThisMinute++;
        if (Unsafe.IsNullRef(ref count))
            _pending.Add(key, 1);
        else
            count++;
    }

    /// <summary>Reads connections until <paramref name="cancel"/> or the end of <paramref name="connections"/>.</summary>
    public async Task RunAsync(IAsyncEnumerable<TrackedConnection> connections, CancellationToken cancel)
    {
        await foreach (var connection in connections.WithCancellation(cancel))
            Record(connection);
    }

    /// <summary>Reads batches of connections (<see cref="INetfilter.WatchNewConnectionBatchesAsync"/>) until <paramref name="cancel"/> or their end.</summary>
    public async Task RunAsync(IAsyncEnumerable<IReadOnlyList<TrackedConnection>> batches, CancellationToken cancel)
    {
        await foreach (var batch in batches.WithCancellation(cancel))
            RecordBatch(batch);
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
            var taken = _pending.OrderBy(p => p.Key.Minute).ThenBy(p => p.Key.Nic.InstanceId.Value, StringComparer.Ordinal).ThenBy(p => p.Key.Nic.Eni?.Value, StringComparer.Ordinal).ThenBy(p => p.Key.Source)
                .ThenBy(p => p.Key.Protocol).ThenBy(p => p.Key.Port).Take(max).ToList();
            foreach (var (key, _) in taken)
                _pending.Remove(key);
            var drops = _drops.OrderBy(d => d.Key.InstanceId.Value, StringComparer.Ordinal).ThenBy(d => d.Key.Eni?.Value, StringComparer.Ordinal)
                .Select(d => new FlowDrop(d.Key.InstanceId, d.Value) { NetworkInterfaceId = d.Key.Eni }).ToList();
            _drops.Clear();
            return new FlowReport([.. taken.Select(p => new ObservedFlow(p.Key.Nic.InstanceId, p.Key.Source, p.Key.Protocol, p.Key.Port, p.Key.Minute, p.Value)
            {
                NetworkInterfaceId = p.Key.Nic.Eni,
            })], drops);
        }
    }

    /// <summary>A report that did not reach the server: its flows wait for the next (within the cap; beyond, counted as dropped).</summary>
    public void PutBack(FlowReport report)
    {
        lock (_lock)
        {
            foreach (var f in report.Flows)
            {
                var nic = new Nic(f.InstanceId, f.NetworkInterfaceId);
                var key = (nic, f.Source, f.Protocol, f.Port, f.Minute);
                if (_pending.ContainsKey(key) || _pending.Count < maxPending)
                    _pending[key] = _pending.GetValueOrDefault(key) + f.Connections;
                else
                    _drops[nic] = _drops.GetValueOrDefault(nic) + f.Connections;
            }
            foreach (var d in report.Drops)
            {
                var nic = new Nic(d.InstanceId, d.NetworkInterfaceId);
                _drops[nic] = _drops.GetValueOrDefault(nic) + d.Connections;
            }
        }
    }

    /// <summary>A NIC as flows are reported for it: its instance and its ENI when the binding names one (<see cref="NicRef.NetworkInterfaceId"/>).</summary>
    private readonly record struct Nic(InstanceId InstanceId, NetworkInterfaceId? Eni);

    public static DateTimeOffset MinuteOf(DateTimeOffset t) => new(t.UtcTicks - t.UtcTicks % TimeSpan.TicksPerMinute, TimeSpan.Zero);
}
