using System.Collections.Immutable;
using Palisade.Analysis.WhatIf;

namespace Palisade.Analysis.Suggestions;

/// <summary>New connections the agents saw a NIC accept from one source, by protocol and destination port (0 for protocols without ports).</summary>
public sealed record ObservedConnection(InstanceId InstanceId, IpAddress Source, IpProtocol Protocol, int Port, long Connections = 1)
{
    /// <summary>
    /// The ENI of the instance that saw the flow: its primary ENI, or a secondary one, whose groups
    /// then judge the flow. Null for the instance's primary NIC (a classic instance's, or a flow
    /// reported by an agent that did not name the ENI).
    /// </summary>
    public NetworkInterfaceId? NetworkInterfaceId { get; init; }
}

/// <summary>Why an observed flow is not among those a group's suggestion keeps.</summary>
public enum SetAside
{
    /// <summary>Its NIC is no member of the group (any more).</summary>
    NotAMember,

    /// <summary>The rules today drop it (they changed since it was seen): nothing to keep.</summary>
    NoLongerAdmitted,

    /// <summary>Another group's rule, or inner access, admits it: the group's own rules are not what keeps it.</summary>
    AdmittedElsewhere,
}

/// <summary>
/// The narrowest ingress accept rules that keep every observed flow a group's rules admit, the rules
/// they replace, and the what-if of the replacement: the observed flows it would lose (none, by
/// construction; checked by deciding each one again) and the reachability it closes or opens.
/// </summary>
public sealed record Suggestion(
    SecurityGroupId GroupId,
    ImmutableArray<SecurityGroupRule> Rules,
    ImmutableArray<SecurityGroupRule> Replaced,
    long FlowsKept,
    IReadOnlyDictionary<SetAside, long> FlowsSetAside,
    NetworkState After)
{
    /// <summary>The observed flows the replacement would drop (the engine decides each kept flow under <see cref="After"/>).</summary>
    public ImmutableArray<ObservedConnection> Lost { get; init; } = [];

    /// <summary>Reachability between instances (and from the internet) that the replacement closes.</summary>
    public IReadOnlyList<FlowDelta> Closes { get; init; } = [];

    /// <summary>Reachability it opens (a suggestion only narrows; anything here is a finding in itself).</summary>
    public IReadOnlyList<FlowDelta> Opens { get; init; } = [];
}

/// <summary>
/// Least privilege from observed flows (issue 20 item 5). Pure. For each observed flow to a member of
/// the group, the engine decides it under today's rules; those the group's own accept rules admit are
/// kept, as (protocol, deciding rule's priority, source, port) atoms. A flow is judged at the ENI that
/// saw it (<see cref="NicOf"/>): a flow to a secondary ENI by that ENI's groups, and it is a flow of
/// the group only when that ENI is a member. Per protocol and priority, the
/// sources that were seen on exactly the same ports form a class, so that a rule (sources × ports)
/// admits exactly observed pairs; within a class, sources become a group peer when some group's
/// members (their private addresses in the group's VPC, as the engine matches a group peer) are all
/// observed sources, then CIDR blocks that hold only observed addresses (aligned runs), and ports
/// become ranges over runs of observed ports. Each suggested rule keeps the priority of the rules that
/// admitted its flows, so it wins over exactly the drop rules they won over. The suggestion replaces
/// the group's ingress accept rules; its drop rules and egress rules stay. Destinations are not
/// narrowed (a rule admits its flows to every member).
/// </summary>
public static class RuleSuggester
{
    public static Suggestion Suggest(NetworkState state, SecurityGroupId groupId, IEnumerable<ObservedConnection> observed)
    {
        var group = state.FindGroup(groupId) ?? throw new ArgumentException($"no security group {groupId} in the state");
        var (kept, setAside) = Attribute(state, groupId, observed);
        var rules = RulesFor(state, groupId, kept.Select(k => Atom(k.Flow, k.Rule)));
        var replaced = group.Rules.Where(r => r.Direction == Direction.Ingress && r.Policy == Verdict.Accept).ToImmutableArray();
        // The existing what-if, on the replacement as one change: only the group's members can gain or lose.
        var change = new Change.ReplaceRules(groupId, [.. replaced.Select(r => r.Id)], [.. rules]);
        var after = change.ApplyTo(state);
        var afterDecisions = new ObservedDecisions(new FlowEvaluator(after));
        var lost = kept.Where(k => NicOf(after, k.Flow) is not { } nic || afterDecisions.Decide(nic, k.Flow).Verdict != Verdict.Accept).Select(k => k.Flow).ToImmutableArray();
        // The matrix's what-if: the same answer as ImpactAnalysis.Of(state, change), which decides every member's pairs anew.
        var impact = ImpactAnalysis.Of(Reachability.ReachMatrix.Build(state), change);
        return new Suggestion(groupId, [.. rules], replaced, kept.Count, setAside, after) { Lost = lost, Closes = impact.Lost, Opens = impact.Gained };
    }

