using Palisade.Storage;

namespace Palisade.Server.Protocol;

/// <summary>
/// Nonces in the shared store, so that a request replayed against another node of the same control
/// plane is caught too. The table's key decides: of two nodes inserting one nonce, one wins.
/// <para>
/// Asked asynchronously (<see cref="TryUseAsync"/>, issue 17, fifteenth session), the nonces are
/// recorded in batches: while one batch's statement is out, the nonces that arrive wait for the next
/// one, holding no thread, and each request is answered from its batch's result. After a 1,000-host
/// change the nodes authenticated 3,000 requests, each with a round trip of its own in a read slot;
/// now a few dozen statements. Nothing waits for a tick: a nonce arriving while no batch is out is
/// sent at once. <see cref="TryUse"/>, one insert per nonce, is the slow twin.
/// </para>
/// </summary>
internal sealed class StoreNonceRegistry(IStore store, TimeProvider clock) : INonceRegistry
{
    /// <summary>The most nonces one statement carries.</summary>
    public const int MaxBatch = 1000;

    private readonly Lock _lock = new();
    private List<(NonceUse Use, TaskCompletionSource<bool> Done)> _pending = [];
    private bool _sending;

    /// <summary>Statements sent for batches (tests, diagnostics).</summary>
    public long Batches => Interlocked.Read(ref _batches);

    private long _batches;

    public bool TryUse(string accessKeyId, string nonce, DateTimeOffset expiresAt) =>
        store.TryUseNonce(accessKeyId, nonce, expiresAt, clock.GetUtcNow());

    public ValueTask<bool> TryUseAsync(string accessKeyId, string nonce, DateTimeOffset expiresAt, CancellationToken cancel)
    {
        var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            _pending.Add((new NonceUse(accessKeyId, nonce, expiresAt), done));
            if (_sending)
                return new ValueTask<bool>(done.Task.WaitAsync(cancel));
            _sending = true;
        }
        // This request sends the batch (its own nonce and whatever arrives meanwhile), then any that
        // gathered while it was out, off its own path.
        _ = Task.Run(SendAll, CancellationToken.None);
        // A request whose client left still has its nonce recorded (the batch is out); it need not wait.
        return new ValueTask<bool>(done.Task.WaitAsync(cancel));
    }

    private void SendAll()
    {
        while (true)
        {
            List<(NonceUse Use, TaskCompletionSource<bool> Done)> batch;
            lock (_lock)
            {
                if (_pending.Count == 0)
                {
                    _sending = false;
                    return;
                }
                batch = _pending;
                _pending = [];
            }
            foreach (var part in batch.Chunk(MaxBatch))
                Send(part);
        }
    }

    private void Send((NonceUse Use, TaskCompletionSource<bool> Done)[] part)
    {
        Interlocked.Increment(ref _batches);
        try
        {
            var used = store.TryUseNonces([.. part.Select(p => p.Use)], clock.GetUtcNow());
            for (var i = 0; i < part.Length; i++)
                part[i].Done.TrySetResult(used[i]);
        }
        catch (Exception e)
        {
            // The store could not take the batch (away, shutting down): each request fails as its own insert would have.
            foreach (var p in part)
                p.Done.TrySetException(e);
        }
    }
}
