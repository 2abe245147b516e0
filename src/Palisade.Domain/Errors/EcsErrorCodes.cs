namespace Palisade.Domain.Errors;

/// <summary>
/// Every ECS error code Palisade answers with, as the exact wire string. The member name is the
/// code without dots. Codes spelled wrongly by ECS itself (<c>InvalidSecurityGroupDiscription</c>,
/// <c>InvalidParamter</c>) are kept as ECS spells them: clients match on the string.
/// Source: ../shared/reference/ecs-api.md §1.8, §3, §4.
/// </summary>
public static class EcsErrorCodes
{
    // Gateway and common
    public const string MissingParameter = "MissingParameter";
    public const string MissingParameterRegionId = "MissingParameter.RegionId";
    public const string InvalidParameter = "InvalidParameter";
    public const string InvalidRegionIdNotFound = "InvalidRegionId.NotFound";
    public const string InternalError = "InternalError";
    public const string ServiceUnavailable = "ServiceUnavailable";
    public const string DryRunOperation = "DryRunOperation";
    public const string IdempotentParameterMismatch = "IdempotentParameterMismatch";

    // Identifiers
    public const string InvalidSecurityGroupIdMalformed = "InvalidSecurityGroupId.Malformed";
    public const string InvalidSecurityGroupIdNotFound = "InvalidSecurityGroupId.NotFound";
    public const string InvalidSecurityGroupNotFound = "InvalidSecurityGroup.NotFound";
    public const string InvalidInstanceIdMalformed = "InvalidInstanceId.Malformed";
    public const string InvalidInstanceIdNotFound = "InvalidInstanceId.NotFound";
    public const string InvalidVpcIdNotFound = "InvalidVpcId.NotFound";
    public const string InvalidVSwitchIdNotFound = "InvalidVSwitchId.NotFound";
    public const string InvalidSecurityGroupRuleIdNotFound = "InvalidSecurityGroupRuleId.NotFound";
    public const string InvalidParamSecurityGroupRuleId = "InvalidParam.SecurityGroupRuleId";

    // Group attributes
    public const string InvalidSecurityGroupNameMalformed = "InvalidSecurityGroupName.Malformed";
    public const string InvalidSecurityGroupDiscriptionMalformed = "InvalidSecurityGroupDiscription.Malformed";
    public const string InvalidDescriptionMalformed = "InvalidDescription.Malformed";
    public const string InvalidParamsGroupType = "InvalidParams.GroupType";
    public const string InvalidParamsVpcIdGroupType = "InvalidParams.VpcIdGroupType";
    public const string InvalidParameterSecurityGroupType = "InvalidParameter.SecurityGroupType";
    public const string InvalidPolicyMalformed = "InvalidPolicy.Malformed";
    public const string InvalidParameterInnerAccessPolicy = "InvalidParameter.InnerAccessPolicy";

    // Tags
    public const string InvalidTagKeyMalformed = "InvalidTagKey.Malformed";
    public const string InvalidTagValueMalformed = "InvalidTagValue.Malformed";
    public const string DuplicateTagKey = "Duplicate.TagKey";
    public const string QuotaExceedTags = "QuotaExceed.Tags";

