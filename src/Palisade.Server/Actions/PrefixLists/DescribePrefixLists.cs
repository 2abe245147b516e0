using Palisade.Domain.Errors;
using Palisade.Server.Responses;
using Palisade.Storage.Records;

namespace Palisade.Server.Actions.PrefixLists;

internal sealed class DescribePrefixLists : EcsAction
{
    public override bool Mutates => false;

    public override EcsObject Execute(ActionContext c)
    {
        var region = c.Region();
        var p = c.Parameters;
        var ids = p.List("PrefixListId", 100);
        var name = p.Optional("PrefixListName");
        var family = p.Optional("AddressFamily");
        if (family is not (null or "IPv4" or "IPv6"))
            throw new EcsException(EcsErrors.ParameterInvalid("AddressFamily", $"'{family}' is not IPv4 or IPv6."));
        var inResourceGroup = ResourceGroups.ResourceGroupIds.Filter(p);
        var tags = TagFilter.Read(p);
        var paging = PrefixListRequests.Paging(p);
        return c.Read(s =>
        {
            var tagged = tags.In(s, c.AccountId, TaggedResourceTypes.PrefixList);
            var all = s.ListPrefixLists(c.AccountId, region.RegionId)
                .Where(l => ids.Count == 0 || ids.Contains(l.Id.Value))
                .Where(l => name is null || l.Name == name)
                .Where(l => family is null || l.AddressFamily == family)
                .Where(l => inResourceGroup(l.ResourceGroupId))
                .Where(l => tagged(l.Id.Value))
                .ToList();
            var response = new EcsObject();
            paging.Describe(response, all);
            response.Add("PrefixLists", EcsList.Of("PrefixList", paging.Take(all).Select(l => PrefixListRequests.Item(s, l))));
            return response;
        });
    }
}
