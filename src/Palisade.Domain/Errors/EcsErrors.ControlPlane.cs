using static Palisade.Domain.Errors.EcsErrorCodes;

namespace Palisade.Domain.Errors;

/// <summary>The errors of the control plane: the gateway, accounts, and the resource actions.</summary>
public static partial class EcsErrors
{
    private static EcsError E(int status, string code, string message) => new(code, status, message);

    // Gateway
    public static EcsError MissingAction() => Missing("Action");
    public static EcsError ActionNotFound(string action) =>
        E(404, InvalidActionNotFound, $"Specified api is not found, please check your url and method. (Action '{Truncate(action)}')");
    public static EcsError VersionNotSupported(string version) =>
        E(400, InvalidVersion, $"Specified parameter Version '{Truncate(version)}' is not valid.");
    public static EcsError SignatureMismatch(string stringToSign) =>
        E(400, SignatureDoesNotMatch, $"Specified signature is not matched with our calculation. server string to sign is:{stringToSign}");
    public static EcsError SignatureIncomplete(string why) => E(400, IncompleteSignature, $"The request signature does not conform to Aliyun standards: {why}");
    public static EcsError TimestampExpired(string value) => E(400, InvalidTimeStampExpired, $"Specified time stamp or date value is expired. ('{Truncate(value)}')");
    public static EcsError TimestampFormat(string value) => E(400, InvalidTimeStampFormat, $"Specified time stamp or date value is not well formatted. ('{Truncate(value)}')");
    public static EcsError NonceUsed() => E(400, SignatureNonceUsed, "Specified signature nonce was used already.");
    public static EcsError AccessKeyNotFound() => E(404, InvalidAccessKeyIdNotFound, "Specified access key is not found.");
    public static EcsError AccessKeyInactive() => E(400, InvalidAccessKeyIdInactive, "Specified access key is disabled.");
    public static EcsError ReadOnlyKey(string action) => E(403, ForbiddenReadOnlyKey, $"This AccessKey may only call Describe* and List* actions, not {action}.");
    public static EcsError UserNotFound(string name) =>
        E(404, EntityNotExistUser, $"The user '{Truncate(name)}' does not exist: Palisade has no RAM users; leave UserName out to manage the keys of the signing key's own account.");
    public static EcsError AccessKeyNotInAccount(string id) => E(404, EntityNotExistUserAccessKey, $"The user access key '{Truncate(id)}' does not exist.");
    public static EcsError AccessKeyInUse(string id) =>
        E(403, OperationDeniedAccessKeyInUse, $"The AccessKey '{Truncate(id)}' signs this request: a key cannot disable or delete itself. Sign with another key of the account.");
    public static EcsError AccessKeyQuota(int limit) =>
        E(409, LimitExceededUserAccessKey, $"The account holds {limit} AccessKeys already, its limit: delete one it no longer uses before creating another.");
    public static EcsError AnalysisBudgetSpent() =>
        E(400, ThrottlingAnalysis, "Request was denied due to user flow control: the account has spent its budget of analysis work for now; retry later.");
    public static EcsError AnalysisEstimateOverBudget(double estimate, double left) =>
        E(400, ThrottlingAnalysis, FormattableString.Invariant($"Request was denied due to user flow control: this analysis is estimated at {estimate:F2} s of work and the account has {Math.Max(0, left):F2} s of its analysis budget left; retry later."));
    public static EcsError AnalysisQueueFull() =>
        E(400, EcsErrorCodes.Throttling, "Request was denied due to request throttling: the server is running and queuing as many analyses as it holds; retry later.");
    public static EcsError InstanceQuota(int limit) => E(403, QuotaExceedInstance, $"The account may hold at most {limit} instances in this region.");
    public static EcsError DryRunPassed() => E(400, DryRunOperation, "Request validation has been passed with DryRun flag set.");
    public static EcsError IdempotentMismatch() =>
        E(400, IdempotentParameterMismatch, "The specified parameters are different from before with the same ClientToken.");
    public static EcsError Internal() => E(500, InternalError, "The request processing has failed due to some unknown error.");
    public static EcsError Unavailable() => E(503, ServiceUnavailable, "The request has failed due to a temporary failure of the server.");