    /// <summary>What a rule's suggestion is made of: protocol, the deciding rule's priority, source and port.</summary>
    public static (IpProtocol Protocol, int Priority, IpAddress Source, int Port) Atom(ObservedConnection flow, SecurityGroupRule decidedBy) =>
        (flow.Protocol, decidedBy.Priority.Value, flow.Source, flow.Protocol.HasPorts() ? flow.Port : 0);

    /// <summary>
    /// The observed flows to members of the group that the group's own rules admit today, each with
    /// the rule that admits it, and how many of the others were set aside, by reason.
    /// </summary>
    public static (List<(ObservedConnection Flow, SecurityGroupRule Rule)> Kept, Dictionary<SetAside, long> SetAside) Attribute(
        NetworkState state, SecurityGroupId groupId, IEnumerable<ObservedConnection> observed)
    {
        // The group's members are ENIs: an instance by its primary ENI, or one of its secondary ENIs.
        var members = state.MembersOf(groupId).Select(Key).ToHashSet();
        var decisions = new ObservedDecisions(new FlowEvaluator(state));
        var setAside = Enum.GetValues<SetAside>().ToDictionary(r => r, _ => 0L);
        var kept = new List<(ObservedConnection, SecurityGroupRule)>();
        foreach (var flow in observed)
        {
            if (NicOf(state, flow) is not { } nic || !members.Contains(Key(nic)))
            {
                setAside[SetAside.NotAMember]++;
                continue;
            }
            var decision = decisions.Decide(nic, flow);
            if (decision.Verdict != Verdict.Accept)
                setAside[SetAside.NoLongerAdmitted]++;
            else if (decision.Reason != DecisionReason.Rule || decision.DecidingRule!.GroupId != groupId)
                setAside[SetAside.AdmittedElsewhere]++;
            else
                kept.Add((flow, decision.DecidingRule.Rule));
        }
        return (kept, setAside);
    }

    /// <summary>The narrowest ingress accept rules of the group that admit exactly these (protocol, priority, source, port) atoms.</summary>
    public static List<SecurityGroupRule> RulesFor(NetworkState state, SecurityGroupId groupId, IEnumerable<(IpProtocol Protocol, int Priority, IpAddress Source, int Port)> atoms)
    {
        var vpcs = state.MembersOf(groupId).Select(i => i.VpcId).ToHashSet();
        var candidates = state.Groups
            .Select(g => (g.Id, Addresses: state.MembersOf(g.Id).Where(m => vpcs.Contains(m.VpcId) && m.NetworkType == NetworkType.Vpc).SelectMany(m => m.MemberAddresses).ToHashSet()))
            .Where(g => g.Addresses.Count > 0)
            .OrderByDescending(g => g.Addresses.Count).ThenBy(g => g.Id.Value, StringComparer.Ordinal)
            .ToList();
        var rules = new List<SecurityGroupRule>();
        var ids = new Random(20);
        foreach (var byRule in atoms.Distinct().GroupBy(a => (a.Protocol, a.Priority)).OrderBy(g => g.Key.Priority).ThenBy(g => g.Key.Protocol))
        {
            var (protocol, priority) = byRule.Key;
            // Sources seen on exactly the same ports: one class, one set of rules, sources × ports all observed.
            var classes = byRule.GroupBy(a => a.Source)
                .Select(s => (Source: s.Key, Ports: s.Select(a => a.Port).Order().ToArray()))
                .GroupBy(s => string.Join(",", s.Ports))
                .Select(c => (Ports: c.First().Ports, Sources: c.Select(s => s.Source).ToHashSet()))
                .OrderBy(c => c.Ports[0]).ThenBy(c => c.Ports.Length);
            foreach (var (ports, sources) in classes)
            {
                var peers = new List<RulePeer>();
                foreach (var (candidate, addresses) in candidates)
                {
                    if (addresses.IsSubsetOf(sources))
                    {
                        peers.Add(new RulePeer.Group(candidate));
                        sources.ExceptWith(addresses);
                    }
                }
                peers.AddRange(Blocks(sources).Select(b => new RulePeer.CidrBlock(b)));
                foreach (var range in Ranges(protocol, ports))
                {
                    foreach (var peer in peers)
                    {
                        rules.Add(new SecurityGroupRule(SecurityGroupRuleId.New("sg", ids), Direction.Ingress, protocol, range, Verdict.Accept,
                            Priority.Create(priority), NicType.Intranet, peer, Description: "suggested from observed flows"));
                    }
                }
            }
        }
        return rules;
    }