    // Rule fields
    public const string OperationDenied = "OperationDenied";
    public const string InvalidIpProtocolMalformed = "InvalidIpProtocol.Malformed";
    public const string InvalidIpProtocolValueNotSupported = "InvalidIpProtocol.ValueNotSupported";
    public const string InvalidParamPortRange = "InvalidParam.PortRange";
    public const string InvalidPortRangeMalformed = "InvalidPortRange.Malformed";
    public const string InvalidSourcePortRangeMalformed = "InvalidSourcePortRange.Malformed";
    public const string InvalidSourceCidrIpMalformed = "InvalidSourceCidrIp.Malformed";
    public const string InvalidDestCidrIpMalformed = "InvalidDestCidrIp.Malformed";
    public const string InvalidParamIpv6SourceCidrIp = "InvalidParam.Ipv6SourceCidrIp";
    public const string InvalidParamIpv6DestCidrIp = "InvalidParam.Ipv6DestCidrIp";
    public const string InvalidParamSourceIp = "InvalidParam.SourceIp";
    public const string InvalidParamDestIp = "InvalidParam.DestIp";
    public const string InvalidParamIpv4ProtocolConflictWithIpv6Address = "InvalidParam.Ipv4ProtocolConflictWithIpv6Address";
    public const string InvalidParamIpv6ProtocolConflictWithIpv4Address = "InvalidParam.Ipv6ProtocolConflictWithIpv4Address";
    public const string InvalidParameterConflict = "InvalidParameter.Conflict";
    public const string InvalidPriorityMalformed = "InvalidPriority.Malformed";
    public const string InvalidPriorityValueNotSupported = "InvalidPriority.ValueNotSupported";
    public const string InvalidNicTypeValueNotSupported = "InvalidNicType.ValueNotSupported";
    public const string InvalidSourceGroupIdMismatch = "InvalidSourceGroupId.Mismatch";
    public const string InvalidDestGroupIdMismatch = "InvalidDestGroupId.Mismatch";
    public const string MissingParameterSource = "MissingParameter.Source";
    public const string MissingParameterDest = "MissingParameter.Dest";
    public const string InvalidGroupAuthParameterOperationDenied = "InvalidGroupAuthParameter.OperationDenied";
    public const string NotSupportedClassicNetworkPrefixList = "NotSupported.ClassicNetworkPrefixList";
    public const string InvalidParamPrefixListAddressFamilyMismatch = "InvalidParam.PrefixListAddressFamilyMismatch";
    public const string InvalidPrefixListIdNotFound = "InvalidPrefixListId.NotFound";
    public const string InvalidParamProtocolNotSupportPortRangeList = "InvalidParam.ProtocolNotSupportPortRangeList";
    public const string InvalidPortRangeListIdNotFound = "InvalidPortRangeListId.NotFound";
    public const string InvalidParamDuplicatePermissions = "InvalidParam.DuplicatePermissions";
    public const string InvalidParamPermissions = "InvalidParam.Permissions";
    public const string InvalidParamterConflict = "InvalidParamter.Conflict";
    public const string InvalidSecurityGroupIsSame = "InvalidSecurityGroup.IsSame";
    public const string InvalidSourceGroupIdNotFound = "InvalidSourceGroupId.NotFound";
    public const string InvalidDestGroupIdNotFound = "InvalidDestGroupId.NotFound";
    public const string InvalidNetworkTypeMismatch = "InvalidNetworkType.Mismatch";
    public const string InvalidSecurityGroupInvalidNetworkType = "InvalidSecurityGroup.InvalidNetworkType";

    // Limits
    public const string AuthorizationLimitExceed = "AuthorizationLimitExceed";
    public const string AuthorizedGroupRuleLimitExceed = "AuthorizedGroupRule.LimitExceed";
    public const string AclLimitExceed = "AclLimitExceed";
    public const string QuotaExceedSecurityGroup = "QuotaExceed.SecurityGroup";
    public const string InstanceSecurityGroupLimitExceeded = "InstanceSecurityGroupLimitExceeded";
    public const string SecurityGroupInstanceLimitExceeded = "SecurityGroupInstanceLimitExceeded";

    // Membership
    public const string InvalidInstanceIdAlreadyExists = "InvalidInstanceId.AlreadyExists";
    public const string InvalidSecurityGroupAssociationNotFound = "InvalidSecurityGroupAssociation.NotFound";
    public const string InstanceLastSecurityGroup = "InstanceLastSecurityGroup";
    public const string InvalidInstanceIdMismatch = "InvalidInstanceId.Mismatch";
    public const string InvalidOperationMultiGroupType = "InvalidOperation.MultiGroupType";
    public const string IncorrectInstanceStatus = "IncorrectInstanceStatus";
    public const string DependencyViolation = "DependencyViolation";
}
