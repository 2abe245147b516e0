using System.Collections.Concurrent;
using Palisade.Domain.Instances;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;
using Palisade.Domain.State;
using Palisade.Engine.Policies;

namespace Palisade.Engine.Flows;

/// <summary>
/// Decides flows between instances of one state: the source's egress and the destination's
/// ingress, each NIC compiled once and kept.
/// </summary>
public sealed class FlowEvaluator(NetworkState state)
{
    private readonly ConcurrentDictionary<(InstanceId, NicType), NicPolicy> _policies = new();

    public NetworkState State => state;

    public NicPolicy PolicyOf(Instance instance, NicType nicType) =>
        _policies.GetOrAdd((instance.Id, instance.NetworkType == NetworkType.Vpc ? NicType.Intranet : nicType),
            key => NicPolicy.Compile(state, instance, key.Item2));

    /// <summary>
    /// Decides <paramref name="flow"/> from <paramref name="source"/> to <paramref name="destination"/>
    /// (either may be null for an address outside the state) on NICs of <paramref name="nicType"/>.
    /// </summary>
    public PathDecision Evaluate(Flow flow, Instance? source, Instance? destination, NicType nicType = NicType.Intranet)
    {
        var egress = source is null ? (Decision?)null : PolicyOf(source, nicType).Decide(Direction.Egress, flow);
        var ingress = destination is null ? (Decision?)null : PolicyOf(destination, nicType).Decide(Direction.Ingress, flow);
        return new PathDecision(flow, egress, ingress);
    }
}
