using Palisade.Analysis.WhatIf;
using Palisade.Domain.State;
using Palisade.Server.Hosting;
using Palisade.Server.Protocol;
using Palisade.Storage.State;

namespace Palisade.Server.Actions.Insight;

/// <summary>
/// What a dry run of a change would do to reachability (the <c>Impact</c> a <c>DryRun=true</c>
/// answer carries, and the whole answer of <c>DescribeChangeImpact</c>): the region's state is read
/// before the change, the change leaves its state after it on the context inside the transaction it
/// rolls back, and the two are compared here, outside the write lock.
/// </summary>
internal sealed class DryRunImpact
{
    /// <summary>Small enough for a dry run to compare every instance pair.</summary>
    public const int MaxInstances = 500;

    private readonly NetworkState? _before;

    // The before as kept per account revision (ImpactBefores), with its matrix; null when not kept.
    private readonly ImpactBefores.Before? _kept;

    // Where the comparison runs when not here (issue 19), and the before's account revision it is keyed by.
    private readonly AnalysisProcess? _process;
    private readonly long _accountId;
    private readonly string? _regionId;

    private DryRunImpact(NetworkState? before, ImpactBefores.Before? kept, AnalysisProcess? process, long accountId, string? regionId) =>
        (_before, _kept, _process, _accountId, _regionId) = (before, kept, process, accountId, regionId);

    /// <summary>Reads the state before the change (kept while the account's revision stands) and asks the context to keep the state after it.</summary>
    public static DryRunImpact Prepare(ActionContext c)
    {
        var regionId = c.Parameters.Optional("RegionId") is { } asked ? Regions.Find(asked)?.RegionId : null;
        var kept = regionId is null || c.ImpactBefores is not { } befores ? null : c.Read(s => befores.Get(s, c.AccountId, regionId));
        var before = kept?.State ?? (regionId is null ? null : c.Read(s => StoredState.Load(s, c.AccountId, regionId)));
        // The child keys the before by its account revision: only a kept before has one.
        var impact = new DryRunImpact(before, kept, kept is null ? null : c.AnalysisProcess, c.AnalysisAccountKey ?? c.AccountId, regionId);
        if (before is not null && before.Instances.Length <= MaxInstances)
            c.KeepStateAfterDryRun = s => StoredState.Load(s, c.AccountId, regionId!);
        return impact;
    }

    /// <summary>The <c>Impact</c> object, once the change's dry run has passed.</summary>
    public EcsObject Complete(NetworkState? after)
    {
        if (_before is null)
            return NotComputed("the request names no RegionId");
        if (after is null)
            return NotComputed($"more than {MaxInstances} instances; use palisade whatif on an export");
        if (_process is not null && _kept is not null)
        {
            try
            {
                var (gainedThere, lostThere, cpu) = _process.Compare(_accountId, _regionId!, _kept.AccountRevision, _kept.State, after);
                // The child's CPU is this analysis's, charged to its account as the worker's own.
                ThreadCpu.ChargeElsewhere(cpu);
                return new EcsObject { { "Computed", true }, { "Gained", Flows(gainedThere) }, { "Lost", Flows(lostThere) } };
            }
            catch (ArgumentException)
            {
                // A state the state-file writer refuses (none the store should hold) is not sent: nothing
                // was written to the pipe, and it is compared here instead.
            }
            catch (AnalysisProcessLateException)
            {
                // The child is starved or busy (niceness 19 on a loaded host): compared here, as without it.
            }
        }
        var (gained, lost) = Compare(_before, _kept, after);
        return new EcsObject { { "Computed", true }, { "Gained", Flows(gained) }, { "Lost", Flows(lost) } };
    }

    /// <summary>Flows as the analysis process spells them, rendered as <see cref="Flows(IEnumerable{FlowDelta})"/> renders them.</summary>
    public static EcsList Flows(IEnumerable<AnalysisWorker.ImpactWire.Flow> flows) => EcsList.Of("Flow", flows.Select(f => new EcsObject
    {
        { "Source", f.Source },
        { "Target", f.Target },
        { "IpProtocol", f.Protocol },
        { "PortRanges", EcsList.Of("PortRange", f.Ports) },
    }));

    /// <summary>The flows gained and lost between two states, with the kept matrix of the state before when there is one.</summary>
    internal static (IReadOnlyList<FlowDelta> Gained, IReadOnlyList<FlowDelta> Lost) Compare(NetworkState before, ImpactBefores.Before? kept, NetworkState after)
    {
        if (kept is null)
            return ImpactAnalysis.Between(before, after);
        lock (kept.Gate)
            return ImpactAnalysis.Between(kept.Matrix, before, after);
    }

    /// <summary>Reachability differences as an impact lists them: <c>Flow[]{Source, Target, IpProtocol, PortRanges.PortRange[]}</c>.</summary>
    public static EcsList Flows(IEnumerable<FlowDelta> deltas) => EcsList.Of("Flow", deltas.Select(d => new EcsObject
    {
        { "Source", d.Source },
        { "Target", d.Target },
        { "IpProtocol", d.Protocol.ToWire() },
        { "PortRanges", EcsList.Of("PortRange", d.Ports.Select(p => p.ToString())) },
    }));

    private static EcsObject NotComputed(string reason) => new() { { "Computed", false }, { "Reason", reason } };
}