    /// <summary>The store refuses writes for want of space (a full disk, or its size cap); reads still work.</summary>
    public static EcsError StoreFull() =>
        E(503, ServiceUnavailable, "The request has failed due to a temporary failure of the server: its storage is full, so changes are refused until space is freed; reads still work.");
    public static EcsError Throttled() => E(400, ThrottlingUser, "Request was denied due to user flow control.");
    public static EcsError RegionNotFound(string region) => E(404, InvalidRegionIdNotFound, $"The specified RegionId '{Truncate(region)}' does not exist.");
    public static EcsError ParameterInvalid(string parameter, string message) => E(400, InvalidParameter, $"The specified parameter \"{parameter}\" is not valid: {message}");

    // Paging
    public static EcsError PageNumberAndNextToken() =>
        E(400, NotSupportedPageNumberAndPageSize, "NextToken and MaxResults cannot be used together with PageNumber and PageSize.");
    public static EcsError NextTokenInvalid(string value) => E(400, InvalidParameterNextToken, $"The specified NextToken '{Truncate(value)}' is not valid.");

    // Security groups
    public static EcsError GroupNameMalformed(string value) =>
        E(400, InvalidSecurityGroupNameMalformed, $"The specified SecurityGroupName '{Truncate(value)}' is not valid: 2 to 128 characters, starting with a letter, holding letters, digits, ':', '_', '.' and '-', not starting with http:// or https://.");
    public static EcsError GroupDescriptionMalformed(string value) =>
        E(400, InvalidSecurityGroupDiscriptionMalformed, $"The specified Description is not valid: 2 to 256 characters, not starting with http:// or https:// ('{Truncate(value)}').");
    public static EcsError GroupTypeInvalid(string value) => E(400, InvalidParamsGroupType, $"The specified SecurityGroupType '{Truncate(value)}' is not valid; use normal or enterprise.");
    public static EcsError EnterpriseNeedsVpc() => E(400, InvalidParamsVpcIdGroupType, "An enterprise (advanced) security group must be created in a VPC.");
    public static EcsError GroupQuotaExceeded(int limit) => E(403, QuotaExceedSecurityGroup, $"The maximum number of security groups in this region is {limit}.");
    public static EcsError VpcNotFound(string id) => E(404, InvalidVpcIdNotFound, $"Specified VPC '{Truncate(id)}' does not exist.");
    public static EcsError GroupNotFoundOnDelete(string id) => E(404, InvalidSecurityGroupNotFound, $"The specified security group '{Truncate(id)}' is not found.");
    public static EcsError GroupHasMembers() => E(403, DependencyViolation, "There is still instance(s) in the specified security group.");
    public static EcsError GroupIsReferenced(string byGroup) => E(403, DependencyViolation, $"The specified security group has been authorized in another one ({byGroup}).");
    public static EcsError InnerAccessOfEnterprise() =>
        E(404, InvalidParameterInnerAccessPolicy, "The InnerAccessPolicy attribute of enterprise level security group can't be modified.");
    public static EcsError GroupTypeFilterInvalid(string value) => E(400, InvalidParameterSecurityGroupType, $"The specified SecurityGroupType '{Truncate(value)}' is not valid.");

