using Palisade.Server.Responses;

namespace Palisade.Server.Actions.PrefixLists;

/// <summary>The caller's security groups with a rule naming the prefix list (rules name only their own account's lists).</summary>
internal sealed class DescribePrefixListAssociations : EcsAction
{
    public override bool Mutates => false;

    public override EcsObject Execute(ActionContext c)
    {
        var region = c.Region();
        var id = PrefixListRequests.Id(c.Parameters.Required("PrefixListId"));
        var paging = PrefixListRequests.Paging(c.Parameters);
        return c.Read(s =>
        {
            var list = PrefixListRequests.Find(s, c, id, region.RegionId);
            var all = s.GroupsUsingPrefixList(list.Id);
            var response = new EcsObject();
            paging.Describe(response, all);
            response.Add("PrefixListAssociations", EcsList.Of("PrefixListAssociation", paging.Take(all).Select(g => new EcsObject
            {
                { "ResourceId", g.Value },
                { "ResourceType", "securitygroup" },
            })));
            return response;
        });
    }
}
