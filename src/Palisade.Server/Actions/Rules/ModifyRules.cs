using Palisade.Domain.Ecs;
using Palisade.Domain.Errors;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;
using Palisade.Server.Responses;

namespace Palisade.Server.Actions.Rules;

/// <summary>
/// ModifySecurityGroupRule and ModifySecurityGroupEgressRule, by <c>SecurityGroupRuleId</c>: the
/// given fields replace the rule's, the rest stay (without it: <see cref="ModifyRulesByAttributes"/>). The peer's kind, the NIC type and the kind of
/// port range cannot change (ecs-api.md §3.9).
/// </summary>
public abstract class ModifyRules(Direction direction) : EcsAction
{
    public override bool Mutates => true;

    private static readonly string[][] PeerKinds =
    [
        ["SourceCidrIp", "DestCidrIp"], ["Ipv6SourceCidrIp", "Ipv6DestCidrIp"], ["SourceGroupId", "DestGroupId"], ["SourcePrefixListId", "DestPrefixListId"],
    ];

    public override EcsObject Execute(ActionContext c)
    {
        c.Region();
        var p = c.Parameters;
        var idText = p.Required("SecurityGroupId");
        Lookups.GroupId(idText);
        if (p.Optional("SecurityGroupRuleId") is not { } ruleText)
            return ModifyRulesByAttributes.Execute(c, direction, idText);
        var ingress = direction == Direction.Ingress;
        return c.Write(s =>
        {
            var group = s.Group(c, idText);
            var rule = (SecurityGroupRuleId.TryParse(ruleText, out var ruleId) ? s.ListRules(group.Id).FirstOrDefault(r => r.Id == ruleId && r.Direction == direction) : null)
                ?? throw new EcsException(EcsErrors.RuleNotFoundById(ruleText));
            var fields = RuleRequests.ToFields(rule);
            var given = RuleRequests.Fields(p.All);

            if (given.NicType is { } nic && (!NicTypes.TryParse(nic, out var nicType) || (group.IsClassic && nicType != rule.NicType)))
                throw new EcsException(NicTypes.TryParse(nic, out _) ? EcsErrors.ModifyNicType() : EcsErrors.NicTypeNotSupported(nic));
            if ((rule.PortRangeListId is null && given.PortRangeListId is not null) || (rule.PortRangeListId is not null && given.PortRange is not null))
                throw new EcsException(EcsErrors.ModifyPortRangeKind());

            var peerField = ingress ? 0 : 1;
            var oldKind = Array.FindIndex(PeerKinds, k => Value(fields, k[peerField]) is not null);
            var newKind = Array.FindIndex(PeerKinds, k => Value(given, k[peerField]) is not null);
            if (newKind >= 0 && newKind != oldKind)
                throw new EcsException(EcsErrors.ModifyPeerKind());

            var merged = fields with
            {
                IpProtocol = given.IpProtocol ?? fields.IpProtocol,
                PortRange = given.PortRange ?? fields.PortRange,
                SourcePortRange = given.SourcePortRange ?? fields.SourcePortRange,
                Policy = given.Policy ?? fields.Policy,
                Priority = given.Priority ?? fields.Priority,
                Description = given.Description ?? fields.Description,
                SourceCidrIp = given.SourceCidrIp ?? fields.SourceCidrIp,
                Ipv6SourceCidrIp = given.Ipv6SourceCidrIp ?? fields.Ipv6SourceCidrIp,
                SourceGroupId = given.SourceGroupId ?? fields.SourceGroupId,
                SourceGroupOwnerAccount = given.SourceGroupOwnerAccount ?? fields.SourceGroupOwnerAccount,
                SourceGroupOwnerId = given.SourceGroupOwnerId ?? fields.SourceGroupOwnerId,
                SourcePrefixListId = given.SourcePrefixListId ?? fields.SourcePrefixListId,
                DestCidrIp = given.DestCidrIp ?? fields.DestCidrIp,
                Ipv6DestCidrIp = given.Ipv6DestCidrIp ?? fields.Ipv6DestCidrIp,
                DestGroupId = given.DestGroupId ?? fields.DestGroupId,
                DestGroupOwnerAccount = given.DestGroupOwnerAccount ?? fields.DestGroupOwnerAccount,
                DestGroupOwnerId = given.DestGroupOwnerId ?? fields.DestGroupOwnerId,
                DestPrefixListId = given.DestPrefixListId ?? fields.DestPrefixListId,
                PortRangeListId = given.PortRangeListId ?? fields.PortRangeListId,
            };
            var parsed = PermissionParser.Parse(direction, merged, RuleRequests.ContextOf(group), rule.Id, rule.CreateTime);
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
            return [];
        });
    }

    private static string? Value(PermissionFields f, string name) => name switch
    {
        "SourceCidrIp" => f.SourceCidrIp,
        "DestCidrIp" => f.DestCidrIp,
        "Ipv6SourceCidrIp" => f.Ipv6SourceCidrIp,
        "Ipv6DestCidrIp" => f.Ipv6DestCidrIp,
        "SourceGroupId" => f.SourceGroupId,
        "DestGroupId" => f.DestGroupId,
        "SourcePrefixListId" => f.SourcePrefixListId,
        "DestPrefixListId" => f.DestPrefixListId,
        _ => null,
    };
}

public sealed class ModifySecurityGroupRule() : ModifyRules(Direction.Ingress);

public sealed class ModifySecurityGroupEgressRule() : ModifyRules(Direction.Egress);