    // Rules
    public static EcsError RuleLimit(int limit) => E(403, AuthorizationLimitExceed, $"The limit of authorization records in the security group reaches ({limit}).");
    public static EcsError GroupRuleLimit(int limit) => E(400, AuthorizedGroupRuleLimitExceed, $"A basic security group may hold at most {limit} rules that reference security groups.");
    public static EcsError DuplicatePermissions(int first, int second) => E(400, InvalidParamDuplicatePermissions, $"Permissions.{first} and Permissions.{second} are the same rule.");
    public static EcsError PermissionsMixed() => E(400, InvalidParamPermissions, "The Permissions.N parameters cannot be used together with the top-level rule parameters.");
    public static EcsError PeerGroupNotFound(bool ingress, string id) => ingress
        ? E(404, InvalidSourceGroupIdNotFound, $"The SourceGroupId '{Truncate(id)}' provided does not exist in our records.")
        : E(404, InvalidDestGroupIdNotFound, $"The DestGroupId '{Truncate(id)}' provided does not exist in our records.");
    public static EcsError PeerGroupOtherVpc(bool ingress) => ingress
        ? E(400, InvalidSourceGroupIdMismatch, "Specified security group and source group are not in the same VPC.")
        : E(400, InvalidDestGroupIdMismatch, "Specified security group and destination group are not in the same VPC.");
    public static EcsError PeerGroupOtherNetworkType() => E(403, InvalidNetworkTypeMismatch, "The specified security group and the peer group are of different network types.");
    public static EcsError SelfReference(bool ingress) => ingress
        ? E(403, InvalidParamterConflict, "The specified SecurityGroupId should be different from the SourceGroupId.")
        : E(403, InvalidSecurityGroupIsSame, "The specified SecurityGroupId should be different from the DestGroupId.");
    public static EcsError PrefixListNotFound(string id) => E(404, InvalidPrefixListIdNotFound, $"The specified PrefixListId '{Truncate(id)}' does not exist.");
    public static EcsError PortRangeListNotFound(string id) => E(404, InvalidPortRangeListIdNotFound, $"The specified PortRangeListId '{Truncate(id)}' does not exist.");
    public static EcsError RuleIdUnknown(bool ingress, string id) => ingress
        ? E(400, InvalidParamSecurityGroupRuleId, $"The specified SecurityGroupRuleId '{Truncate(id)}' does not exist in this group.")
        : E(400, InvalidSecurityGroupRuleRuleNotExist, $"The specified SecurityGroupRuleId '{Truncate(id)}' does not exist in this group.");
    public static EcsError RuleIdRepeated(string id) => E(400, InvalidParamSecurityGroupRuleIdRepeated, $"The SecurityGroupRuleId '{Truncate(id)}' is given more than once.");
    public static EcsError RuleNotFoundById(string id) => E(404, InvalidSecurityGroupRuleIdNotFound, $"The specified SecurityGroupRuleId '{Truncate(id)}' is not exists.");
    public static EcsError RuleNotFoundByAttributes() => E(404, SecurityGroupRuleNotFound, "The target security group rule not exist.");
    public static EcsError RuleMatchesSeveral(IReadOnlyList<string> ids) => E(400, InvalidParamInvalidModifyRuleRequest,
        $"The rule's attributes match {ids.Count} rules ({string.Join(", ", ids.Take(5))}{(ids.Count > 5 ? ", …" : "")}); give SecurityGroupRuleId, or the Policy, Priority and NicType that tell them apart.");
    public static EcsError RuleWouldDuplicate(string other) => E(400, InvalidOperationRuleDuplicate, $"The modified rule would be the same as rule {other}.");
    public static EcsError ModifyPeerKind() => E(400, InvalidOperationModifySgRuleEntityType, "The kind of a rule's peer (IPv4 block, IPv6 block, group, prefix list) cannot be changed.");
    public static EcsError ModifyNicType() => E(400, InvalidOperationModifyNicType, "The NicType of a rule cannot be changed.");
    public static EcsError ModifyPortRangeKind() => E(400, InvalidOperationModifyPortRangeType, "A rule cannot switch between a port range and a port range list.");
    public static EcsError RevokeNeedsOneForm() => E(400, InvalidParamPermissions, "Give either SecurityGroupRuleId.N or the rule's attributes (Permissions.N or the top-level fields), not both.");

