namespace Palisade.Server.Actions.PrefixLists;

internal sealed class CreatePrefixList : WriteAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var region = c.Region();
        var lists = PrefixListFamily.Instance;
        var max = lists.MaxEntries(c);
        var family = p.Required("AddressFamily");
        if (family is not ("IPv4" or "IPv6"))
            throw new EcsException(EcsErrors.ParameterInvalid("AddressFamily", $"'{family}' is not IPv4 or IPv6."));
        var isV6 = family == "IPv6";
        var name = PrefixListRequests.Name("PrefixListName", p.Required("PrefixListName"));
        var description = PrefixListRequests.Description(p.Optional("Description"));
        var entries = PrefixListRequests.Entries(c, "Entry", isV6, withDescription: true);
        lists.CheckSize(entries.Count, max);
        var tags = p.Tags(max: c.Limits.TagsPerResource);
        var resourceGroup = ResourceGroups.ResourceGroupIds.Of(p);
        return lists.Create(c, region, tags, (s, id) =>
            s.InsertPrefixList(new PrefixListRecord(id, c.AccountId, region.RegionId, isV6, max, name, description, resourceGroup, c.Now, entries)));
    }
}
