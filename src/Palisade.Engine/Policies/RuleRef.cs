using Palisade.Domain.Identifiers;
using Palisade.Domain.Rules;

namespace Palisade.Engine.Policies;

/// <summary>A rule together with the group it belongs to: what a decision points back to.</summary>
public sealed record RuleRef(SecurityGroupId GroupId, SecurityGroupRule Rule)
{
    public override string ToString() =>
        $"{Rule.Id} ({GroupId}, priority {Rule.Priority}, {Rule.Policy.ToLower()})";
}
