using System.Collections.Immutable;
using Palisade.Domain.Groups;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;

namespace Palisade.Domain.Instances;

/// <summary>
/// An ECS instance and its primary NIC (its primary ENI). A VPC instance's primary ENI carries its
/// private (and IPv6) addresses; its public or elastic address is translated to the private one before
/// the security group sees the packet. A classic instance has an intranet NIC (<see cref="PrivateAddresses"/>)
/// and an internet NIC (<see cref="PublicAddresses"/>), each filtered by the rules of its NicType.
/// A VPC instance may also have secondary ENIs (<see cref="SecondaryInterfaces"/>), each with its own
/// addresses and groups: <see cref="Interfaces"/> presents every ENI as an instance-shaped view, so
/// that whatever compiles "a NIC's policy" compiles it per ENI, and <see cref="InterfaceOf"/> finds
/// the ENI that owns an address — the one whose groups decide a packet to or from it.
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
    private readonly ImmutableArray<NetworkInterface> _secondaryInterfaces = [];

    /// <summary>The secondary ENIs attached to the instance (VPC only), in attachment order.</summary>
    public ImmutableArray<NetworkInterface> SecondaryInterfaces
    {
        get => _secondaryInterfaces;
        init => _secondaryInterfaces = value.IsDefault ? [] : value;
    }

    /// <summary>
    /// The ENI whose addresses and groups this value carries: the primary ENI's ID when known (state
    /// files and the server name it), or a secondary ENI's for a view made by <see cref="Interfaces"/>.
    /// </summary>
    public NetworkInterfaceId? NetworkInterfaceId { get; init; }

    /// <summary>Whether this value is the view of a secondary ENI (made by <see cref="Interfaces"/>), not the instance itself.</summary>
    public bool IsSecondaryInterface { get; init; }


    /// <summary>ECS's default limit of groups per NIC (ecs-api.md §2.6).</summary>
    public const int MaxSecurityGroups = 5;

    /// <summary>The addresses of the NIC that carries traffic of <paramref name="nicType"/>.</summary>
    public ImmutableArray<IpAddress> AddressesOn(NicType nicType) =>
        NetworkType == NetworkType.Classic && nicType == NicType.Internet ? PublicAddresses : PrivateAddresses;

    /// <summary>The addresses a group reference or inner access matches: the private ones of this ENI (ecs-api.md §2.5).</summary>
    public ImmutableArray<IpAddress> MemberAddresses => PrivateAddresses;

    /// <summary>
    /// Every ENI of the instance as a view with the ENI's addresses and groups: the instance itself
    /// (its primary ENI) first, then each secondary ENI in order. A view keeps the instance's ID,
    /// name and network, so answers still name the instance; <see cref="NetworkInterfaceId"/> and
    /// <see cref="IsSecondaryInterface"/> say which ENI it is.
    /// </summary>
    public ImmutableArray<Instance> Interfaces =>
        SecondaryInterfaces.Length == 0 ? [this] : [this, .. SecondaryInterfaces.Select(ViewOf)];

    private Instance ViewOf(NetworkInterface eni) => this with
    {
        PrivateAddresses = eni.PrivateAddresses.IsDefault ? [] : eni.PrivateAddresses,
        PublicAddresses = eni.PublicAddresses.IsDefault ? [] : eni.PublicAddresses,
        SecurityGroupIds = eni.SecurityGroupIds.IsDefault ? [] : eni.SecurityGroupIds,
        VSwitchId = eni.VSwitchId ?? VSwitchId,
        SecondaryInterfaces = [],
        NetworkInterfaceId = eni.Id,
        IsSecondaryInterface = true,
    };

    /// <summary>
    /// The ENI (as in <see cref="Interfaces"/>) that owns <paramref name="address"/> — private, or the
    /// public address or EIP associated with it; the primary (this) when no ENI holds it, as for an
    /// address outside the instance.
    /// </summary>
    public Instance InterfaceOf(IpAddress address)
    {
        if (SecondaryInterfaces.Length == 0 || PrivateAddresses.Contains(address) || PublicAddresses.Contains(address))
            return this;
        foreach (var eni in SecondaryInterfaces)
        {
            if (eni.PrivateAddresses.Contains(address) || eni.PublicAddresses.Contains(address))
                return ViewOf(eni);
        }
        return this;
    }

    /// <summary>The private addresses of every ENI of the instance, primary first, each once.</summary>
    public ImmutableArray<IpAddress> AllPrivateAddresses =>
        SecondaryInterfaces.Length == 0 ? PrivateAddresses : [.. Interfaces.SelectMany(n => n.PrivateAddresses).Distinct()];

    /// <summary>The public addresses and EIPs of every ENI of the instance, primary first, each once.</summary>
    public ImmutableArray<IpAddress> AllPublicAddresses =>
        SecondaryInterfaces.Length == 0 ? PublicAddresses : [.. Interfaces.SelectMany(n => n.PublicAddresses).Distinct()];

    /// <summary>The groups of every ENI of the instance, each once (the instance's own first).</summary>
    public ImmutableArray<SecurityGroupId> AllSecurityGroupIds =>
        SecondaryInterfaces.Length == 0 ? SecurityGroupIds : [.. Interfaces.SelectMany(n => n.SecurityGroupIds).Distinct()];

    /// <summary>How answers name this ENI: the instance ID, and for a secondary ENI the ENI too ("i-… (eni-…)").</summary>
    public string InterfaceLabel => IsSecondaryInterface && NetworkInterfaceId is { } eni ? $"{Id} ({eni})" : Id.Value;
}
