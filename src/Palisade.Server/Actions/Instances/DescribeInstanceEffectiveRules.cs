using Palisade.Domain.State;
using Palisade.Engine.Policies;

namespace Palisade.Server.Actions.Instances;

/// <summary>
/// Palisade extension: the rules one instance's NIC enforces — every group of it pooled, per
/// direction, in the order they are tried (the engine's <see cref="NicRules"/>, ordered by
/// <see cref="EffectiveOrder"/> with its repeatable tie-break), each with the group it came from;
/// the inner access each group grants, and the defaults. What the ECS console's instance tab
/// "security groups → rules" shows, and what the Palisade console's instance page draws, so that no
/// client keeps a second copy of the order. A classic instance answers for one NIC per call
/// (<c>NicType</c>, intranet by default); a VPC instance has one NIC.
/// </summary>
internal sealed class DescribeInstanceEffectiveRules : ReadAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var region = c.Region();
        var idText = p.Required("InstanceId");
        NicType? requested = null;
        if (p.Optional("NicType") is { } nicText)
            requested = NicTypes.TryParse(nicText, out var asked) ? asked : throw new EcsException(EcsErrors.NicTypeNotSupported(nicText));
        return c.Read(s =>
        {
            var record = s.Instance(c, idText);
            if (record.RegionId != region.RegionId)
                throw new EcsException(EcsErrors.InstanceNotFound(idText));
            if (requested == NicType.Internet && record.NetworkType == NetworkType.Vpc)
                throw new EcsException(EcsErrors.ParameterInvalid("NicType", "a VPC instance has one NIC, intranet; its public address is translated to the private one before its groups see a packet."));
            var groups = record.SecurityGroupIds.Distinct()
                .Select(id => s.Groups.Find(c.AccountId, id))
                .OfType<Storage.Records.GroupRecord>()
                .Select(g => new SecurityGroup(g.Id, g.Name, g.Description, g.Type, g.VpcId, g.InnerAccessPolicy, [.. s.ListRules(g.Id)], [], g.CreatedAt))
                .ToList();
            var instance = new Instance(record.Id, record.Name, record.NetworkType, record.VpcId, record.VSwitchId,
                [.. record.PrivateAddresses], [.. record.PublicAddresses], [.. record.SecurityGroupIds], record.Status);
            var rules = NicRules.Gather(new NetworkState(region.RegionId, groups, [instance]), instance, requested ?? NicType.Intranet);

            var names = groups.ToDictionary(g => g.Id, g => g.Name);
            string NameOf(SecurityGroupId id)
            {
                if (!names.TryGetValue(id, out var name))
                    names[id] = name = s.Groups.Find(c.AccountId, id)?.Name ?? "";
                return name;
            }
            EcsList Pooled(Direction direction) => EcsList.Of("Permission", rules.Of(direction).Select((rule, index) =>
            {
                var permission = Views.Permission(rule.Rule, NameOf);
                permission.Add("Order", index + 1);
                permission.Add("SecurityGroupId", rule.GroupId.Value);
                permission.Add("SecurityGroupName", NameOf(rule.GroupId));
                return permission;
            }));
            // Inner access is between members over private addresses: a classic internet NIC has none.
            var innerApplies = rules.NicType == NicType.Intranet;
            var advanced = rules.Groups.FirstOrDefault(g => g.IsEnterprise);
            var members = s.Instances.List(c.AccountId, region.RegionId).SelectMany(i => i.SecurityGroupIds.Distinct()).CountBy(g => g).ToDictionary();
            return new EcsObject
            {
                { "RegionId", region.RegionId },
                { "InstanceId", record.Id.Value },
                { "InstanceName", record.Name },
                { "NicType", rules.NicType.ToWire() },
                { "SecurityGroups", EcsList.Of("SecurityGroup", rules.Groups.Select(g => new EcsObject
                    {
                        { "SecurityGroupId", g.Id.Value },
                        { "SecurityGroupName", g.Name },
                        { "SecurityGroupType", g.Type.ToWire() },
                        { "InnerAccessPolicy", innerApplies ? g.EffectiveInnerAccessPolicy.ToWire() : "" },
                        { "MemberCount", members.GetValueOrDefault(g.Id) },
                    })) },
                { "IngressPermissions", Pooled(Direction.Ingress) },
                { "EgressPermissions", Pooled(Direction.Egress) },
                { "DefaultIngressPolicy", "Drop" },
                { "DefaultEgressPolicy", rules.DefaultEgress == Verdict.Drop ? "Drop" : "Accept" },
                { "DefaultEgressReason", advanced is not null
                    ? $"{advanced.Id} is an advanced (enterprise) group: outbound traffic no rule accepts is dropped"
                    : "every group is basic (normal): outbound traffic no rule drops is accepted" },
            };
        });
    }
}
