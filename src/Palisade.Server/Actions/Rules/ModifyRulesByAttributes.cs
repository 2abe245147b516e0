namespace Palisade.Server.Actions.Rules;

/// <summary>
/// The older form of ModifySecurityGroupRule / ModifySecurityGroupEgressRule, without
/// <c>SecurityGroupRuleId</c> (ecs-api.md §3.9; what terraform-provider-alicloud's
/// <c>alicloud_security_group_rule</c> sends to change a description, and all that
/// <c>@alicloud/ecs20140526</c> 1.x can send): the fields of the request locate the rule and its
/// <c>Description</c> is what changes.
/// </summary>
/// <remarks>
/// The protocol, the port range (or port-range list) and the peer must be given and must match.
/// <c>Policy</c>, <c>Priority</c>, <c>NicType</c>, <c>SourcePortRange</c> and the quintuple's local
/// block match when given and match anything when left out, so a request may name several rules: it
/// is then refused rather than changing one at random. In a VPC group <c>NicType</c> selects nothing
/// (every rule is intranet; ECS documents internet and empty as intranet there).
/// </remarks>
internal static class ModifyRulesByAttributes
{
    public static EcsObject Execute(ActionContext c, ParameterReader p, Direction direction, SecurityGroupId groupId)
    {
        p.Required("IpProtocol");
        if (!p.Has("PortRangeListId"))
            p.Required("PortRange");
        var given = PermissionFields.From(p.All);
        // Description="" clears it (Terraform sends it so when the description is removed).
        var description = p.All.TryGetValue("Description", out var text) ? text : null;
        var placeholder = SecurityGroupRuleId.Parse(SecurityGroupRuleId.Prefix + "request");
        return c.WriteGroup(groupId, (s, group) =>
        {
            var wanted = RuleRequests.Parse(s, c, direction, given, group, placeholder, c.Now);
            var matches = s.ListRules(group.Id).Where(r => r.Direction == direction && Matches(r, wanted, given, group.IsClassic)).ToList();
            if (matches.Count == 0)
                throw new EcsException(EcsErrors.RuleNotFoundByAttributes());
            if (matches.Count > 1)
                throw new EcsException(EcsErrors.RuleMatchesSeveral([.. matches.Select(r => r.Id.Value).Order(StringComparer.Ordinal)]));
            var rule = matches[0];
            if (description is not null && description != rule.Description)
                s.UpdateRule(group.Id, rule with { Description = wanted.Description });
            return [];
        });
    }

    private static bool Matches(SecurityGroupRule rule, SecurityGroupRule wanted, PermissionFields given, bool classic) =>
        rule.Protocol == wanted.Protocol
        && rule.PortRangeListId == wanted.PortRangeListId
        && (rule.PortRangeListId is not null || rule.Ports == wanted.Ports)
        && rule.Peer == wanted.Peer
        && (given.Policy is null || rule.Policy == wanted.Policy)
        && (given.Priority is null || rule.Priority == wanted.Priority)
        && (given.NicType is null || !classic || rule.NicType == wanted.NicType)
        && (given.SourcePortRange is null || rule.SourcePorts == wanted.SourcePorts)
        && (wanted.LocalCidr is null || rule.LocalCidr == wanted.LocalCidr);
}
