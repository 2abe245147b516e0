using Palisade.Analysis.Audit.Checks;

namespace Palisade.Analysis.Audit;

/// <summary>
/// The checks of the audit, each in its own file under <c>Checks/</c> with its <see cref="CheckInfo"/>,
/// its evidence and its judgement. IDs are stable: scripts and SARIF consumers key on them.
/// </summary>
public static class AuditChecks
{
    public static readonly IReadOnlyList<CheckInfo> All =
    [
        RiskyPortExposed.Info, RiskyPortOpen.Info, InternalAllPorts.Info, InternalWideCidr.Info, InternalCidrInsteadOfGroup.Info, SamePriorityConflict.Info, ShadowedRule.Info, RedundantRule.Info, InnerAccessSpansTiers.Info, UnusedRule.Info, OverBroadRule.Info,
        UnusedGroup.Info, UnusedPrefixList.Info, UndocumentedGroup.Info, OversizedGroup.Info, GroupLimitNear.Info, DanglingReference.Info, InstanceWithoutGroup.Info,
    ];

    /// <summary>The check with this ID, or null (a newer server's check).</summary>
    public static CheckInfo? Find(string id) => All.FirstOrDefault(c => c.Id == id);
}
