using System.Collections.Concurrent;
using Palisade.Domain.Instances;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;
using Palisade.Domain.State;
using Palisade.Engine.Policies;

namespace Palisade.Engine.Flows;

/// <summary>
/// Decides flows between instances of one state: the source's egress and the destination's
/// ingress, each NIC compiled once and kept. A NIC is an ENI: the groups of the ENI that owns the
/// flow's address on each side decide (<see cref="Instance.InterfaceOf"/>).
/// </summary>
public sealed class FlowEvaluator(NetworkState state)
{
    private readonly ConcurrentDictionary<(InstanceId, NetworkInterfaceId?, NicType), NicPolicy> _policies = new();

    public NetworkState State => state;

    /// <summary>
    /// The policy of the NIC <paramref name="instance"/> stands for: the instance's primary ENI, or the
    /// secondary ENI of a view from <see cref="Instance.Interfaces"/>.
    /// </summary>
    public NicPolicy PolicyOf(Instance instance, NicType nicType) =>
        _policies.GetOrAdd((instance.Id, instance.IsSecondaryInterface ? instance.NetworkInterfaceId : null, instance.NetworkType == NetworkType.Vpc ? NicType.Intranet : nicType),
            key => NicPolicy.Compile(state, instance, key.Item3));

    /// <summary>The policy of the ENI of <paramref name="instance"/> that owns <paramref name="address"/> (the primary when none does).</summary>
    public NicPolicy PolicyAt(Instance instance, IpAddress address, NicType nicType) =>
        PolicyOf(instance.InterfaceOf(address), nicType);

    /// <summary>
    /// Decides <paramref name="flow"/> from <paramref name="source"/> to <paramref name="destination"/>
    /// (either may be null for an address outside the state) on NICs of <paramref name="nicType"/>.
    /// </summary>
    public PathDecision Evaluate(Flow flow, Instance? source, Instance? destination, NicType nicType = NicType.Intranet)
    {
        var egress = source is null ? (Decision?)null : PolicyAt(source, flow.Source, nicType).Decide(Direction.Egress, flow);
        var ingress = destination is null ? (Decision?)null : PolicyAt(destination, flow.Destination, nicType).Decide(Direction.Ingress, flow);
        return new PathDecision(flow, egress, ingress);
    }
}
