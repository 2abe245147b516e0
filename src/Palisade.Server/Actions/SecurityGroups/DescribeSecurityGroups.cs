namespace Palisade.Server.Actions.SecurityGroups;

internal sealed class DescribeSecurityGroups : ReadAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var region = c.Region();
        var filter = new Filter<GroupRecord>(p).AnyOfJson("SecurityGroupIds", 100, g => g.Id.Value);
        if (p.Optional("SecurityGroupId") is { } single)
            Lookups.GroupId(single);
        filter.Equal("SecurityGroupId", g => g.Id.Value).Equal("VpcId", g => g.VpcId?.Value);
        var name = p.Optional("SecurityGroupName");
        var fuzzy = p.Bool("FuzzyQuery");
        filter.Where(name is null ? null : g => fuzzy ? g.Name.Contains(name, StringComparison.Ordinal) : g.Name == name);
        if (p.Optional("SecurityGroupType") is { } typeText)
        {
            var type = SecurityGroupTypes.TryParse(typeText, out var t) ? t : throw new EcsException(EcsErrors.GroupTypeFilterInvalid(typeText));
            filter.Where(g => g.Type == type);
        }
        filter.InResourceGroup(g => g.ResourceGroupId).OneOf("NetworkType", ["vpc", "classic"], g => g.IsClassic ? "classic" : "vpc");
        var tags = TagFilter.Read(p);
        var paging = Paging.Read(p, 10, 50, 100);
        return c.Read(s =>
        {
            var tagged = tags.In(s, c.AccountId, TaggedResourceTypes.SecurityGroup);
            var all = s.Groups.List(c.AccountId, region.RegionId).Where(g => filter.Keeps(g) && tagged(g.Id.Value)).ToList();
            return paging.Answer(all, "SecurityGroups", page => EcsList.Of("SecurityGroup", page.Select(g => GroupViews.Item(s, g, c.Limits))), new EcsObject { { "RegionId", region.RegionId } });
        });
    }
}
