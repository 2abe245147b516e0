using System.Collections.Immutable;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;

namespace Palisade.Domain.Instances;

/// <summary>
/// A secondary elastic network interface (ENI) attached to an instance: its own private addresses
/// (IPv4 and IPv6, primary first), the public address or EIP associated with it, and its own security
/// groups (at most <see cref="Instance.MaxSecurityGroups"/>). On ECS a group is attached to an ENI,
/// not to an instance: a packet to or from one of these addresses is judged by these groups alone,
/// and these addresses are what a rule naming one of these groups matches. The instance's own fields
/// are its primary ENI (<see cref="Instance"/>).
/// </summary>
public sealed record NetworkInterface(
    NetworkInterfaceId Id,
    ImmutableArray<IpAddress> PrivateAddresses,
    ImmutableArray<IpAddress> PublicAddresses,
    ImmutableArray<SecurityGroupId> SecurityGroupIds,
    VSwitchId? VSwitchId = null,
    MacAddress? MacAddress = null);
