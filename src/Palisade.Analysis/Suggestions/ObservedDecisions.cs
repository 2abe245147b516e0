using Palisade.Analysis.Policies;

namespace Palisade.Analysis.Suggestions;

/// <summary>
/// The ingress decisions of observed flows, each distinct question decided once: NICs of one policy
/// class (same network, same groups: <see cref="PolicyClass"/>) enforce the same rules, and unless a
/// rule of theirs names a local address (<see cref="SecurityGroupRule.LocalCidr"/>) the destination
/// takes no part in the decision, so a million records to fifty members of one group are a few
/// thousand (source, protocol, port) questions. <see cref="RuleSuggester.Decide"/> is the slow twin,
/// one engine decision per record; the property test checks they agree.
/// </summary>
internal sealed class ObservedDecisions(FlowEvaluator evaluator)
{
    private readonly Dictionary<(InstanceId, NetworkInterfaceId?), (int Class, bool LocalMatters)> _classOf = [];
    private readonly Dictionary<string, int> _classes = new(StringComparer.Ordinal);
    private readonly Dictionary<(int Class, IpAddress Local, IpAddress Source, IpProtocol Protocol, int Port), Decision> _decisions = [];

    public Decision Decide(Instance nic, ObservedConnection flow)
    {
        // The ENI that owns the destination decides, as the engine picks it (FlowEvaluator.PolicyAt).
        var destination = RuleSuggester.DestinationOf(nic, flow);
        var eni = nic.InterfaceOf(destination);
        var which = (nic.Id, eni.IsSecondaryInterface ? eni.NetworkInterfaceId : null);
        if (!_classOf.TryGetValue(which, out var known))
        {
            var key = PolicyClass.Key(evaluator.State, eni);
            if (!_classes.TryGetValue(key, out var id))
                _classes.Add(key, id = _classes.Count);
            var localMatters = false;
            foreach (var rule in evaluator.PolicyOf(eni, NicType.Intranet).RulesInOrder(Direction.Ingress))
                localMatters |= rule.Rule.LocalCidr is not null;
            _classOf.Add(which, known = (id, localMatters));
        }
        // The local address stands in the key only where a rule looks at it.
        var question = (known.Class, known.LocalMatters ? destination : default, flow.Source, flow.Protocol, flow.Protocol.HasPorts() ? flow.Port : 0);
        if (!_decisions.TryGetValue(question, out var decision))
            _decisions.Add(question, decision = RuleSuggester.Decide(evaluator, nic, flow));
        return decision;
    }
}
