using Palisade.Server.Hosting;

namespace Palisade.Server.Protocol;

/// <summary>
/// The request rate of a whole account, over all its AccessKeys, beside the per-key limit: a tenant
/// that makes more keys does not get more of the server (<see cref="Throttling.AccountRequestsPerSecond"/>,
/// <see cref="Throttling.AccountBurst"/>); and the bytes of answers it is served
/// (<see cref="Throttling.AccountBytesPerSecond"/>, <see cref="Throttling.AccountBytesBurst"/>), charged
/// once each answer is known. Past either, <c>Throttling.User</c> as for a key.
/// </summary>
internal sealed class AccountThrottle(ServerOptions options, TimeProvider clock)
{
    private readonly TokenBuckets<long> _requests = new(clock);
    private readonly TokenBuckets<long> _bytes = new(clock);

    public bool TryAcquire(long accountId)
    {
        var limits = options.Throttling;
        // An account in debt for its answers' bytes takes no request token: it is refused until the debt is paid.
        if (limits.AccountBytesPerSecond > 0 && _bytes.Peek(accountId, limits.AccountBytesPerSecond, limits.AccountBytesBurst) < 1)
            return false;
        return limits.AccountRequestsPerSecond <= 0 || _requests.TryTake(accountId, limits.AccountRequestsPerSecond, limits.AccountBurst);
    }

    /// <summary>Charges an answer's bytes to its account (after it was admitted; never refuses).</summary>
    public void Served(long accountId, long bytes)
    {
        var limits = options.Throttling;
        if (limits.AccountBytesPerSecond > 0 && bytes > 0)
            _bytes.Charge(accountId, limits.AccountBytesPerSecond, limits.AccountBytesBurst, bytes);
    }
}
