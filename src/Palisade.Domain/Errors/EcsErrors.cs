using static Palisade.Domain.Errors.EcsErrorCodes;

namespace Palisade.Domain.Errors;

/// <summary>
/// The catalogue: every error Palisade produces is made here, so the code, the HTTP status and
/// the wording stay together. Messages quote ECS where ECS documents one and always name the
/// offending value. Source: ../shared/reference/ecs-api.md §3–§4.
/// </summary>
public static partial class EcsErrors
{
    private static EcsError E400(string code, string message) => new(code, 400, message);
    private static EcsError E403(string code, string message) => new(code, 403, message);
    private static EcsError E404(string code, string message) => new(code, 404, message);

    public static EcsError MissingRegionId() =>
        E400(MissingParameterRegionId, "The input parameter RegionId that is mandatory for processing this request is not supplied.");

    public static EcsError Missing(string parameter) =>
        E400(MissingParameter, $"The input parameter \"{parameter}\" that is mandatory for processing this request is not supplied.");

    // Identifiers
    public static EcsError SecurityGroupIdMalformed(string? value) =>
        E400(InvalidSecurityGroupIdMalformed, $"The specified parameter SecurityGroupId '{value}' is not valid.");
    public static EcsError SecurityGroupNotFound(string id) =>
        E404(InvalidSecurityGroupIdNotFound, $"The specified SecurityGroupId '{id}' does not exist.");
    public static EcsError InstanceIdMalformed(string? value) =>
        E400(InvalidInstanceIdMalformed, $"The specified parameter InstanceId '{value}' is not valid.");
    public static EcsError InstanceNotFound(string id) =>
        E404(InvalidInstanceIdNotFound, $"The specified InstanceId '{id}' does not exist.");

    // Rule fields
    public static EcsError IpProtocolNotSupported(string? value) =>
        E400(InvalidIpProtocolValueNotSupported,
            $"The parameter IpProtocol must be specified with case insensitive TCP, UDP, ICMP, ICMPv6, GRE or All; got '{value}'.");
    public static EcsError PortRangeMissing() =>
        E400(InvalidPortRangeMalformed, "PortRange must set.");
    public static EcsError PortRangeSyntax(string value) =>
        E400(InvalidParamPortRange, $"The PortRange '{value}' should be two integers less than 65535 in ?/? format.");
    public static EcsError PortRangeInvalid(string value) =>
        E400(InvalidIpProtocolMalformed, $"The specified parameter PortRange '{value}' is not valid.");
    public static EcsError ProtocolPortRangeMismatch(string protocol, string portRange) =>
        E400(OperationDenied, $"The specified IpProtocol '{protocol}' and PortRange '{portRange}' do not match.");
    public static EcsError SourcePortRangeInvalid(string value) =>
        E400(InvalidSourcePortRangeMalformed, $"The specified parameter SourcePortRange '{value}' is not valid.");
    public static EcsError CidrMalformed(string field, string value) => field switch
    {
        "SourceCidrIp" => E400(InvalidSourceCidrIpMalformed, $"The specified parameter SourceCidrIp '{value}' is not valid."),
        "DestCidrIp" => E400(InvalidDestCidrIpMalformed, $"The specified parameter DestCidrIp '{value}' is not valid."),
        "Ipv6SourceCidrIp" => E400(InvalidParamIpv6SourceCidrIp, $"The specified parameter Ipv6SourceCidrIp '{value}' is not a valid IPv6 address or CIDR block."),
        "Ipv6DestCidrIp" => E400(InvalidParamIpv6DestCidrIp, $"The specified parameter Ipv6DestCidrIp '{value}' is not a valid IPv6 address or CIDR block."),
        _ => E400(InvalidParameter, $"The specified parameter {field} '{value}' is not valid."),
    };
    public static EcsError BothAddressFamilies(bool sourceSide) => sourceSide
        ? E400(InvalidParamSourceIp, "SourceCidrIp and Ipv6SourceCidrIp cannot both be specified.")
        : E400(InvalidParamDestIp, "DestCidrIp and Ipv6DestCidrIp cannot both be specified.");
    public static EcsError AddressFamilyMixed() =>
        E400(InvalidParameterConflict, "IPv4 and IPv6 addresses cannot be mixed in one rule.");
    public static EcsError Ipv4ProtocolWithIpv6Address(string protocol) =>
        E400(InvalidParamIpv4ProtocolConflictWithIpv6Address, $"The protocol '{protocol}' cannot be used with an IPv6 address.");
    public static EcsError Ipv6ProtocolWithIpv4Address(string protocol) =>
        E400(InvalidParamIpv6ProtocolConflictWithIpv4Address, $"The protocol '{protocol}' cannot be used with an IPv4 address.");
    public static EcsError PolicyMalformed(string? value) =>
        E400(InvalidPolicyMalformed, $"The Policy '{value}' is invalid. Only 'Accept' and 'Drop' are supported. Ignore case.");
    public static EcsError PriorityMalformed(string value) =>
        E400(InvalidPriorityMalformed, $"The specified Priority '{value}' is not an integer.");
    public static EcsError PriorityNotSupported(string value) =>
        E400(InvalidPriorityValueNotSupported, $"The specified Priority '{value}' is not supported; it must be from 1 to 100.");
    public static EcsError NicTypeNotSupported(string? value) =>
        E400(InvalidNicTypeValueNotSupported, $"The specified NicType '{value}' is not supported; use 'internet' or 'intranet'.");
    public static EcsError GroupPeerNeedsIntranet(bool ingress) => ingress
        ? E403(InvalidSourceGroupIdMismatch, "NicType is required or NicType expects intranet.")
        : E403(InvalidDestGroupIdMismatch, "NicType is required or NicType expects intranet.");
    public static EcsError PeerMissing(bool ingress) => ingress
        ? E400(MissingParameterSource, "One of the parameters SourceCidrIp, Ipv6SourceCidrIp, SourceGroupId or SourcePrefixListId must be specified.")
        : E400(MissingParameterDest, "One of the parameters DestCidrIp, Ipv6DestCidrIp, DestGroupId or DestPrefixListId must be specified.");
    public static EcsError GroupReferenceInAdvancedGroup() =>
        E400(InvalidGroupAuthParameterOperationDenied, "An advanced (enterprise) security group cannot reference another security group.");
    public static EcsError PrefixListInClassicGroup() =>
        E400(NotSupportedClassicNetworkPrefixList, "Prefix lists are not supported by security groups of the classic network.");
    public static EcsError PrefixListAddressFamilyMismatch(string prefixListId) =>
        E400(InvalidParamPrefixListAddressFamilyMismatch, $"The address family of prefix list '{prefixListId}' does not match the rule.");
    public static EcsError PortRangeListNotForProtocol(string protocol) =>
        E400(InvalidParamProtocolNotSupportPortRangeList, $"The protocol '{protocol}' does not support a port range list; only TCP and UDP do.");
    public static EcsError Ipv6InClassicGroup() =>
        E400(InvalidSecurityGroupInvalidNetworkType, "IPv6 rules are supported only by security groups of the VPC network.");
    public static EcsError DescriptionMalformed(string value) =>
        E400(InvalidSecurityGroupDiscriptionMalformed, $"The specified Description is not valid: it must be 1 to 512 characters and not start with http:// or https:// ('{Truncate(value)}').");
    public static EcsError IdentifierMalformed(string field, string? value) =>
        E400(InvalidParameter, $"The specified parameter {field} '{value}' is not valid.");

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
