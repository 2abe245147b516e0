namespace Palisade.Storage;

/// <summary>
/// Wakes whoever waits for this process's next commit (the change feed's long polls) at once,
/// instead of at their next look at the store. Commits of other nodes are still found by looking.
/// </summary>
public sealed class CommitSignal
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes at the next commit after it was read.</summary>
    public Task Next => Volatile.Read(ref _next).Task;

    public void Pulse() =>
        Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}
