using Palisade.Engine.Flows;

namespace Palisade.Agent.Kernel;

/// <summary>
/// The one place the agent touches the kernel: nftables and conntrack in one network namespace.
/// Everything else of the agent is pure and tested without root.
/// </summary>
public interface INetfilter
{
    /// <summary>Runs one <c>nft -f</c> transaction: all of it or, when the kernel refuses, none of it.</summary>
    Task ApplyAsync(string transaction, CancellationToken cancel);

    /// <summary>Whether the kernel would take <paramref name="transaction"/> (<c>nft -c</c>: a full dry run, nothing changes); a refusal throws.</summary>
    Task CheckAsync(string transaction, CancellationToken cancel);

    /// <summary>What our tables hold now (chains with rule counts, sets); null when the inet table is gone.</summary>
    Task<KernelShape?> ReadBackAsync(CancellationToken cancel);

    /// <summary>The connections conntrack tracks, by their original direction, with their zone (network).</summary>
    Task<IReadOnlyList<TrackedConnection>> ListConnectionsAsync(CancellationToken cancel);

    Task DeleteConnectionAsync(TrackedConnection connection, CancellationToken cancel);

    /// <summary>
    /// What enforcement depends on outside our tables, read back now: bridged IPv4 and IPv6 must reach
    /// the inet hooks (<c>net.bridge.bridge-nf-call-iptables</c> and <c>-ip6tables</c> = 1 in this
    /// namespace). Empty when the host can enforce; otherwise one line per missing piece.
    /// </summary>
    Task<IReadOnlyList<string>> CheckPrerequisitesAsync(CancellationToken cancel);

    /// <summary>
    /// Reads our named counters and zeroes them in one step (<c>nft reset counters</c>): the packets
    /// and bytes each counted since the last read, by counter name. A kernel without counters has none.
    /// </summary>
    Task<IReadOnlyDictionary<string, CounterReading>> HarvestCountersAsync(CancellationToken cancel) =>
        Task.FromResult<IReadOnlyDictionary<string, CounterReading>>(new Dictionary<string, CounterReading>());

    /// <summary>
    /// The connections the kernel accepts from now on, as each is confirmed (conntrack's NEW event
    /// fires when the first packet has passed every hook: a connection our rules drop never shows),
    /// until <paramref name="cancel"/>. A kernel that cannot tell yields none.
    /// </summary>
    IAsyncEnumerable<TrackedConnection> WatchNewConnectionsAsync(CancellationToken cancel) => AsyncEnumerable.Empty<TrackedConnection>();

    /// <summary>
    /// The same connections in batches, as the kernel delivers them (what the agent's sampler reads:
    /// one hand-over per burst, not per connection). By default each connection is its own batch.
    /// </summary>
    async IAsyncEnumerable<IReadOnlyList<TrackedConnection>> WatchNewConnectionBatchesAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancel)
    {
        await foreach (var connection in WatchNewConnectionsAsync(cancel).WithCancellation(cancel))
            yield return [connection];
    }
}

/// <summary>What a counter counted since it was last read.</summary>
public readonly record struct CounterReading(long Packets, long Bytes);

/// <summary>A tracked connection and the conntrack zone it lives in (0 when none was set).</summary>
public readonly record struct TrackedConnection(Flow Flow, int Zone)
{
    public override string ToString() => Zone == 0 ? Flow.ToString() : $"{Flow} (zone {Zone})";
}

/// <summary>nft or conntrack failed; the kernel kept what it had.</summary>
public sealed class NetfilterException(string message) : Exception(message);

/// <summary>
/// The shape of our two tables as the kernel lists them: each chain with its number of rules, and
/// the names of the sets and maps. Enough to see drift (a chain or rule deleted or added behind
/// our back, a table gone), cheap to read.
/// </summary>
public sealed record KernelShape(IReadOnlyDictionary<string, int> RulesPerChain, IReadOnlySet<string> Sets)
{
    /// <summary>The base chains: "family name hook priority policy".</summary>
    public IReadOnlySet<string> Hooks { get; init; } = new HashSet<string>();

    public bool SameAs(KernelShape other) =>
        RulesPerChain.Count == other.RulesPerChain.Count
        && RulesPerChain.All(kv => other.RulesPerChain.TryGetValue(kv.Key, out var n) && n == kv.Value)
        && Sets.SetEquals(other.Sets)
        && Hooks.SetEquals(other.Hooks);

    public override string ToString() =>
        $"{RulesPerChain.Count} chains ({string.Join(", ", RulesPerChain.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}:{kv.Value}"))}), {Sets.Count} sets, "
        + $"hooks [{string.Join(", ", Hooks.Order(StringComparer.Ordinal))}]";
}
