namespace Palisade.Server.Actions.SecurityGroups;

internal sealed class CreateSecurityGroup : WriteAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var region = c.Region();
        var name = GroupViews.Name(p) ?? "";
        var description = GroupViews.Description(p) ?? "";
        var type = SecurityGroupType.Normal;
        if (p.Optional("SecurityGroupType") is { } typeText && !SecurityGroupTypes.TryParse(typeText, out type))
            throw new EcsException(EcsErrors.GroupTypeInvalid(typeText));
        var vpcText = p.Optional("VpcId");
        if (type == SecurityGroupType.Enterprise && vpcText is null)
            throw new EcsException(EcsErrors.EnterpriseNeedsVpc());
        var tags = p.Tags(max: c.Limits.TagsPerResource);
        var resourceGroup = ResourceGroups.ResourceGroupIds.Of(p);
        return c.Write(s =>
        {
            VpcId? vpcId = null;
            if (vpcText is not null)
            {
                var vpc = s.Vpc(c, vpcText);
                if (vpc.RegionId != region.RegionId)
                    throw new EcsException(EcsErrors.VpcNotFound(vpcText));
                vpcId = vpc.Id;
            }
            if (s.Groups.Count(c.AccountId, region.RegionId) >= c.Limits.GroupsPerRegion)
                throw new EcsException(EcsErrors.GroupQuotaExceeded(c.Limits.GroupsPerRegion));
            var id = SecurityGroupId.Parse(c.NewId(SecurityGroupId.Prefix, region));
            // API-created groups have no rules; basic groups let members in by default (ecs-api.md §2.2).
            var inner = type == SecurityGroupType.Enterprise ? InnerAccessPolicy.Drop : InnerAccessPolicy.Accept;
            s.Groups.Insert(new GroupRecord(id, c.AccountId, region.RegionId, vpcId, name, description, type, inner, c.Now, resourceGroup));
            foreach (var tag in tags)
                s.SetTag(c.AccountId, TaggedResourceTypes.SecurityGroup, id.Value, tag);
            return new EcsObject { { "SecurityGroupId", id.Value } };
        });
    }
}
