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
            return new Ticket(place, budget.Take(context.AccountId, kind, InstancesOf(context)), meter, RenderingOf(context.AccountId));
        }
        catch
        {
            place.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A cached analysis answer of <paramref name="bytes"/>: admitted while the account's budget holds
    /// what serving such a hit has cost the account lately per byte (<see cref="ServingOf"/>; before any
    /// was measured, what rendering its answers cost per byte, <see cref="RenderingOf"/>), or refused with
    /// <c>Throttling.Analysis</c>. It takes no place among the analyses (it compares nothing). Once
    /// answered, <see cref="Served.Settle"/> charges what serving it really used in place of the estimate
    /// (the request's CPU on the request threads, <see cref="RequestCpu"/>): a hit past the budget leaves
    /// the account in debt, and its next analysis or hit waits for the refill.
    /// </summary>
    public Served AdmitCached(ActionContext context, long bytes)
    {
        var serving = ServingOf(context.AccountId);
        var estimate = serving.Measured ? serving.Of(bytes) : RenderingOf(context.AccountId).Of(bytes);
        return new Served(budget.TakeCached(context.AccountId, estimate), serving, bytes);
    }

    /// <summary>A request's meter of what it uses on the request threads (<see cref="RequestCpu"/>), on this server's meter.</summary>
    public RequestCpu MeterRequest() => new(meter);

    /// <summary>
    /// What serving an account's cache hits of analysis answers has cost per byte lately, measured on the
    /// hits themselves: their estimate. Per account, as <see cref="RenderingOf"/>.
    /// </summary>
    internal RenderingCost ServingOf(long accountId) => _servings.GetOrAdd(accountId, _ => new RenderingCost());

    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, RenderingCost> _servings = new();

    /// <summary>An admitted cache hit: its estimate taken from the budget; <see cref="Settle"/> charges what serving it used.</summary>
    internal sealed class Served(AnalysisBudget.Charge charge, RenderingCost serving, long bytes)
    {
        /// <summary>What was taken from the budget before serving.</summary>
        public TimeSpan Estimate => TimeSpan.FromSeconds(charge.Estimate);

        /// <summary>Charges <paramref name="used"/> (once) in place of the estimate, and learns it per byte for the account's next hits.</summary>
        public void Settle(TimeSpan used)
        {
            if (charge.Settle(used))
                serving.Learn(bytes, used);
        }
    }

    /// <summary>
    /// What rendering an account's analyses' answers has cost per byte lately: its cache hits' estimate
    /// until a hit of the account has been measured.
    /// Per account, so that what another tenant's answers cost to render never sets what this one pays.
    /// </summary>
    internal RenderingCost RenderingOf(long accountId) => _renderings.GetOrAdd(accountId, _ => new RenderingCost());

    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, RenderingCost> _renderings = new();

    /// <summary>
    /// The cost per byte of rendering an analysis's answer, over the last <see cref="Window"/> measured
    /// renderings (their seconds over their bytes). A hit was charged the one measurement kept with its
    /// answer, and one measurement on two shared cores is noisy (a preemption, a collection, the first
    /// rendering's compiling): a loop of the same question then paid 2–3× what another paid (issue 19,
    /// fourteenth session). Over many renderings the noise averages out, and a hit costs what its size does.
    /// </summary>
    internal sealed class RenderingCost
    {
        /// <summary>Renderings averaged over.</summary>
        public const int Window = 32;

        private readonly (long Bytes, long Ticks)[] _last = new (long, long)[Window];
        private int _next;
        private int _count;
        private long _bytes;
        private long _ticks;
        private readonly Lock _gate = new();

        /// <summary>A rendering of <paramref name="bytes"/> measured at <paramref name="used"/>.</summary>
        public void Learn(long bytes, TimeSpan used)
        {
            if (bytes <= 0 || used < TimeSpan.Zero)
                return;
            lock (_gate)
            {
                if (_count == Window)
                {
                    _bytes -= _last[_next].Bytes;
                    _ticks -= _last[_next].Ticks;
                }
                else
                    _count++;
                _last[_next] = (bytes, used.Ticks);
                _bytes += bytes;
                _ticks += used.Ticks;
                _next = (_next + 1) % Window;
            }
        }

        /// <summary>Whether anything was measured yet.</summary>
        public bool Measured
        {
            get
            {
                lock (_gate)
                    return _count > 0;
            }
        }

        /// <summary>What rendering <paramref name="bytes"/> costs at the average so far (nothing before any was measured).</summary>
        public TimeSpan Of(long bytes)
        {
            lock (_gate)
                return _bytes == 0 || bytes <= 0 ? TimeSpan.Zero : TimeSpan.FromTicks((long)Math.Round((double)_ticks * bytes / _bytes));
        }
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
    internal sealed class Ticket(AnalysisScheduler.Place place, AnalysisBudget.Charge charge, CpuMeter meter, RenderingCost rendering) : IDisposable
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

        /// <summary><see cref="Here"/> for the rendering of the answer: what it cost per byte is learnt for the cache hits' charge.</summary>
        public Responses.RenderedAnswer Render(Func<Responses.RenderedAnswer> render)
        {
            var used = TimeSpan.Zero;
            var answer = meter.Measure(render, cpu =>
            {
                used = cpu;
                Use(cpu);
            });
            rendering.Learn(answer.Length, used);
            return answer;
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
