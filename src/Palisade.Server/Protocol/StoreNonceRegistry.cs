using Palisade.Storage;

namespace Palisade.Server.Protocol;

/// <summary>
/// Nonces in the shared store, so that a request replayed against another node of the same control
/// plane is caught too. The table's key decides: of two nodes inserting one nonce, one wins.
/// </summary>
public sealed class StoreNonceRegistry(IStore store, TimeProvider clock) : INonceRegistry
{
    private DateTimeOffset _nextSweep;

    public bool TryUse(string accessKeyId, string nonce, DateTimeOffset expiresAt)
    {
        var now = clock.GetUtcNow();
        var sweep = now >= _nextSweep;
        if (sweep)
            _nextSweep = now.AddMinutes(1);
        return store.Read(s =>
        {
            if (sweep)
                s.PurgeNonces(now);
            return s.TryUseNonce(accessKeyId, nonce, expiresAt);
        });
    }
}
