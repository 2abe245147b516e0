namespace Palisade.Server.Actions.Rules;

/// <summary>
/// AuthorizeSecurityGroup and AuthorizeSecurityGroupEgress: all permissions of the request are
/// checked, then added in one transaction, or none is. A rule the group already holds is a
/// successful no-op (ARCHITECTURE.md semantics 6).
/// </summary>
internal abstract class AuthorizeRules(Direction direction) : WriteAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var region = c.Region();
        var groupId = c.GroupIdParameter();
        var permissions = RuleRequests.Permissions(p, c.Limits.PermissionsPerCall);
        return c.WriteGroup(groupId, (s, group) =>
        {
            var rules = new List<(int Index, SecurityGroupRule Rule)>();
            foreach (var (index, fields) in permissions)
            {
                var id = SecurityGroupRuleId.Parse(c.NewId(SecurityGroupRuleId.Prefix, region));
                var rule = RuleRequests.Parse(s, c, direction, fields, group, id, c.Now);
                RuleRequests.CheckReferences(s, c, group, rule);
                if (rules.FirstOrDefault(r => r.Rule.Identity == rule.Identity) is { Rule: not null } twin)
                    throw new EcsException(EcsErrors.DuplicatePermissions(twin.Index, index));
                rules.Add((index, rule));
            }

            // Insert, then count: the table's unique key drops rules the group holds already, and a
            // limit found exceeded rolls the whole request back. No rule of the group is read.
            var inserted = rules.Count(r => s.InsertRule(group.Id, r.Rule));
            if (inserted > 0)
                CheckLimits(s, c, group);
            return [];
        });
    }

    /// <summary>The group, and every NIC in it, stay within their rule quotas, counted as ECS counts them (<see cref="IStoreSession.RuleQuotaUsed"/>).</summary>
    internal static void CheckLimits(IStoreSession s, ActionContext c, GroupRecord group)
    {
        var limits = c.Limits;
        if (s.RuleQuotaUsed(group.Id) > limits.RulesPerGroup)
            throw new EcsException(EcsErrors.RuleLimit(limits.RulesPerGroup));
        if (group.Type == SecurityGroupType.Normal && s.CountGroupReferenceRules(group.Id) > limits.GroupReferenceRulesPerGroup)
            throw new EcsException(EcsErrors.GroupRuleLimit(limits.GroupReferenceRulesPerGroup));
        // Every NIC in the group must stay under the rules-per-NIC limit over all its groups: the members' groups
        // in one statement (seventeenth session: a find a member, three statements each, was the largest item
        // of a rule change in a group of 1,000 hosts' NICs in the nodes' profile).
        var counts = new Dictionary<SecurityGroupId, int>();
        foreach (var (_, groups) in s.GroupsOfMembers(c.AccountId, group.Id))
        {
            var total = groups.Sum(g => counts.TryGetValue(g, out var n) ? n : counts[g] = s.RuleQuotaUsed(g));
            if (total > limits.RulesPerNic)
                throw new EcsException(EcsErrors.NicRuleLimit(total, limits.RulesPerNic));
        }
    }
}

internal sealed class AuthorizeSecurityGroup() : AuthorizeRules(Direction.Ingress);

internal sealed class AuthorizeSecurityGroupEgress() : AuthorizeRules(Direction.Egress);
