namespace Palisade.Domain.Errors;

/// <summary>
/// Every ECS error code Palisade answers with, as the exact wire string. The member name is the
/// code without dots. Codes spelled wrongly by ECS itself (<c>InvalidSecurityGroupDiscription</c>,
/// <c>InvalidParamter</c>) are kept as ECS spells them: clients match on the string.
/// Source: ../shared/reference/ecs-api.md §1.8, §3, §4.
/// </summary>
public static partial class EcsErrorCodes
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

    // Signatures and access keys (ecs-api.md §1.3, §1.4, §1.8)
    public const string SignatureDoesNotMatch = "SignatureDoesNotMatch";
    public const string IncompleteSignature = "IncompleteSignature";
    public const string InvalidTimeStampExpired = "InvalidTimeStamp.Expired";
    public const string InvalidTimeStampFormat = "InvalidTimeStamp.Format";
    public const string SignatureNonceUsed = "SignatureNonceUsed";
    public const string InvalidAccessKeyIdNotFound = "InvalidAccessKeyId.NotFound";
    public const string InvalidAccessKeyIdInactive = "InvalidAccessKeyId.Inactive";
    public const string InvalidActionNotFound = "InvalidAction.NotFound";
    public const string InvalidVersion = "InvalidVersion";
    public const string ForbiddenReadOnlyKey = "Forbidden.RAM";

    // AccessKeys managed over the API (RAM 2015-05-01's codes where RAM has one)
    public const string EntityNotExistUser = "EntityNotExist.User";
    public const string EntityNotExistUserAccessKey = "EntityNotExist.User.AccessKey";
    public const string OperationDeniedAccessKeyInUse = "OperationDenied.AccessKeyInUse";
    public const string LimitExceededUserAccessKey = "LimitExceeded.User.AccessKey";
    public const string ThrottlingAnalysis = "Throttling.Analysis";
    public const string QuotaExceedInstance = "QuotaExceed.Instance";

    // Listing and paging
    public const string NotSupportedPageNumberAndPageSize = "NotSupported.PageNumberAndPageSize";
    public const string InvalidParameterNextToken = "InValidParameter.NextToken";
    public const string InvalidParameterAttributeNotSupported = "InvalidParameter.AttributeNotSupported";

    // Rule changes
    public const string InvalidSecurityGroupRuleRuleNotExist = "InvalidSecurityGroupRule.RuleNotExist";
    public const string InvalidParamSecurityGroupRuleIdRepeated = "InvalidParam.SecurityGroupRuleIdRepeated";
    public const string SecurityGroupRuleNotFound = "SecurityGroupRule.NotFound";
    public const string InvalidOperationRuleDuplicate = "InvalidOperation.RuleDuplicate";
    public const string InvalidParamInvalidModifyRuleRequest = "InvalidParam.InvalidModifyRuleRequest";
    public const string InvalidOperationModifySgRuleEntityType = "InvalidOperation.ModifySgRuleEntityType";
    public const string InvalidOperationModifyNicType = "InvalidOperation.ModifyNicType";
    public const string InvalidOperationModifyPortRangeType = "InvalidOperation.ModifyPortRangeType";
    public const string InvalidParamProtocolAndPortRangeMismatch = "InvalidParam.ProtocolAndPortRangeMismatch";

    // Instances
    public const string InvalidVSwitchIdNecessary = "InvalidVSwitchId.Necessary";
    public const string InvalidParameterMismatch = "InvalidParameter.Mismatch";
    public const string InvalidPrivateIpAddress = "InvalidPrivateIpAddress";
    public const string InvalidPrivateIpAddressDuplicated = "InvalidPrivateIpAddress.Duplicated";
    public const string InvalidInstanceTypeValueNotSupported = "InvalidInstanceType.ValueNotSupported";
    public const string InvalidImageIdNotFound = "InvalidImageId.NotFound";
    public const string InvalidAmountMalformed = "InvalidMaxAmount.Malformed";
    public const string InvalidZoneIdNotFound = "InvalidZoneId.NotFound";
    public const string InvalidInstanceNameMalformed = "InvalidInstanceName.Malformed";
    public const string EnterpriseGroupLimitedMultiGroupType = "EnterpriseGroupLimited.MutliGroupType";
    public const string SecurityGroupInstanceLimitExceed = "SecurityGroupInstanceLimitExceed";
    public const string InvalidIpAddressNotEnough = "InvalidVSwitchId.IpNotEnough";

    // VPC (2016-04-28)
    public const string InvalidVpcNameMalformed = "InvalidVpcName.Malformed";
    public const string InvalidVSwitchNameMalformed = "InvalidVSwitchName.Malformed";
    public const string InvalidCidrBlockMalformed = "InvalidCidrBlock.Malformed";
    public const string InvalidCidrBlockOverlapped = "InvalidCidrBlock.Overlapped";
    public const string InvalidCidrBlockMaskLength = "InvalidCirdrBlock.MaskLength";
    public const string DependencyViolationVSwitch = "DependencyViolation.VSwitch";
    public const string DependencyViolationSecurityGroup = "DependencyViolation.SecurityGroup";
    public const string DependencyViolationInstance = "DependencyViolation.Instance";
    public const string QuotaExceededVpc = "QuotaExceeded.Vpc";
    public const string QuotaExceededVSwitch = "QuotaExceeded.VSwitch";

    // Tags (the tag service reports missing parameters as 404, ecs-api.md §3.12)
    public const string NumberExceedResourceIds = "NumberExceed.ResourceIds";
    public const string NumberExceedTags = "NumberExceed.Tags";
    public const string MissingParameterResourceIds = "MissingParameter.ResourceIds";
    public const string MissingParameterResourceType = "MissingParameter.ResourceType";
    public const string MissingParameterTags = "MissingParameter.Tags";
    public const string InvalidResourceIdNotFound = "InvalidResourceId.NotFound";
    public const string InvalidResourceTypeNotFound = "InvalidResourceType.NotFound";
    public const string InvalidParameterTagValue = "InvalidParameter.TagValue";

    // Throttling
    public const string ThrottlingUser = "Throttling.User";
    public const string Throttling = "Throttling";

    /// <summary>Whether a code refuses a call for its rate or the server's load (<c>Throttling</c>, <c>Throttling.*</c>): the client should retry later.</summary>
    public static bool IsThrottling(string code) => code == Throttling || code.StartsWith(Throttling + ".", StringComparison.Ordinal);
}
