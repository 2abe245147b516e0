using System.Collections.Concurrent;
using Palisade.Server.Hosting;

namespace Palisade.Server.Protocol;

/// <summary>
/// The last stage of a refusal for rate: a call refused with a throttling code is answered only after
/// <see cref="Throttling.ThrottledAnswerDelay"/>. Refusing is cheap, but a client that retries at
/// once refuses itself thousands of times a second, and each refusal still costs a signature check,
/// a log line and, on the client's side, as much again: measured on 2 cores, a tenant flooding past its
/// rate took more of the machine with its refusals than with its admitted calls, and that is what the
/// other tenants waited for (docs/benchmarks.md, noisy neighbour). Held, a refusal costs a timer: no
/// thread, no CPU until it is answered. The hold ends early if the client goes away.
/// <para>
/// Held refusals are bounded per caller (<see cref="Throttling.HeldRefusalsPerAccount"/>) and per node
/// (<see cref="Throttling.HeldRefusals"/>) so that holding cannot pile up connections; past either, the
/// refusal is answered at once and the connection closed, so a caller opening more connections to get
/// past the hold pays a new connection for each refusal.
/// </para>
/// </summary>
internal sealed class ThrottledAnswerHold(ServerOptions options, TimeProvider clock)
{
    private readonly ConcurrentDictionary<string, int> _heldByCaller = new(StringComparer.Ordinal);
    private int _held;

    /// <summary>Refusals being held now, all callers together (a gauge of /metrics).</summary>
    public int Held => Volatile.Read(ref _held);

    public enum Outcome
    {
        /// <summary>Held for the delay (or not to be held): answer as usual.</summary>
        Answer,

        /// <summary>Over a bound: answer at once and close the connection.</summary>
        AnswerAndClose,

        /// <summary>The client went away while held: nothing to answer.</summary>
        Gone,
    }

    public async Task<Outcome> HoldAsync(Caller? caller, CancellationToken aborted)
    {
        var delay = options.Throttling.ThrottledAnswerDelay;
        if (delay <= TimeSpan.Zero)
            return Outcome.Answer;
        // Every throttled call has a verified caller (the limits are counted after the signature); one
        // without is answered as before rather than guessed at.
        if (caller is null)
            return Outcome.Answer;
        var key = caller.IsHost ? "host:" + caller.AccessKeyId : "account:" + caller.AccountId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (!TryEnter(key))
            return Outcome.AnswerAndClose;
        try
        {
            await Task.Delay(delay, clock, aborted);
            return Outcome.Answer;
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            return Outcome.Gone;
        }
        finally
        {
            Leave(key);
        }
    }

    /// <remarks>
    /// The caller's count first, then the node's: a refusal counted in <see cref="Held"/> is counted for its
    /// caller already, so whoever sees <see cref="Held"/> reach n knows each of those n is in its caller's
    /// bound. The other order let a caller's next refusal, arriving between the two counts of the one
    /// before, be held in its place while that one was answered at once (a flaky test in CI twice).
    /// </remarks>
    private bool TryEnter(string key)
    {
        var limits = options.Throttling;
        var mine = _heldByCaller.AddOrUpdate(key, 1, (_, n) => n + 1);
        if (mine > limits.HeldRefusalsPerAccount)
        {
            LeaveCaller(key);
            return false;
        }
        if (Interlocked.Increment(ref _held) > limits.HeldRefusals)
        {
            Interlocked.Decrement(ref _held);
            LeaveCaller(key);
            return false;
        }
        return true;
    }

    private void Leave(string key)
    {
        Interlocked.Decrement(ref _held);
        LeaveCaller(key);
    }

    private void LeaveCaller(string key)
    {
        // Removed when it reaches zero, so the map holds only callers with refusals held now.
        while (true)
        {
            var n = _heldByCaller[key];
            if (n == 1 ? _heldByCaller.TryRemove(new KeyValuePair<string, int>(key, 1)) : _heldByCaller.TryUpdate(key, n - 1, n))
                return;
        }
    }
}
