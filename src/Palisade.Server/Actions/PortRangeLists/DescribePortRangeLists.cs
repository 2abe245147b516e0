using Palisade.Server.Actions.PrefixLists;
using Palisade.Server.Responses;
using Palisade.Storage.Records;

namespace Palisade.Server.Actions.PortRangeLists;

/// <summary>DescribePortRangeLists: a flat <c>PortRangeLists</c> array (the action's V3-style answer), token paging.</summary>
internal sealed class DescribePortRangeLists : EcsAction
{
    public override bool Mutates => false;

    public override EcsObject Execute(ActionContext c)
    {
        var region = c.Region();
        var p = c.Parameters;
        var ids = p.List("PortRangeListId", 100);
        var name = p.Optional("PortRangeListName");
        var inResourceGroup = ResourceGroups.ResourceGroupIds.Filter(p);
        var tags = TagFilter.Read(p);
        var paging = PrefixListRequests.Paging(p);
        return c.Read(s =>
        {
            var tagged = tags.In(s, c.AccountId, TaggedResourceTypes.PortRangeList);
            var all = s.ListPortRangeLists(c.AccountId, region.RegionId)
                .Where(l => ids.Count == 0 || ids.Contains(l.Id.Value))
                .Where(l => name is null || l.Name == name)
                .Where(l => inResourceGroup(l.ResourceGroupId))
                .Where(l => tagged(l.Id.Value))
                .ToList();
            var response = new EcsObject();
            paging.Describe(response, all);
            response.Add("PortRangeLists", paging.Take(all).Select(l => PortRangeListRequests.Item(s, l)).ToList());
            return response;
        });
    }
}
