namespace Palisade.Server.Actions.PrefixLists;

/// <summary>The caller's security groups with a rule naming the prefix list (<c>ResourceType</c> <c>securitygroup</c>).</summary>
internal sealed class DescribePrefixListAssociations() : DescribeListAssociations<PrefixListId, PrefixListRecord>(ListFamilies.PrefixLists);