    // Instances and membership
    public static EcsError InstanceGroupLimit(int limit) => E(400, InstanceSecurityGroupLimitExceeded, $"The instance can be in at most {limit} security groups.");
    public static EcsError GroupCapacity(string what) => E(403, SecurityGroupInstanceLimitExceeded, $"The security group is full ({what}).");
    public static EcsError NicRuleLimit(int rules, int limit) => E(403, AclLimitExceed, $"The instance would be under {rules} rules; at most {limit} rules may apply to one NIC.");
    public static EcsError AlreadyMember() => E(403, InvalidInstanceIdAlreadyExists, "The instance is already in the specified security group.");
    public static EcsError NotMember() => E(400, InvalidSecurityGroupAssociationNotFound, "The instance is not in the specified security group.");
    public static EcsError LastGroup() => E(403, InstanceLastSecurityGroup, "The specified security group is the last security group for the instance.");
    public static EcsError InstanceGroupVpcMismatch() => E(400, InvalidInstanceIdMismatch, "Specified instance and security group are not in the same VPC.");
    public static EcsError MixedGroupTypes() => E(400, InvalidOperationMultiGroupType, "An instance cannot be in basic and advanced security groups at the same time.");
    public static EcsError InstanceStatusWrong(string status, string needed) => E(403, IncorrectInstanceStatus, $"The current status of the resource ({status}) does not support this operation; it must be {needed}.");
    public static EcsError VSwitchNeeded() => E(400, InvalidVSwitchIdNecessary, "A VSwitchId is required when the security group is in a VPC.");
    public static EcsError GroupAndVSwitchMismatch() => E(400, InvalidParameterMismatch, "Specified security group and virtual switch are not in the same VPC.");
    public static EcsError VSwitchNotFound(string id) => E(404, InvalidVSwitchIdNotFound, $"The specified VSwitchId '{Truncate(id)}' does not exist.");
    public static EcsError PrivateIpInvalid(string ip) => E(400, InvalidPrivateIpAddress, $"The specified PrivateIpAddress '{Truncate(ip)}' is not a free address of the vSwitch.");
    public static EcsError PrivateIpTaken(string ip) => E(400, InvalidPrivateIpAddressDuplicated, $"The specified PrivateIpAddress '{Truncate(ip)}' is already in use.");
    public static EcsError NoAddressLeft() => E(400, InvalidIpAddressNotEnough, "The vSwitch has no free private address left.");
    public static EcsError AmountInvalid(string value, int max) => E(400, InvalidAmountMalformed, $"The specified Amount '{Truncate(value)}' is not valid; it must be 1 to {max}.");
    public static EcsError DeleteRunningInstance() => E(403, IncorrectInstanceStatus, "The instance is Running; stop it first or set Force=true.");

    public static EcsError MixedGroupTypesAtLaunch() => E(403, EnterpriseGroupLimitedMultiGroupType, "An instance cannot be in basic and advanced security groups at the same time.");
    public static EcsError GroupCapacityAtLaunch(string what) => E(403, SecurityGroupInstanceLimitExceed, $"The security group is full ({what}).");
    public static EcsError InstanceNameMalformed(string value) => E(400, InvalidInstanceNameMalformed, $"The specified InstanceName '{Truncate(value)}' is not valid (at most 128 characters, no control characters, not starting with http:// or https://).");
    public static EcsError ModifyProtocolPortMismatch(string message) => E(400, InvalidParamProtocolAndPortRangeMismatch, message);
    public static EcsError AttributeNotSupported(string value) => E(400, InvalidParameterAttributeNotSupported, $"The specified Attribute '{Truncate(value)}' is not supported.");

