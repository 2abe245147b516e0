namespace Palisade.Server.Actions.PrefixLists;

// The action shapes both list families have, each written once over a ListFamily; the
// concrete actions (DeletePrefixList, DescribePortRangeLists…) are one line each.

/// <summary>Delete…List: refused while a rule names the list (the family's <c>…AssociationExist</c>).</summary>
internal abstract class DeleteList<TId, TRecord>(ListFamily<TId, TRecord> family) : WriteAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var region = c.Region();
        var id = family.IdParameter(c);
        return c.Write(s =>
        {
            var list = family.IdOf(family.Find(s, c, id, region.RegionId));
            if (family.GroupsUsing(s, list).Count > 0)
                throw new Domain.Errors.EcsException(family.HasAssociations());
            family.Delete(s, list);
            return [];
        });
    }
}

/// <summary>Describe…ListAssociations: the caller's security groups with a rule naming the list (rules name only their own account's lists).</summary>
internal abstract class DescribeListAssociations<TId, TRecord>(ListFamily<TId, TRecord> family) : ReadAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var region = c.Region();
        var id = family.IdParameter(c);
        var paging = ListFamily<TId, TRecord>.Paging(c.Parameters);
        return c.Read(s =>
        {
            var all = family.GroupsUsing(s, family.IdOf(family.Find(s, c, id, region.RegionId)));
            var (field, item) = family.AssociationsField;
            return paging.Answer(all, field, page => family.Array(item, page.Select(g => new EcsObject
            {
                { "ResourceId", g.Value },
                { "ResourceType", family.AssociatedGroupType },
            })));
        });
    }
}

/// <summary>
/// Describe…Lists: the caller's lists of the region, by ID (at most 100), name, resource group and
/// tags, token paging. A family with a filter of its own adds it with <see cref="Filter"/>.
/// </summary>
internal abstract class DescribeLists<TId, TRecord>(ListFamily<TId, TRecord> family) : ReadAction
{
    /// <summary>The family's own filter, read (and judged) after the name, before the resource group.</summary>
    protected virtual Func<TRecord, bool> Filter(ParameterReader p) => _ => true;

    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var region = c.Region();
        var ids = p.List(family.IdField, 100);
        var name = p.Optional(family.NameField);
        var own = Filter(p);
        var inResourceGroup = ResourceGroups.ResourceGroupIds.Filter(p);
        var tags = TagFilter.Read(p);
        var paging = ListFamily<TId, TRecord>.Paging(p);
        return c.Read(s =>
        {
            var tagged = tags.In(s, c.AccountId, family.TagType);
            var all = family.ListIn(s, c.AccountId, region.RegionId)
                .Where(l => ids.Count == 0 || ids.Contains($"{family.IdOf(l)}"))
                .Where(l => name is null || family.NameOf(l) == name)
                .Where(own)
                .Where(l => inResourceGroup(family.ResourceGroupOf(l)))
                .Where(l => tagged($"{family.IdOf(l)}"))
                .ToList();
            var (field, item) = family.ListsField;
            return paging.Answer(all, field, page => family.Array(item, page.Select(l => family.Item(s, l))));
        });
    }
}

/// <summary>One list of the caller's, answered as the family's action shows it (DescribePrefixListAttributes, DescribePortRangeListEntries).</summary>
internal abstract class DescribeList<TId, TRecord>(ListFamily<TId, TRecord> family, Func<TRecord, EcsObject> answer) : ReadAction
{
    protected override EcsObject Execute(ActionContext c, ParameterReader p)
    {
        var region = c.Region();
        var id = family.IdParameter(c);
        return c.Read(s => answer(family.Find(s, c, id, region.RegionId)));
    }
}
