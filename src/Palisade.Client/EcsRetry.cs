using System.Security.Cryptography;
using System.Text.Json;
using Palisade.Domain.Ecs;

namespace Palisade.Client;

/// <summary>
/// Calls that are tried again when the service says "later" — a <c>Throttling*</c> code,
/// <c>ServiceUnavailable</c>, any HTTP 503 — or the connection fails, with exponential backoff and
/// jitter, a bounded number of times. Each try is signed anew (a new nonce and time), so a retry is
/// never refused as a replay. Only for reads: a write that timed out may have happened.
/// </summary>
public sealed class EcsRetry(EcsClient client, int attempts = 6, TimeSpan? firstDelay = null, TimeSpan? maxDelay = null, Func<TimeSpan, CancellationToken, Task>? delay = null)
{
    private readonly TimeSpan _first = firstDelay ?? TimeSpan.FromMilliseconds(500);
    private readonly TimeSpan _max = maxDelay ?? TimeSpan.FromSeconds(10);
    private readonly Func<TimeSpan, CancellationToken, Task> _delay = delay ?? Task.Delay;

    /// <summary>Tries after the first that were needed so far (for a summary line, and for tests).</summary>
    public int Retries { get; private set; }

    public EcsClient Client => client;

    /// <summary>Whether a failure is the service asking to come back later, rather than a refusal that will not change.</summary>
    public static bool IsTransient(Exception e) => e switch
    {
        EcsApiException api => Palisade.Domain.Errors.EcsErrorCodes.IsThrottling(api.Code)
            || api.Code is "ServiceUnavailable" or "InternalError" or "UnknownError"
            || api.Status is 502 or 503 or 504,
        HttpRequestException => true,
        // HttpClient's own timeout (not the caller's cancellation, which is checked first).
        TaskCanceledException { InnerException: TimeoutException } => true,
        _ => false,
    };

    public async Task<JsonElement> CallAsync(string action, IEnumerable<KeyValuePair<string, string>> parameters, string version = ApiVersions.Ecs, CancellationToken cancel = default)
    {
        var fixedParameters = parameters.ToList();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await client.CallAsync(action, fixedParameters, version, cancel);
            }
            catch (Exception e) when (!cancel.IsCancellationRequested && attempt < attempts && IsTransient(e))
            {
                Retries++;
                await _delay(DelayBefore(attempt + 1), cancel);
            }
        }
    }

    /// <summary>Every page of a list action, each page tried again as <see cref="CallAsync"/> does (see <see cref="EcsJson.AllPagesAsync"/>).</summary>
    public Task<JsonElement> CallAllAsync(string action, IEnumerable<KeyValuePair<string, string>> parameters, string list, string item,
        string version = ApiVersions.Ecs, int pageSize = 100, CancellationToken cancel = default) =>
        EcsJson.AllPagesAsync(p => CallAsync(action, p, version, cancel), parameters, list, item, numbered: version == ApiVersions.Vpc, pageSize);

    /// <summary>
    /// Full jitter over an exponentially growing window: retries of many clients spread out instead of arriving together.
    /// Drawn from the cryptographic generator as every random choice in the project is (one rule, checked by a test).
    /// </summary>
    private TimeSpan DelayBefore(int attempt)
    {
        var window = Math.Min(_max.TotalMilliseconds, _first.TotalMilliseconds * Math.Pow(2, attempt - 2));
        return TimeSpan.FromMilliseconds(window / 2 + RandomNumberGenerator.GetInt32(1_000_001) / 1_000_000.0 * window / 2);
    }
}
