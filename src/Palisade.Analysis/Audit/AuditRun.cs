using Palisade.Domain.Quotas;

namespace Palisade.Analysis.Audit;

/// <summary>What every check of one audit shares: the state, the limits, the compiled policies and the findings so far.</summary>
internal sealed class AuditRun(NetworkState state, Limits limits, bool share, IProgress<WorkProgress>? progress)
{
    private AddressIndex? _addresses;

    public NetworkState State { get; } = state;

    public Limits Limits { get; } = limits;

    /// <summary>Each policy compiled once for all the checks (once per policy class when shared).</summary>
    public SharedPolicies Policies { get; } = new(state, share);

    /// <summary>Private addresses by network, for the checks that ask which instances a block holds.</summary>
    public AddressIndex Addresses => _addresses ??= AddressIndex.Of(State);

    public IProgress<WorkProgress>? Progress { get; } = progress;

    /// <summary>Whether judgements are shared between NICs (the fast audit), or each made on its own (the slow twin).</summary>
    public bool Shared { get; } = share;

    public List<Finding> Findings { get; } = [];

    /// <summary>
    /// Per NIC key (<see cref="SharedPolicies.Key(Domain.Instances.Instance, Domain.Networking.NicType, IEnumerable{Domain.Networking.IpAddress})"/>)
    /// and family: for each sensitive port, the first protocol with an internet packet the policy accepts.
    /// Shared by risky-port-exposed and risky-port-open: an ENI with a public address and one without
    /// may have the same policy and local classes.
    /// </summary>
    public Dictionary<(string, bool), List<Checks.RiskyPortExposed.Exposure>> InternetExposures { get; } = [];

    /// <summary>Told the name of each step as it ends (<see cref="Auditor.Run(NetworkState, Limits, IProgress{WorkProgress}, RuleUsageFacts, FlowFacts, Action{string})"/>).</summary>
    public Action<string>? StepDone { get; init; }

    /// <summary>What the agents' counters say, for unused-rule (null: it does not run).</summary>
    public RuleUsageFacts? Usage { get; init; }

    /// <summary>What the agents' flow sampling saw, for over-broad-rule (null: it does not run).</summary>
    public FlowFacts? Flows { get; init; }

    /// <summary>The ENIs (by <see cref="Domain.Instances.Instance.InterfaceLabel"/>) and ports risky-port-exposed reported: risky-port-open reports the rest.</summary>
    public HashSet<(string Nic, int Port)> Exposed { get; } = [];

    /// <summary>A finding of <paramref name="check"/>, at the check's severity unless told otherwise.</summary>
    public void Add(CheckInfo check, SecurityGroupId? group, SecurityGroupRuleId? rule, InstanceId? instance, string message, Evidence evidence, Severity? severity = null) =>
        Findings.Add(new Finding(check.Id, severity ?? check.Severity, group, rule, instance, message, evidence));

    /// <summary>A finding of <paramref name="check"/> about a prefix list.</summary>
    public void Add(CheckInfo check, PrefixListId list, string message, Evidence evidence) =>
        Findings.Add(new Finding(check.Id, check.Severity, null, null, null, message, evidence) { PrefixListId = list });
}
