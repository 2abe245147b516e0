using Palisade.Server.Actions.PrefixLists;

namespace Palisade.Server.Actions.PortRangeLists;

internal sealed class CreatePortRangeList : WriteAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var region = c.Region();
        var lists = PortRangeListFamily.Instance;
        var max = lists.MaxEntries(c);
        var name = PortRangeListRequests.Name(p.Required("PortRangeListName"));
        var description = PrefixListRequests.Description(p.Optional("Description"));
        var entries = PortRangeListRequests.Entries(c, "Entry", withDescription: true);
        lists.CheckSize(entries.Count, max);
        var tags = p.Tags(max: c.Limits.TagsPerResource);
        var resourceGroup = ResourceGroups.ResourceGroupIds.Of(p);
        return lists.Create(c, region, tags, (s, id) =>
            s.InsertPortRangeList(new PortRangeListRecord(id, c.AccountId, region.RegionId, max, name, description, resourceGroup, c.Now, entries)));
    }
}
