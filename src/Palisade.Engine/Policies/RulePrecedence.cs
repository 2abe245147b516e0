namespace Palisade.Engine.Policies;

/// <summary>
/// The order in which pooled rules are tried (ARCHITECTURE.md semantics 1): the lowest
/// <c>Priority</c> number first; at equal priority <c>Drop</c> before <c>Accept</c>. ECS leaves
/// the order of two rules equal in both undefined — their verdicts agree, so only which one is
/// named changes — and we fix it by group ID, then rule ID, so that every explanation is repeatable.
/// </summary>
public sealed class RulePrecedence : IComparer<RuleRef>
{
    public static RulePrecedence Instance { get; } = new();

    public int Compare(RuleRef? x, RuleRef? y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        var byPriority = x.Rule.Priority.Value.CompareTo(y.Rule.Priority.Value);
        if (byPriority != 0)
            return byPriority;
        // Drop (1) sorts before Accept (0).
        var byPolicy = ((int)y.Rule.Policy).CompareTo((int)x.Rule.Policy);
        if (byPolicy != 0)
            return byPolicy;
        var byGroup = x.GroupId.CompareTo(y.GroupId);
        return byGroup != 0 ? byGroup : x.Rule.Id.CompareTo(y.Rule.Id);
    }
}