    /// <summary>
    /// The NIC that saw <paramref name="flow"/>, as an ENI view (<see cref="Instance.Interfaces"/>): the
    /// secondary ENI it names, else the instance itself (its primary ENI). Null when the instance is
    /// gone, or the ENI it names is no longer attached to it.
    /// </summary>
    public static Instance? NicOf(NetworkState state, ObservedConnection flow)
    {
        if (state.FindInstance(flow.InstanceId) is not { } instance)
            return null;
        if (flow.NetworkInterfaceId is not { } eni || eni == instance.NetworkInterfaceId)
            return instance;
        foreach (var view in instance.Interfaces)
        {
            if (view.IsSecondaryInterface && view.NetworkInterfaceId == eni)
                return view;
        }
        // A state file need not name the primary ENI: an ENI that is none of the instance's secondary
        // ones is then its primary. Where the primary is named, another ENI has left the instance.
        return instance.NetworkInterfaceId is null ? instance : null;
    }

    /// <summary>An ENI view's identity: its instance and, for a secondary ENI, that ENI.</summary>
    private static (InstanceId, NetworkInterfaceId?) Key(Instance nic) => (nic.Id, nic.IsSecondaryInterface ? nic.NetworkInterfaceId : null);

    /// <summary>The ingress decision for an observed flow at its NIC (an ENI view from <see cref="NicOf"/>; that ENI's primary private address as the destination).</summary>
    public static Decision Decide(FlowEvaluator evaluator, Instance nic, ObservedConnection flow)
    {
        var destination = DestinationOf(nic, flow);
        var f = new Flow(flow.Source, destination, flow.Protocol, flow.Protocol.HasPorts() ? flow.Port : 0);
        return evaluator.PolicyAt(nic, destination, NicType.Intranet).Decide(Direction.Ingress, f);
    }

    /// <summary>Where an observed flow arrived: the NIC's (the ENI view's) primary private address of the source's family.</summary>
    public static IpAddress DestinationOf(Instance nic, ObservedConnection flow)
    {
        var destination = nic.PrivateAddresses.FirstOrDefault(a => a.IsV6 == flow.Source.IsV6);
        return destination != default ? destination : flow.Source.IsV6 ? new IpAddress(true, 0) : IpAddress.V4(0);
    }

    /// <summary>The fewest aligned CIDR blocks that hold exactly <paramref name="sources"/>, per family, in address order.</summary>
    public static IEnumerable<Cidr> Blocks(IEnumerable<IpAddress> sources)
    {
        foreach (var family in sources.GroupBy(a => a.IsV6).OrderBy(g => g.Key))
        {
            var sorted = family.Distinct().Order().ToArray();
            var bits = family.Key ? 128 : 32;
            var i = 0;
            while (i < sorted.Length)
            {
                // The run of consecutive addresses from i.
                var run = 1;
                while (i + run < sorted.Length && sorted[i + run].Value == sorted[i].Value + (UInt128)run)
                    run++;
                var k = 0;
                while (k < bits && (sorted[i].Value & ((UInt128.One << (k + 1)) - 1)) == 0 && (UInt128.One << (k + 1)) <= (UInt128)run)
                    k++;
                yield return Cidr.Create(sorted[i], bits - k);
                i += (int)(UInt128.One << k);
            }
        }
    }

    /// <summary>Runs of consecutive observed ports as ranges; -1/-1 for protocols without ports.</summary>
    public static IEnumerable<PortRange> Ranges(IpProtocol protocol, IReadOnlyList<int> sortedPorts)
    {
        if (!protocol.HasPorts())
        {
            yield return PortRange.Any;
            yield break;
        }
        var i = 0;
        while (i < sortedPorts.Count)
        {
            var j = i;
            while (j + 1 < sortedPorts.Count && sortedPorts[j + 1] == sortedPorts[j] + 1)
                j++;
            yield return PortRange.Create(sortedPorts[i], sortedPorts[j]);
            i = j + 1;
        }
    }
}
