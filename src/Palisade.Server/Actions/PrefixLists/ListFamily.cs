using Palisade.Domain.Quotas;

namespace Palisade.Server.Actions.PrefixLists;

/// <summary>The errors of a list family that differ in code or message (the catalogue's, <c>EcsErrors.Lists</c>).</summary>
internal sealed record ListErrors(Func<string, EcsError> NotFound, Func<EcsError> HasAssociations, Func<int, EcsError> Quota, Func<int, int, EcsError> TooManyEntries);

/// <summary>What a Create…List read that both families keep, in the account of the request.</summary>
internal sealed record NewList<TEntry>(string RegionId, int MaxEntries, string Name, string Description, string ResourceGroupId, DateTimeOffset CreatedAt, IReadOnlyList<TEntry> Entries);

/// <summary>Parses a list ID (the ID types' <c>TryParse</c>).</summary>
internal delegate bool ListIdParser<TId>(string? text, out TId id);

/// <summary>
/// One of the two list families of ECS — prefix lists and port-range lists — as data: its kind
/// (from which its parameter and field names follow: <c>PrefixListId</c>, <c>PrefixListName</c>,
/// <c>PrefixLists</c>, <c>PrefixListAssociations</c>), its error codes, its store calls, its limits and
/// how its answers are written (the prefix-list actions answer in the 2014-05-26 style, a list as an
/// object with one array inside; the port-range-list actions in the V3 style, a flat array). What
/// both families do the same way (create, find a list, refuse to delete one in use, list its
/// associations, filter and page the lists) is written once over this, here and in <see cref="ListActions"/>.
/// The two families are <see cref="ListFamilies"/>.
/// </summary>
/// <param name="Kind">The family's name in the API: <c>PrefixList</c>, <c>PortRangeList</c>.</param>
/// <param name="IdPrefix">The ID prefix of a new list.</param>
/// <param name="Name">A list's name, checked (refused as the family refuses a bad name).</param>
/// <param name="Fields">Of a record: its ID, region, name and resource group.</param>
/// <param name="FlatArrays">Whether the answers' arrays are flat (V3 style) rather than an object with one array inside.</param>
/// <param name="AssociatedGroupType">How an association names a security group's type (the families' SDK models spell it differently).</param>
/// <param name="LimitsOf">The most entries a list may be made with (<c>MaxEntries</c>), and the lists per region.</param>
/// <param name="Store">Its table in a store session (<c>s.PrefixLists</c>, <c>s.PortRangeLists</c>).</param>
/// <param name="Item">A list as the family's Describe action answers it.</param>
internal sealed record ListFamily<TId, TRecord>(
    string Kind, string IdPrefix, ListIdParser<TId> TryParse, Func<string, string> Name, Func<TRecord, (TId Id, string RegionId, string Name, string ResourceGroupId)> Fields,
    string TagType, bool FlatArrays, string AssociatedGroupType, ListErrors Errors, Func<IStoreSession, IEntryListTable<TId, TRecord>> Store,
    Func<Limits, (int MaxEntries, int PerRegion)> LimitsOf, Func<IStoreSession, TRecord, EcsObject> Item)
{
    /// <summary>The parameter naming one list: <c>PrefixListId</c>, <c>PortRangeListId</c>.</summary>
    public string IdField => $"{Kind}Id";

    /// <summary>The list's name as a parameter and an answer field: <c>PrefixListName</c>, <c>PortRangeListName</c>.</summary>
    public string NameField => $"{Kind}Name";

    /// <summary>The answer's array of lists (<c>PrefixLists</c>) and the name of one (<c>PrefixList</c>).</summary>
    public (string Field, string Item) ListsField => ($"{Kind}s", Kind);

    /// <summary>The answer's array of associations (<c>PrefixListAssociations</c>) and the name of one.</summary>
    public (string Field, string Item) AssociationsField => ($"{Kind}Associations", $"{Kind}Association");

    /// <summary>An array of the answer: the family's style (see the class summary).</summary>
    public object Array(string item, IEnumerable<EcsObject> elements) => FlatArrays ? elements.ToList() : EcsList.Of(item, elements);

    public IReadOnlyList<TRecord> ListIn(IStoreSession s, long accountId, string regionId) => Store(s).List(accountId, regionId);

    public TId IdOf(TRecord list) => Fields(list).Id;

    public string RegionOf(TRecord list) => Fields(list).RegionId;

    public string NameOf(TRecord list) => Fields(list).Name;

    public string ResourceGroupOf(TRecord list) => Fields(list).ResourceGroupId;

    /// <summary>The groups with a rule naming the list, by ID.</summary>
    public IReadOnlyList<SecurityGroupId> GroupsUsing(IStoreSession s, TId id) => Store(s).GroupsUsing(id);

    public EcsError HasAssociations() => Errors.HasAssociations();

    public void Delete(IStoreSession s, TId id) => Store(s).Delete(id);

    /// <summary><c>MaxEntries</c>, required: 1 to the family's configured limit.</summary>
    public int MaxEntries(ActionContext c)
    {
        c.Parameters.Required("MaxEntries");
        var limit = LimitsOf(c.Limits).MaxEntries;
        return c.Parameters.Int("MaxEntries", 0, 1, limit, _ => EcsErrors.ListMaxEntriesInvalid(limit));
    }

    /// <summary>A list may hold at most its <c>MaxEntries</c>.</summary>
    public void CheckSize(int count, int max)
    {
        if (count > max)
            throw new EcsException(Errors.TooManyEntries(count, max));
    }

    /// <summary>
    /// A Create…List, checked in this order: the region, <c>MaxEntries</c>, what the family reads before
    /// the name (<paramref name="beforeName"/>), the name and description, the entries, their number,
    /// the tags and the resource group. Then the write, within the region's quota (checked in the write,
    /// so concurrent creations cannot pass it together): a new ID, the row and its tags; the answer names the ID.
    /// </summary>
    /// <param name="record">The new list, of its ID, what <paramref name="beforeName"/> read and the rest of the request.</param>
    public EcsObject Create<TOwn, TEntry>(ActionContext c, Func<TOwn> beforeName, Func<TOwn, IReadOnlyList<TEntry>> entries, Func<TId, TOwn, NewList<TEntry>, TRecord> record)
    {
        var region = c.Region();
        var max = MaxEntries(c);
        var own = beforeName();
        var (name, description) = (Name(c.Parameters.Required(NameField)), PrefixListRequests.Description(c.Parameters.Optional("Description")));
        var given = entries(own);
        CheckSize(given.Count, max);
        var tags = c.Parameters.Tags(max: c.Limits.TagsPerResource);
        var list = new NewList<TEntry>(region.RegionId, max, name, description, ResourceGroups.ResourceGroupIds.Of(c.Parameters), c.Now, given);
        return c.Write(s =>
        {
            var quota = LimitsOf(c.Limits).PerRegion;
            if (Store(s).Count(c.AccountId, region.RegionId) >= quota)
                throw new EcsException(Errors.Quota(quota));
            var id = TryParse(c.NewId(IdPrefix, region), out var parsed) ? parsed : throw new FormatException($"A new {Kind} ID does not parse.");
            Store(s).Insert(record(id, own, list));
            foreach (var tag in tags)
                s.SetTag(c.AccountId, TagType, $"{id}", tag);
            return new EcsObject { { IdField, $"{id}" } };
        });
    }

    /// <summary>A Create…List whose family reads nothing of its own before the name.</summary>
    public EcsObject Create<TEntry>(ActionContext c, Func<IReadOnlyList<TEntry>> entries, Func<TId, NewList<TEntry>, TRecord> record) =>
        Create(c, () => 0, _ => entries(), (id, _, list) => record(id, list));

    /// <summary>What a Modify…List names before its entries: the list, and its new name and description (null: unchanged), checked in that order.</summary>
    public (TId Id, string? Name, string? Description) Edit(ActionContext c) =>
        (IdParameter(c), c.Parameters.Optional(NameField) is { } name ? Name(name) : null,
            c.Parameters.Optional("Description") is { } description ? PrefixListRequests.Description(description) : null);

    /// <summary>A malformed ID is answered as a missing list, as ECS does.</summary>
    public TId Id(string text) => TryParse(text, out var id) ? id : throw new EcsException(Errors.NotFound(text));

    /// <summary>The ID parameter of the request, parsed.</summary>
    public TId IdParameter(ActionContext c) => Id(c.Parameters.Required(IdField));

    /// <summary>The caller's list in the request's region; another account's looks exactly like a missing one.</summary>
    public TRecord Find(IStoreSession s, ActionContext c, TId id, string regionId) =>
        Store(s).Find(c.AccountId, id) is { } l && RegionOf(l) == regionId ? l : throw new EcsException(Errors.NotFound($"{id}"));

    /// <summary>The token style only (MaxResults 1 to 100, default 10; NextToken), as these actions page.</summary>
    public static Paging Paging(ParameterReader p) => Actions.Paging.Read(p, 10, 100, 100) with { TokenMode = true };
}

