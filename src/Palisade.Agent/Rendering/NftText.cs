using System.Globalization;
using System.Text;
using Palisade.Domain.Networking;

namespace Palisade.Agent.Rendering;

/// <summary>
/// The <c>nft -f</c> text of a <see cref="HostRuleset"/>. Palisade owns two tables named
/// <c>palisade</c> and never touches any other: <c>inet palisade</c> decides (stateful, per NIC, in
/// the forward hook, which bridged traffic reaches through br_netfilter) and <c>bridge palisade</c>
/// keeps each port to its own addresses, because the inet hooks see the bridge, not the port, and
/// so tell NICs apart by address. Every text here is one transaction: the kernel takes all of it or
/// none (never a half-applied state).
/// </summary>
public static class NftText
{
    public const string TableName = "palisade";

    /// <summary>Replaces both tables whole, atomically (creating them first makes the delete safe when absent).</summary>
    public static string FullApply(HostRuleset ruleset)
    {
        var w = new StringBuilder();
        w.Append(CultureInfo.InvariantCulture, $"# palisade: revision {ruleset.Revision}, {ruleset.Nics.Length} NICs\n");
        w.Append(CultureInfo.InvariantCulture, $"table inet {TableName}\ndelete table inet {TableName}\n");
        InetTable(w, ruleset);
        w.Append(CultureInfo.InvariantCulture, $"table bridge {TableName}\ndelete table bridge {TableName}\n");
        BridgeTable(w, ruleset);
        return w.ToString();
    }

    /// <summary>A change of group membership or of prefix-list entries only: the changed sets' elements, nothing else.</summary>
    public static string SetUpdate(HostRuleset before, HostRuleset after)
    {
        var w = new StringBuilder();
        w.Append(CultureInfo.InvariantCulture, $"# palisade: revision {before.Revision} -> {after.Revision}, set elements only\n");
        foreach (var set in after.SetsChangedSince(before))
        {
            w.Append(CultureInfo.InvariantCulture, $"flush set inet {TableName} {set.Name}\n");
            if (set.Elements.Length > 0)
                w.Append(CultureInfo.InvariantCulture, $"add element inet {TableName} {set.Name} {{ {string.Join(", ", set.Elements)} }}\n");
        }
        return w.ToString();
    }

    /// <summary>
    /// The NICs, their interfaces and addresses are the same, only some chains (or member sets)
    /// differ: those chains are emptied and refilled, the member sets brought up to date, all in one
    /// transaction; the dispatch maps, the other NICs' chains and the bridge table stay untouched.
    /// Null when the NICs themselves differ (a whole apply is needed).
    /// </summary>
    public static string? Incremental(HostRuleset before, HostRuleset after)
    {
        if (!before.Nics.Select(Identity).SequenceEqual(after.Nics.Select(Identity)))
            return null;
        var changed = ChangedChains(before, after);
        var w = new StringBuilder();
        w.Append(CultureInfo.InvariantCulture, $"# palisade: revision {before.Revision} -> {after.Revision}, {changed.Count} chains\n");
        foreach (var set in after.Sets.Where(s => !before.Sets.Any(b => b.Name == s.Name)))
            w.Append(CultureInfo.InvariantCulture, $"add set inet {TableName} {set.Name} {{ type {(set.Family == AddressFamily.V4 ? "ipv4_addr" : "ipv6_addr")}; {(set.Interval ? "flags interval; " : "")}}}\n");
        foreach (var set in after.SetsChangedSince(before))
        {
            w.Append(CultureInfo.InvariantCulture, $"flush set inet {TableName} {set.Name}\n");
            if (set.Elements.Length > 0)
                w.Append(CultureInfo.InvariantCulture, $"add element inet {TableName} {set.Name} {{ {string.Join(", ", set.Elements)} }}\n");
        }
        foreach (var (old, _) in changed)
            w.Append(CultureInfo.InvariantCulture, $"flush chain inet {TableName} {old.Name}\n");
        foreach (var (old, _) in changed)
        {
            foreach (var run in old.Rules.OfType<NftRunSet>())
                w.Append(CultureInfo.InvariantCulture, $"delete set inet {TableName} {run.SetName}\n");
        }
        foreach (var (_, chain) in changed)
        {
            foreach (var run in chain.Rules.OfType<NftRunSet>())
            {
                w.Append(CultureInfo.InvariantCulture, $"add set inet {TableName} {run.SetName} {{ type {RunSetType(run)}; flags interval; ");
                if (run.Elements.Length > 0)
                    w.Append(CultureInfo.InvariantCulture, $"elements = {{ {string.Join(", ", run.Elements.Select(e => Element(run.Kind, e)))} }}; ");
                w.Append("}\n");
            }
            foreach (var rule in chain.Rules)
                w.Append(CultureInfo.InvariantCulture, $"add rule inet {TableName} {chain.Name} {Rule(rule)}\n");
            w.Append(CultureInfo.InvariantCulture, $"add rule inet {TableName} {chain.Name} {Verdict(chain.Default)} comment \"default\"\n");
        }
        foreach (var set in before.Sets.Where(s => !after.Sets.Any(a => a.Name == s.Name)))
            w.Append(CultureInfo.InvariantCulture, $"delete set inet {TableName} {set.Name}\n");
        return w.ToString();

        static (Domain.Identifiers.InstanceId, string, string) Identity(NftNic n) => (n.InstanceId, n.InterfaceName, string.Join(",", n.Addresses));
    }

