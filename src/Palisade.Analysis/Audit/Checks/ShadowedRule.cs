namespace Palisade.Analysis.Audit.Checks;

/// <summary>
/// The rules that decide every packet the shadowed rule matches, the groups whose inner access
/// decides some of them (Accept decides before every rule), and whether one of them has the other verdict.
/// </summary>
public sealed record ShadowedRuleEvidence(IReadOnlyList<SecurityGroupRuleId> CoveredBy, bool VerdictDiffers, IReadOnlyList<SecurityGroupId> CoveredByInnerAccessOf) : Evidence;

/// <summary>A rule that never decides on any instance of its group (run by <see cref="UselessRules"/>).</summary>
internal static class ShadowedRule
{
    public static readonly CheckInfo Info = new("shadowed-rule", Severity.Low,
        "A rule never decides",
        "On every instance of its group, rules of higher priority (or equal priority and drop), or the inner access of a group the instances share, decide every packet it matches. Remove it, or raise its priority if it was meant to win.",
        [typeof(ShadowedRuleEvidence)]);
}
