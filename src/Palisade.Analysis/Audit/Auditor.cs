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
        Run(new AuditRun(state, limits ?? new Limits(), share: true, progress) { StepDone = stepDone }, usage, flows);

    /// <summary>The slow twin of <see cref="Run(NetworkState, Limits, IProgress{WorkProgress}, RuleUsageFacts, FlowFacts, Action{string})"/>: every NIC compiled and judged on its own, nothing shared between instances.</summary>
    public static IReadOnlyList<Finding> RunPerInstance(NetworkState state, Limits? limits = null) =>
        Run(new AuditRun(state, limits ?? new Limits(), share: false, null), null, null);

    private static IReadOnlyList<Finding> Run(AuditRun run, RuleUsageFacts? usage, FlowFacts? flows)
    {
        var exposed = RiskyPortExposed.Run(run);
        run.Done(RiskyPortExposed.Info);
        RiskyPortOpen.Run(run, exposed);
        run.Done(RiskyPortOpen.Info);
        InternalCidrInsteadOfGroup.Run(run);
        run.Done(InternalCidrInsteadOfGroup.Info);
        InternalAllPorts.Run(run);
        run.Done(InternalAllPorts.Info);
        InternalWideCidr.Run(run);
        run.Done(InternalWideCidr.Info);
        DanglingReference.Run(run);
        run.Done(DanglingReference.Info);
        SamePriorityConflict.Run(run);
        run.Done(SamePriorityConflict.Info);
        UselessRules.Run(run);
        run.StepDone?.Invoke($"{ShadowedRule.Info.Id}+{RedundantRule.Info.Id}");
        UnusedRule.Run(run, usage);
        run.Done(UnusedRule.Info);
        OverBroadRule.Run(run, flows);
        run.Done(OverBroadRule.Info);
        InnerAccessSpansTiers.Run(run);
        run.Done(InnerAccessSpansTiers.Info);
        run.Progress?.Report(new WorkProgress("groups", 0, 0));
        UnusedGroup.Run(run);
        run.Done(UnusedGroup.Info);
        UnusedPrefixList.Run(run);
        run.Done(UnusedPrefixList.Info);
        UndocumentedGroup.Run(run);
        run.Done(UndocumentedGroup.Info);
        GroupLimitNear.Run(run);
        run.Done(GroupLimitNear.Info);
        InstanceWithoutGroup.Run(run);
        run.Done(InstanceWithoutGroup.Info);
        OversizedGroup.Run(run);
        run.Done(OversizedGroup.Info);
        return [.. run.Findings
            .OrderByDescending(f => f.Severity)
            .ThenBy(f => f.Check, StringComparer.Ordinal)
            .ThenBy(f => f.SecurityGroupId?.Value, StringComparer.Ordinal)
            .ThenBy(f => f.SecurityGroupRuleId?.Value, StringComparer.Ordinal)
            .ThenBy(f => f.InstanceId?.Value, StringComparer.Ordinal)
            .ThenBy(f => f.PrefixListId?.Value, StringComparer.Ordinal)];
    }
}
