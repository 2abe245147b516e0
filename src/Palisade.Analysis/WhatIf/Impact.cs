using Palisade.Analysis.Reachability;
using Palisade.Domain.Networking;
using Palisade.Domain.State;

namespace Palisade.Analysis.WhatIf;

/// <summary>One reachability difference: from a source (an instance ID, or "internet") to a target, these ports of a protocol.</summary>
public sealed record FlowDelta(string Source, string Target, IpProtocol Protocol, IReadOnlyList<PortRange> Ports);

public sealed record Impact(Change Change, IReadOnlyList<FlowDelta> Gained, IReadOnlyList<FlowDelta> Lost);

/// <summary>
/// What a change opens and closes: the reachability before and after of every flow from or to an
/// instance whose policy the change can alter (<see cref="Change.Affected"/>), compared port by port
/// (both are exact over ports and protocols, see <see cref="Reach"/>). The oracle test checks the
/// affected set by deciding every instance pair.
/// </summary>
public static class ImpactAnalysis
{
    /// <summary>The difference between two states, over every instance (for a change given only by its result).</summary>
    public static (IReadOnlyList<FlowDelta> Gained, IReadOnlyList<FlowDelta> Lost) Between(NetworkState before, NetworkState after)
    {
        var everyone = before.Instances.Select(i => i.Id).Concat(after.Instances.Select(i => i.Id)).ToHashSet();
        var was = Edges(before, everyone);
        var now = Edges(after, everyone);
        return (Difference(now, was), Difference(was, now));
    }

    /// <param name="v6">Between the instances' primary IPv6 addresses (and the IPv6 internet) instead of IPv4.</param>
    public static Impact Of(NetworkState before, Change change, bool v6 = false)
    {
        var after = change.ApplyTo(before);
        var affected = change.Affected(before);
        var was = Edges(before, affected, v6);
        var now = Edges(after, affected, v6);
        return new Impact(change, Difference(now, was), Difference(was, now));
    }

    /// <summary>
    /// The same answer as <see cref="Of"/>, from the matrix of the state before (built once, kept for
    /// many questions): only pairs with an affected instance at one end are decided again, each as one
    /// lookup per direction in the reused or recompiled tables (<see cref="ReachAfter"/>), and compared
    /// with the matrix by interned ID — an unchanged pair costs no set arithmetic. Checked equal to
    /// <see cref="Of"/> on random states.
    /// </summary>
    public static Impact Of(ReachMatrix before, Change change)
    {
        var state = before.State;
        var after = change.ApplyTo(state);
        var affected = change.Affected(state);
        var view = new ReachAfter(before, after, affected);
        var interner = before.Interner;
        var gained = new List<FlowDelta>();
        var lost = new List<FlowDelta>();
        // Many pairs change the same way: each difference is worked out once.
        var differences = new Dictionary<(int, int), (IReadOnlyList<Access> Gained, IReadOnlyList<Access> Lost)>();
        void Compare(string source, string target, int was, int now)
        {
            if (was == now)
                return;
            if (!differences.TryGetValue((was, now), out var difference))
            {
                difference = (interner[now].Except(interner[was]).ToAccesses(), interner[was].Except(interner[now]).ToAccesses());
                differences.Add((was, now), difference);
            }
            Add(gained, source, target, difference.Gained);
            Add(lost, source, target, difference.Lost);
        }
        var instances = state.Instances;
        var affectedAt = Enumerable.Range(0, instances.Length).Where(k => affected.Contains(instances[k].Id) && view.HasAddress(k)).ToArray();
        // Pairs of two affected instances, one by one.
        foreach (var a in affectedAt)
        {
            foreach (var s in affectedAt)
                Compare(instances[s].Id.Value, instances[a].Id.Value, before.CellAt(s, a), view.CellAt(s, a));
            Compare("internet", instances[a].Id.Value, before.FromInternetAt(instances[a]).Access, view.FromInternetAt(after.Instances[a]).Access);
        }
        // Affected instances of one class before that share their new tables and local classes meet every
        // unaffected instance alike: the unaffected side's policy is as before and puts them in one peer class.
        var alike = affectedAt.GroupBy(a => (before.ClassAt(a), view.TablesAt(a), view.LocalEgressAt(a), view.LocalIngressAt(a)));
        foreach (var group in alike)
        {
            var a = group.First();
            var vpc = instances[a].VpcId;
            var tables = view.TablesAt(a);
            var classOfA = before.ClassAt(a);
            // What each class before says of a's address, worked out once per class.
            var outbounds = new int[before.Classes.Count];
            var inbounds = new int[before.Classes.Count];
            Array.Fill(outbounds, -1);
            Array.Fill(inbounds, -1);
            // Unaffected sources, a part at a time: their egress is as before, a's ingress is new.
            foreach (var part in view.PartsFor(tables.Ingress))
            {
                if (before.Classes[part.Class].VpcId != vpc)
                    continue;
                // Only a's side of the pair is new: where it answers as a's class did before, so does the pair.
                var half = tables.Ingress.Half(part.PeerClass, view.LocalIngressAt(a));
                if (half == before.IngressFrom(classOfA, part.Class))
                    continue;
                ref var outbound = ref outbounds[part.Class];
                if (outbound < 0)
                    outbound = before.EgressTowards(part.Class, classOfA);
                var now = interner.Intersect(outbound, half);
                var was = before.CellOfClasses(part.Class, classOfA);
                if (was == now)
                    continue;
                foreach (var target in group)
                {
                    foreach (var s in part.Members)
                        Compare(instances[s].Id.Value, instances[target].Id.Value, was, now);
                }
            }
            // Unaffected targets, likewise: a's egress is new, their ingress is as before.
            foreach (var part in view.PartsFor(tables.Egress))
            {
                if (before.Classes[part.Class].VpcId != vpc)
                    continue;
                var half = tables.Egress.Half(part.PeerClass, view.LocalEgressAt(a));
                if (half == before.EgressTowards(classOfA, part.Class))
                    continue;
                ref var inbound = ref inbounds[part.Class];
                if (inbound < 0)
                    inbound = before.IngressFrom(part.Class, classOfA);
                var now = interner.Intersect(half, inbound);
                var was = before.CellOfClasses(classOfA, part.Class);
                if (was == now)
                    continue;
                foreach (var source in group)
                {
                    foreach (var t in part.Members)
                        Compare(instances[source].Id.Value, instances[t].Id.Value, was, now);
                }
            }
        }
        return new Impact(change, Ordered(gained), Ordered(lost));
    }

