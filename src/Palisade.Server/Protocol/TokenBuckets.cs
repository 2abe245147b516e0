using System.Collections.Concurrent;

namespace Palisade.Server.Protocol;

/// <summary>
/// Token buckets by key: each holds up to a burst and refills at a rate, on the server's clock. The
/// one arithmetic behind the per-key and per-account request limits, the refusal trail's limit and
/// the analysis budget. Keys are only ever verified callers (a key or an account), so the map holds
/// at most one bucket per real caller.
/// </summary>
internal sealed class TokenBuckets<TKey>(TimeProvider clock) where TKey : notnull
{
    private sealed class Bucket(double tokens, DateTimeOffset at)
    {
        public double Tokens = tokens;
        public DateTimeOffset At = at;
    }

    private readonly ConcurrentDictionary<TKey, Bucket> _buckets = new();

    /// <summary>Takes <paramref name="cost"/> tokens from the key's bucket; false (and nothing taken) when it holds less than one.</summary>
    /// <remarks>
    /// A cost larger than what is left is still taken when at least one token is there, leaving a
    /// debt that later refills pay: an expensive request is admitted once, then its caller waits.
    /// </remarks>
    /// <param name="minimum">What the bucket must hold for the request to be admitted (one request, by default).</param>
    public bool TryTake(TKey key, double ratePerSecond, double burst, double cost = 1, double minimum = 1)
    {
        burst = Math.Max(minimum, burst);
        var now = clock.GetUtcNow();
        var bucket = _buckets.GetOrAdd(key, _ => new Bucket(burst, now));
        lock (bucket)
        {
            Refill(bucket, now, ratePerSecond, burst);
            if (bucket.Tokens < minimum)
                return false;
            bucket.Tokens -= cost;
            return true;
        }
    }

    /// <summary>
    /// Takes tokens that were spent already (work measured after it was done); never refuses. A
    /// negative cost gives back what an estimate took too much, up to the burst.
    /// </summary>
    public void Charge(TKey key, double ratePerSecond, double burst, double cost)
    {
        var now = clock.GetUtcNow();
        var bucket = _buckets.GetOrAdd(key, _ => new Bucket(burst, now));
        lock (bucket)
        {
            Refill(bucket, now, ratePerSecond, burst);
            bucket.Tokens = Math.Min(burst, bucket.Tokens - cost);
        }
    }

    /// <summary>What the key's bucket holds now (a full bucket for a key never seen).</summary>
    public double Peek(TKey key, double ratePerSecond, double burst)
    {
        if (!_buckets.TryGetValue(key, out var bucket))
            return burst;
        lock (bucket)
        {
            Refill(bucket, clock.GetUtcNow(), ratePerSecond, burst);
            return bucket.Tokens;
        }
    }

    private static void Refill(Bucket bucket, DateTimeOffset now, double rate, double burst)
    {
        bucket.Tokens = Refilled(bucket.Tokens, bucket.At, now, rate, burst);
        bucket.At = now > bucket.At ? now : bucket.At;
    }

    /// <summary>
    /// What a bucket that held <paramref name="tokens"/> at <paramref name="at"/> holds at <paramref name="now"/>
    /// (the one refill, also of <see cref="AccountThrottle"/>'s two-field buckets): a clock that steps back
    /// adds nothing; one that jumps ahead fills the bucket at most.
    /// </summary>
    public static double Refilled(double tokens, DateTimeOffset at, DateTimeOffset now, double rate, double burst) =>
        Math.Min(burst, tokens + Math.Max(0, (now - at).TotalSeconds) * rate);
}
