namespace Palisade.Analysis.Audit.Checks;

/// <summary>The rules that would decide in the redundant rule's place (none: the default would).</summary>
public sealed record RedundantRuleEvidence(IReadOnlyList<SecurityGroupRuleId> CoveredBy, bool ByDefault) : Evidence;

/// <summary>A rule whose removal changes no verdict on any instance of its group (run by <see cref="UselessRules"/>).</summary>
internal static class RedundantRule
{
    public static readonly CheckInfo Info = new("redundant-rule", Severity.Info,
        "Removing the rule would change nothing",
        "Where it decides, the next matching rule or the default gives the same verdict. Remove it to keep the rule set readable.",
        [typeof(RedundantRuleEvidence)]);
}
