using Palisade.Analysis.Reachability;

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
    /// <summary>
    /// The difference between two states (for a change given only by its result, as a dry run's).
    /// When the states differ only in prefix lists' entries (ModifyPrefixList;
    /// <see cref="StateDifference.PrefixListEntriesOnly"/>), the edit is a
    /// <see cref="Change.SetPrefixListEntries"/> on the matrix of the state before
    /// (<see cref="Of(ReachMatrix, Change)"/>: one matrix, and only the tables of the rules naming the
    /// lists patched where the entries changed); otherwise <see cref="BetweenTwoMatrices"/>. Checked
    /// equal to <see cref="BetweenEveryPair"/> on random states and changes, and the list edit to
    /// <see cref="BetweenTwoMatrices"/>.
    /// </summary>
    public static (IReadOnlyList<FlowDelta> Gained, IReadOnlyList<FlowDelta> Lost) Between(NetworkState before, NetworkState after) =>
        Between((Func<ReachMatrix>?)null, before, after);

    /// <summary>
    /// As <see cref="Between(NetworkState, NetworkState)"/>, with the matrix of the state before when
    /// the caller holds one (built from <paramref name="before"/>, IPv4): kept for many questions about
    /// one state (the server keeps it per account revision), it is read, never built, on either path.
    /// A matrix fills caches as it is read: one caller at a time.
    /// </summary>
    public static (IReadOnlyList<FlowDelta> Gained, IReadOnlyList<FlowDelta> Lost) Between(ReachMatrix? matrix, NetworkState before, NetworkState after) =>
        Between(matrix is null ? null : () => matrix, before, after);

    /// <summary>
    /// As <see cref="Between(ReachMatrix, NetworkState, NetworkState)"/>, with the matrix of the state
    /// before asked for only when the comparison needs it (two states that decide alike need none).
    /// </summary>
    public static (IReadOnlyList<FlowDelta> Gained, IReadOnlyList<FlowDelta> Lost) Between(Func<ReachMatrix>? matrixBefore, NetworkState before, NetworkState after)
    {
        ReachMatrix Before()
        {
            if (matrixBefore is null)
                return ReachMatrix.Build(before);
            var matrix = matrixBefore();
            if (!ReferenceEquals(matrix.State, before) || matrix.V6)
                throw new ArgumentException("the matrix is not the IPv4 matrix of the state before", nameof(matrixBefore));
            return matrix;
        }
        if (StateDifference.PrefixListEntriesOnly(before, after) is { } edited)
        {
            var impact = Of(Before(), new Change.SetPrefixListEntries([.. edited]));
            return (impact.Gained, impact.Lost);
        }
        return BetweenTwoMatrices(before, after, v6: false, Before);
    }

    /// <summary>
    /// The difference between two states by the reachability matrix of each (<see cref="ReachMatrix"/>,
    /// which decides per policy and address class, not per pair) read at the pairs with an instance the
    /// states may decide differently at one end (<see cref="StateDifference.Affected"/>), and the
    /// internet's reach of those instances: any two states, at the cost of two whole matrices. The slow
    /// twin of the prefix-list path of <see cref="Between(NetworkState, NetworkState)"/>.
    /// </summary>
    public static (IReadOnlyList<FlowDelta> Gained, IReadOnlyList<FlowDelta> Lost) BetweenTwoMatrices(NetworkState before, NetworkState after, bool v6 = false) =>
        BetweenTwoMatrices(before, after, v6, () => ReachMatrix.Build(before, v6));

    private static (IReadOnlyList<FlowDelta> Gained, IReadOnlyList<FlowDelta> Lost) BetweenTwoMatrices(NetworkState before, NetworkState after, bool v6, Func<ReachMatrix> matrixBefore)
    {
        var affected = StateDifference.Affected(before, after);
        if (affected.Count == 0)
            return ([], []);
        var (was, now) = (matrixBefore(), ReachMatrix.Build(after, v6));
        var everyone = before.Instances.Select(i => i.Id).Concat(after.Instances.Select(i => i.Id)).Distinct()
            .OrderBy(i => i.Value, StringComparer.Ordinal).ToList();
        var changed = everyone.Where(affected.Contains).ToList();
        var gained = new List<FlowDelta>();
        var lost = new List<FlowDelta>();
        // In the slow path's order: by target, then source ("internet" among the IDs), then protocol.
        foreach (var target in everyone)
        {
            var (targetWas, targetNow) = (before.FindInstance(target), after.FindInstance(target));
            var pairs = new List<(string Source, AccessSet Was, AccessSet Now)>();
            if (affected.Contains(target))
                pairs.Add(("internet", targetWas is null ? AccessSet.None : was.FromInternet(targetWas).Access, targetNow is null ? AccessSet.None : now.FromInternet(targetNow).Access));
            foreach (var source in affected.Contains(target) ? everyone : changed)
            {
                if (source == target)
                    continue;
                var (sourceWas, sourceNow) = (before.FindInstance(source), after.FindInstance(source));
                pairs.Add((source.Value,
                    sourceWas is null || targetWas is null ? AccessSet.None : was.Between(sourceWas, targetWas),
                    sourceNow is null || targetNow is null ? AccessSet.None : now.Between(sourceNow, targetNow)));
            }
            foreach (var (source, a, b) in pairs.OrderBy(p => p.Source, StringComparer.Ordinal))
            {
                if (a.Equals(b))
                    continue;
                Add(gained, source, target.Value, [.. b.Except(a).ToAccesses().OrderBy(x => x.Protocol)], v6);
                Add(lost, source, target.Value, [.. a.Except(b).ToAccesses().OrderBy(x => x.Protocol)], v6);
            }
        }
        return (gained, lost);
    }

    /// <summary>The slow, obviously complete twin of <see cref="Between"/>: every instance pair of both states compared.</summary>
    public static (IReadOnlyList<FlowDelta> Gained, IReadOnlyList<FlowDelta> Lost) BetweenEveryPair(NetworkState before, NetworkState after)
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
    /// many questions). Only pairs with an affected instance at one end can change, and such a pair
    /// only where the affected side's new table answers, at the other end's address, other than its old
    /// one did. Those address runs are found by one walk over both tables per affected instance and
    /// direction (<see cref="DirectionClasses.Differences"/>) — for a join, nearly always only the
    /// joining instance's address — and only the endpoints (instance, address slot) whose addresses lie
    /// in them are looked at: an unaffected one (whose side is as before) by its endpoint class, an
    /// unchanged address pair costing one comparison of two interned IDs. Where either instance has
    /// several addresses (secondary ENIs, secondary private IPs), the instance pair's cell is the union
    /// over its address pairs, as in the matrix: the changed address pairs' new cells, the matrix's for
    /// the rest. Only a pair of two affected instances is decided whole again (<see cref="ReachAfter"/>).
    /// Checked equal to <see cref="Of"/> on random states with ENIs, several addresses and prefix lists.
    /// </summary>
    public static Impact Of(ReachMatrix before, Change change)
    {
        var state = before.State;
        var after = change.ApplyTo(state);
        var affected = change.Affected(state);
        var moved = change switch
        {
            Change.Join j => (j.Instance, j.NetworkInterface),
            Change.Leave l => (l.Instance, l.NetworkInterface),
            _ => ((Domain.Identifiers.InstanceId, Domain.Identifiers.NetworkInterfaceId?)?)null,
        };
        var listEdit = change is Change.PrefixListEdit edit ? PrefixListEditRanges.Of(state, after, edit.Lists) : null;
        var view = new ReachAfter(before, after, affected, moved, change.GroupsAltered(state), listEdit);
        var interner = before.Interner;
        // Pairs by position (-1: the internet), with their difference, put in order and spelled out at the end.
        var changed = new List<(int Source, int Target, int Was, int Now)>();
        void Compare(int source, int target, int was, int now)
        {
            if (was != now)
                changed.Add((source, target, was, now));
        }
        var instances = state.Instances;
        var affectedAt = Enumerable.Range(0, instances.Length).Where(k => view.Affected[k] && view.HasAddress(k)).ToArray();
        // A list edit whose changed ranges hold no internet address, every table kept or patched from
        // the matrix's: each table answers the internet as before (no class outside the ranges changed).
        if (listEdit is null || view.CompiledAfresh || listEdit.TouchesInternet(before.V6))
        {
            foreach (var a in affectedAt)
                Compare(-1, a, before.FromInternetAt(instances[a]).Access, view.FromInternetAt(after.Instances[a]).Access);
        }

        // Affected instances whose every address slot was in the same endpoint class before and meets the
        // same new tables at the same local classes answer alike at every address: one group, walked once.
        var tableIds = new Dictionary<DirectionClasses, int>(ReferenceEqualityComparer.Instance);
        int TableId(DirectionClasses table) => tableIds.TryGetValue(table, out var id) ? id : tableIds[table] = tableIds.Count;
        string Alike(int a) => string.Join(';', Enumerable.Range(0, view.AddressesAt(a).Length).Select(slot =>
            $"{before.EndpointsAt(a)[slot]},{TableId(view.TablesAt(a, slot).Egress)},{TableId(view.TablesAt(a, slot).Ingress)},{view.LocalEgressAt(a, slot)},{view.LocalIngressAt(a, slot)}"));
        var alike = affectedAt.GroupBy(Alike).Select(g => g.ToArray()).ToArray();
        var (positions, slots, addresses) = before.ByAddress;
        // What an unaffected endpoint class's side says of an affected address: by class, stamped per run.
        var stamp = new int[before.EndpointClassCount];
        var cached = new int[before.EndpointClassCount];
        var run = 0;
        // Pairs decided whole afterwards: two affected instances.
        var whole = new HashSet<(int Source, int Target)>();
        // Pairs of an unaffected instance and a group where either has several addresses: the address
        // pairs whose cell changed (slot of the group's member, slot of the other, new cell), folded into
        // one instance cell afterwards — the union over address pairs, as the matrix folds them.
        // One flat list, sorted by pair afterwards: a wide change has tens of thousands of such pairs.
        var partial = new List<(int Other, int Group, bool OtherIsSource, int Mine, int Theirs, int Now)>();
        for (var g = 0; g < alike.Length; g++)
        {
            var group = alike[g];
            var a = group[0];
            var vpc = instances[a].VpcId;
            var single = view.AddressesAt(a).Length == 1;
            for (var slot = 0; slot < view.AddressesAt(a).Length; slot++)
            {
                // Each address meets the tables of the ENI that owns it.
                var tables = view.TablesAt(a, slot);
                var endpointOfA = before.EndpointsAt(a)[slot];
                var old = before.PolicyOfEndpoint(endpointOfA);
                foreach (var otherIsSource in new[] { true, false })
                {
                    // An address whose tables and local class are the matrix's answers as before: no run differs.
                    if (otherIsSource
                            ? ReferenceEquals(old.Ingress, tables.Ingress) && old.LocalIngress == view.LocalIngressAt(a, slot)
                            : ReferenceEquals(old.Egress, tables.Egress) && old.LocalEgress == view.LocalEgressAt(a, slot))
                        continue;
                    // The other end as a source meets a's new ingress; as a target, a's new egress.
                    var runs = otherIsSource
                        ? DirectionClasses.Differences(old.Ingress, old.LocalIngress, tables.Ingress, view.LocalIngressAt(a, slot), addresses)
                        : DirectionClasses.Differences(old.Egress, old.LocalEgress, tables.Egress, view.LocalEgressAt(a, slot), addresses);
                    foreach (var (from, to, half) in runs)
                    {
                        run++;
                        for (var k = from; k < to; k++)
                        {
                            var u = positions[k];
                            if (instances[u].VpcId != vpc || !view.HasAddress(u))
                                continue;
                            if (view.Affected[u])
                            {
                                foreach (var member in group)
                                {
                                    if (member != u)
                                        whole.Add(otherIsSource ? (u, member) : (member, u));
                                }
                                continue;
                            }
                            // Unaffected: its side is the matrix's, by the endpoint class of this address.
                            var c = before.EndpointsAt(u)[slots[k]];
                            if (stamp[c] != run)
                            {
                                stamp[c] = run;
                                cached[c] = otherIsSource
                                    ? interner.Intersect(before.EgressTowards(c, endpointOfA), half)
                                    : interner.Intersect(half, before.IngressFrom(c, endpointOfA));
                            }
                            var now = cached[c];
                            var was = otherIsSource ? before.CellOfEndpoints(c, endpointOfA) : before.CellOfEndpoints(endpointOfA, c);
                            if (was == now)
                                continue;
                            if (!single || before.EndpointsAt(u).Length > 1)
                            {
                                partial.Add((u, g, otherIsSource, slot, slots[k], now));
                                continue;
                            }
                            foreach (var member in group)
                            {
                                if (otherIsSource)
                                    Compare(u, member, was, now);
                                else
                                    Compare(member, u, was, now);
                            }
                        }
                    }
                }
            }
        }
        partial.Sort((x, y) => x.Group != y.Group ? x.Group.CompareTo(y.Group) : x.Other != y.Other ? x.Other.CompareTo(y.Other) : x.OtherIsSource.CompareTo(y.OtherIsSource));
        for (var p = 0; p < partial.Count;)
        {
            var (u, g, otherIsSource, _, _, _) = partial[p];
            var end = p + 1;
            while (end < partial.Count && partial[end].Other == u && partial[end].Group == g && partial[end].OtherIsSource == otherIsSource)
                end++;
            var group = alike[g];
            var (was, now) = Folded(before, group[0], u, otherIsSource, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(partial)[p..end]);
            p = end;
            foreach (var member in group)
            {
                if (otherIsSource)
                    Compare(u, member, was, now);
                else
                    Compare(member, u, was, now);
            }
        }
        foreach (var (s, t) in whole)
            Compare(s, t, before.CellAt(s, t), view.CellAt(s, t));
        return Spelled(before, change, changed);
    }

    /// <summary>
    /// The cell between affected instance <paramref name="a"/> and unaffected instance <paramref name="u"/>
    /// (u the source when <paramref name="uIsSource"/>) before and after: the union over their address
    /// pairs of each pair's endpoint cell, the new one where the walk found it changed (<paramref name="changed"/>:
    /// a's slot, u's slot, new cell), the matrix's elsewhere.
    /// </summary>
    private static (int Was, int Now) Folded(ReachMatrix before, int a, int u, bool uIsSource, ReadOnlySpan<(int Other, int Group, bool OtherIsSource, int Mine, int Theirs, int Now)> changed)
    {
        var interner = before.Interner;
        var (mine, theirs) = (before.EndpointsAt(a), before.EndpointsAt(u));
        var (was, now) = (AccessInterner.None, AccessInterner.None);
        for (var i = 0; i < mine.Length; i++)
        {
            for (var j = 0; j < theirs.Length; j++)
            {
                var cell = uIsSource ? before.CellOfEndpoints(theirs[j], mine[i]) : before.CellOfEndpoints(mine[i], theirs[j]);
                was = interner.Union(was, cell);
                foreach (var c in changed)
                {
                    if (c.Mine == i && c.Theirs == j)
                        cell = c.Now;
                }
                now = interner.Union(now, cell);
            }
        }
        return (was, now);
    }

    /// <summary>
    /// The impact from the changed pairs, in the order of the slow path: by target, then source (ordinal
    /// IDs, "internet" among them), then protocol — sorted by the matrix's ordinal ranks instead of by
    /// comparing strings, since a what-if can change tens of thousands of pairs — and each distinct
    /// difference of two answers worked out once.
    /// </summary>
    private static Impact Spelled(ReachMatrix before, Change change, List<(int Source, int Target, int Was, int Now)> changed)
    {
        var (rank, internetRank) = before.OrdinalRanks;
        var instances = before.State.Instances;
        changed.Sort((x, y) =>
        {
            var byTarget = rank[x.Target].CompareTo(rank[y.Target]);
            return byTarget != 0 ? byTarget : (x.Source < 0 ? internetRank : rank[x.Source]).CompareTo(y.Source < 0 ? internetRank : rank[y.Source]);
        });
        var interner = before.Interner;
        var differences = new Dictionary<(int, int), (IReadOnlyList<Access> Gained, IReadOnlyList<Access> Lost)>();
        var gained = new List<FlowDelta>();
        var lost = new List<FlowDelta>();
        foreach (var (source, target, was, now) in changed)
        {
            if (!differences.TryGetValue((was, now), out var difference))
            {
                // Protocols in enum order, as the slow path lists them.
                difference = ([.. interner[now].Except(interner[was]).ToAccesses().OrderBy(a => a.Protocol)], [.. interner[was].Except(interner[now]).ToAccesses().OrderBy(a => a.Protocol)]);
                differences.Add((was, now), difference);
            }
            var (sourceId, targetId) = (source < 0 ? "internet" : instances[source].Id.Value, instances[target].Id.Value);
            Add(gained, sourceId, targetId, difference.Gained, before.V6);
            Add(lost, sourceId, targetId, difference.Lost, before.V6);
        }
        return new Impact(change, gained, lost);
    }

    private static void Add(List<FlowDelta> deltas, string source, string target, IReadOnlyList<Access> difference, bool v6)
    {
        // ICMPv6 is no flow between IPv4 addresses, nor ICMP between IPv6 ones.
        foreach (var access in difference.Where(a => Reach.InFamily(a.Protocol, v6)))
            deltas.Add(new FlowDelta(source, target, access.Protocol, access.Ports));
    }

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
                foreach (var access in reacher.Accesses.Where(a => Reach.InFamily(a.Protocol, v6)))
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
