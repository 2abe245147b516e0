using System.Collections.Immutable;
using Palisade.Domain.Groups;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;

namespace Palisade.Domain.Instances;

/// <summary>
/// An ECS instance and its primary NIC. A VPC instance has one NIC carrying its private (and IPv6)
/// addresses; its public or elastic address is translated to the private one before the security
/// group sees the packet. A classic instance has an intranet NIC (<see cref="PrivateAddresses"/>)
/// and an internet NIC (<see cref="PublicAddresses"/>), each filtered by the rules of its NicType.
/// </summary>
public sealed record Instance(
    InstanceId Id,
    string Name,
    NetworkType NetworkType,
    VpcId? VpcId,
    VSwitchId? VSwitchId,
    ImmutableArray<IpAddress> PrivateAddresses,
    ImmutableArray<IpAddress> PublicAddresses,
    ImmutableArray<SecurityGroupId> SecurityGroupIds,
    string Status = "Running",
    ImmutableArray<Tag> Tags = default)
{
    /// <summary>ECS's default limit of groups per NIC (ecs-api.md §2.6).</summary>
    public const int MaxSecurityGroups = 5;

    /// <summary>The addresses of the NIC that carries traffic of <paramref name="nicType"/>.</summary>
    public ImmutableArray<IpAddress> AddressesOn(NicType nicType) =>
        NetworkType == NetworkType.Classic && nicType == NicType.Internet ? PublicAddresses : PrivateAddresses;

    /// <summary>The addresses a group reference or inner access matches: the private ones (ecs-api.md §2.5).</summary>
    public ImmutableArray<IpAddress> MemberAddresses => PrivateAddresses;
}
