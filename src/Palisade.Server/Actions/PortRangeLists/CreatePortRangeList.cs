using Palisade.Domain.Errors;
using Palisade.Domain.Identifiers;
using Palisade.Server.Actions.PrefixLists;
using Palisade.Server.Responses;
using Palisade.Storage.Records;

namespace Palisade.Server.Actions.PortRangeLists;

internal sealed class CreatePortRangeList : EcsAction
{
    public override bool Mutates => true;

    public override EcsObject Execute(ActionContext c)
    {
        var region = c.Region();
        var p = c.Parameters;
        p.Required("MaxEntries");
        var max = p.Int("MaxEntries", 0, 1, c.Limits.PortRangeListMaxEntries, _ => EcsErrors.ListMaxEntriesInvalid(c.Limits.PortRangeListMaxEntries));
        var name = PortRangeListRequests.Name(p.Required("PortRangeListName"));
        var description = PrefixListRequests.Description(p.Optional("Description"));
        var entries = PortRangeListRequests.Entries(c, "Entry", withDescription: true);
        if (entries.Count > max)
            throw new EcsException(EcsErrors.PortRangeListTooManyEntries(entries.Count, max));
        var tags = p.Tags(max: c.Limits.TagsPerResource);
        var resourceGroup = ResourceGroups.ResourceGroupIds.Of(p);
        return c.Write(s =>
        {
            if (s.CountPortRangeLists(c.AccountId, region.RegionId) >= c.Limits.PortRangeListsPerRegion)
                throw new EcsException(EcsErrors.PortRangeListQuota(c.Limits.PortRangeListsPerRegion));
            var id = PortRangeListId.Parse(c.NewId(PortRangeListId.Prefix, region));
            s.InsertPortRangeList(new PortRangeListRecord(id, c.AccountId, region.RegionId, max, name, description, resourceGroup, c.Now, entries));
            foreach (var tag in tags)
                s.SetTag(c.AccountId, TaggedResourceTypes.PortRangeList, id.Value, tag);
            return new EcsObject { { "PortRangeListId", id.Value } };
        });
    }
}