    // VPC
    public static EcsError VpcCidrInvalid(string value) => E(400, InvalidCidrBlockMalformed, $"Specified CIDR block '{Truncate(value)}' is not valid.");
    public static EcsError VSwitchCidrOutsideVpc(string value) => E(400, InvalidParameter, $"Specified CIDR block '{Truncate(value)}' is not valid in VPC.");
    public static EcsError VSwitchCidrMask(string value) => E(400, InvalidCidrBlockMaskLength, $"The mask of CIDR block '{Truncate(value)}' must be from /16 to /29.");
    public static EcsError VSwitchCidrOverlap(string value, string other) => E(400, InvalidCidrBlockOverlapped, $"Specified CIDR block '{Truncate(value)}' overlaps vSwitch {other}.");
    public static EcsError VpcNameMalformed(string value) => E(400, InvalidVpcNameMalformed, $"The specified VpcName '{Truncate(value)}' is not valid (1 to 128 characters, not starting with http:// or https://).");
    public static EcsError VSwitchNameMalformed(string value) => E(400, InvalidVSwitchNameMalformed, $"The specified VSwitchName '{Truncate(value)}' is not valid (1 to 128 characters, not starting with http:// or https://).");
    public static EcsError DescriptionInvalid(string value) => E(400, InvalidDescriptionMalformed, $"The specified Description is not valid (1 to 256 characters, not starting with http:// or https://): '{Truncate(value)}'.");
    public static EcsError VpcHasVSwitches() => E(400, DependencyViolationVSwitch, "Specified object has dependent resources VSwitch.");
    public static EcsError VpcHasGroups() => E(400, DependencyViolationSecurityGroup, "Specified object has dependent resources SecurityGroup.");
    public static EcsError VSwitchHasInstances() => E(400, DependencyViolation, "Specified object has dependent resources.");
    public static EcsError VpcQuota(int limit) => E(400, QuotaExceededVpc, $"The maximum number of VPCs in this region is {limit}.");
    public static EcsError VSwitchQuota(int limit) => E(400, QuotaExceededVSwitch, $"The maximum number of vSwitches in a VPC is {limit}.");
    public static EcsError ZoneNotFound(string zone) => E(404, InvalidZoneIdNotFound, $"The specified ZoneId '{Truncate(zone)}' does not exist in this region.");

    // Tags
    public static EcsError TagKeyMalformed(string key) => E(400, InvalidTagKeyMalformed, $"The specified Tag key '{Truncate(key)}' is not valid: 1 to 128 characters, not starting with aliyun or acs:, without http:// or https://.");
    public static EcsError TagValueMalformed(string value) => E(400, InvalidTagValueMalformed, $"The specified Tag value '{Truncate(value)}' is not valid: at most 128 characters, without http:// or https://.");
    public static EcsError TagKeyDuplicated(string key) => E(400, DuplicateTagKey, $"The Tag key '{Truncate(key)}' is given more than once.");
    public static EcsError TagQuota(int limit) => E(403, QuotaExceedTags, $"A resource can have at most {limit} tags.");
    public static EcsError TooManyResourceIds(int limit) => E(400, NumberExceedResourceIds, $"The number of ResourceId.N exceeds the limit. Valid : {limit}");
    public static EcsError TooManyTags(int limit) => E(400, NumberExceedTags, $"The number of tags exceeds the limit. Valid : {limit}");
    public static EcsError ResourceIdsMissing() => E(404, MissingParameterResourceIds, "The input parameter ResourceId.N that is mandatory for processing this request is not supplied.");
    public static EcsError ResourceTypeMissing() => E(404, MissingParameterResourceType, "The input parameter ResourceType that is mandatory for processing this request is not supplied.");
    public static EcsError TagsMissing() => E(404, MissingParameterTags, "The input parameter Tag.N that is mandatory for processing this request is not supplied.");
    public static EcsError ResourceNotFound(string id) => E(404, InvalidResourceIdNotFound, $"The specified resource '{Truncate(id)}' does not exist.");
    public static EcsError ResourceTypeNotFound(string type) => E(404, InvalidResourceTypeNotFound, $"The specified ResourceType '{Truncate(type)}' is not supported; use securitygroup, instance or eni.");
    public static EcsError TagValueWithoutKey(int n) => E(400, InvalidParameterTagValue, $"Tag.{n}.Value is given without Tag.{n}.Key.");
}
