namespace Palisade.Domain.Errors;

// Network interfaces (issue 16). Codes and statuses from the ECS API reference of each action
// (CreateNetworkInterface, AttachNetworkInterface doc-detail/58515, DetachNetworkInterface,
// DeleteNetworkInterface, AssignPrivateIpAddresses, UnassignPrivateIpAddresses doc-detail/85919,
// JoinSecurityGroup); each is listed with its source in docs/compat.md.
public static partial class EcsErrorCodes
{
    public const string InvalidEniIdNotFound = "InvalidEniId.NotFound";
    public const string InvalidOperationInvalidEniState = "InvalidOperation.InvalidEniState";
    public const string InvalidOperationInvalidEcsState = "InvalidOperation.InvalidEcsState";
    public const string InvalidOperationDetachPrimaryEniNotAllowed = "InvalidOperation.DetachPrimaryEniNotAllowed";
    public const string InvalidOperationVpcMismatch = "InvalidOperation.VpcMismatch";
    public const string InvalidOperationAvailabilityZoneMismatch = "InvalidOperation.AvailabilityZoneMismatch";
    public const string InvalidOperationInvalidEniType = "InvalidOperation.InvalidEniType";
    public const string EniPerInstanceLimitExceeded = "EniPerInstanceLimitExceeded";
    public const string MaxEniCountExceeded = "MaxEniCountExceeded";
    public const string InvalidParamEniIdAndInstanceIdConflict = "InvalidParam.EniIdAndInstanceId.Conflict";
    public const string QuotaExceedPrivateIpAddress = "QuotaExceed.PrivateIpAddress";
    public const string InvalidPrivateIpAddressNotFound = "InvalidPrivateIpAddress.NotFound";
    public const string InvalidNetworkInterfaceNameMalformed = "InvalidNetworkInterfaceName.Malformed";
    public const string InvalidSecurityGroupIdNotVpc = "InvalidSecurityGroupId.NotVpc";
    public const string InvalidParamsIpv6 = "InvalidParams.Ipv6";
}

public static partial class EcsErrors
{
    public static EcsError NetworkInterfaceNotFound(string id) =>
        E(404, EcsErrorCodes.InvalidEniIdNotFound, $"The specified NetworkInterfaceId '{Truncate(id)}' does not exist.");
    public static EcsError EniStateWrong(string id, string status, string needed) =>
        E(403, EcsErrorCodes.InvalidOperationInvalidEniState, $"The network interface {Truncate(id)} is {status}; the operation needs it {needed}.");
    public static EcsError EcsStateWrong(string status) =>
        E(403, EcsErrorCodes.InvalidOperationInvalidEcsState, $"The instance is {status}; a network interface is attached to or detached from an instance that is Running or Stopped.");
    public static EcsError DetachPrimaryEni() =>
        E(403, EcsErrorCodes.InvalidOperationDetachPrimaryEniNotAllowed, "The primary network interface of an instance cannot be detached.");
    public static EcsError DeletePrimaryEni() =>
        E(403, EcsErrorCodes.InvalidOperationInvalidEniType, "The primary network interface of an instance is deleted with its instance, never on its own.");
    public static EcsError EniVpcMismatch() =>
        E(403, EcsErrorCodes.InvalidOperationVpcMismatch, "The network interface and the instance or security group are not in the same VPC.");
    public static EcsError EniZoneMismatch(string eniZone, string instanceZone) =>
        E(403, EcsErrorCodes.InvalidOperationAvailabilityZoneMismatch, $"The network interface is in zone {Truncate(eniZone)} and the instance in zone {Truncate(instanceZone)}: they must be in the same zone.");
    public static EcsError EniQuota(int limit) =>
        E(403, EcsErrorCodes.MaxEniCountExceeded, $"The number of ENI exceeds the limit per region: the account holds {limit} network interfaces in this region, its limit.");
    public static EcsError EniPerInstanceLimit(int limit) =>
        E(403, EcsErrorCodes.EniPerInstanceLimitExceeded, $"The instance has {limit} network interfaces already (its primary one included), its limit.");
    public static EcsError EniIdAndInstanceIdConflict() =>
        E(403, EcsErrorCodes.InvalidParamEniIdAndInstanceIdConflict, "Give InstanceId or NetworkInterfaceId, not both.");
    public static EcsError EniIdOrInstanceIdMissing() =>
        E(400, EcsErrorCodes.MissingParameter, "The input parameter \"InstanceId\" or \"NetworkInterfaceId\" that is mandatory for processing this request is not supplied.");
    public static EcsError PrivateIpQuota(int limit) =>
        E(403, EcsErrorCodes.QuotaExceedPrivateIpAddress, $"A network interface holds at most {limit} private IPv4 addresses, its primary one included.");
    public static EcsError PrivateIpNotOnEni(string ip) =>
        E(400, EcsErrorCodes.InvalidPrivateIpAddressNotFound, $"The private IP address '{Truncate(ip)}' is not a secondary address of the network interface.");
    public static EcsError NetworkInterfaceNameMalformed(string value) =>
        E(400, EcsErrorCodes.InvalidNetworkInterfaceNameMalformed, $"The specified NetworkInterfaceName '{Truncate(value)}' is not valid: 2 to 128 characters, starting with a letter (or a Chinese character), not with http:// or https://, then letters, digits, '.', '_', '-' and ':'.");
    public static EcsError GroupNotVpc(string id) =>
        E(403, EcsErrorCodes.InvalidSecurityGroupIdNotVpc, $"The security group '{Truncate(id)}' is a classic network group; a network interface joins VPC groups only.");
    public static EcsError EniIpv6NotAvailable() =>
        E(400, EcsErrorCodes.InvalidParamsIpv6, "IPv6 addresses come from the vSwitch's IPv6 block, and Palisade's vSwitches have none: leave Ipv6Address.N and Ipv6AddressCount out.");
}
