using Palisade.Analysis.Reachability;
using Palisade.Analysis.WhatIf;

namespace Palisade.Analysis.Audit.Checks;

/// <summary>
/// The flows a group's inner access opens between members of different tiers: how many (source,
/// target, protocol) pairs, the tiers' groups, and up to five of them as
/// <c>i-src -> i-dst: TCP all; UDP all; …</c> (the reachability notation).
/// </summary>
public sealed record InnerAccessSpansTiersEvidence(int Flows, IReadOnlyList<SecurityGroupId> Tiers, IReadOnlyList<string> Examples) : Evidence;

/// <summary>
/// A basic group with inner access Accept whose members also sit in other groups (their tiers) that
/// do not let each other in: every member then reaches every other on every port and protocol,
/// whatever the tiers' rules say — typically a "monitoring" or "default" group every server was put
/// in. Exact: the flows are those between members of different tiers that the engine allows with the
/// group's inner access Accept and not with it set to Drop (<see cref="Reach.To"/> on both states).
/// Members whose other groups are the same (one tier) or who have no other group (a cluster group) are
/// what inner access is for and are not counted.
/// <para>
/// The fast audit reads those flows from the reachability matrix built once for the audit (Accept)
/// and the state with the group's inner access set to Drop read off the same matrix
/// (<see cref="InnerAccessDropped"/>: no table compiled again, a member's table answers by its rules
/// alone where the group was its only reason to accept), per member pair — what Accept opens and Drop
/// does not. Asking <see cref="Reach.To"/> twice for every member pair was the whole audit's cost (52 s
/// of CPU of 10,000 instances, nearly all here); compiling the members' tables again per group
/// (<see cref="ReachAfter"/>) was then most of this check's (3.7 of 4.3 s on 10,000 instances × 2 ENIs). A member is an ENI: the target's side is the member ENI's own addresses
/// (the instance's, for its primary ENI), the source's the whole instance, as the slow twin asks. An
/// earlier fast path read the what-if's per-instance flows instead and disagreed on states with
/// secondary ENIs: where the target instance's other ENIs reach (or are reached by) the source, the
/// instance's union hides what the member ENI loses. The slow twin (<see cref="Auditor.RunPerInstance"/>)
/// asks every pair, and the property test holds both to the same findings.
/// </para>
/// </summary>
internal static class InnerAccessSpansTiers
{
    public static readonly CheckInfo Info = new("inner-access-spans-tiers", Severity.Medium,
        "A group's inner access opens every port between tiers",
        "Members of a basic group with inner access Accept reach each other on every port and protocol, whatever their other groups' rules say. When the members are in different tiers (web, app, db) that do not accept each other, this group silently joins the tiers. Set its inner access to Drop and open by rule only the ports its purpose needs (e.g. the metrics agent's port from the monitoring server).",
        [typeof(InnerAccessSpansTiersEvidence)]);

    /// <summary>Examples shown per finding.</summary>
    private const int MaxExamples = 5;

    /// <summary>Members judged per group: the check compares the reachability of every member pair twice.</summary>
    private const int MaxMembers = 200;

    public static void Run(AuditRun run)
    {
        var state = run.State;
        Engine.Flows.FlowEvaluator? evaluator = null;
        ReachMatrix? matrix = null;
        Dictionary<InstanceId, int>? positions = null;
        InnerAccessDropped.Memberships? memberships = null;
        foreach (var group in state.Groups.Where(g => g.EffectiveInnerAccessPolicy == InnerAccessPolicy.Accept))
        {
            var members = state.MembersOf(group.Id);
            if (members.Length < 2 || members.Length > MaxMembers)
                continue;
            // A member's tier: its other groups. Two members of one tier, or of none, are what inner access is for.
            static string Tier(Instance i, SecurityGroupId group) => string.Join(",", i.SecurityGroupIds.Where(g => g != group).Order());
            var tiers = members.Select(m => Tier(m, group.Id)).Where(t => t.Length > 0).Distinct().ToList();
            if (tiers.Count < 2)
                continue;
            run.Progress?.Report(new WorkProgress("inner access between tiers", 0, 0));
            // The state with Drop, read off the audit's one matrix (no table compiled again); the slow twin asks Reach.To of it.
            InnerAccessDropped? dropped = null;
            NetworkState? closed = null;
            if (run.Shared)
            {
                if (matrix is null)
                {
                    matrix = ReachMatrix.Build(state);
                    run.StepDone?.Invoke("matrix");
                }
                positions ??= state.Instances.Select((i, k) => (i.Id, k)).ToDictionary(p => p.Id, p => p.k);
                dropped = new InnerAccessDropped(matrix, group.Id, memberships ??= new InnerAccessDropped.Memberships(state));
            }
            else
            {
                closed = new NetworkState(state.RegionId, state.Groups.Select(g => g.Id == group.Id ? g with { InnerAccessPolicy = InnerAccessPolicy.Drop } : g),
                    state.Instances, state.PrefixLists, state.PortRangeLists);
            }
            Engine.Flows.FlowEvaluator? closedEvaluator = null;
            var flows = new List<string>();
            var count = 0;
            var involved = new SortedSet<SecurityGroupId>();
            foreach (var target in members)
            {
                var targetTier = Tier(target, group.Id);
                var sources = members.Where(s => s.Id != target.Id && Tier(s, group.Id) is { Length: > 0 } t && t != targetTier && targetTier.Length > 0)
                    .Select(s => s.Id).ToHashSet();
                if (sources.Count == 0)
                    continue;
                foreach (var (source, accesses) in dropped is not null
                    ? FromMatrix(matrix!, dropped, positions!, target, sources)
                    : PairByPair(state, closed!, target, sources, evaluator ??= new(state), closedEvaluator ??= new(closed!)))
                {
                    count += accesses.Count;
                    foreach (var g in target.SecurityGroupIds.Concat(state.FindInstance(source)!.SecurityGroupIds).Where(g => g != group.Id))
                        involved.Add(g);
                    if (flows.Count < MaxExamples)
                        flows.Add($"{source} -> {target.Id}: {string.Join("; ", accesses.Select(a => a.Label))}");
                }
            }
            if (count == 0)
                continue;
            run.Add(Info, group.Id, null, null,
                $"Inner access Accept of {group.Id} opens {count} flow{(count == 1 ? "" : "s")} between members of different tiers ({string.Join(", ", involved)}) that their own groups do not allow, e.g. {flows[0]}. Set its inner access to Drop and open by rule only the ports it is for.",
                new InnerAccessSpansTiersEvidence(count, [.. involved], flows));
        }
    }

