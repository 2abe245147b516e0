using System.Collections.Immutable;
using Palisade.Domain.Groups;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;
using Palisade.Domain.State;

namespace Palisade.Engine.Policies;

/// <summary>
/// The rules one NIC enforces (ARCHITECTURE.md semantics 1 and 9): the pooled rules of all the
/// groups the state holds for it, per direction, in the order they are tried. A VPC instance has
/// one NIC, so every rule applies to it; a classic instance's intranet and internet NICs each take
/// the rules of their NIC type. The one place that gathers them: <see cref="NicPolicy.Compile"/>
/// indexes them, the analysis paints address classes from them.
/// </summary>
public sealed class NicRules
{
    private NicRules(NicType nicType, ImmutableArray<SecurityGroup> groups, RuleRef[] ingress, RuleRef[] egress)
    {
        NicType = nicType;
        Groups = groups;
        Ingress = ingress;
        Egress = egress;
    }

    /// <summary>The NIC the rules are for: a VPC instance's only NIC is <see cref="NicType.Intranet"/>.</summary>
    public NicType NicType { get; }

    /// <summary>The groups of the NIC, ordered by ID; groups the state does not hold are left out.</summary>
    public ImmutableArray<SecurityGroup> Groups { get; }

    public RuleRef[] Ingress { get; }

    public RuleRef[] Egress { get; }

    public RuleRef[] Of(Direction direction) => direction == Direction.Ingress ? Ingress : Egress;

    /// <summary>Outbound traffic no rule matches: accepted, unless the NIC is in an advanced group (semantics 3).</summary>
    public Verdict DefaultEgress => Groups.Any(g => g.IsEnterprise) ? Verdict.Drop : Verdict.Accept;

    public static NicRules Gather(NetworkState state, Instance instance, NicType nicType = NicType.Intranet)
    {
        if (instance.NetworkType == NetworkType.Vpc)
            nicType = NicType.Intranet;
        var groups = instance.SecurityGroupIds
            .Distinct()
            .Select(state.FindGroup)
            .OfType<SecurityGroup>()
            .OrderBy(g => g.Id)
            .ToImmutableArray();
        RuleRef[] Build(Direction direction) => [.. groups
            .SelectMany(g => g.Rules
                .Where(r => r.Direction == direction && (instance.NetworkType == NetworkType.Vpc || r.NicType == nicType))
                .Select(r => new RuleRef(g.Id, r)))
            .Order(RulePrecedence.Instance)];
        return new NicRules(nicType, groups, Build(Direction.Ingress), Build(Direction.Egress));
    }
}
