using System.Globalization;
using System.Text;
using Palisade.Domain.Networking;

namespace Palisade.Agent.Rendering;

/// <summary>
/// The <c>nft -f</c> text of a <see cref="HostRuleset"/>. Palisade owns two tables named
/// <c>palisade</c> and never touches any other.
/// <para><c>bridge palisade</c> holds each port to its NIC (layer 2, before anything else): frames
/// from a NIC's port must carry its pinned MAC and its own addresses (IP, ARP, neighbour
/// advertisements, its own link-local), never a router advertisement, redirect or DHCP server
/// reply; no other port may use that MAC; frames to a NIC's port come from its own network's ports
/// or the uplink, and unicast only to its MAC.</para>
/// <para><c>inet palisade</c> decides, statefully, in the forward hook (which bridged traffic
/// reaches through br_netfilter): the inet hooks see the bridge, not the port, but the MAC is pinned
/// to the port, so the source NIC is found by <c>ether saddr</c> and the destination NIC by
/// <c>ether daddr</c> — never by address, so NICs of different networks may share addresses. Each
/// network's connections are tracked in its own conntrack zone, set before conntrack sees the packet.</para>
/// Every text here is one transaction: the kernel takes all of it or none (never a half-applied state).
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

    /// <summary>
    /// A change of group membership or of prefix-list entries only: the changed sets' elements,
    /// nothing else — no rule, chain or other set is touched (issue 16 item 6: a prefix-list edit is a
    /// set-element update).
    /// </summary>
    public static string SetUpdate(HostRuleset before, HostRuleset after)
    {
        var w = new StringBuilder();
        w.Append(CultureInfo.InvariantCulture, $"# palisade: revision {before.Revision} -> {after.Revision}, set elements only\n");
        ElementUpdates(w, before, after);
        return w.ToString();
    }

    /// <summary>
    /// For each set of <paramref name="after"/> whose elements differ from <paramref name="before"/>'s
    /// same-named set: <c>delete element</c> for those it lost, then <c>add element</c> for those it
    /// gained. Only the difference: a one-entry edit of a 200-entry prefix list is one element, and
    /// lookups of the elements that stay never see the set empty (all of it is one transaction anyway).
    /// Deletions come first: the kernel refuses an interval that overlaps one still present (a block
    /// replaced by a wider one that covers it). A set new in <paramref name="after"/> gets all its elements.
    /// </summary>
    private static void ElementUpdates(StringBuilder w, HostRuleset before, HostRuleset after)
    {
        var changed = after.SetsChangedSince(before).ToList();
        var old = before.Sets.ToDictionary(b => b.Name, StringComparer.Ordinal);
        foreach (var set in changed)
        {
            var had = old.TryGetValue(set.Name, out var b) ? b.Elements : [];
            var lost = had.Except(set.Elements).ToList();
            if (lost.Count > 0)
                w.Append(CultureInfo.InvariantCulture, $"delete element inet {TableName} {set.Name} {{ {string.Join(", ", lost)} }}\n");
        }
        foreach (var set in changed)
        {
            var had = old.TryGetValue(set.Name, out var b) ? b.Elements : [];
            var gained = set.Elements.Except(had).ToList();
            if (gained.Count > 0)
                w.Append(CultureInfo.InvariantCulture, $"add element inet {TableName} {set.Name} {{ {string.Join(", ", gained)} }}\n");
        }
    }

    /// <summary>
    /// The NICs, their interfaces and addresses are the same, only some chains (or member sets)
    /// differ: those chains are emptied and refilled, the member sets brought up to date, all in one
    /// transaction; the dispatch maps, the other NICs' chains and the bridge table stay untouched.
    /// Null when the NICs themselves differ (a whole apply is needed).
    /// </summary>
    public static string? Incremental(HostRuleset before, HostRuleset after)
    {
        if (before.Counters != after.Counters || !before.Nics.Select(Identity).SequenceEqual(after.Nics.Select(Identity)))
            return null;
        var changed = ChangedChains(before, after);
        var w = new StringBuilder();
        w.Append(CultureInfo.InvariantCulture, $"# palisade: revision {before.Revision} -> {after.Revision}, {changed.Count} chains\n");
        foreach (var set in after.Sets.Where(s => !before.Sets.Any(b => b.Name == s.Name)))
            w.Append(CultureInfo.InvariantCulture, $"add set inet {TableName} {set.Name} {{ type {(set.Family == AddressFamily.V4 ? "ipv4_addr" : "ipv6_addr")}; {(set.Interval ? "flags interval; " : "")}}}\n");
        ElementUpdates(w, before, after);
        foreach (var (old, _) in changed)
            w.Append(CultureInfo.InvariantCulture, $"flush chain inet {TableName} {old.Name}\n");
        foreach (var (old, _) in changed)
        {
            foreach (var run in old.Rules.OfType<NftRunSet>())
                w.Append(CultureInfo.InvariantCulture, $"delete {(before.Counters ? "map" : "set")} inet {TableName} {run.SetName}\n");
        }
        var counters = after.Counters;
        foreach (var (old, chain) in changed)
        {
            // A rule's counter outlives a change of its chain (add is a no-op for one that exists); the agent read it just before.
            foreach (var rule in counters ? chain.CountedRules.Except(old.CountedRules, StringComparer.Ordinal) : [])
                w.Append(CultureInfo.InvariantCulture, $"add counter inet {TableName} {CounterName(chain.Name, rule)}\n");
            foreach (var run in chain.Rules.OfType<NftRunSet>())
            {
                if (counters)
                    w.Append(CultureInfo.InvariantCulture, $"add map inet {TableName} {run.SetName} {{ type {RunSetType(run)} : counter; flags interval; ");
                else
                    w.Append(CultureInfo.InvariantCulture, $"add set inet {TableName} {run.SetName} {{ type {RunSetType(run)}; flags interval; ");
                if (run.Elements.Length > 0)
                    w.Append(CultureInfo.InvariantCulture, $"elements = {{ {string.Join(", ", RunElements(chain.Name, run, counters))} }}; ");
                w.Append("}\n");
            }
            foreach (var rule in chain.Rules)
                w.Append(CultureInfo.InvariantCulture, $"add rule inet {TableName} {chain.Name} {Rule(rule, chain.Name, counters)}\n");
            w.Append(CultureInfo.InvariantCulture, $"add rule inet {TableName} {chain.Name} {Verdict(chain.Default)} comment \"default\"\n");
        }
        foreach (var set in before.Sets.Where(s => !after.Sets.Any(a => a.Name == s.Name)))
            w.Append(CultureInfo.InvariantCulture, $"delete set inet {TableName} {set.Name}\n");
        foreach (var (old, chain) in changed)
        {
            foreach (var rule in counters ? old.CountedRules.Except(chain.CountedRules, StringComparer.Ordinal) : [])
                w.Append(CultureInfo.InvariantCulture, $"delete counter inet {TableName} {CounterName(chain.Name, rule)}\n");
        }
        return w.ToString();

        static (NicRef, string, MacAddress, string, int, string) Identity(NftNic n) =>
            (n.Ref, n.InterfaceName, n.Mac, n.Network, n.Zone, string.Join(",", n.Addresses));
    }

    /// <summary>The chains (before, after) that differ between two rulesets of the same NICs.</summary>
    public static IReadOnlyList<(NftChain Before, NftChain After)> ChangedChains(HostRuleset before, HostRuleset after) =>
        [.. before.Nics.Zip(after.Nics)
            .SelectMany(p => new[] { (p.First.Ingress, p.Second.Ingress), (p.First.Egress, p.Second.Egress) })
            .Where(p => !p.Item1.Equals(p.Item2))];

    private static void InetTable(StringBuilder w, HostRuleset r)
    {
        w.Append(CultureInfo.InvariantCulture, $"table inet {TableName} {{\n");
        foreach (var nic in r.Counters ? r.Nics : [])
        {
            foreach (var chain in new[] { nic.Ingress, nic.Egress })
            {
                foreach (var rule in chain.CountedRules)
                    w.Append(CultureInfo.InvariantCulture, $"\tcounter {CounterName(chain.Name, rule)} {{\n\t}}\n\n");
            }
        }
        foreach (var set in r.Sets)
            Set(w, set.Name, set.Family == AddressFamily.V4 ? "ipv4_addr" : "ipv6_addr", set.Elements.Select(e => e.ToString()), interval: set.Interval);
        foreach (var nic in r.Nics)
        {
            foreach (var chain in new[] { nic.Ingress, nic.Egress })
            {
                foreach (var run in chain.Rules.OfType<NftRunSet>())
                {
                    if (r.Counters)
                        Map(w, run.SetName, $"type {RunSetType(run)} : counter\n\t\tflags interval", RunElements(chain.Name, run, counters: true));
                    else
                        Set(w, run.SetName, RunSetType(run), RunElements(chain.Name, run, counters: false), interval: true);
                }
            }
        }
        var byMac = r.Nics.OrderBy(n => n.Mac).ToList();
        Set(w, "macs", "ether_addr", byMac.Select(n => n.Mac.ToString()), interval: false);
        Map(w, "zones", "typeof ether saddr : ct zone", byMac.Select(n => string.Create(CultureInfo.InvariantCulture, $"{n.Mac} : {n.Zone}")));
        Map(w, "egress", "type ether_addr : verdict", byMac.Select(n => $"{n.Mac} : jump {n.Egress.Name}"));
        Map(w, "ingress", "type ether_addr : verdict", byMac.Select(n => $"{n.Mac} : jump {n.Ingress.Name}"));
        w.Append("""
                chain prerouting {
                    type filter hook prerouting priority raw; policy accept;
                    ct zone set ether daddr map @zones
                    ct zone set ether saddr map @zones
                }

                chain forward {
                    type filter hook forward priority filter; policy drop;
                    meta mark set meta mark or 0x00100000 comment "seen: the bridge lets only judged IP through"
                    ct state established,related accept
                    ct state invalid drop
                    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, nd-router-advert } accept
                    ether saddr vmap @egress
                    ether daddr vmap @ingress
                    ether saddr @macs accept
                }

            """.Replace("    ", "\t", StringComparison.Ordinal));
        foreach (var nic in r.Nics)
        {
            Chain(w, nic.Ingress, $"{nic.Ref} on {nic.InterfaceName}: ingress", r.Counters);
            Chain(w, nic.Egress, $"{nic.Ref} on {nic.InterfaceName}: egress", r.Counters);
        }
        w.Append("}\n");
    }

    /// <summary>The chains of the bridge table for one NIC: what may come from its port, what may go to it.</summary>
    public static string FromPortChainName(Domain.Identifiers.InstanceId id) => FromPortChainName(id.Value);

    public static string ToPortChainName(Domain.Identifiers.InstanceId id) => ToPortChainName(id.Value);

    /// <param name="nic">The NIC's <see cref="NftNic.Name"/>.</param>
    public static string FromPortChainName(string nic) => $"from_{nic}";

    public static string ToPortChainName(string nic) => $"to_{nic}";

    private static void BridgeTable(StringBuilder w, HostRuleset r)
    {
        w.Append(CultureInfo.InvariantCulture, $"table bridge {TableName} {{\n");
        Set(w, "ports", "ifname", r.Nics.Select(n => Quote(n.InterfaceName)), interval: false);
        Set(w, "macs", "ether_addr", r.Nics.Select(n => n.Mac).Order().Select(m => m.ToString()), interval: false);
        foreach (var network in Networks(r))
            Set(w, NetworkPortsSet(network.Key), "ifname", network.Value.Select(n => Quote(n.InterfaceName)), interval: false);
        Map(w, "from_port", "type ifname : verdict", r.Nics.Select(n => $"{Quote(n.InterfaceName)} : jump {FromPortChainName(n.Name)}"));
        Map(w, "to_port", "type ifname : verdict", r.Nics.Select(n => $"{Quote(n.InterfaceName)} : jump {ToPortChainName(n.Name)}"));
        w.Append("""
                chain prerouting {
                    type filter hook prerouting priority -300; policy accept;
                    iifname vmap @from_port
                    ether saddr @macs drop comment "a NIC's MAC from a port not its own"
                }

                chain forward {
                    type filter hook forward priority -300; policy accept;
                    oifname vmap @to_port
                }

                chain judged {
                    type filter hook forward priority 100; policy accept;
                    iifname @ports ether type { ip, ip6 } meta mark and 0x00100000 == 0 drop comment "not judged by inet palisade (bridge netfilter off?)"
                    oifname @ports ether type { ip, ip6 } meta mark and 0x00100000 == 0 drop comment "not judged by inet palisade (bridge netfilter off?)"
                }

            """.Replace("    ", "\t", StringComparison.Ordinal));
        foreach (var nic in r.Nics)
        {
            var lines = FromPort(nic);
            w.Append(CultureInfo.InvariantCulture, $"\tchain {FromPortChainName(nic.Name)} {{\n\t\tcomment {Quote($"{nic.Ref} on {nic.InterfaceName}: from its port")}\n");
            foreach (var line in lines)
                w.Append("\t\t").Append(line).Append('\n');
            w.Append("\t}\n\n");
            w.Append(CultureInfo.InvariantCulture, $"\tchain {ToPortChainName(nic.Name)} {{\n\t\tcomment {Quote($"{nic.Ref} on {nic.InterfaceName}: to its port")}\n");
            foreach (var line in ToPort(nic))
                w.Append("\t\t").Append(line).Append('\n');
            w.Append("\t}\n\n");
        }
        w.Append("}\n");
    }

    /// <summary>
    /// What a NIC's port may send: its MAC, its addresses (IPv4 0.0.0.0 only as a DHCP client; IPv6
    /// its link-local and :: for duplicate address detection), ARP and neighbour advertisements for
    /// itself only, no router advertisement, redirect or DHCP server reply, and nothing but IPv4,
    /// IPv6 and ARP (a VLAN tag or another EtherType would walk around every check above).
    /// </summary>
    internal static IReadOnlyList<string> FromPort(NftNic nic)
    {
        var v4 = nic.Addresses.Where(a => !a.IsV6).Select(a => a.ToString()).ToList();
        var v6 = nic.Addresses.Where(a => a.IsV6).Append(nic.Mac.LinkLocal).Distinct().Order().ToList();
        var lines = new List<string>
        {
            $"ether saddr != {nic.Mac} drop comment \"forged source MAC\"",
            "ether type != { ip, ip6, arp } drop comment \"only IPv4, IPv6 and ARP\"",
            $"arp saddr ether != {nic.Mac} drop comment \"ARP for another MAC\"",
            v4.Count == 0
                ? "arp saddr ip != 0.0.0.0 drop comment \"ARP for an address not its own\""
                : $"arp saddr ip != {{ 0.0.0.0, {string.Join(", ", v4)} }} drop comment \"ARP for an address not its own\"",
            "ip saddr 0.0.0.0 udp sport 68 udp dport 67 accept comment \"DHCP client\"",
            v4.Count == 0
                ? "ether type ip drop comment \"no IPv4 address\""
                : $"ip saddr != {{ {string.Join(", ", v4)} }} drop comment \"source address not its own\"",
            $"ip6 saddr != {{ ::, {string.Join(", ", v6)} }} drop comment \"source address not its own\"",
            "icmpv6 type { nd-router-advert, nd-redirect } drop comment \"router advertisement or redirect from an instance\"",
            $"icmpv6 type nd-neighbor-advert @th,64,128 != {{ {string.Join(", ", v6.Select(Hex128))} }} drop comment \"neighbour advertisement for another address\"",
            "udp sport 67 udp dport 68 drop comment \"DHCP server reply from an instance\"",
            "udp sport 547 udp dport 546 drop comment \"DHCPv6 server reply from an instance\"",
            "accept",
        };
        return lines;
    }

    /// <summary>What may reach a NIC's port: nothing from another network's ports; unicast only to its own MAC.</summary>
    internal static IReadOnlyList<string> ToPort(NftNic nic) =>
    [
        $"iifname @ports iifname != @{NetworkPortsSet(nic.Network)} drop comment \"from another network's port\"",
        $"ether daddr != {nic.Mac} ether daddr & 01:00:00:00:00:00 == 00:00:00:00:00:00 drop comment \"unicast to another MAC\"",
        "accept",
    ];

    private static string Hex128(IpAddress a) => "0x" + a.Value.ToString("x32", CultureInfo.InvariantCulture);

    private static SortedDictionary<string, List<NftNic>> Networks(HostRuleset r)
    {
        var networks = new SortedDictionary<string, List<NftNic>>(StringComparer.Ordinal);
        foreach (var nic in r.Nics)
        {
            if (!networks.TryGetValue(nic.Network, out var list))
                networks[nic.Network] = list = [];
            list.Add(nic);
        }
        return networks;
    }

    internal static string NetworkPortsSet(string network) => "net_" + network;

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
        w.Append(CultureInfo.InvariantCulture, $"\tmap {name} {{\n\t\t{type}\n");
        Elements(w, elements);
        w.Append("\t}\n\n");
    }

    private static void Elements(StringBuilder w, IEnumerable<string> elements)
    {
        var list = elements.ToList();
        if (list.Count > 0)
            w.Append(CultureInfo.InvariantCulture, $"\t\telements = {{ {string.Join(",\n\t\t\t     ", list)} }}\n");
    }

    private static void Chain(StringBuilder w, NftChain chain, string title, bool counters)
    {
        w.Append(CultureInfo.InvariantCulture, $"\tchain {chain.Name} {{\n\t\tcomment {Quote(title)}\n");
        foreach (var rule in chain.Rules)
            w.Append("\t\t").Append(Rule(rule, chain.Name, counters)).Append('\n');
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

    /// <summary>
    /// The named counter of one ECS rule in one chain: what the packets it decides there move. The
    /// agent reads them back by this name (<see cref="Counters"/>). IDs are letters, digits and underscores: no quoting needed.
    /// </summary>
    public static string CounterName(string chainName, string ruleId) => $"c_{chainName}_{ruleId}";

    /// <summary>Every counter of a ruleset by name: the NIC, its direction and the ECS rule it counts for (read back by name; IDs may hold '_'). None when its counters are off.</summary>
    public static IReadOnlyDictionary<string, CounterOwner> Counters(HostRuleset ruleset)
    {
        var counters = new Dictionary<string, CounterOwner>(StringComparer.Ordinal);
        foreach (var nic in ruleset.Counters ? ruleset.Nics : [])
        {
            foreach (var (chain, ingress) in new[] { (nic.Ingress, true), (nic.Egress, false) })
            {
                foreach (var rule in chain.CountedRules)
                    counters[CounterName(chain.Name, rule)] = new CounterOwner(nic.InstanceId, ingress ? "ingress" : "egress", rule) { Nic = nic.Ref };
            }
        }
        return counters;
    }

    /// <summary>A run set's elements: each mapped to its ECS rule's counter, or plain when counters are off.</summary>
    private static IEnumerable<string> RunElements(string chainName, NftRunSet run, bool counters) =>
        run.Elements.Select(e => counters ? $"{Element(run.Kind, e)} : \"{CounterName(chainName, e.Owner)}\"" : Element(run.Kind, e));

    private static string Element(RunSetKind kind, NftElement e) => kind switch
    {
        RunSetKind.Peer => Block(e.Peer),
        RunSetKind.PeerProtocol => $"{Block(e.Peer)} . {Protocol(e.Protocol)}",
        _ => string.Create(CultureInfo.InvariantCulture, $"{Block(e.Peer)} . {Protocol(e.Protocol)} . {(e.PortLow == e.PortHigh ? $"{e.PortLow}" : $"{e.PortLow}-{e.PortHigh}")}"),
    };

    /// <summary>One rule as nft reads it; in <paramref name="chainName"/>, a rule counts for its ECS rule (without it, as the tests read a rule, it counts nothing).</summary>
    public static string Rule(NftChainRule statement) => Rule(statement, null, counters: true);

    /// <param name="counters">False: the ruleset counts nothing (<see cref="HostRuleset.Counters"/>): a run set is a plain set lookup, a rule has no counter.</param>
    public static string Rule(NftChainRule statement, string? chainName, bool counters)
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
            return counters
                ? $"counter name {ip} {key} map @{run.SetName} {Verdict(run.Verdict)} comment {Quote(run.Comment)}"
                : $"{ip} {key} @{run.SetName} {Verdict(run.Verdict)} comment {Quote(run.Comment)}";
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
        if (rule.CountedRule is { } counted && chainName is not null && counters)
            parts.Add($"counter name \"{CounterName(chainName, counted)}\"");
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

/// <summary>What one named counter counts for: the packets one ECS rule decided for one NIC in one direction.</summary>
public sealed record CounterOwner(Domain.Identifiers.InstanceId InstanceId, string Direction, string RuleId)
{
    /// <summary>The NIC (an ENI of the instance, or its primary NIC).</summary>
    public NicRef Nic { get; init; } = new(InstanceId, null, Secondary: false);
}

/// <summary>The shape the kernel must list once <see cref="NftText.FullApply"/> of a ruleset is in.</summary>
public static class ExpectedShape
{
    public static Kernel.KernelShape Of(HostRuleset r)
    {
        var rules = new Dictionary<string, int>(StringComparer.Ordinal)
        {
            ["inet prerouting"] = 2, ["inet forward"] = 7, ["bridge prerouting"] = 2, ["bridge forward"] = 1, ["bridge judged"] = 2,
        };
        var sets = new HashSet<string>(StringComparer.Ordinal)
        {
            "inet macs", "inet zones", "inet egress", "inet ingress", "bridge ports", "bridge macs", "bridge from_port", "bridge to_port",
        };
        foreach (var nic in r.Nics)
        {
            rules[$"inet {nic.Ingress.Name}"] = nic.Ingress.Rules.Length + 1;
            rules[$"inet {nic.Egress.Name}"] = nic.Egress.Rules.Length + 1;
            rules[$"bridge {NftText.FromPortChainName(nic.Name)}"] = NftText.FromPort(nic).Count;
            rules[$"bridge {NftText.ToPortChainName(nic.Name)}"] = NftText.ToPort(nic).Count;
            sets.Add($"bridge {NftText.NetworkPortsSet(nic.Network)}");
        }
        foreach (var s in r.Sets)
            sets.Add($"inet {s.Name}");
        foreach (var run in NftText.RunSets(r))
            sets.Add($"inet {run.SetName}");
        return new Kernel.KernelShape(rules, sets) { Hooks = BaseChains };
    }

    /// <summary>The base chains (family, name, hook, priority, policy) as the kernel lists them: a chain re-hooked or re-prioritised is drift too.</summary>
    public static IReadOnlySet<string> BaseChains { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "inet prerouting prerouting -300 accept", "inet forward forward 0 drop",
        "bridge prerouting prerouting -300 accept", "bridge forward forward -300 accept", "bridge judged forward 100 accept",
    };
}
