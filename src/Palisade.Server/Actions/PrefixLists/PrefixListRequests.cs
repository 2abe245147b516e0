namespace Palisade.Server.Actions.PrefixLists;

/// <summary>
/// The fields prefix-list actions share, judged as ECS documents them (CreatePrefixList,
/// ModifyPrefixList; docs/compat.md), and how a prefix list appears in answers.
/// </summary>
internal static class PrefixListRequests
{
    /// <summary>2 to 128 characters, a letter first; not <c>http(s)://</c>, <c>com.aliyun</c> or <c>com.alibabacloud</c>.</summary>
    public static string Name(string field, string text) =>
        Texts.IsName(text) && !Domain.Networking.PrefixList.IsReservedName(text)
            ? text
            : throw new EcsException(EcsErrors.ParameterInvalid(field, "2 to 128 characters, a letter first, then letters, digits, ':', '_', '.', '-'; not starting with com.aliyun or com.alibabacloud."));

    public static string Description(string? text) =>
        text is null ? "" : Texts.IsDescription(text) ? text : throw new EcsException(EcsErrors.ListDescriptionMalformed(text));

    /// <summary>An entry's description: 2 to 32 characters, not starting with <c>http(s)://</c>.</summary>
    public static string EntryDescription(string field, string? text) =>
        text is null ? "" : Texts.IsDescription(text, 2, 32) ? text : throw new EcsException(EcsErrors.ParameterInvalid(field, "2 to 32 characters, not starting with http:// or https://."));

    /// <summary>
    /// A CIDR block of the list's family in standard form: <c>10.0.0.1/8</c> is refused, a bare
    /// address becomes its /32 (or /128), IPv6 is written compressed and lower-case (CreatePrefixList).
    /// </summary>
    public static Cidr Block(string field, string text, bool isV6)
    {
        var slash = text.IndexOf('/');
        if (!Cidr.TryParse(text, out var cidr) || cidr.IsV6 != isV6
            || !IpAddress.TryParse(slash < 0 ? text : text[..slash], out var written) || written != cidr.Network)
            throw new EcsException(EcsErrors.PrefixListEntryMalformed(field, text, isV6));
        return Cidr.Create(cidr.Network, cidr.PrefixLength);
    }

    private static readonly FieldNames EntryFields = ListEntries.Fields("Cidr");

    /// <summary><c>Name.N.Cidr</c> and <c>Name.N.Description</c>, each block once.</summary>
    public static IReadOnlyList<PrefixListEntryRecord> Entries(ActionContext c, string name, bool isV6, bool withDescription) =>
        ListEntries.Read(c, name, EntryFields, withDescription, (field, text) => Block(field, text, isV6), EcsErrors.PrefixListEntryDuplicated, (block, description) => new PrefixListEntryRecord(block, description));

    public static EcsObject Item(IStoreSession s, PrefixListRecord l) => new()
    {
        { "PrefixListId", l.Id.Value },
        { "PrefixListName", l.Name },
        { "Description", l.Description },
        { "AddressFamily", l.AddressFamily },
        { "MaxEntries", l.MaxEntries },
        { "AssociationCount", s.PrefixLists.GroupsUsing(l.Id).Count },
        { "CreationTime", Views.CreationTime(l.CreatedAt) },
        { "ResourceGroupId", l.ResourceGroupId },
        { "Tags", Views.Tags(s.ListTags(TaggedResourceTypes.PrefixList, l.Id.Value)) },
    };

    /// <summary>A prefix list with its entries, as DescribePrefixListAttributes answers (and a state file holds it).</summary>
    public static EcsObject Attributes(PrefixListRecord l) => new()
    {
        { "PrefixListId", l.Id.Value },
        { "PrefixListName", l.Name },
        { "Description", l.Description },
        { "AddressFamily", l.AddressFamily },
        { "MaxEntries", l.MaxEntries },
        { "CreationTime", Views.CreationTime(l.CreatedAt) },
        { "Entries", EcsList.Of("Entry", l.Entries.Select(e => new EcsObject { { "Cidr", e.Cidr.ToString() }, { "Description", e.Description } })) },
    };
}