    /// <summary>
    /// The flows the group's inner access opens from each of <paramref name="sources"/> to the target
    /// member, by source ID, from the matrix (Accept) and the state after Drop on it: the target's
    /// addresses are the member's own (a secondary ENI's, or the instance's for its primary ENI), as
    /// <see cref="PairByPair"/> asks <see cref="Reach.To"/> — not the whole instance's, whose other
    /// ENIs may reach or be reached where this one is not and would hide what this one loses.
    /// </summary>
    private static IEnumerable<(InstanceId Source, List<Access> Accesses)> FromMatrix(ReachMatrix open, InnerAccessDropped closed, Dictionary<InstanceId, int> positions, Instance target, HashSet<InstanceId> sources)
    {
        var t = positions[target.Id];
        var addresses = open.AddressesAt(t);
        // A primary ENI is the instance itself (every address); a secondary ENI's view holds its own.
        int[] slots = target.IsSecondaryInterface
            ? [.. Enumerable.Range(0, addresses.Length).Where(j => target.PrivateAddresses.Contains(addresses[j]))]
            : [.. Enumerable.Range(0, addresses.Length)];
        if (slots.Length == 0)
            yield break;
        var interner = open.Interner;
        foreach (var source in sources.Order())
        {
            var s = positions[source];
            var was = open.CellTowards(s, t, slots);
            if (was == AccessInterner.None)
                continue;
            var gained = interner[was].Except(interner[closed.CellAt(s, t, slots)]);
            if (gained.IsEmpty)
                continue;
            // Between IPv4 addresses: ICMPv6 is not among the flows.
            var accesses = gained.ToAccesses().Where(a => Reach.InFamily(a.Protocol, v6: false)).ToList();
            if (accesses.Count > 0)
                yield return (source, accesses);
        }
    }

    /// <summary>The same by asking <see cref="Reach.To"/> of both states for the target (its own addresses) and every source: the slow twin's way.</summary>
    private static IEnumerable<(InstanceId Source, List<Access> Accesses)> PairByPair(NetworkState state, NetworkState closed, Instance target, HashSet<InstanceId> sources,
        Engine.Flows.FlowEvaluator evaluator, Engine.Flows.FlowEvaluator closedEvaluator)
    {
        var open = Reach.To(state, target, sources: sources, evaluator: evaluator).Where(r => !r.IsInternet).ToDictionary(r => r.Instance!.Id);
        var without = Reach.To(closed, target, sources: sources, evaluator: closedEvaluator).Where(r => !r.IsInternet).ToDictionary(r => r.Instance!.Id);
        foreach (var (source, reacher) in open.OrderBy(p => p.Key))
        {
            var before = without.TryGetValue(source, out var w) ? AccessSet.FromAccesses(w.Accesses) : AccessSet.None;
            var gained = AccessSet.FromAccesses(reacher.Accesses).Except(before);
            if (gained.IsEmpty)
                continue;
            // Between IPv4 addresses: ICMPv6 is not among the flows.
            var accesses = gained.ToAccesses().Where(a => Reach.InFamily(a.Protocol, v6: false)).ToList();
            if (accesses.Count > 0)
                yield return (source, accesses);
        }
    }
}
