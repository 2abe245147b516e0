namespace Palisade.Server.Actions.PrefixLists;

/// <summary>DeletePrefixList: refused while a rule names the list (<c>NotAllowed.AssociationExist</c>).</summary>
internal sealed class DeletePrefixList() : DeleteList<PrefixListId, PrefixListRecord>(ListFamilies.PrefixLists);
