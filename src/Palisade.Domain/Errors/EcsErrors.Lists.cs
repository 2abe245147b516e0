using static Palisade.Domain.Errors.EcsErrorCodes;

namespace Palisade.Domain.Errors;

// Prefix lists and port-range lists (issue 16). The codes and messages are ECS's where its API
// pages list them (docs/compat.md cites each); where they list none, InvalidParameter names the field.
public static partial class EcsErrors
{
    public static EcsError PrefixListHasAssociations() =>
        E(400, NotAllowedAssociationExist, "The specified prefix list has associated resources.");
    public static EcsError PrefixListQuota(int limit) =>
        E(400, InvalidOperationMaxCountExceed, $"The number of prefix lists in the current account has exceeded quota ({limit} per region).");
    public static EcsError PrefixListAssociationLimit(string id, int limit) =>
        E(400, LimitExceedPrefixListAssociationResource, $"The prefix list '{Truncate(id)}' is used by {limit} security groups, its limit.");
    public static EcsError PrefixListEntryMalformed(string field, string value, bool isV6) =>
        ParameterInvalid(field, $"'{Truncate(value)}' is not an {(isV6 ? "IPv6" : "IPv4")} CIDR block in standard form (no host bits set, such as {(isV6 ? "2001:db8::/32" : "10.0.0.0/8")}), as the prefix list's AddressFamily requires.");
    public static EcsError PrefixListEntryDuplicated(string field, string value) =>
        ParameterInvalid(field, $"the CIDR block '{Truncate(value)}' is given twice (or both added and removed).");
    public static EcsError PrefixListEntryMissing(string field, string value) =>
        ParameterInvalid(field, $"the prefix list has no entry '{Truncate(value)}' to remove.");
    public static EcsError PrefixListTooManyEntries(int count, int max) =>
        ParameterInvalid("Entry", $"the prefix list would hold {count} entries, more than its MaxEntries ({max}).");

    public static EcsError PortRangeListHasAssociations() =>
        E(400, InvalidPortRangeListIdAssociationExist, "The specified port range list has association resources.");
    public static EcsError PortRangeListQuota(int limit) =>
        E(400, InvalidOperationMaxCountExceed, $"The number of port range list in the current account has exceeded quota ({limit} per region).");
    public static EcsError PortRangeListName(string value) =>
        E(400, InvalidParameterPortRangeListName, $"The specified parameter PortRangeListName '{Truncate(value)}' is not valid: 2 to 128 characters, a letter first, then letters, digits, ':', '_', '.', '-'.");
    public static EcsError PortRangeListEntryMalformed(string value) =>
        E(400, InvalidParameterPortRange, $"The specified parameter PortRange '{Truncate(value)}' is not valid. It should be two integers less than 65535 in specified format.");
    public static EcsError PortRangeListEntryDuplicated(string value) =>
        E(400, InvalidParameterPortRangeDuplicated, $"The specified PortRange '{Truncate(value)}' is duplicated.");
    public static EcsError PortRangeListEntryMissing(string field, string value) =>
        ParameterInvalid(field, $"the port range list has no entry '{Truncate(value)}' to remove.");
    public static EcsError PortRangeListTooManyEntries(int count, int max) =>
        E(400, InvalidOperationEntryCountExceedMaxEntries, $"The number of entries in the port list exceeds MaxEntries: it would hold {count}, at most {max}.");
    public static EcsError ListMaxEntriesInvalid(int max) =>
        E(400, InvalidOperationMaxEntriesCountExceed, $"The specified MaxEntries exceeded the upper limit: it must be from 1 to {max}.");
    public static EcsError ListDescriptionMalformed(string value) =>
        E(400, InvalidDescriptionMalformed, $"The specifid Description '{Truncate(value)}' is not valid: 2 to 256 characters, not starting with http:// or https://.");
}
