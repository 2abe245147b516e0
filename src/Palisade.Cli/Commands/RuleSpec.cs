using System.Globalization;
using Palisade.Domain.Ecs;
using Palisade.Domain.Networking;

namespace Palisade.Cli.Commands;

/// <summary>
/// A rule written on the command line, <c>PROTOCOL PORTS PEER [accept|drop] [priority N] [nic intranet|internet] [desc TEXT]</c>
/// (e.g. <c>"tcp 22 10.0.0.0/8"</c>, <c>"udp 53 sg-bp1abc drop priority 10"</c>, <c>"all -1 ::/0"</c>); PORTS may name a
/// port-range list (<c>"tcp prl-bp1abc 10.0.0.0/8"</c>) and PEER a prefix list (<c>"tcp 443 pl-bp1abc"</c>),
/// turned into the fields of one <c>Permissions.N</c>. Only the shape is read here; the server
/// judges the values, with its own errors, as it does for every client.
/// </summary>
public static class RuleSpec
{
    public static IReadOnlyList<KeyValuePair<string, string>> Fields(string spec, bool egress)
    {
        var words = spec.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length < 3)
            throw new FormatException($"rule '{spec}': write PROTOCOL PORTS PEER [accept|drop] [priority N] [desc TEXT], e.g. \"tcp 22 10.0.0.0/8\"");
        var fields = new List<KeyValuePair<string, string>>
        {
            new("IpProtocol", words[0].ToUpperInvariant() == "ICMPV6" ? "ICMPv6" : words[0].ToUpperInvariant()),
            words[1].StartsWith(Domain.Identifiers.PortRangeListId.Prefix, StringComparison.Ordinal)
                ? new KeyValuePair<string, string>("PortRangeListId", words[1])
                : new KeyValuePair<string, string>("PortRange", Ports(words[1])),
        };
        fields.AddRange(new PermissionFields().WithPeer(egress ? Direction.Egress : Direction.Ingress, words[2]).Pairs());
        for (var i = 3; i < words.Length; i++)
        {
            switch (words[i].ToLowerInvariant())
            {
                case "accept" or "drop":
                    fields.Add(new("Policy", words[i].ToLowerInvariant()));
                    break;
                case "nic" when i + 1 < words.Length:
                    fields.Add(new("NicType", words[++i].ToLowerInvariant()));
                    break;
                case "priority" when i + 1 < words.Length:
                    fields.Add(new("Priority", words[++i]));
                    break;
                case "desc" when i + 1 < words.Length:
                    fields.Add(new("Description", string.Join(' ', words[(i + 1)..])));
                    i = words.Length;
                    break;
                default:
                    throw new FormatException($"rule '{spec}': '{words[i]}' is not accept, drop, priority N, nic intranet|internet or desc TEXT");
            }
        }
        return fields;
    }

    /// <summary><c>22</c>, <c>22/22</c>, <c>8000-9000</c>, <c>-1</c> and <c>all</c> (every port) as ECS writes them.</summary>
    public static string Ports(string text) => text.ToLowerInvariant() switch
    {
        "-1" or "all" or "-1/-1" => "-1/-1",
        _ when text.Contains('/', StringComparison.Ordinal) => text,
        _ when text.Contains('-', StringComparison.Ordinal) && !text.StartsWith('-') => text.Replace('-', '/'),
        _ => $"{text}/{text}",
    };

    /// <summary>
    /// Whether a rule's PEER word is a group's name rather than a CIDR block, an address, a group ID
    /// or a prefix list ID: names are resolved to IDs (<see cref="NameResolver"/>) before the fields are made.
    /// </summary>
    public static bool IsGroupName(string peer) =>
        !peer.StartsWith(Domain.Identifiers.SecurityGroupId.Prefix, StringComparison.Ordinal)
        && !peer.StartsWith(Domain.Identifiers.PrefixListId.Prefix, StringComparison.Ordinal)
        && !NameResolver.LooksLikeAddress(peer);

    public static string Index(int n) => n.ToString(CultureInfo.InvariantCulture);
}
