using Palisade.Domain.Quotas;

namespace Palisade.Server.Actions.PrefixLists;

/// <summary>
/// What tells the two list families of ECS apart — prefix lists and port-range lists: their
/// parameter and field names, their error codes, their store calls and how their answers are
/// written (the prefix-list actions answer in the 2014-05-26 style, a list as an object with one
/// array inside; the port-range-list actions in the V3 style, a flat array). What both families do
/// the same way (find a list, refuse to delete one in use, list its associations, filter and page
/// the lists) is written once over this, in <see cref="ListActions"/>.
/// </summary>
internal abstract class ListFamily<TId, TRecord>
{
    /// <summary>The parameter naming one list: <c>PrefixListId</c>, <c>PortRangeListId</c>.</summary>
    public abstract string IdField { get; }

    /// <summary>The list's name as a parameter and an answer field: <c>PrefixListName</c>, <c>PortRangeListName</c>.</summary>
    public abstract string NameField { get; }

    /// <summary>The answer's array of lists (<c>PrefixLists</c>) and the name of one (<c>PrefixList</c>).</summary>
    public abstract (string Field, string Item) ListsField { get; }

    /// <summary>The answer's array of associations (<c>PrefixListAssociations</c>) and the name of one.</summary>
    public abstract (string Field, string Item) AssociationsField { get; }

    /// <summary>How an association names a security group's type (the families' SDK models spell it differently).</summary>
    public abstract string AssociatedGroupType { get; }

    public abstract string TagType { get; }

    /// <summary>An array of the answer: the family's style (see the class summary).</summary>
    public abstract object Array(string item, IEnumerable<EcsObject> elements);

    protected abstract bool TryParse(string text, out TId id);

    protected abstract EcsError NotFound(string text);

    protected abstract TRecord? FindIn(IStoreSession s, long accountId, TId id);

    public abstract IReadOnlyList<TRecord> ListIn(IStoreSession s, long accountId, string regionId);

    public abstract TId IdOf(TRecord list);

    public abstract string RegionOf(TRecord list);

    public abstract string NameOf(TRecord list);

    public abstract string ResourceGroupOf(TRecord list);

    /// <summary>The groups with a rule naming the list, by ID.</summary>
    public abstract IReadOnlyList<SecurityGroupId> GroupsUsing(IStoreSession s, TId id);

    public abstract EcsError HasAssociations();

    public abstract void Delete(IStoreSession s, TId id);

    /// <summary>A list as the family's Describe action answers it.</summary>
    public abstract EcsObject Item(IStoreSession s, TRecord list);

    /// <summary>The ID prefix of a new list.</summary>
    protected abstract string IdPrefix { get; }

    protected abstract TId ParseNew(string text);

    /// <summary>The most entries a list of the family may be made with (<c>MaxEntries</c>).</summary>
    protected abstract int MaxEntriesLimit(Limits limits);

    protected abstract int PerRegionLimit(Limits limits);

    protected abstract EcsError Quota(int limit);

    protected abstract int CountIn(IStoreSession s, long accountId, string regionId);

    protected abstract EcsError TooManyEntries(int count, int max);

    /// <summary><c>MaxEntries</c>, required: 1 to the family's configured limit.</summary>
    public int MaxEntries(ActionContext c)
    {
        c.Parameters.Required("MaxEntries");
        var limit = MaxEntriesLimit(c.Limits);
        return c.Parameters.Int("MaxEntries", 0, 1, limit, _ => EcsErrors.ListMaxEntriesInvalid(limit));
    }

    /// <summary>A list may hold at most its <c>MaxEntries</c>.</summary>
    public void CheckSize(int count, int max)
    {
        if (count > max)
            throw new EcsException(TooManyEntries(count, max));
    }

    /// <summary>
    /// The write of a Create…List: within the region's quota (checked in the write, so concurrent
    /// creations cannot pass it together), a new ID, the row and its tags; the answer names the ID.
    /// </summary>
    public EcsObject Create(ActionContext c, Hosting.Regions.Region region, IReadOnlyList<Domain.Groups.Tag> tags, Action<IStoreSession, TId> insert) => c.Write(s =>
    {
        if (CountIn(s, c.AccountId, region.RegionId) >= PerRegionLimit(c.Limits))
            throw new EcsException(Quota(PerRegionLimit(c.Limits)));
        var id = ParseNew(c.NewId(IdPrefix, region));
        insert(s, id);
        foreach (var tag in tags)
            s.SetTag(c.AccountId, TagType, $"{id}", tag);
        return new EcsObject { { IdField, $"{id}" } };
    });

    /// <summary>A malformed ID is answered as a missing list, as ECS does.</summary>
    public TId Id(string text) => TryParse(text, out var id) ? id : throw new EcsException(NotFound(text));

    /// <summary>The ID parameter of the request, parsed.</summary>
    public TId IdParameter(ActionContext c) => Id(c.Parameters.Required(IdField));

    /// <summary>The caller's list in the request's region; another account's looks exactly like a missing one.</summary>
    public TRecord Find(IStoreSession s, ActionContext c, TId id, string regionId) =>
        FindIn(s, c.AccountId, id) is { } l && RegionOf(l) == regionId ? l : throw new EcsException(NotFound($"{id}"));

    /// <summary>The token style only (MaxResults 1 to 100, default 10; NextToken), as these actions page.</summary>
    public static Paging Paging(ParameterReader p) => Actions.Paging.Read(p, 10, 100, 100) with { TokenMode = true };
}

