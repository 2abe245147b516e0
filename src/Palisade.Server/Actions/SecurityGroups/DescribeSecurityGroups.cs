namespace Palisade.Server.Actions.SecurityGroups;

internal sealed class DescribeSecurityGroups : ReadAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var region = c.Region();
        var ids = p.JsonArray("SecurityGroupIds", 100)?.ToHashSet(StringComparer.Ordinal);
        var single = p.Optional("SecurityGroupId");
        if (single is not null)
            Lookups.GroupId(single);
        var vpc = p.Optional("VpcId");
        var name = p.Optional("SecurityGroupName");
        var fuzzy = p.Bool("FuzzyQuery");
        SecurityGroupType? type = null;
        if (p.Optional("SecurityGroupType") is { } typeText)
            type = SecurityGroupTypes.TryParse(typeText, out var t) ? t : throw new EcsException(EcsErrors.GroupTypeFilterInvalid(typeText));
        var network = p.Optional("NetworkType");
        var inResourceGroup = ResourceGroups.ResourceGroupIds.Filter(p);
        if (network is not null && network is not ("vpc" or "classic"))
            throw new EcsException(EcsErrors.ParameterInvalid("NetworkType", $"'{network}' is not vpc or classic."));
        var tags = TagFilter.Read(p);
        var paging = Paging.Read(p, 10, 50, 100);
        return c.Read(s =>
        {
            var tagged = tags.In(s, c.AccountId, TaggedResourceTypes.SecurityGroup);
            var all = s.ListGroups(c.AccountId, region.RegionId)
                .Where(g => ids is null || ids.Contains(g.Id.Value))
                .Where(g => single is null || g.Id.Value == single)
                .Where(g => vpc is null || g.VpcId?.Value == vpc)
                .Where(g => inResourceGroup(g.ResourceGroupId))
                .Where(g => name is null || (fuzzy ? g.Name.Contains(name, StringComparison.Ordinal) : g.Name == name))
                .Where(g => type is null || g.Type == type)
                .Where(g => network is null || (network == "classic") == g.IsClassic)
                .Where(g => tagged(g.Id.Value))
                .ToList();
            return paging.Answer(all, "SecurityGroups", page => EcsList.Of("SecurityGroup", page.Select(g => GroupViews.Item(s, g, c.Limits))), new EcsObject { { "RegionId", region.RegionId } });
        });
    }
}
