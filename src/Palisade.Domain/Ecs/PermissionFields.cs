using System.Globalization;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;

namespace Palisade.Domain.Ecs;

/// <summary>
/// One rule exactly as the wire carries it (<c>Permissions.N.*</c> in a request, a
/// <c>Permission</c> in a DescribeSecurityGroupAttribute response): raw strings, nothing judged.
/// Empty strings mean absent, as ECS writes unset fields. <see cref="PermissionParser"/> reads it
/// into a rule; <see cref="Of"/> is the way back.
/// </summary>
public sealed record PermissionFields
{
    /// <summary>The wire names of a permission's fields, in the order ECS documents them.</summary>
    public static readonly IReadOnlyList<string> Names =
    [
        "IpProtocol", "PortRange", "SourcePortRange", "Policy", "Priority", "NicType",
        "SourceCidrIp", "Ipv6SourceCidrIp", "SourceGroupId", "SourceGroupOwnerAccount", "SourceGroupOwnerId", "SourcePrefixListId",
        "DestCidrIp", "Ipv6DestCidrIp", "DestGroupId", "DestGroupOwnerAccount", "DestGroupOwnerId", "DestPrefixListId",
        "PortRangeListId", "Description",
    ];

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

    /// <summary>The fields named by <see cref="Names"/> in a request or a list item; empty values are absent.</summary>
    public static PermissionFields From(IReadOnlyDictionary<string, string> f)
    {
        string? Get(string name) => f.TryGetValue(name, out var v) && v.Length > 0 ? v : null;
        return new PermissionFields
        {
            IpProtocol = Get("IpProtocol"),
            PortRange = Get("PortRange"),
            SourcePortRange = Get("SourcePortRange"),
            Policy = Get("Policy"),
            Priority = Get("Priority"),
            NicType = Get("NicType"),
            SourceCidrIp = Get("SourceCidrIp"),
            Ipv6SourceCidrIp = Get("Ipv6SourceCidrIp"),
            SourceGroupId = Get("SourceGroupId"),
            SourceGroupOwnerAccount = Get("SourceGroupOwnerAccount"),
            SourceGroupOwnerId = Get("SourceGroupOwnerId"),
            SourcePrefixListId = Get("SourcePrefixListId"),
            DestCidrIp = Get("DestCidrIp"),
            Ipv6DestCidrIp = Get("Ipv6DestCidrIp"),
            DestGroupId = Get("DestGroupId"),
            DestGroupOwnerAccount = Get("DestGroupOwnerAccount"),
            DestGroupOwnerId = Get("DestGroupOwnerId"),
            DestPrefixListId = Get("DestPrefixListId"),
            PortRangeListId = Get("PortRangeListId"),
            Description = Get("Description"),
        };
    }

