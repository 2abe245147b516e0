using Palisade.Storage;

namespace Palisade.Server.Protocol;

/// <summary>
/// Nonces in the shared store, so that a request replayed against another node of the same control
/// plane is caught too. The table's key decides: of two nodes inserting one nonce, one wins.
/// </summary>
internal sealed class StoreNonceRegistry(IStore store, TimeProvider clock) : INonceRegistry
{
    public bool TryUse(string accessKeyId, string nonce, DateTimeOffset expiresAt) =>
        store.TryUseNonce(accessKeyId, nonce, expiresAt, clock.GetUtcNow());
}