    private static void Add(List<FlowDelta> deltas, string source, string target, IReadOnlyList<Access> difference)
    {
        foreach (var access in difference)
            deltas.Add(new FlowDelta(source, target, access.Protocol, access.Ports));
    }

    private static List<FlowDelta> Ordered(List<FlowDelta> deltas) =>
        [.. deltas.OrderBy(d => d.Target, StringComparer.Ordinal).ThenBy(d => d.Source, StringComparer.Ordinal).ThenBy(d => d.Protocol)];

    /// <summary>The flows from or to the affected instances: only those can change.</summary>
    private static Dictionary<(string, string, IpProtocol), List<PortRange>> Edges(NetworkState state, IReadOnlySet<Domain.Identifiers.InstanceId> affected, bool v6 = false)
    {
        var edges = new Dictionary<(string, string, IpProtocol), List<PortRange>>();
        var evaluator = new Engine.Flows.FlowEvaluator(state);
        foreach (var target in state.Instances)
        {
            var reachers = affected.Contains(target.Id) ? Reach.To(state, target, v6, evaluator: evaluator) : Reach.To(state, target, v6, sources: affected, evaluator: evaluator);
            foreach (var reacher in reachers)
            {
                foreach (var access in reacher.Accesses)
                {
                    var key = (reacher.IsInternet ? "internet" : reacher.Instance!.Id.Value, target.Id.Value, access.Protocol);
                    edges[key] = access.Ports.Count == 0 ? [PortRange.Any] : [.. access.Ports];
                }
            }
        }
        return edges;
    }

    /// <summary>The ports in <paramref name="a"/> that are not in <paramref name="b"/>, per edge.</summary>
    private static List<FlowDelta> Difference(Dictionary<(string, string, IpProtocol), List<PortRange>> a, Dictionary<(string, string, IpProtocol), List<PortRange>> b)
    {
        var result = new List<FlowDelta>();
        foreach (var ((source, target, protocol), mine) in a.OrderBy(e => e.Key.Item2, StringComparer.Ordinal).ThenBy(e => e.Key.Item1, StringComparer.Ordinal).ThenBy(e => e.Key.Item3))
        {
            var theirs = b.TryGetValue((source, target, protocol), out var other) ? other : [];
            var left = Subtract(mine, theirs);
            if (left.Count > 0)
                result.Add(new FlowDelta(source, target, protocol, protocol.HasPorts() ? left : []));
        }
        return result;
    }

    private static List<PortRange> Subtract(List<PortRange> a, List<PortRange> b)
    {
        var result = new List<PortRange>();
        foreach (var span in a)
        {
            var pieces = new List<(int Low, int High)> { (span.Low, span.High) };
            foreach (var cut in b)
            {
                pieces = [.. pieces.SelectMany(p => p.High < cut.Low || p.Low > cut.High
                    ? [p]
                    : new[] { (p.Low, cut.Low - 1), (cut.High + 1, p.High) }.Where(x => x.Item1 <= x.Item2))];
            }
            result.AddRange(pieces.Select(p => span.IsAny && p == (span.Low, span.High) ? PortRange.Any : PortRange.Create(Math.Max(p.Low, 1), p.High)));
        }
        return result;
    }
}
