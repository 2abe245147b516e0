using Palisade.Server.Actions.PrefixLists;

namespace Palisade.Server.Actions.PortRangeLists;

/// <summary>DescribePortRangeListEntries: the entries alone, a flat array.</summary>
internal sealed class DescribePortRangeListEntries() : DescribeList<PortRangeListId, PortRangeListRecord>(ListFamilies.PortRangeLists, l => new EcsObject
{
    { "Entries", l.Entries.Select(PortRangeListRequests.Entry).ToList() },
});
