namespace Palisade.Server.Actions.Rules;

/// <summary>
/// RevokeSecurityGroup and RevokeSecurityGroupEgress, by rule ID (an unknown ID fails the call) or
/// by attributes (no match succeeds and changes nothing, ARCHITECTURE.md semantics 8).
/// </summary>
internal abstract class RevokeRules(Direction direction) : WriteAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var region = c.Region();
        var groupId = c.GroupIdParameter();
        var ruleIds = p.List("SecurityGroupRuleId", c.Limits.PermissionsPerCall);
        var permissions = RuleRequests.Permissions(p, c.Limits.PermissionsPerCall, allowNone: ruleIds.Count > 0);
        if (ruleIds.Count > 0 && permissions.Count > 0)
            throw new EcsException(EcsErrors.RevokeNeedsOneForm());
        var ingress = direction == Direction.Ingress;
        return c.WriteGroup(groupId, (s, group) =>
        {
            var rules = s.ListRules(group.Id).Where(r => r.Direction == direction).ToList();
            if (ruleIds.Count > 0)
            {
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var text in ruleIds)
                {
                    if (!seen.Add(text))
                        throw new EcsException(EcsErrors.RuleIdRepeated(text));
                    if (!SecurityGroupRuleId.TryParse(text, out var id) || rules.All(r => r.Id != id))
                        throw new EcsException(EcsErrors.RuleIdUnknown(ingress, text));
                    s.DeleteRule(group.Id, id);
                }
                return [];
            }
            var placeholder = SecurityGroupRuleId.Parse(SecurityGroupRuleId.Prefix + "request");
            foreach (var (_, fields) in permissions)
            {
                var wanted = RuleRequests.Parse(s, c, direction, fields, group, placeholder, c.Now).Identity;
                foreach (var match in rules.Where(r => r.Identity == wanted))
                    s.DeleteRule(group.Id, match.Id);
            }
            return [];
        });
    }
}

internal sealed class RevokeSecurityGroup() : RevokeRules(Direction.Ingress);

internal sealed class RevokeSecurityGroupEgress() : RevokeRules(Direction.Egress);
