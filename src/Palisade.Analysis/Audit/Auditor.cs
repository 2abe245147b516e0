using Palisade.Analysis.Audit.Checks;
using Palisade.Domain.Quotas;

namespace Palisade.Analysis.Audit;

/// <summary>
/// The best-practice audit of a state: every check of <see cref="AuditChecks"/>, findings in a
/// stable order (severity, check, group, rule, instance, prefix list). Exposure is decided by the engine over
/// all groups of each NIC, so drops, priorities, UDP and IPv6 count as they do for packets. What
/// each check decides, and how exactly, is docs/audit.md.
/// </summary>
public static class Auditor
{
    /// <param name="limits">The limits the state's control plane enforces (the defaults when null): group-limit-near warns close to them.</param>
    /// <param name="progress">Told each phase (exposure per instance, rules per group, then the shared checks).</param>
    /// <param name="usage">What the agents' counters say (the control plane's, or <c>--usage</c>): unused-rule runs only with it.</param>
    /// <param name="flows">What the agents' flow sampling saw (the control plane's): over-broad-rule runs only with it.</param>
    /// <param name="stepDone">Told the name of each step as it ends (each check's ID, and <c>matrix</c> when the audit builds one), for a benchmark that times them.</param>
    public static IReadOnlyList<Finding> Run(NetworkState state, Limits? limits = null, IProgress<WorkProgress>? progress = null, RuleUsageFacts? usage = null, FlowFacts? flows = null,
        Action<string>? stepDone = null) =>
        Run(new AuditRun(state, limits ?? new Limits(), share: true, progress) { StepDone = stepDone, Usage = usage, Flows = flows });

    /// <summary>The slow twin of <see cref="Run(NetworkState, Limits, IProgress{WorkProgress}, RuleUsageFacts, FlowFacts, Action{string})"/>: every NIC compiled and judged on its own, nothing shared between instances.</summary>
    public static IReadOnlyList<Finding> RunPerInstance(NetworkState state, Limits? limits = null) =>
        Run(new AuditRun(state, limits ?? new Limits(), share: false, null));

    /// <summary>
    /// The steps in the order they run, each named as <see cref="AuditRun.StepDone"/> is told: risky-port-open
    /// reads what risky-port-exposed found, shadowed-rule and redundant-rule are one judgement, and the
    /// group checks (progress phase <c>groups</c>, from unused-group on) come after the rule checks.
    /// </summary>
    private static readonly (string Step, Action<AuditRun> Run)[] Steps =
    [
        (RiskyPortExposed.Info.Id, RiskyPortExposed.Run), (RiskyPortOpen.Info.Id, RiskyPortOpen.Run), (InternalCidrInsteadOfGroup.Info.Id, InternalCidrInsteadOfGroup.Run),
        (InternalAllPorts.Info.Id, InternalAllPorts.Run), (InternalWideCidr.Info.Id, InternalWideCidr.Run), (DanglingReference.Info.Id, DanglingReference.Run),
        (SamePriorityConflict.Info.Id, SamePriorityConflict.Run), ($"{ShadowedRule.Info.Id}+{RedundantRule.Info.Id}", UselessRules.Run), (UnusedRule.Info.Id, UnusedRule.Run),
        (OverBroadRule.Info.Id, OverBroadRule.Run), (InnerAccessSpansTiers.Info.Id, InnerAccessSpansTiers.Run), (UnusedGroup.Info.Id, UnusedGroup.Run),
        (UnusedPrefixList.Info.Id, UnusedPrefixList.Run), (UndocumentedGroup.Info.Id, UndocumentedGroup.Run), (GroupLimitNear.Info.Id, GroupLimitNear.Run),
        (InstanceWithoutGroup.Info.Id, InstanceWithoutGroup.Run), (OversizedGroup.Info.Id, OversizedGroup.Run),
    ];

    private static IReadOnlyList<Finding> Run(AuditRun run)
    {
        foreach (var (step, check) in Steps)
        {
            check(run);
            run.StepDone?.Invoke(step);
        }
        return [.. run.Findings
            .OrderByDescending(f => f.Severity)
            .ThenBy(f => f.Check, StringComparer.Ordinal)
            .ThenBy(f => f.SecurityGroupId?.Value, StringComparer.Ordinal)
            .ThenBy(f => f.SecurityGroupRuleId?.Value, StringComparer.Ordinal)
            .ThenBy(f => f.InstanceId?.Value, StringComparer.Ordinal)
            .ThenBy(f => f.PrefixListId?.Value, StringComparer.Ordinal)];
    }
}
