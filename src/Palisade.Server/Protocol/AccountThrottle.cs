using Palisade.Server.Hosting;

namespace Palisade.Server.Protocol;

/// <summary>
/// The request rate of a whole account, over all its AccessKeys, beside the per-key limit: a tenant
/// that makes more keys does not get more of the server (<see cref="Throttling.AccountRequestsPerSecond"/>,
/// <see cref="Throttling.AccountBurst"/>). Past it, <c>Throttling.User</c> as for a key.
/// </summary>
internal sealed class AccountThrottle(ServerOptions options, TimeProvider clock)
{
    private readonly TokenBuckets<long> _buckets = new(clock);

    public bool TryAcquire(long accountId)
    {
        var limits = options.Throttling;
        return limits.AccountRequestsPerSecond <= 0 || _buckets.TryTake(accountId, limits.AccountRequestsPerSecond, limits.AccountBurst);
    }
}
