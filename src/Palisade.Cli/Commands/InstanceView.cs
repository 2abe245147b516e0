using System.Text.Json;
using Palisade.Client;
using Palisade.Domain.Ecs;
using Palisade.Domain.Groups;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;
using Palisade.Domain.State;
using Palisade.Engine.Policies;

namespace Palisade.Cli.Commands;

/// <summary>
/// <c>palisade instance show</c> for people, as the ECS console's instance tab shows it: the
/// instance's NICs and addresses, its groups, and per direction the rules of all its groups pooled in
/// the order the engine tries them (<see cref="NicPolicy.RulesInOrder"/>, so the listing is the
/// engine's order, never a second copy of it), between inner access Accept (decided before every
/// rule), inner access Drop (after every rule) and the direction's default.
/// </summary>
internal static class InstanceView
{
    public static void Write(TextWriter o, JsonElement described, NetworkState state)
    {
        var id = described.Str("InstanceId");
        var instance = state.FindInstance(InstanceId.Parse(id))
            ?? throw new InvalidOperationException($"instance {id} is not in the server's state of {state.RegionId}");
        var names = NameResolver.NamesOf(state);
        o.WriteLine($"{NameResolver.Label(id, names)}  {described.Str("Status")}");
        var vpc = described.TryGetProperty("VpcAttributes", out var v) ? v : default;
        o.WriteLine(vpc.ValueKind == JsonValueKind.Object && vpc.Str("VpcId").Length > 0
            ? $"  VPC {vpc.Str("VpcId")}, vSwitch {vpc.Str("VSwitchId")}, zone {described.Str("ZoneId")}"
            : $"  classic network, zone {described.Str("ZoneId")}");

        o.WriteLine();
        o.WriteLine("Addresses");
        var rows = new List<string[]>();
        foreach (var nic in described.Items("NetworkInterfaces", "NetworkInterface"))
        {
            var v4 = nic.Items("PrivateIpSets", "PrivateIpSet").Select(p => p.Str("PrivateIpAddress"));
            var v6 = nic.Items("Ipv6Sets", "Ipv6Set").Select(p => p.Str("Ipv6Address"));
            rows.Add([nic.Str("NetworkInterfaceId"), nic.Str("Type").ToLowerInvariant(), string.Join(", ", v4.Concat(v6))]);
        }
        if (rows.Count == 0)
            rows.Add(["intranet NIC", "classic", string.Join(", ", instance.PrivateAddresses.Select(a => a.ToString()))]);
        var published = described.Items("PublicIpAddress", "IpAddress").Select(a => a.GetString() ?? "")
            .Append(described.TryGetProperty("EipAddress", out var eip) ? eip.Str("IpAddress") : "")
            .Where(a => a.Length > 0).ToList();
        rows.Add(["public", instance.VpcId is null ? "internet NIC" : "translated to the primary address", published.Count == 0 ? "none" : string.Join(", ", published)]);
        Remote.Table(o, ["  NIC", "TYPE", "ADDRESSES"], [.. rows.Select(r => (string[])["  " + r[0], r[1], r[2]])]);

        var policy = NicPolicy.Compile(state, instance);
        o.WriteLine();
        o.WriteLine($"Security groups ({policy.Groups.Length})");
        Remote.Table(o, ["  GROUP", "TYPE", "INNER ACCESS", "RULES IN", "RULES OUT"],
            [.. policy.Groups.OrderBy(g => g.Name, StringComparer.Ordinal).ThenBy(g => g.Id.Value, StringComparer.Ordinal).Select(g => new[]
            {
                "  " + NameResolver.Label(g.Id.Value, names), g.IsEnterprise ? "advanced" : "basic", g.EffectiveInnerAccessPolicy.ToWire().ToLowerInvariant(),
                Remote.Int(g.Rules.Count(r => r.Direction == Direction.Ingress)), Remote.Int(g.Rules.Count(r => r.Direction == Direction.Egress)),
            })]);

        var accepting = policy.Groups.OrderBy(g => g.Name, StringComparer.Ordinal).Where(g => g.EffectiveInnerAccessPolicy == InnerAccessPolicy.Accept).Select(g => NameResolver.Label(g.Id.Value, names)).ToList();
        var dropping = policy.Groups.OrderBy(g => g.Name, StringComparer.Ordinal).Where(g => g.EffectiveInnerAccessPolicy == InnerAccessPolicy.Drop).Select(g => NameResolver.Label(g.Id.Value, names)).ToList();
        foreach (var (title, direction) in new[] { ("Inbound", Direction.Ingress), ("Outbound", Direction.Egress) })
        {
            o.WriteLine();
            var rules = policy.RulesInOrder(direction).ToArray();
            o.WriteLine($"{title}: {rules.Length} rule{(rules.Length == 1 ? "" : "s")} of all its groups, in the order they are tried");
            var (peerWord, other) = direction == Direction.Ingress ? ("SOURCE", "from") : ("DESTINATION", "to");
            if (accepting.Count > 0)
                o.WriteLine($"  first: members of {string.Join(", ", accepting)} accepted {other} each other (inner access), whatever the rules say");
            if (rules.Length > 0)
                Remote.Table(o, ["  #", "PRIORITY", "POLICY", "PROTOCOL", "PORTS", peerWord, "GROUP", "DESCRIPTION", "RULE"],
                    [.. rules.Select((r, n) => Row(r, n + 1, direction, names))]);
            if (dropping.Count > 0)
                o.WriteLine($"  then: members of {string.Join(", ", dropping)} dropped {other} each other (inner access Drop) unless a rule above accepts them");
            o.WriteLine(direction == Direction.Ingress
                ? "  last: anything else is dropped"
                : $"  last: anything else is {(policy.DefaultEgress == Verdict.Accept ? "accepted (only basic groups)" : "dropped (an advanced group is among them)")}");
        }
    }

    private static string[] Row(RuleRef r, int n, Direction direction, IReadOnlyDictionary<string, string> names)
    {
        var f = PermissionFields.Of(r.Rule);
        var peer = direction == Direction.Ingress
            ? f.SourceCidrIp ?? f.Ipv6SourceCidrIp ?? (f.SourceGroupId is { } sg ? NameResolver.Label(sg, names) : f.SourcePrefixListId) ?? ""
            : f.DestCidrIp ?? f.Ipv6DestCidrIp ?? (f.DestGroupId is { } dg ? NameResolver.Label(dg, names) : f.DestPrefixListId) ?? "";
        var ports = f.PortRangeListId is { } list ? list : PortRange.ForPeopleOf(f.PortRange);
        return ["  " + Remote.Int(n), f.Priority ?? "", (f.Policy ?? "").ToLowerInvariant(), f.IpProtocol ?? "", ports, peer, NameResolver.Label(r.GroupId.Value, names), f.Description ?? "", r.Rule.Id.Value];
    }
}
