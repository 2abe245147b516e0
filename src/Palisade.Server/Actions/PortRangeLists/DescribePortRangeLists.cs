using Palisade.Server.Actions.PrefixLists;

namespace Palisade.Server.Actions.PortRangeLists;

/// <summary>DescribePortRangeLists: a flat <c>PortRangeLists</c> array (the action's V3-style answer), token paging.</summary>
internal sealed class DescribePortRangeLists() : DescribeLists<PortRangeListId, PortRangeListRecord>(ListFamilies.PortRangeLists);
