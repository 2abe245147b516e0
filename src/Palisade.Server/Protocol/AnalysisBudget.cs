using System.Collections.Concurrent;
using Palisade.Domain.Errors;
using Palisade.Server.Hosting;

namespace Palisade.Server.Protocol;

/// <summary>
/// Requests cost the same in the request limit, but an analysis (<see cref="Actions.IAnalysisAction"/>:
/// reachability, what-if impact, audit, export, flow explanation, and the impact of a dry run) can
/// cost a thousand times a Describe. So each account also has a budget of analysis work, in seconds
/// of server CPU per second (<see cref="Throttling.AnalysisSecondsPerSecond"/>, up to
/// <see cref="Throttling.AnalysisBurstSeconds"/> at once).
/// <para>
/// An analysis is weighed before it runs: its estimate is the account's size in the region (pairs of
/// instances, which the analyses compare) times what a pair has cost this kind of analysis so far on
/// this server (learnt from the ones that ran). It is admitted only while the budget holds that
/// estimate (or is full, for one larger than the whole budget), the estimate is taken at once, and
/// when the analysis ends the difference to the CPU time it used is settled. Past it:
/// <c>Throttling.Analysis</c>, while cheap calls and other accounts go on. An answer served from the
/// read cache is not free (<see cref="TakeCached"/>): it is charged what serving it used (the request's
/// CPU), so a loop of the same question is bounded by the budget as a loop of new ones is.
/// </para>
/// </summary>
internal sealed class AnalysisBudget(ServerOptions options, TimeProvider clock)
{
    /// <summary>What one pair of instances is assumed to cost before any analysis of the kind has run (measured: ~45 µs for DescribeChangeImpact at 100 instances).</summary>
    internal const double InitialSecondsPerPair = 50e-6;

    /// <summary>Analyses of fewer pairs than this teach the cost model nothing (10 instances).</summary>
    internal const double MinimumUnitsToLearn = 100;

    private readonly TokenBuckets<long> _buckets = new(clock);
    private readonly ConcurrentDictionary<string, CostModel> _models = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<long, long> _spentTicks = new();

    private Throttling Limits => options.Throttling;

    public bool Enabled => Limits.AnalysisSecondsPerSecond > 0;

    /// <summary>The units an analysis of an account with this many instances compares: its pairs (at least one).</summary>
    public static double Units(int instances) => Math.Max(1.0, (double)instances * instances);

    /// <summary>The seconds an analysis of this kind is expected to take on this many instances.</summary>
    public double Estimate(string kind, int instances) => Model(kind).SecondsPerUnit * Units(instances);

    /// <summary>Takes the estimate from the account's budget, or refuses with <c>Throttling.Analysis</c>; the result settles the difference.</summary>
    public Charge Take(long accountId, string kind, int instances)
    {
        var limits = Limits;
        var estimate = Estimate(kind, instances);
        if (!Enabled)
            return new Charge(this, accountId, kind, Units(instances), 0);
        // An estimate above the whole budget is admitted when the budget is full (then the account waits
        // the refill of its debt); a smaller one when the budget holds it.
        var needed = Math.Max(double.Epsilon, Math.Min(estimate, limits.AnalysisBurstSeconds));
        if (!_buckets.TryTake(accountId, limits.AnalysisSecondsPerSecond, limits.AnalysisBurstSeconds, cost: estimate, minimum: needed))
            throw new EcsException(EcsErrors.AnalysisEstimateOverBudget(estimate, _buckets.Peek(accountId, limits.AnalysisSecondsPerSecond, limits.AnalysisBurstSeconds)));
        return new Charge(this, accountId, kind, Units(instances), estimate);
    }

    /// <summary>
    /// Admits a cached analysis answer estimated at <paramref name="estimate"/> (what serving one has cost
    /// its account per byte lately): taken from the budget, or refused with <c>Throttling.Analysis</c> when
    /// the budget does not hold it — as a new question is refused, before any work; an account in debt
    /// (a hit or an analysis that cost more than its estimate) waits for the refill. The result settles
    /// what serving it used.
    /// </summary>
    public Charge TakeCached(long accountId, TimeSpan estimate)
    {
        var limits = Limits;
        var seconds = estimate.TotalSeconds;
        if (Enabled && !_buckets.TryTake(accountId, limits.AnalysisSecondsPerSecond, limits.AnalysisBurstSeconds, cost: seconds, minimum: Math.Max(double.Epsilon, Math.Min(seconds, limits.AnalysisBurstSeconds))))
            throw new EcsException(EcsErrors.AnalysisEstimateOverBudget(seconds, _buckets.Peek(accountId, limits.AnalysisSecondsPerSecond, limits.AnalysisBurstSeconds)));
        // A hit compares no pairs: it teaches no kind's cost model.
        return new Charge(this, accountId, CachedKind, 0, Enabled ? seconds : 0);
    }

    /// <summary>The cost model's name for a cache hit's charge (never learnt: a hit has no pairs).</summary>
    internal const string CachedKind = "Cached";

    private CostModel Model(string kind) => _models.GetOrAdd(kind, _ => new CostModel());

    /// <summary>What the account's budget holds now, in CPU-seconds (below 0: its debt); the burst for an account never charged (for the benchmark and tests).</summary>
    public double Left(long accountId) => _buckets.Peek(accountId, Limits.AnalysisSecondsPerSecond, Limits.AnalysisBurstSeconds);

    /// <summary>The CPU time the account's settled analyses used on this server so far, whether or not the budget is on (for the benchmark and tests).</summary>
    public TimeSpan Spent(long accountId) => TimeSpan.FromTicks(_spentTicks.GetValueOrDefault(accountId));

    /// <summary>The estimate taken; <see cref="Settle"/> charges what the analysis really used instead.</summary>
    internal sealed class Charge(AnalysisBudget budget, long accountId, string kind, double units, double estimate)
    {
        private int _settled;

        public double Estimate => estimate;

        /// <summary>Charges <paramref name="used"/> in place of the estimate, and teaches the kind's cost model; false when settled already.</summary>
        public bool Settle(TimeSpan used)
        {
            if (Interlocked.Exchange(ref _settled, 1) != 0)
                return false;
            budget._spentTicks.AddOrUpdate(accountId, used.Ticks, (_, spent) => spent + used.Ticks);
            // A small state's cost is mostly fixed overhead, which would teach a per-pair cost far too high.
            if (units >= MinimumUnitsToLearn)
                budget.Model(kind).Learn(used.TotalSeconds / units);
            if (!budget.Enabled)
                return true;
            var limits = budget.Limits;
            budget._buckets.Charge(accountId, limits.AnalysisSecondsPerSecond, limits.AnalysisBurstSeconds, used.TotalSeconds - estimate);
            return true;
        }
    }

    /// <summary>Seconds per unit of one kind of analysis: a moving average of what the last ones cost.</summary>
    private sealed class CostModel
    {
        private double _secondsPerUnit = InitialSecondsPerPair;

        public double SecondsPerUnit => Volatile.Read(ref _secondsPerUnit);

        public void Learn(double secondsPerUnit)
        {
            if (!double.IsFinite(secondsPerUnit) || secondsPerUnit <= 0)
                return;
            // Each new measure weighs a quarter: a few runs correct a wrong start, one odd run does not swing it.
            double seen, next;
            do
            {
                seen = Volatile.Read(ref _secondsPerUnit);
                next = seen * 0.75 + secondsPerUnit * 0.25;
            }
            while (Interlocked.CompareExchange(ref _secondsPerUnit, next, seen) != seen);
        }
    }
}
