namespace Palisade.Server.Actions.Rules;

/// <summary>
/// ModifySecurityGroupRule and ModifySecurityGroupEgressRule, by <c>SecurityGroupRuleId</c>: the
/// given fields replace the rule's, the rest stay (without it: <see cref="ModifyRulesByAttributes"/>). The peer's kind, the NIC type and the kind of
/// port range cannot change (ecs-api.md §3.9).
/// </summary>
internal abstract class ModifyRules(Direction direction) : WriteAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        c.Region();
        var groupId = c.GroupIdParameter();
        if (p.Optional("SecurityGroupRuleId") is not { } ruleText)
            return ModifyRulesByAttributes.Execute(c, p, direction, groupId);
        return c.WriteGroup(groupId, (s, group) =>
        {
            var rule = (SecurityGroupRuleId.TryParse(ruleText, out var ruleId) ? s.ListRules(group.Id).FirstOrDefault(r => r.Id == ruleId && r.Direction == direction) : null)
                ?? throw new EcsException(EcsErrors.RuleNotFoundById(ruleText));
            var fields = PermissionFields.Of(rule);
            var given = PermissionFields.From(p.All);

            if (given.NicType is { } nic && (!NicTypes.TryParse(nic, out var nicType) || (group.IsClassic && nicType != rule.NicType)))
                throw new EcsException(NicTypes.TryParse(nic, out _) ? EcsErrors.ModifyNicType() : EcsErrors.NicTypeNotSupported(nic));
            if ((rule.PortRangeListId is null && given.PortRangeListId is not null) || (rule.PortRangeListId is not null && given.PortRange is not null))
                throw new EcsException(EcsErrors.ModifyPortRangeKind());

            if (given.PeerOn(direction) is { } newKind && newKind != fields.PeerOn(direction))
                throw new EcsException(EcsErrors.ModifyPeerKind());

            var merged = fields.With(given);
            var parsed = PermissionParser.Parse(direction, merged, RuleRequests.ContextOf(s, c, group), rule.Id, rule.CreateTime);
            if (!parsed.TryGet(out var updated, out var error))
            {
                // Modify names the protocol/port clash with its own code (ecs-api.md §4).
                throw new EcsException(error.Code == EcsErrorCodes.OperationDenied
                    ? EcsErrors.ModifyProtocolPortMismatch(error.Message)
                    : error);
            }
            RuleRequests.CheckReferences(s, c, group, updated);
            if (!s.UpdateRule(group.Id, updated))
            {
                var other = s.ListRules(group.Id).First(r => r.Id != rule.Id && r.Identity == updated.Identity);
                throw new EcsException(EcsErrors.RuleWouldDuplicate(other.Id.Value));
            }
            // Another prefix list or port-range list may count for more of the quota (their MaxEntries).
            if (updated.Peer != rule.Peer || updated.PortRangeListId != rule.PortRangeListId)
                AuthorizeRules.CheckLimits(s, c, group);
            return [];
        });
    }
}

internal sealed class ModifySecurityGroupRule() : ModifyRules(Direction.Ingress);

internal sealed class ModifySecurityGroupEgressRule() : ModifyRules(Direction.Egress);
