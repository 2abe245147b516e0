using System.Collections.Concurrent;
using Palisade.Server.Hosting;

namespace Palisade.Server.Protocol;

/// <summary>
/// The request rate of a whole account, over all its AccessKeys, beside the per-key limit: a tenant
/// that makes more keys does not get more of the server (<see cref="Throttling.AccountRequestsPerSecond"/>,
/// <see cref="Throttling.AccountBurst"/>); and the bytes of answers it is served
/// (<see cref="Throttling.AccountBytesPerSecond"/>, <see cref="Throttling.AccountBytesBurst"/>), charged
/// once each answer is known. Past either, <c>Throttling.User</c> as for a key. Both are one bucket per
/// account (two fields under one lock), so a request's admission looks at its account once.
/// </summary>
internal sealed class AccountThrottle(ServerOptions options, TimeProvider clock)
{
    /// <summary>An account's request tokens and byte tokens, refilled together (<see cref="TokenBuckets{TKey}.Refilled"/>).</summary>
    private sealed class Bucket(double requests, double bytes, DateTimeOffset at)
    {
        public double Requests = requests;
        public double Bytes = bytes;
        public DateTimeOffset At = at;

        public void Refill(DateTimeOffset now, Throttling limits)
        {
            Requests = TokenBuckets<long>.Refilled(Requests, At, now, limits.AccountRequestsPerSecond, RequestBurst(limits));
            Bytes = TokenBuckets<long>.Refilled(Bytes, At, now, limits.AccountBytesPerSecond, BytesBurst(limits));
            At = now > At ? now : At;
        }
    }

    private readonly ConcurrentDictionary<long, Bucket> _accounts = new();

    // As TokenBuckets: a bucket holds at least the one token a request needs.
    private static double RequestBurst(Throttling limits) => Math.Max(1, limits.AccountBurst);

    private static double BytesBurst(Throttling limits) => Math.Max(1, limits.AccountBytesBurst);

    private Bucket Of(long accountId, Throttling limits, DateTimeOffset now) =>
        _accounts.GetOrAdd(accountId, _ => new Bucket(RequestBurst(limits), BytesBurst(limits), now));

    public bool TryAcquire(long accountId)
    {
        var limits = options.Throttling;
        bool countsRequests = limits.AccountRequestsPerSecond > 0, countsBytes = limits.AccountBytesPerSecond > 0;
        if (!countsRequests && !countsBytes)
            return true;
        var now = clock.GetUtcNow();
        var bucket = Of(accountId, limits, now);
        lock (bucket)
        {
            bucket.Refill(now, limits);
            // An account in debt for its answers' bytes takes no request token: it is refused until the debt is paid.
            if (countsBytes && bucket.Bytes < 1)
                return false;
            if (!countsRequests)
                return true;
            if (bucket.Requests < 1)
                return false;
            bucket.Requests -= 1;
            return true;
        }
    }

    /// <summary>Charges an answer's bytes to its account (after it was admitted; never refuses).</summary>
    public void Served(long accountId, long bytes)
    {
        var limits = options.Throttling;
        if (limits.AccountBytesPerSecond <= 0 || bytes <= 0)
            return;
        var now = clock.GetUtcNow();
        var bucket = Of(accountId, limits, now);
        lock (bucket)
        {
            bucket.Refill(now, limits);
            bucket.Bytes = Math.Min(BytesBurst(limits), bucket.Bytes - bytes);
        }
    }
}