    /// <summary>The fields that are present, by wire name, in the order of <see cref="Names"/>.</summary>
    public IEnumerable<KeyValuePair<string, string>> Pairs()
    {
        string?[] values =
        [
            IpProtocol, PortRange, SourcePortRange, Policy, Priority, NicType,
            SourceCidrIp, Ipv6SourceCidrIp, SourceGroupId, SourceGroupOwnerAccount, SourceGroupOwnerId, SourcePrefixListId,
            DestCidrIp, Ipv6DestCidrIp, DestGroupId, DestGroupOwnerAccount, DestGroupOwnerId, DestPrefixListId,
            PortRangeListId, Description,
        ];
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i] is { Length: > 0 } value)
                yield return new(Names[i], value);
        }
    }

    /// <summary>These fields with every field <paramref name="changes"/> holds put in their place (a Modify*Rule's merge).</summary>
    public PermissionFields With(PermissionFields changes)
    {
        var fields = Pairs().ToDictionary(StringComparer.Ordinal);
        foreach (var (name, value) in changes.Pairs())
            fields[name] = value;
        return From(fields);
    }

    /// <summary>
    /// A rule as the fields that would create it: the inverse of <see cref="PermissionParser.Parse"/>
    /// (parsing the result gives the same rule). The peer goes to the Source fields of an inbound
    /// rule and the Dest fields of an outbound one; the local CIDR to the other side.
    /// </summary>
    public static PermissionFields Of(SecurityGroupRule r)
    {
        var ingress = r.Direction == Direction.Ingress;
        var f = new PermissionFields
        {
            IpProtocol = r.Protocol.ToWire(),
            PortRange = r.PortRangeListId is null ? r.Ports.ToString() : null,
            PortRangeListId = r.PortRangeListId?.Value,
            SourcePortRange = r.SourcePorts?.ToString(),
            Policy = r.Policy.ToWire(),
            Priority = r.Priority.Value.ToString(CultureInfo.InvariantCulture),
            NicType = r.NicType.ToWire(),
            Description = r.Description.Length > 0 ? r.Description : null,
        };
        f = r.Peer switch
        {
            RulePeer.CidrBlock { Cidr: var c } => f.WithCidr(ingress, c),
            RulePeer.Group g when ingress => f with { SourceGroupId = g.GroupId.Value, SourceGroupOwnerAccount = g.OwnerAccount, SourceGroupOwnerId = g.OwnerId?.ToString(CultureInfo.InvariantCulture) },
            RulePeer.Group g => f with { DestGroupId = g.GroupId.Value, DestGroupOwnerAccount = g.OwnerAccount, DestGroupOwnerId = g.OwnerId?.ToString(CultureInfo.InvariantCulture) },
            RulePeer.PrefixList pl when ingress => f with { SourcePrefixListId = pl.PrefixListId.Value },
            RulePeer.PrefixList pl => f with { DestPrefixListId = pl.PrefixListId.Value },
            _ => f,
        };
        return r.LocalCidr is { } local ? f.WithCidr(!ingress, local) : f;
    }

    /// <summary>
    /// A peer written as text (<c>10.0.0.0/8</c>, <c>2001:db8::/32</c>, <c>sg-…</c>, <c>pl-…</c>) in
    /// the field its kind takes: the Source fields of an inbound rule, the Dest fields of an outbound
    /// one. Only the shape decides the field; <see cref="PermissionParser"/> judges the value.
    /// </summary>
    public PermissionFields WithPeer(Direction direction, string text)
    {
        var ingress = direction == Direction.Ingress;
        return PeerKindOf(text) switch
        {
            PeerKind.Group => ingress ? this with { SourceGroupId = text } : this with { DestGroupId = text },
            PeerKind.PrefixList => ingress ? this with { SourcePrefixListId = text } : this with { DestPrefixListId = text },
            PeerKind.Ipv6Cidr => ingress ? this with { Ipv6SourceCidrIp = text } : this with { Ipv6DestCidrIp = text },
            _ => ingress ? this with { SourceCidrIp = text } : this with { DestCidrIp = text },
        };
    }

    /// <summary>Which kind of peer the fields name for a rule of this direction (the parser's precedence), or null for none.</summary>
    public PeerKind? PeerOn(Direction direction)
    {
        var ingress = direction == Direction.Ingress;
        return (ingress ? SourceCidrIp : DestCidrIp) is { Length: > 0 } ? PeerKind.Cidr
            : (ingress ? Ipv6SourceCidrIp : Ipv6DestCidrIp) is { Length: > 0 } ? PeerKind.Ipv6Cidr
            : (ingress ? SourceGroupId : DestGroupId) is { Length: > 0 } ? PeerKind.Group
            : (ingress ? SourcePrefixListId : DestPrefixListId) is { Length: > 0 } ? PeerKind.PrefixList
            : null;
    }

    /// <summary>What kind of peer a text names, by its shape alone.</summary>
    public static PeerKind PeerKindOf(string text) =>
        text.StartsWith(SecurityGroupId.Prefix, StringComparison.Ordinal) ? PeerKind.Group
        : text.StartsWith(PrefixListId.Prefix, StringComparison.Ordinal) ? PeerKind.PrefixList
        : text.Contains(':', StringComparison.Ordinal) ? PeerKind.Ipv6Cidr
        : PeerKind.Cidr;

    private PermissionFields WithCidr(bool sourceSide, Cidr c) => (sourceSide, c.IsV6) switch
    {
        (true, false) => this with { SourceCidrIp = c.ToString() },
        (true, true) => this with { Ipv6SourceCidrIp = c.ToString() },
        (false, false) => this with { DestCidrIp = c.ToString() },
        (false, true) => this with { Ipv6DestCidrIp = c.ToString() },
    };
}

/// <summary>The kinds of peer a rule may name, as the wire tells them apart.</summary>
public enum PeerKind
{
    Cidr,
    Ipv6Cidr,
    Group,
    PrefixList,
}
