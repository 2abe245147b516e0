using Palisade.Server.Actions.PrefixLists;

namespace Palisade.Server.Actions.PortRangeLists;

/// <summary>
/// The fields port-range-list actions share, judged as ECS documents them (CreatePortRangeList,
/// ModifyPortRangeList; docs/compat.md), and how a port-range list appears in answers.
/// </summary>
internal static class PortRangeListRequests
{
    public static string Name(string text)
    {
        try
        {
            return PrefixListRequests.Name("PortRangeListName", text);
        }
        catch (EcsException)
        {
            throw new EcsException(EcsErrors.PortRangeListName(text));
        }
    }

    /// <summary>A TCP/UDP range <c>start/end</c>, 1 to 65535.</summary>
    public static PortRange Range(string text) =>
        PortRange.ParseFor(IpProtocol.Tcp, text).TryGet(out var range, out _) ? range : throw new EcsException(EcsErrors.PortRangeListEntryMalformed(text));

    private static readonly FieldNames EntryFields = ListEntries.Fields("PortRange");

    /// <summary><c>Name.N.PortRange</c> and <c>Name.N.Description</c>, each range once.</summary>
    public static IReadOnlyList<PortRangeListEntryRecord> Entries(ActionContext c, string name, bool withDescription) =>
        ListEntries.Read(c, name, EntryFields, withDescription, (_, text) => Range(text), (_, text) => EcsErrors.PortRangeListEntryDuplicated(text), (range, description) => new PortRangeListEntryRecord(range, description));

    /// <summary>A port-range list with its entries, as a state file holds it (DescribePortRangeListEntries answers the entries alone).</summary>
    public static EcsObject Attributes(PortRangeListRecord l) => new()
    {
        { "PortRangeListId", l.Id.Value },
        { "PortRangeListName", l.Name },
        { "Description", l.Description },
        { "MaxEntries", l.MaxEntries },
        { "CreationTime", Views.CreationTime(l.CreatedAt) },
        { "Entries", EcsList.Of("Entry", l.Entries.Select(Entry)) },
    };

    /// <summary>An entry as DescribePortRangeListEntries answers it (and a state file holds it).</summary>
    public static EcsObject Entry(PortRangeListEntryRecord e) => new() { { "PortRange", e.Range.ToString() }, { "Description", e.Description } };

    public static EcsObject Item(IStoreSession s, PortRangeListRecord l) => new()
    {
        { "PortRangeListId", l.Id.Value },
        { "PortRangeListName", l.Name },
        { "Description", l.Description },
        { "MaxEntries", l.MaxEntries },
        { "AssociationCount", s.PortRangeLists.GroupsUsing(l.Id).Count },
        { "CreationTime", Views.CreationTime(l.CreatedAt) },
        { "ResourceGroupId", l.ResourceGroupId },
        // A flat array of TagKey/TagValue, as the 7.x SDK model reads it (DescribePortRangeListsResponseBodyPortRangeListsTags).
        { "Tags", s.ListTags(TaggedResourceTypes.PortRangeList, l.Id.Value).Select(t => new EcsObject { { "TagKey", t.Key }, { "TagValue", t.Value } }).ToList() },
    };
}
