using Palisade.Server.Hosting;

namespace Palisade.Server.Protocol;

/// <summary>
/// Per-AccessKey request rate limits: a token bucket per key that holds up to
/// <see cref="Throttling.Burst"/> requests and refills at <see cref="Throttling.RequestsPerSecond"/>.
/// A key past its rate gets <c>Throttling.User</c> (HTTP 400, as ECS answers), so one client's
/// flood cannot starve the others. Per node: N nodes behind a balancer admit up to N times the
/// rate, which bounds each node's own work, the point of the limit. More keys do not buy more:
/// <see cref="AccountThrottle"/> bounds all keys of an account together.
/// </summary>
internal sealed class RequestThrottle(ServerOptions options, TimeProvider clock)
{
    private readonly TokenBuckets<string> _buckets = new(clock);

    public bool Enabled => options.Throttling.RequestsPerSecond > 0;

    /// <summary>Takes one request from the key's bucket; false when it is empty.</summary>
    public bool TryAcquire(string accessKeyId)
    {
        var limits = options.Throttling;
        return limits.RequestsPerSecond <= 0 || _buckets.TryTake(accessKeyId, limits.RequestsPerSecond, limits.Burst);
    }
}