/// <summary>The prefix-list family (<c>pl-…</c>).</summary>
internal sealed class PrefixListFamily : ListFamily<PrefixListId, PrefixListRecord>
{
    public static readonly PrefixListFamily Instance = new();

    public override string IdField => "PrefixListId";
    public override string NameField => "PrefixListName";
    public override (string Field, string Item) ListsField => ("PrefixLists", "PrefixList");
    public override (string Field, string Item) AssociationsField => ("PrefixListAssociations", "PrefixListAssociation");
    public override string AssociatedGroupType => "securitygroup";
    public override string TagType => TaggedResourceTypes.PrefixList;

    public override object Array(string item, IEnumerable<EcsObject> elements) => EcsList.Of(item, elements);
    protected override bool TryParse(string text, out PrefixListId id) => PrefixListId.TryParse(text, out id);
    protected override EcsError NotFound(string text) => EcsErrors.PrefixListNotFound(text);
    protected override PrefixListRecord? FindIn(IStoreSession s, long accountId, PrefixListId id) => s.FindPrefixList(accountId, id);
    public override IReadOnlyList<PrefixListRecord> ListIn(IStoreSession s, long accountId, string regionId) => s.ListPrefixLists(accountId, regionId);
    public override PrefixListId IdOf(PrefixListRecord list) => list.Id;
    public override string RegionOf(PrefixListRecord list) => list.RegionId;
    public override string NameOf(PrefixListRecord list) => list.Name;
    public override string ResourceGroupOf(PrefixListRecord list) => list.ResourceGroupId;
    public override IReadOnlyList<SecurityGroupId> GroupsUsing(IStoreSession s, PrefixListId id) => s.GroupsUsingPrefixList(id);
    public override EcsError HasAssociations() => EcsErrors.PrefixListHasAssociations();
    public override void Delete(IStoreSession s, PrefixListId id) => s.DeletePrefixList(id);
    public override EcsObject Item(IStoreSession s, PrefixListRecord list) => PrefixListRequests.Item(s, list);
    protected override string IdPrefix => PrefixListId.Prefix;
    protected override PrefixListId ParseNew(string text) => PrefixListId.Parse(text);
    protected override int MaxEntriesLimit(Limits limits) => limits.PrefixListMaxEntries;
    protected override int PerRegionLimit(Limits limits) => limits.PrefixListsPerRegion;
    protected override EcsError Quota(int limit) => EcsErrors.PrefixListQuota(limit);
    protected override int CountIn(IStoreSession s, long accountId, string regionId) => s.CountPrefixLists(accountId, regionId);
    protected override EcsError TooManyEntries(int count, int max) => EcsErrors.PrefixListTooManyEntries(count, max);
}

/// <summary>The port-range-list family (<c>prl-…</c>).</summary>
internal sealed class PortRangeListFamily : ListFamily<PortRangeListId, PortRangeListRecord>
{
    public static readonly PortRangeListFamily Instance = new();

    public override string IdField => "PortRangeListId";
    public override string NameField => "PortRangeListName";
    public override (string Field, string Item) ListsField => ("PortRangeLists", "PortRangeList");
    public override (string Field, string Item) AssociationsField => ("PortRangeListAssociations", "PortRangeListAssociation");
    public override string AssociatedGroupType => "SecurityGroup";
    public override string TagType => TaggedResourceTypes.PortRangeList;

    public override object Array(string item, IEnumerable<EcsObject> elements) => elements.ToList();
    protected override bool TryParse(string text, out PortRangeListId id) => PortRangeListId.TryParse(text, out id);
    protected override EcsError NotFound(string text) => EcsErrors.PortRangeListNotFound(text);
    protected override PortRangeListRecord? FindIn(IStoreSession s, long accountId, PortRangeListId id) => s.FindPortRangeList(accountId, id);
    public override IReadOnlyList<PortRangeListRecord> ListIn(IStoreSession s, long accountId, string regionId) => s.ListPortRangeLists(accountId, regionId);
    public override PortRangeListId IdOf(PortRangeListRecord list) => list.Id;
    public override string RegionOf(PortRangeListRecord list) => list.RegionId;
    public override string NameOf(PortRangeListRecord list) => list.Name;
    public override string ResourceGroupOf(PortRangeListRecord list) => list.ResourceGroupId;
    public override IReadOnlyList<SecurityGroupId> GroupsUsing(IStoreSession s, PortRangeListId id) => s.GroupsUsingPortRangeList(id);
    public override EcsError HasAssociations() => EcsErrors.PortRangeListHasAssociations();
    public override void Delete(IStoreSession s, PortRangeListId id) => s.DeletePortRangeList(id);
    public override EcsObject Item(IStoreSession s, PortRangeListRecord list) => PortRangeLists.PortRangeListRequests.Item(s, list);
    protected override string IdPrefix => PortRangeListId.Prefix;
    protected override PortRangeListId ParseNew(string text) => PortRangeListId.Parse(text);
    protected override int MaxEntriesLimit(Limits limits) => limits.PortRangeListMaxEntries;
    protected override int PerRegionLimit(Limits limits) => limits.PortRangeListsPerRegion;
    protected override EcsError Quota(int limit) => EcsErrors.PortRangeListQuota(limit);
    protected override int CountIn(IStoreSession s, long accountId, string regionId) => s.CountPortRangeLists(accountId, regionId);
    protected override EcsError TooManyEntries(int count, int max) => EcsErrors.PortRangeListTooManyEntries(count, max);
}