    /// <summary>The chains (before, after) that differ between two rulesets of the same NICs.</summary>
    public static IReadOnlyList<(NftChain Before, NftChain After)> ChangedChains(HostRuleset before, HostRuleset after) =>
        [.. before.Nics.Zip(after.Nics)
            .SelectMany(p => new[] { (p.First.Ingress, p.Second.Ingress), (p.First.Egress, p.Second.Egress) })
            .Where(p => !p.Item1.Equals(p.Item2))];

    private static void InetTable(StringBuilder w, HostRuleset r)
    {
        w.Append(CultureInfo.InvariantCulture, $"table inet {TableName} {{\n");
        foreach (var set in r.Sets)
            Set(w, set.Name, set.Family == AddressFamily.V4 ? "ipv4_addr" : "ipv6_addr", set.Elements.Select(e => e.ToString()), interval: set.Interval);
        foreach (var run in RunSets(r))
            Set(w, run.SetName, RunSetType(run), run.Elements.Select(e => Element(run.Kind, e)), interval: true);
        Set(w, "nics4", "ipv4_addr", Addresses(r, AddressFamily.V4).Select(a => a.Address.ToString()), interval: false);
        Set(w, "nics6", "ipv6_addr", Addresses(r, AddressFamily.V6).Select(a => a.Address.ToString()), interval: false);
        foreach (var family in new[] { AddressFamily.V4, AddressFamily.V6 })
        {
            var n = family == AddressFamily.V4 ? "4" : "6";
            var type = family == AddressFamily.V4 ? "ipv4_addr" : "ipv6_addr";
            Map(w, "egress" + n, type, Addresses(r, family).Select(a => $"{a.Address} : jump {a.Nic.Egress.Name}"));
            Map(w, "ingress" + n, type, Addresses(r, family).Select(a => $"{a.Address} : jump {a.Nic.Ingress.Name}"));
        }
        w.Append("""
                chain forward {
                    type filter hook forward priority filter; policy drop;
                    ct state established,related accept
                    ct state invalid drop
                    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, nd-router-advert } accept
                    ip saddr vmap @egress4
                    ip6 saddr vmap @egress6
                    ip daddr vmap @ingress4
                    ip6 daddr vmap @ingress6
                    ip saddr @nics4 accept
                    ip6 saddr @nics6 accept
                }

            """.Replace("    ", "\t", StringComparison.Ordinal));
        foreach (var nic in r.Nics)
        {
            Chain(w, nic.Ingress, $"{nic.InstanceId} on {nic.InterfaceName}: ingress");
            Chain(w, nic.Egress, $"{nic.InstanceId} on {nic.InterfaceName}: egress");
        }
        w.Append("}\n");
    }

