using System.Globalization;
using System.Text;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;

namespace Palisade.Storage;

/// <summary>
/// A rule as one table row of canonical wire strings, and back. The row is what ECS would echo
/// (<c>TCP</c>, <c>22/22</c>, <c>Accept</c>), so a backup is readable and both stores agree byte for byte.
/// </summary>
public sealed class RuleRow
{
    public string rule_id { get; set; } = "";
    public string security_group_id { get; set; } = "";
    public long position { get; set; }
    public string direction { get; set; } = "";
    public string ip_protocol { get; set; } = "";
    public string port_range { get; set; } = "";
    public string? source_port_range { get; set; }
    public string policy { get; set; } = "";
    public long priority { get; set; }
    public string nic_type { get; set; } = "";
    public string peer_kind { get; set; } = "";
    public string peer_value { get; set; } = "";
    public string? peer_owner_account { get; set; }
    public long? peer_owner_id { get; set; }
    public string? local_cidr { get; set; }
    public string? port_range_list_id { get; set; }
    public string description { get; set; } = "";
    public string created_at { get; set; } = "";
    public string identity { get; set; } = "";
}

public static class RuleCodec
{
    public const string PeerCidr = "cidr";
    public const string PeerGroup = "group";
    public const string PeerPrefixList = "prefix-list";

    public static RuleRow ToRow(SecurityGroupId groupId, SecurityGroupRule rule, long position)
    {
        var row = new RuleRow
        {
            rule_id = rule.Id.Value,
            security_group_id = groupId.Value,
            position = position,
            direction = rule.Direction.ToWire(),
            ip_protocol = rule.Protocol.ToWire(),
            port_range = rule.Ports.ToString(),
            source_port_range = rule.SourcePorts?.ToString(),
            policy = rule.Policy.ToWire(),
            priority = rule.Priority.Value,
            nic_type = rule.NicType.ToWire(),
            local_cidr = rule.LocalCidr?.ToString(),
            port_range_list_id = rule.PortRangeListId?.Value,
            description = rule.Description,
            created_at = Time.Format(rule.CreateTime),
            identity = Identity(rule),
        };
        switch (rule.Peer)
        {
            case RulePeer.CidrBlock c:
                row.peer_kind = PeerCidr;
                row.peer_value = c.Cidr.ToString();
                break;
            case RulePeer.Group g:
                row.peer_kind = PeerGroup;
                row.peer_value = g.GroupId.Value;
                row.peer_owner_account = g.OwnerAccount;
                row.peer_owner_id = g.OwnerId;
                break;
            case RulePeer.PrefixList p:
                row.peer_kind = PeerPrefixList;
                row.peer_value = p.PrefixListId.Value;
                break;
        }
        return row;
    }

    public static SecurityGroupRule FromRow(RuleRow row)
    {
        IpProtocols.TryParse(row.ip_protocol, out var protocol);
        Directions.TryParse(row.direction, out var direction);
        Verdicts.TryParse(row.policy, out var policy);
        NicTypes.TryParse(row.nic_type, out var nicType);
        RulePeer peer = row.peer_kind switch
        {
            PeerCidr => new RulePeer.CidrBlock(Cidr.Parse(row.peer_value)),
            PeerGroup => new RulePeer.Group(SecurityGroupId.Parse(row.peer_value), row.peer_owner_account, row.peer_owner_id),
            PeerPrefixList => new RulePeer.PrefixList(PrefixListId.Parse(row.peer_value)),
            _ => throw new InvalidDataException($"rule {row.rule_id}: unknown peer kind '{row.peer_kind}'"),
        };
        return new SecurityGroupRule(
            SecurityGroupRuleId.Parse(row.rule_id),
            direction,
            protocol,
            row.port_range_list_id is not null && row.port_range == "-1/-1" ? PortRange.Any : PortRange.ParseFor(protocol, row.port_range).OrThrowData(row.rule_id),
            policy,
            Priority.Create((int)row.priority),
            nicType,
            peer,
            row.source_port_range is { } sp ? PortRange.ParseSourceFor(IpProtocol.Tcp, sp).OrThrowData(row.rule_id) : null,
            row.local_cidr is { } lc ? Cidr.Parse(lc) : null,
            row.port_range_list_id is { } pl ? PortRangeListId.Parse(pl) : null,
            row.description,
            Time.Parse(row.created_at));
    }

    /// <summary>
    /// The identity (ARCHITECTURE.md semantics 6) as one string, so that the database's unique
    /// constraint on (group, identity) keeps concurrent duplicates out.
    /// </summary>
    public static string Identity(SecurityGroupRule rule)
    {
        var id = rule.Identity;
        var sb = new StringBuilder();
        sb.Append(id.Direction.ToWire()).Append('|')
          .Append(id.Protocol.ToWire()).Append('|')
          .Append(id.Ports.Low).Append('-').Append(id.Ports.High).Append('|')
          .Append(id.SourcePorts is { } sp ? $"{sp.Low}-{sp.High}" : "").Append('|')
          .Append(id.NicType.ToWire()).Append('|')
          .Append(id.Policy.ToWire()).Append('|')
          .Append(id.Priority.Value.ToString(CultureInfo.InvariantCulture)).Append('|');
        switch (id.Peer)
        {
            // A host written as an address and as /32 are the same block (Cidr equality), so the key uses the network form.
            case RulePeer.CidrBlock c:
                sb.Append("cidr:").Append(c.Cidr.Network).Append('/').Append(c.Cidr.PrefixLength);
                break;
            case RulePeer.Group g:
                sb.Append("group:").Append(g.GroupId.Value).Append(':').Append(g.OwnerAccount).Append(':').Append(g.OwnerId);
                break;
            case RulePeer.PrefixList p:
                sb.Append("pl:").Append(p.PrefixListId.Value);
                break;
        }
        sb.Append('|');
        if (id.LocalCidr is { } local)
            sb.Append(local.Network).Append('/').Append(local.PrefixLength);
        sb.Append('|').Append(id.PortRangeListId?.Value);
        return sb.ToString();
    }

    private static T OrThrowData<T>(this Domain.Errors.Result<T> result, string ruleId) =>
        result.TryGet(out var value, out var error) ? value : throw new InvalidDataException($"rule {ruleId}: {error}");
}

/// <summary>Times as ECS writes them: UTC, whole seconds, <c>yyyy-MM-ddTHH:mm:ssZ</c>.</summary>
public static class Time
{
    public static string Format(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static DateTimeOffset Parse(string s) =>
        DateTimeOffset.ParseExact(s, "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    /// <summary>Cuts to whole seconds, so that what is stored equals what is returned.</summary>
    public static DateTimeOffset Truncate(DateTimeOffset t) => new(t.UtcTicks - t.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero);
}
