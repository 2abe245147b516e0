using Palisade.Agent.Kernel;
using Palisade.Engine.Flows;

namespace Palisade.Agent.Tests.Following;

/// <summary>
/// A kernel that records the transactions it was told to apply and reads back what the test says it holds
/// (<see cref="Shape"/>): the agent's loop tests' one double (they each had their own copy).
/// </summary>
internal sealed class RecordingKernel : INetfilter
{
    public List<string> Transactions { get; } = [];

    public Func<KernelShape?> Shape { get; set; } = () => null;

    public Task ApplyAsync(string transaction, CancellationToken cancel)
    {
        lock (Transactions)
            Transactions.Add(transaction);
        return Task.CompletedTask;
    }

    public Task CheckAsync(string transaction, CancellationToken cancel) => Task.CompletedTask;

    public Task<KernelShape?> ReadBackAsync(CancellationToken cancel) => Task.FromResult(Shape());

    public Task<IReadOnlyList<TrackedConnection>> ListConnectionsAsync(CancellationToken cancel) => Task.FromResult<IReadOnlyList<TrackedConnection>>([]);

    public Task DeleteConnectionAsync(TrackedConnection connection, CancellationToken cancel) => Task.CompletedTask;

    public Task<IReadOnlyList<string>> CheckPrerequisitesAsync(CancellationToken cancel) => Task.FromResult<IReadOnlyList<string>>([]);
}
