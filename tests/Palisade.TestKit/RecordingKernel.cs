using Palisade.Agent.Kernel;
using Palisade.Engine.Flows;

namespace Palisade.TestKit;

/// <summary>
/// A kernel that records the transactions it was told to apply and reads back what the caller says it
/// holds (<see cref="Shape"/>): the one double of the agent's loop tests, the server's agent-through-API
/// tests and the fleet bench's simulated hosts (each had its own copy).
/// </summary>
public sealed class RecordingKernel : INetfilter
{
    private readonly List<string> _transactions = [];
    private long _applies;

    /// <summary>
    /// Whether each transaction's text is kept (<see cref="Transactions"/>). The fleet bench's thousand
    /// hosts in one process only count them: their texts would be most of its heap.
    /// </summary>
    public bool KeepsTransactions { get; init; } = true;

    /// <summary>Called as each transaction is applied (the fleet bench marks its timeline there).</summary>
    public Action? Applying { get; init; }

    /// <summary>Called once each transaction is applied.</summary>
    public Action? Applied { get; init; }

    /// <summary>What the kernel holds when the agent reads it back; null for a kernel with no table of Palisade's.</summary>
    public Func<KernelShape?> Shape { get; set; } = () => null;

    /// <summary>The transactions applied so far, in order (a copy: the agent may apply more meanwhile).</summary>
    public IReadOnlyList<string> Transactions
    {
        get
        {
            lock (_transactions)
                return [.. _transactions];
        }
    }

    /// <summary>How many transactions were applied, kept or not.</summary>
    public long Applies => Interlocked.Read(ref _applies);

    public Task ApplyAsync(string transaction, CancellationToken cancel)
    {
        Applying?.Invoke();
        Interlocked.Increment(ref _applies);
        if (KeepsTransactions)
            lock (_transactions)
                _transactions.Add(transaction);
        Applied?.Invoke();
        return Task.CompletedTask;
    }

    public Task CheckAsync(string transaction, CancellationToken cancel) => Task.CompletedTask;

    public Task<KernelShape?> ReadBackAsync(CancellationToken cancel) => Task.FromResult(Shape());

    public Task<IReadOnlyList<TrackedConnection>> ListConnectionsAsync(CancellationToken cancel) => Task.FromResult<IReadOnlyList<TrackedConnection>>([]);

    public Task DeleteConnectionAsync(TrackedConnection connection, CancellationToken cancel) => Task.CompletedTask;

    public Task<IReadOnlyList<string>> CheckPrerequisitesAsync(CancellationToken cancel) => Task.FromResult<IReadOnlyList<string>>([]);
}
