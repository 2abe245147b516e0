using System.Collections.Concurrent;
using Palisade.Server.Hosting;

namespace Palisade.Server.Protocol;

/// <summary>
/// Per-AccessKey request rate limits: a token bucket per key that holds up to
/// <see cref="Throttling.Burst"/> requests and refills at <see cref="Throttling.RequestsPerSecond"/>.
/// A key past its rate gets <c>Throttling.User</c> (HTTP 400, as ECS answers), so one client's
/// flood cannot starve the others. Per node: N nodes behind a balancer admit up to N times the
/// rate, which bounds each node's own work, the point of the limit.
/// </summary>
public sealed class RequestThrottle(ServerOptions options, TimeProvider clock)
{
    private sealed class Bucket(double tokens, DateTimeOffset at)
    {
        public double Tokens = tokens;
        public DateTimeOffset At = at;
    }

    // Only keys that passed the signature check get a bucket, so this holds at most one per real key.
    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);

    public bool Enabled => options.Throttling.RequestsPerSecond > 0;

    /// <summary>Takes one request from the key's bucket; false when it is empty.</summary>
    public bool TryAcquire(string accessKeyId)
    {
        var limits = options.Throttling;
        if (limits.RequestsPerSecond <= 0)
            return true;
        var burst = Math.Max(1, limits.Burst);
        var now = clock.GetUtcNow();
        var bucket = _buckets.GetOrAdd(accessKeyId, _ => new Bucket(burst, now));
        lock (bucket)
        {
            // A clock that steps back adds nothing; one that jumps ahead fills the bucket at most.
            var elapsed = Math.Max(0, (now - bucket.At).TotalSeconds);
            bucket.Tokens = Math.Min(burst, bucket.Tokens + elapsed * limits.RequestsPerSecond);
            bucket.At = now > bucket.At ? now : bucket.At;
            if (bucket.Tokens < 1)
                return false;
            bucket.Tokens -= 1;
            return true;
        }
    }
}