    private static void BridgeTable(StringBuilder w, HostRuleset r)
    {
        w.Append(CultureInfo.InvariantCulture, $"table bridge {TableName} {{\n");
        Set(w, "ports", "ifname", r.Nics.Select(n => Quote(n.InterfaceName)).Distinct(), interval: false);
        Set(w, "owned4", "ipv4_addr . ifname", Addresses(r, AddressFamily.V4).Select(a => $"{a.Address} . {Quote(a.Nic.InterfaceName)}"), interval: false);
        Set(w, "owned6", "ipv6_addr . ifname", Addresses(r, AddressFamily.V6).Select(a => $"{a.Address} . {Quote(a.Nic.InterfaceName)}"), interval: false);
        Set(w, "nics4", "ipv4_addr", Addresses(r, AddressFamily.V4).Select(a => a.Address.ToString()), interval: false);
        Set(w, "nics6", "ipv6_addr", Addresses(r, AddressFamily.V6).Select(a => a.Address.ToString()), interval: false);
        w.Append("""
                chain prerouting {
                    type filter hook prerouting priority filter; policy accept;
                    iifname @ports ip saddr . iifname != @owned4 drop
                    ip saddr @nics4 ip saddr . iifname != @owned4 drop
                    iifname @ports ip6 saddr != { ::, fe80::/10 } ip6 saddr . iifname != @owned6 drop
                    ip6 saddr @nics6 ip6 saddr . iifname != @owned6 drop
                }
            }

            """.Replace("    ", "\t", StringComparison.Ordinal));
    }

    private static IEnumerable<(IpAddress Address, NftNic Nic)> Addresses(HostRuleset r, AddressFamily family) =>
        r.Nics.SelectMany(n => n.Addresses.Where(a => a.IsV6 == (family == AddressFamily.V6)).Select(a => (a, n))).OrderBy(x => x.a);

    private static void Set(StringBuilder w, string name, string type, IEnumerable<string> elements, bool interval)
    {
        w.Append(CultureInfo.InvariantCulture, $"\tset {name} {{\n\t\ttype {type}\n");
        if (interval)
            w.Append("\t\tflags interval\n");
        Elements(w, elements);
        w.Append("\t}\n\n");
    }

    private static void Map(StringBuilder w, string name, string type, IEnumerable<string> elements)
    {
        w.Append(CultureInfo.InvariantCulture, $"\tmap {name} {{\n\t\ttype {type} : verdict\n");
        Elements(w, elements);
        w.Append("\t}\n\n");
    }

    private static void Elements(StringBuilder w, IEnumerable<string> elements)
    {
        var list = elements.ToList();
        if (list.Count > 0)
            w.Append(CultureInfo.InvariantCulture, $"\t\telements = {{ {string.Join(",\n\t\t\t     ", list)} }}\n");
    }

    private static void Chain(StringBuilder w, NftChain chain, string title)
    {
        w.Append(CultureInfo.InvariantCulture, $"\tchain {chain.Name} {{\n\t\tcomment {Quote(title)}\n");
        foreach (var rule in chain.Rules)
            w.Append("\t\t").Append(Rule(rule)).Append('\n');
        w.Append("\t\t").Append(Verdict(chain.Default)).Append(" comment \"default\"\n");
        w.Append("\t}\n\n");
    }

    internal static IEnumerable<NftRunSet> RunSets(HostRuleset r) =>
        r.Nics.SelectMany(n => n.Ingress.Rules.Concat(n.Egress.Rules)).OfType<NftRunSet>();

    private static string RunSetType(NftRunSet run)
    {
        var address = run.Family == AddressFamily.V4 ? "ipv4_addr" : "ipv6_addr";
        return run.Kind switch
        {
            RunSetKind.Peer => address,
            RunSetKind.PeerProtocol => $"{address} . inet_proto",
            _ => $"{address} . inet_proto . inet_service",
        };
    }

    private static string Element(RunSetKind kind, NftElement e) => kind switch
    {
        RunSetKind.Peer => Block(e.Peer),
        RunSetKind.PeerProtocol => $"{Block(e.Peer)} . {Protocol(e.Protocol)}",
        _ => string.Create(CultureInfo.InvariantCulture, $"{Block(e.Peer)} . {Protocol(e.Protocol)} . {(e.PortLow == e.PortHigh ? $"{e.PortLow}" : $"{e.PortLow}-{e.PortHigh}")}"),
    };

