using Palisade.Server.Actions.PrefixLists;

namespace Palisade.Server.Actions.PortRangeLists;

/// <summary>The caller's security groups with a rule naming the port-range list (a flat array; <c>ResourceType</c> <c>SecurityGroup</c>).</summary>
internal sealed class DescribePortRangeListAssociations() : DescribeListAssociations<PortRangeListId, PortRangeListRecord>(ListFamilies.PortRangeLists);
