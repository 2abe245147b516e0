namespace Palisade.Domain.Errors;

// Public and elastic addresses (issue 16). AllocatePublicIpAddress: ECS API reference
// (doc-detail/25544); the EIP actions: VPC API 2016-04-28 reference. Sources in docs/compat.md.
public static partial class EcsErrorCodes
{
    public const string InsufficientPublicIp = "InsufficientPublicIp";
    public const string InvalidAllocationIdNotFound = "InvalidAllocationId.NotFound";
    public const string IncorrectEipStatus = "IncorrectEipStatus";
    public const string InvalidAssociationDuplicated = "InvalidAssociation.Duplicated";
    public const string InvalidInternetChargeTypeValueNotSupported = "InvalidInternetChargeType.ValueNotSupported";
    public const string InvalidBandwidthMalformed = "InvalidBandwidth.Malformed";
    public const string InvalidNameMalformed = "InvalidName.Malformed";
    public const string QuotaExceededEip = "QuotaExceeded.Eip";
}

public static partial class EcsErrors
{
    public static EcsError PublicPoolExhausted() =>
        E(400, EcsErrorCodes.InsufficientPublicIp, "Ip address not found: the server's public address pool has no free address left (its operator can widen --public-pool).");
    public static EcsError PublicIpWithEip() =>
        E(400, EcsErrorCodes.OperationDenied, "Specified operation is denied as your instance is in VPC and has an EIP associated.");
    public static EcsError PublicIpClassic() =>
        E(400, EcsErrorCodes.OperationDenied, "A classic network instance has its internet address from its launch; AllocatePublicIpAddress gives one to a VPC instance.");
    public static EcsError EipNotFound(string id) =>
        E(404, EcsErrorCodes.InvalidAllocationIdNotFound, $"Specified allocation ID '{Truncate(id)}' is not found.");
    public static EcsError EipStatusWrong(string status, string needed) =>
        E(400, EcsErrorCodes.IncorrectEipStatus, $"The current status of the resource does not support this operation: the EIP is {status}, and must be {needed}.");
    public static EcsError EipTargetTaken(string targetId) =>
        E(400, EcsErrorCodes.InvalidAssociationDuplicated, $"Specified instance '{Truncate(targetId)}' already has a public IP address or an EIP.");
    public static EcsError EipTargetTypeInvalid(string value) =>
        E(400, EcsErrorCodes.InvalidInstanceTypeValueNotSupported, $"The specified InstanceType '{Truncate(value)}' is not supported; use EcsInstance or NetworkInterface.");
    public static EcsError EipChargeTypeInvalid(string value) =>
        E(400, EcsErrorCodes.InvalidInternetChargeTypeValueNotSupported, $"The specified InternetChargeType '{Truncate(value)}' is not PayByBandwidth or PayByTraffic.");
    public static EcsError EipBandwidthInvalid(string value) =>
        E(400, EcsErrorCodes.InvalidBandwidthMalformed, $"The specified Bandwidth '{Truncate(value)}' is not an integer from 1 to 500 (Mbit/s).");
    public static EcsError EipNameMalformed(string value) =>
        E(400, EcsErrorCodes.InvalidNameMalformed, $"The specified Name '{Truncate(value)}' is not valid: 1 to 128 characters, starting with a letter, not with http:// or https://.");
    public static EcsError EipQuota(int limit) =>
        E(400, EcsErrorCodes.QuotaExceededEip, $"The account holds {limit} EIPs in this region, its limit.");
}
