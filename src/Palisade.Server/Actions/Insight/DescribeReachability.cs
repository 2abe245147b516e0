using Palisade.Analysis.Reachability;
using Palisade.Domain.State;
using Palisade.Storage.State;

namespace Palisade.Server.Actions.Insight;

/// <summary>
/// Palisade extension: who reaches whom between the caller's security groups in a region — the
/// group matrix of <c>palisade reach --matrix</c>, with the groups as nodes (the internet as one
/// more) and the allowed flows as edges, for the console's reachability picture. An edge from A to B
/// means some member of A reaches some other member of B on those protocols and ports, after both
/// ends' groups, priorities and drops; an edge from the internet, that some member of B is reachable
/// from some internet address. <c>IpProtocol</c> and <c>Port</c> narrow the edges; <c>SecurityGroupId</c>
/// keeps (and computes) only the edges into and out of one group — for a large account, where the
/// whole picture is both slow to compute and too dense to read.
/// </summary>
internal sealed class DescribeReachability : ReadAction, IAnalysisAction
{
    public const string Internet = "internet";

    /// <summary>The instance pairs an edge lists (all are counted): enough to explain it, few enough to read.</summary>
    public const int MaxPairs = 20;

    /// <summary>
    /// Which instances make an edge: each member of the source group that reaches another member of
    /// the target group (an instance in both groups counts as either end, never as both), or each
    /// member of the target the internet reaches. Asked only around one group, where the members
    /// are few enough to pair.
    /// </summary>
    private static List<(Instance? Source, Instance Target)> PairsOf(NetworkState state, ReachMatrix matrix, string source, string target, Func<AccessSet, AccessSet> narrowed)
    {
        var targets = state.MembersOf(SecurityGroupId.Parse(target));
        if (source == Internet)
            return [.. targets.Where(t => !narrowed(matrix.FromInternet(t).Access).IsEmpty).Select(t => ((Instance?)null, t))];
        var pairs = new List<(Instance?, Instance)>();
        foreach (var s in state.MembersOf(SecurityGroupId.Parse(source)))
        {
            foreach (var t in targets)
            {
                if (s.Id != t.Id && !narrowed(matrix.Between(s, t)).IsEmpty)
                    pairs.Add((s, t));
            }
        }
        return pairs;
    }

    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var region = c.Region();
        var protocol = p.Protocol("IpProtocol");
        int? port = p.Has("Port") ? p.Int("Port", 0, PortRange.MinPort, PortRange.MaxPort) : null;
        if (port is not null && protocol is { } q && !q.HasPorts())
            throw new EcsException(EcsErrors.ParameterInvalid("Port", $"a port goes with TCP or UDP, not {q.ToWire()}."));

        var around = p.Optional("SecurityGroupId");
        var state = c.Read(s => StoredState.Load(s, c.AccountId, region.RegionId));
        SecurityGroupId? focus = null;
        if (around is not null)
            focus = SecurityGroupId.TryParse(around, out var id) && state.FindGroup(id) is not null ? id : throw new EcsException(EcsErrors.SecurityGroupNotFound(around));
        var matrix = ReachMatrix.Build(state);
        AccessSet Narrowed(AccessSet access) => protocol is null && port is null ? access : access.Restrict(protocol, port);
        // Only the protocols of the matrix's family: ICMPv6 is no flow between IPv4 addresses, nor ICMP between IPv6 ones.
        var edges = matrix.ByGroup(focus)
            .Select(e => (e.Source, e.Target, Access: Narrowed(e.Access), Accesses: (IReadOnlyList<Access>)[.. Narrowed(e.Access).ToAccesses().Where(a => Reach.InFamily(a.Protocol, matrix.V6))]))
            .Where(e => e.Accesses.Count > 0)
            .ToList();
        var nodes = new List<EcsObject>
        {
            new() { { "Id", Internet }, { "Name", "the internet" }, { "Kind", "internet" }, { "VpcId", "" }, { "InstanceCount", 0 } },
        };
        nodes.AddRange(state.Groups.OrderBy(g => g.Id.Value, StringComparer.Ordinal).Select(g => new EcsObject
        {
            { "Id", g.Id.Value },
            { "Name", g.Name },
            { "Kind", "group" },
            { "VpcId", g.VpcId?.Value ?? "" },
            { "InstanceCount", state.MembersOf(g.Id).Length },
        }));
        return new EcsObject
        {
            { "RegionId", region.RegionId },
            { "Nodes", EcsList.Of("Node", nodes) },
            { "Edges", EcsList.Of("Edge", edges.Select(e =>
                {
                    var accesses = e.Accesses;
                    var edge = new EcsObject
                    {
                        { "Source", e.Source },
                        { "Target", e.Target },
                        { "Label", string.Join("; ", accesses.Select(a => a.Label)) },
                        { "Accesses", EcsList.Of("Access", accesses.Select(a => new EcsObject
                            {
                                { "IpProtocol", a.Protocol.ToWire() },
                                { "PortRanges", EcsList.Of("PortRange", a.Protocol.HasPorts() ? a.Ports.Select(r => r.ToString()) : ["-1/-1"]) },
                            })) },
                    };
                    if (focus is not null)
                    {
                        var pairs = PairsOf(state, matrix, e.Source, e.Target, Narrowed);
                        edge.Add("PairCount", pairs.Count);
                        edge.Add("Pairs", EcsList.Of("Pair", pairs.Take(MaxPairs).Select(x => new EcsObject
                        {
                            { "SourceInstanceId", x.Source?.Id.Value ?? "" },
                            { "TargetInstanceId", x.Target.Id.Value },
                        })));
                    }
                    return edge;
                })) },
        };
    }
}
