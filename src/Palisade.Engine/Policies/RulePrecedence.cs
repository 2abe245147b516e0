using Palisade.Domain.Rules;

namespace Palisade.Engine.Policies;

/// <summary>
/// The order in which pooled rules are tried: <see cref="EffectiveOrder"/>. ECS leaves
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
        var byOrder = EffectiveOrder.Compare(x.Rule.Priority, x.Rule.Policy, y.Rule.Priority, y.Rule.Policy);
        if (byOrder != 0)
            return byOrder;
        var byGroup = x.GroupId.CompareTo(y.GroupId);
        return byGroup != 0 ? byGroup : x.Rule.Id.CompareTo(y.Rule.Id);
    }
}
