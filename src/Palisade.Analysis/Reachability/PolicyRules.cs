using System.Collections.Immutable;

namespace Palisade.Analysis.Reachability;

/// <summary>
/// The rules one NIC enforces, gathered by <see cref="NicRules.Gather"/> as <see cref="NicPolicy.Compile"/> gathers them,
/// without the engine's per-field indexes: painting (<see cref="DirectionClasses"/>) reads the rules
/// in order and needs nothing else, and building the indexes was most of the cost of a matrix. The
/// engine's policy is compiled only when asked for (<see cref="Compiled"/>, the twin that checks the
/// painting).
/// </summary>
internal sealed class PolicyRules
{
    private readonly RuleRef[] _ingress;
    private readonly RuleRef[] _egress;
    private readonly Lazy<NicPolicy> _compiled;

    private PolicyRules(NetworkState state, Instance instance, NicType nicType)
    {
        var rules = NicRules.Gather(state, instance, nicType);
        Instance = instance;
        NicType = rules.NicType;
        Groups = rules.Groups;
        _ingress = rules.Ingress;
        _egress = rules.Egress;
        DefaultEgress = rules.DefaultEgress;
        _compiled = new Lazy<NicPolicy>(() => NicPolicy.Compile(state, instance, NicType));
    }

    public static PolicyRules Of(NetworkState state, Instance instance, NicType nicType) => new(state, instance, nicType);

    public Instance Instance { get; }

    public NicType NicType { get; }

    public ImmutableArray<SecurityGroup> Groups { get; }

    public Verdict DefaultEgress { get; }

    public RuleRef[] RulesInOrder(Direction direction) => direction == Direction.Ingress ? _ingress : _egress;

    public NicPolicy Compiled => _compiled.Value;
}
