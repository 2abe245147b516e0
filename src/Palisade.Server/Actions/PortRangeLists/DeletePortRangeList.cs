using Palisade.Server.Actions.PrefixLists;

namespace Palisade.Server.Actions.PortRangeLists;

/// <summary>DeletePortRangeList: refused while a rule names the list (<c>InvalidPortRangeListId.AssociationExist</c>).</summary>
internal sealed class DeletePortRangeList() : DeleteList<PortRangeListId, PortRangeListRecord>(ListFamilies.PortRangeLists);
