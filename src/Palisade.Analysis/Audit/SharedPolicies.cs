using Palisade.Analysis.Policies;

namespace Palisade.Analysis.Audit;

/// <summary>
/// The audit's compiled policies. Instances with the same groups in the same network enforce the same
/// policy, so with <c>share</c> one is compiled per policy class and answers that depend only on the
/// policy and on which local CIDRs hold the instance's addresses are worked out once per such key.
/// Without it (the slow twin), every NIC is compiled and judged on its own; the property test checks
/// that both give the same findings.
/// </summary>
internal sealed class SharedPolicies(NetworkState state, bool share)
{
    private readonly Dictionary<string, NicPolicy> _compiled = [];
    private readonly Dictionary<(Palisade.Domain.Identifiers.InstanceId, Palisade.Domain.Identifiers.NetworkInterfaceId?, NicType), string> _nicKeys = [];
    private readonly Dictionary<(Palisade.Domain.Identifiers.InstanceId, Palisade.Domain.Identifiers.NetworkInterfaceId?, NicType), string> _policyKeys = [];
    private readonly Dictionary<string, (int Index, Cidr Local)[]> _localRules = [];

    /// <summary><see cref="Key(Instance, NicType, IEnumerable{IpAddress})"/> for all the NIC's own addresses, remembered.</summary>
    public string NicKey(Instance instance, NicType nic)
    {
        var eni = instance.IsSecondaryInterface ? instance.NetworkInterfaceId : null;
        if (!_nicKeys.TryGetValue((instance.Id, eni, nic), out var key))
            _nicKeys.Add((instance.Id, eni, nic), key = Key(instance, nic, instance.AddressesOn(nic)));
        return key;
    }

    public NicPolicy Of(Instance instance, NicType nic) => Of(Key(instance, nic), instance, nic);

    private NicPolicy Of(string key, Instance instance, NicType nic)
    {
        if (!_compiled.TryGetValue(key, out var policy))
            _compiled.Add(key, policy = NicPolicy.Compile(state, instance, nic));
        return policy;
    }

    /// <summary>The identity of the NIC's policy: its policy class when shared, the ENI itself (the instance, or a secondary ENI of it) otherwise.</summary>
    public string Key(Instance instance, NicType nic)
    {
        if (instance.NetworkType == NetworkType.Vpc)
            nic = NicType.Intranet;
        // Remembered per ENI: every check asks it of every ENI, and the policy class spells the groups out.
        var eni = instance.IsSecondaryInterface ? instance.NetworkInterfaceId : null;
        if (!_policyKeys.TryGetValue((instance.Id, eni, nic), out var key))
            _policyKeys.Add((instance.Id, eni, nic), key = (share ? PolicyClass.Key(state, instance) : instance.InterfaceLabel) + "|" + nic);
        return key;
    }

    /// <summary>
    /// The identity of a NIC with these local addresses, in this order: the policy, and for each address
    /// its family and the rules (of both directions) whose local CIDR holds it — all a decision sees of it.
    /// </summary>
    public string Key(Instance instance, NicType nic, IEnumerable<IpAddress> addresses)
    {
        var policyKey = Key(instance, nic);
        // Only rules with a local CIDR can tell two addresses apart: found once per policy, by their index
        // among the policy's rules (ingress, then egress).
        if (!_localRules.TryGetValue(policyKey, out var locals))
        {
            var policy = Of(policyKey, instance, nic);
            var rules = policy.RulesInOrder(Direction.Ingress).ToArray().Concat(policy.RulesInOrder(Direction.Egress).ToArray()).ToArray();
            _localRules.Add(policyKey, locals = [.. Enumerable.Range(0, rules.Length).Where(i => rules[i].Rule.LocalCidr is not null).Select(i => (i, rules[i].Rule.LocalCidr!.Value))]);
        }
        var signature = addresses.Select(a =>
            $"{(a.IsV6 ? 6 : 4)}:{string.Join(',', locals.Where(l => l.Local.IsV6 == a.IsV6 && l.Local.Contains(a)).Select(l => l.Index))}");
        return policyKey + "|" + string.Join(';', signature);
    }
}
