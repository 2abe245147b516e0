namespace Palisade.Domain.Ecs;

/// <summary>
/// One rule exactly as the wire carries it (<c>Permissions.N.*</c> in a request, a
/// <c>Permission</c> in a DescribeSecurityGroupAttribute response): raw strings, nothing judged.
/// Empty strings mean absent, as ECS writes unset fields.
/// </summary>
public sealed record PermissionFields
{
    public string? IpProtocol { get; init; }
    public string? PortRange { get; init; }
    public string? SourcePortRange { get; init; }
    public string? Policy { get; init; }
    public string? Priority { get; init; }
    public string? NicType { get; init; }
    public string? SourceCidrIp { get; init; }
    public string? Ipv6SourceCidrIp { get; init; }
    public string? SourceGroupId { get; init; }
    public string? SourceGroupOwnerAccount { get; init; }
    public string? SourceGroupOwnerId { get; init; }
    public string? SourcePrefixListId { get; init; }
    public string? DestCidrIp { get; init; }
    public string? Ipv6DestCidrIp { get; init; }
    public string? DestGroupId { get; init; }
    public string? DestGroupOwnerAccount { get; init; }
    public string? DestGroupOwnerId { get; init; }
    public string? DestPrefixListId { get; init; }
    public string? PortRangeListId { get; init; }
    public string? Description { get; init; }
}
