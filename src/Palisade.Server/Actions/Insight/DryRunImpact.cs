using Palisade.Analysis.WhatIf;
using Palisade.Domain.State;
using Palisade.Server.Hosting;
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

    private DryRunImpact(NetworkState? before, ImpactBefores.Before? kept) => (_before, _kept) = (before, kept);

    /// <summary>Reads the state before the change (kept while the account's revision stands) and asks the context to keep the state after it.</summary>
    public static DryRunImpact Prepare(ActionContext c)
    {
        var regionId = c.Parameters.Optional("RegionId") is { } asked ? Regions.Find(asked)?.RegionId : null;
        var kept = regionId is null || c.ImpactBefores is not { } befores ? null : c.Read(s => befores.Get(s, c.AccountId, regionId));
        var before = kept?.State ?? (regionId is null ? null : c.Read(s => StoredState.Load(s, c.AccountId, regionId)));
        var impact = new DryRunImpact(before, kept);
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
        var (gained, lost) = Compare(_before, _kept, after);
        return new EcsObject { { "Computed", true }, { "Gained", Flows(gained) }, { "Lost", Flows(lost) } };
    }

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
