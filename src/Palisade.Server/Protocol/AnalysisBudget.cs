using System.Diagnostics;
using System.Runtime.CompilerServices;
using Palisade.Domain.Errors;
using Palisade.Server.Actions;
using Palisade.Server.Hosting;

namespace Palisade.Server.Protocol;

/// <summary>
/// Requests cost the same in the request limit, but an analysis (<see cref="IAnalysisAction"/>:
/// reachability, what-if impact, audit, export, flow explanation) can cost a thousand times a
/// Describe. So each account also has a budget of analysis work, in seconds of server time per
/// second (<see cref="Throttling.AnalysisSecondsPerSecond"/>, up to <see cref="Throttling.AnalysisBurstSeconds"/>
/// at once): an analysis starts only while the account's budget is not spent, and its time is
/// charged when it ends. Past it: <c>Throttling.Analysis</c>, while cheap calls and other accounts go on.
/// Answers served from the read cache cost nothing and are not counted.
/// </summary>
internal sealed class AnalysisBudget(ServerOptions options, TimeProvider clock)
{
    private readonly TokenBuckets<long> _buckets = new(clock);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, StrongBox<int>> _running = new();

    private Throttling Limits => options.Throttling;

    /// <summary>Admits the action's work (or refuses it); disposing the result charges its time. Null for actions that are not analyses.</summary>
    public IDisposable? Begin(long accountId, IEcsAction action)
    {
        var limits = options.Throttling;
        if (action is not IAnalysisAction || limits.AnalysisSecondsPerSecond <= 0)
            return null;
        // Time is charged when an analysis ends, so without a cap a burst of concurrent ones would all
        // start on one budget: an account runs at most AnalysisConcurrency at once.
        var running = _running.GetOrAdd(accountId, _ => new StrongBox<int>());
        if (Interlocked.Increment(ref running.Value) > Math.Max(1, limits.AnalysisConcurrency))
        {
            Interlocked.Decrement(ref running.Value);
            throw new EcsException(EcsErrors.AnalysisBudgetSpent());
        }
        if (!_buckets.TryTake(accountId, limits.AnalysisSecondsPerSecond, limits.AnalysisBurstSeconds, cost: 0, minimum: double.Epsilon))
        {
            Interlocked.Decrement(ref running.Value);
            throw new EcsException(EcsErrors.AnalysisBudgetSpent());
        }
        return new Charge(this, accountId, running, Stopwatch.GetTimestamp());
    }

    private sealed class Charge(AnalysisBudget budget, long accountId, StrongBox<int> running, long started) : IDisposable
    {
        public void Dispose()
        {
            Interlocked.Decrement(ref running.Value);
            var limits = budget.Limits;
            budget._buckets.Charge(accountId, limits.AnalysisSecondsPerSecond, limits.AnalysisBurstSeconds, Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }
}