/// <summary>The two list families.</summary>
internal static class ListFamilies
{
    /// <summary>Prefix lists (<c>pl-…</c>): 2014-05-26 answers.</summary>
    public static readonly ListFamily<PrefixListId, PrefixListRecord> PrefixLists = new("PrefixList", PrefixListId.Prefix, PrefixListId.TryParse, name => PrefixListRequests.Name("PrefixListName", name), l => (l.Id, l.RegionId, l.Name, l.ResourceGroupId),
        TaggedResourceTypes.PrefixList, FlatArrays: false, AssociatedGroupType: "securitygroup",
        new(EcsErrors.PrefixListNotFound, EcsErrors.PrefixListHasAssociations, EcsErrors.PrefixListQuota, EcsErrors.PrefixListTooManyEntries),
        s => s.PrefixLists,
        limits => (limits.PrefixListMaxEntries, limits.PrefixListsPerRegion), PrefixListRequests.Item);

    /// <summary>Port-range lists (<c>prl-…</c>): V3 answers.</summary>
    public static readonly ListFamily<PortRangeListId, PortRangeListRecord> PortRangeLists = new("PortRangeList", PortRangeListId.Prefix, PortRangeListId.TryParse, Actions.PortRangeLists.PortRangeListRequests.Name,
        l => (l.Id, l.RegionId, l.Name, l.ResourceGroupId), TaggedResourceTypes.PortRangeList, FlatArrays: true, AssociatedGroupType: "SecurityGroup",
        new(EcsErrors.PortRangeListNotFound, EcsErrors.PortRangeListHasAssociations, EcsErrors.PortRangeListQuota, EcsErrors.PortRangeListTooManyEntries),
        s => s.PortRangeLists,
        limits => (limits.PortRangeListMaxEntries, limits.PortRangeListsPerRegion), Actions.PortRangeLists.PortRangeListRequests.Item);
}
