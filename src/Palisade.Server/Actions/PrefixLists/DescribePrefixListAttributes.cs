namespace Palisade.Server.Actions.PrefixLists;

/// <summary>DescribePrefixListAttributes: a prefix list with its entries.</summary>
internal sealed class DescribePrefixListAttributes() : DescribeList<PrefixListId, PrefixListRecord>(ListFamilies.PrefixLists, PrefixListRequests.Attributes);
