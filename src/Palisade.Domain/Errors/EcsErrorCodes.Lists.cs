namespace Palisade.Domain.Errors;

// Prefix lists and port-range lists (issue 16). Sources in docs/compat.md, "Prefix lists and port-range lists".
public static partial class EcsErrorCodes
{
    public const string NotAllowedAssociationExist = "NotAllowed.AssociationExist";
    public const string InvalidPortRangeListIdAssociationExist = "InvalidPortRangeListId.AssociationExist";
    public const string InvalidOperationMaxEntriesCountExceed = "InvalidOperation.MaxEntriesCountExceed";
    public const string InvalidOperationEntryCountExceedMaxEntries = "InvalidOperation.EntryCountExceedMaxEntries";
    public const string InvalidOperationMaxCountExceed = "InvalidOperation.MaxCountExceed";
    public const string InvalidParameterPortRangeDuplicated = "InvalidParameter.PortRangeDuplicated";
    public const string InvalidParameterPortRangeListName = "InvalidParameter.PortRangeListName";
    public const string InvalidParameterPortRange = "InvalidParameter.PortRange";
    public const string LimitExceedPrefixListAssociationResource = "LimitExceed.PrefixListAssociationResource";
}