    /// <summary>One rule as nft reads it.</summary>
    public static string Rule(NftChainRule statement)
    {
        var ip = statement.Family == AddressFamily.V4 ? "ip" : "ip6";
        if (statement is NftRunSet run)
        {
            var key = (run.PeerField == AddressField.Source ? "saddr" : "daddr") + run.Kind switch
            {
                RunSetKind.Peer => "",
                RunSetKind.PeerProtocol => " . meta l4proto",
                _ => " . meta l4proto . th dport",
            };
            return $"{ip} {key} @{run.SetName} {Verdict(run.Verdict)} comment {Quote(run.Comment)}";
        }
        var rule = (NftRule)statement;
        var parts = new List<string>();
        var peerField = rule.PeerField == AddressField.Source ? "saddr" : "daddr";
        var localField = rule.PeerField == AddressField.Source ? "daddr" : "saddr";
        switch (rule.Peer)
        {
            case AddressSource.Named n:
                parts.Add($"{ip} {peerField} @{n.SetName}");
                break;
            case AddressSource.Inline { Blocks.Length: 1 } one:
                parts.Add($"{ip} {peerField} {Block(one.Blocks[0])}");
                break;
            case AddressSource.Inline many:
                parts.Add($"{ip} {peerField} {{ {string.Join(", ", many.Blocks.Select(Block))} }}");
                break;
            case null when rule.Local is null:
                parts.Add(rule.Family == AddressFamily.V4 ? "meta nfproto ipv4" : "meta nfproto ipv6");
                break;
        }
        if (rule.Local is { } local)
            parts.Add($"{ip} {localField} {Block(local)}");
        if (rule.MatchesProtocol)
            parts.Add($"meta l4proto {Protocol(rule.Protocol)}");
        if (rule.DestinationPorts.Length == 1)
            parts.Add($"th dport {Ports(rule.DestinationPorts[0])}");
        else if (rule.DestinationPorts.Length > 1)
            parts.Add($"th dport {{ {string.Join(", ", rule.DestinationPorts.Select(Ports))} }}");
        if (rule.SourcePorts is { } sp)
            parts.Add($"th sport {Ports(sp)}");
        parts.Add(Verdict(rule.Verdict));
        parts.Add($"comment {Quote(rule.Comment)}");
        return string.Join(' ', parts);
    }

    private static string Block(Cidr c) => c.PrefixLength == c.Network.BitLength ? c.Network.ToString() : $"{c.Network}/{c.PrefixLength}";

    private static string Ports(PortRange p) =>
        p.Low == p.High ? p.Low.ToString(CultureInfo.InvariantCulture) : string.Create(CultureInfo.InvariantCulture, $"{p.Low}-{p.High}");

    private static string Protocol(IpProtocol p) => p switch
    {
        IpProtocol.Tcp => "tcp",
        IpProtocol.Udp => "udp",
        IpProtocol.Icmp => "icmp",
        IpProtocol.IcmpV6 => "ipv6-icmp",
        IpProtocol.Gre => "gre",
        _ => throw new ArgumentOutOfRangeException(nameof(p), p, "ALL names no protocol"),
    };

    private static string Verdict(NftVerdict v) => v switch
    {
        NftVerdict.Accept => "accept",
        NftVerdict.Drop => "drop",
        _ => "return",
    };

    /// <summary>A quoted nft string; our comments and names hold no quotes, but never let one through.</summary>
    private static string Quote(string s) => "\"" + new string([.. s.Where(c => c is not ('"' or '\\') && !char.IsControl(c)).Take(120)]) + "\"";
}

/// <summary>The shape the kernel must list once <see cref="NftText.FullApply"/> of a ruleset is in.</summary>
public static class ExpectedShape
{
    public static Kernel.KernelShape Of(HostRuleset r)
    {
        var rules = new Dictionary<string, int>(StringComparer.Ordinal) { ["inet forward"] = 9, ["bridge prerouting"] = 4 };
        foreach (var nic in r.Nics)
        {
            rules[$"inet {nic.Ingress.Name}"] = nic.Ingress.Rules.Length + 1;
            rules[$"inet {nic.Egress.Name}"] = nic.Egress.Rules.Length + 1;
        }
        var sets = new HashSet<string>(StringComparer.Ordinal)
        {
            "inet nics4", "inet nics6", "inet egress4", "inet egress6", "inet ingress4", "inet ingress6",
            "bridge ports", "bridge owned4", "bridge owned6", "bridge nics4", "bridge nics6",
        };
        foreach (var s in r.Sets)
            sets.Add($"inet {s.Name}");
        foreach (var run in NftText.RunSets(r))
            sets.Add($"inet {run.SetName}");
        return new Kernel.KernelShape(rules, sets);
    }
}
