using Palisade.Domain.Ecs;
using Palisade.Server.Actions;
using Palisade.Server.Hosting;
using Palisade.Server.Responses;

namespace Palisade.Server.Protocol;

/// <summary>
/// The admission stage of the request path for analyses (and dry runs, whose impact is one), between
/// resolving the action and running it. In order, before any work is done: a place among the
/// server's analyses (<see cref="AnalysisScheduler"/>: one at a time per account, a bounded queue
/// across accounts), then the estimate of its cost taken from the account's budget
/// (<see cref="AnalysisBudget"/>). The analysis then runs on an analysis worker, and when it ends
/// its real CPU time replaces the estimate: all of it that the server spends for the question, on
/// whichever thread — the rehearsal on the request thread, the comparing on the worker (and in the
/// analysis process, with the decoding of its answer), the rendering of the answer and its keeping
/// in the read cache on the request thread again.
/// </summary>
internal sealed class AnalysisAdmission(AnalysisBudget budget, AnalysisScheduler scheduler, CpuMeter meter)
{
    /// <summary>The cost model's name for a dry run's impact (an action's own name for an analysis action).</summary>
    internal const string DryRunKind = "DryRun";

    public Ticket Admit(ActionContext context)
    {
        var kind = context.Action is IAnalysisAction ? context.Action.Name : DryRunKind;
        // The cheap refusals first: a refused analysis costs its account nothing.
        var place = scheduler.Admit(context.AccountId);
        try
        {
            return new Ticket(place, budget.Take(context.AccountId, kind, InstancesOf(context)), meter);
        }
        catch
        {
            place.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A cached analysis answer: charged <paramref name="cost"/> (what rendering it cost) to the account's
    /// budget, or refused with <c>Throttling.Analysis</c> when the budget does not hold it. It takes no
    /// place among the analyses (it compares nothing).
    /// </summary>
    public void AdmitCached(ActionContext context, TimeSpan cost)
    {
        if (cost > TimeSpan.Zero)
            budget.TakeCached(context.AccountId, cost);
    }

    /// <summary>
    /// The account's instances in the request's region: the analyses compare their pairs. A request
    /// without a known region is estimated as empty and charged what it used when it ends.
    /// </summary>
    private static int InstancesOf(ActionContext context)
    {
        if (context.Parameters.Optional("RegionId") is not { } asked || Regions.Find(asked)?.RegionId is not { } region)
            return 0;
        return context.Read(s => s.Instances.Count(context.AccountId, region));
    }

    /// <summary>An admitted analysis: runs its work on a worker; disposing it settles its cost and frees its place.</summary>
    internal sealed class Ticket(AnalysisScheduler.Place place, AnalysisBudget.Charge charge, CpuMeter meter) : IDisposable
    {
        private long _usedTicks;

        /// <summary>Runs a staged analysis: its stage here, at the request's priority (what holds the store's write lock), its work on a worker.</summary>
        public Task<EcsObject> RunStagedAsync(Func<Func<EcsObject>> stage, CancellationToken cancel) => RunAsync(Here(stage), cancel);

        /// <summary>
        /// Runs <paramref name="work"/> here, on the request's thread, and charges its CPU time to the
        /// analysis: the rehearsal, and the rendering and caching of the answer, are the server's work
        /// for this question as much as the comparing is.
        /// </summary>
        public T Here<T>(Func<T> work) => meter.Measure(work, Use);

        /// <summary><see cref="Here"/>, and what the work cost (a rendered answer's charge for its cache hits).</summary>
        public (T Result, TimeSpan Used) HereMeasured<T>(Func<T> work)
        {
            var used = TimeSpan.Zero;
            var result = meter.Measure(work, cpu =>
            {
                used = cpu;
                Use(cpu);
            });
            return (result, used);
        }

        /// <summary>Runs the work on a worker; its CPU time is charged whether it answers or fails.</summary>
        public Task<T> RunAsync<T>(Func<T> work, CancellationToken cancel) => place.RunAsync(work, Use, cancel);

        private void Use(TimeSpan cpu) => Interlocked.Add(ref _usedTicks, cpu.Ticks);

        public void Dispose()
        {
            charge.Settle(TimeSpan.FromTicks(Interlocked.Read(ref _usedTicks)));
            place.Dispose();
        }
    }
}
