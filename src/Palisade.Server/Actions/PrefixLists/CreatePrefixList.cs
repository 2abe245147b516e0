using Palisade.Domain.Errors;
using Palisade.Domain.Identifiers;
using Palisade.Server.Responses;
using Palisade.Storage.Records;

namespace Palisade.Server.Actions.PrefixLists;

internal sealed class CreatePrefixList : EcsAction
{
    public override bool Mutates => true;

    public override EcsObject Execute(ActionContext c)
    {
        var region = c.Region();
        var p = c.Parameters;
        p.Required("MaxEntries");
        var max = p.Int("MaxEntries", 0, 1, c.Limits.PrefixListMaxEntries, _ => EcsErrors.ListMaxEntriesInvalid(c.Limits.PrefixListMaxEntries));
        var family = p.Required("AddressFamily");
        if (family is not ("IPv4" or "IPv6"))
            throw new EcsException(EcsErrors.ParameterInvalid("AddressFamily", $"'{family}' is not IPv4 or IPv6."));
        var isV6 = family == "IPv6";
        var name = PrefixListRequests.Name("PrefixListName", p.Required("PrefixListName"));
        var description = PrefixListRequests.Description(p.Optional("Description"));
        var entries = PrefixListRequests.Entries(c, "Entry", isV6, withDescription: true);
        if (entries.Count > max)
            throw new EcsException(EcsErrors.PrefixListTooManyEntries(entries.Count, max));
        var tags = p.Tags(max: c.Limits.TagsPerResource);
        var resourceGroup = ResourceGroups.ResourceGroupIds.Of(p);
        return c.Write(s =>
        {
            if (s.CountPrefixLists(c.AccountId, region.RegionId) >= c.Limits.PrefixListsPerRegion)
                throw new EcsException(EcsErrors.PrefixListQuota(c.Limits.PrefixListsPerRegion));
            var id = PrefixListId.Parse(c.NewId(PrefixListId.Prefix, region));
            s.InsertPrefixList(new PrefixListRecord(id, c.AccountId, region.RegionId, isV6, max, name, description, resourceGroup, c.Now, entries));
            foreach (var tag in tags)
                s.SetTag(c.AccountId, TaggedResourceTypes.PrefixList, id.Value, tag);
            return new EcsObject { { "PrefixListId", id.Value } };
        });
    }
}
