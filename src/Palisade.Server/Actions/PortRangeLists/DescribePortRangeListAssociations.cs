using Palisade.Server.Actions.PrefixLists;
using Palisade.Server.Responses;

namespace Palisade.Server.Actions.PortRangeLists;

/// <summary>The caller's security groups with a rule naming the port-range list.</summary>
internal sealed class DescribePortRangeListAssociations : EcsAction
{
    public override bool Mutates => false;

    public override EcsObject Execute(ActionContext c)
    {
        var region = c.Region();
        var id = PortRangeListRequests.Id(c.Parameters.Required("PortRangeListId"));
        var paging = PrefixListRequests.Paging(c.Parameters);
        return c.Read(s =>
        {
            var list = PortRangeListRequests.Find(s, c, id, region.RegionId);
            var all = s.GroupsUsingPortRangeList(list.Id);
            var response = new EcsObject();
            paging.Describe(response, all);
            response.Add("PortRangeListAssociations", paging.Take(all).Select(g => new EcsObject
            {
                { "ResourceId", g.Value },
                { "ResourceType", "SecurityGroup" },
            }).ToList());
            return response;
        });
    }
}
