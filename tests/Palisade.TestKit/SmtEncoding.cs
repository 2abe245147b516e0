using System.Diagnostics;
using System.Globalization;
using System.Text;
using Palisade.Domain.Groups;
using Palisade.Domain.Identifiers;
using Palisade.Domain.Instances;
using Palisade.Domain.Networking;
using Palisade.Domain.Rules;
using Palisade.Domain.State;

namespace Palisade.TestKit;

/// <summary>
/// ECS's semantics (docs/semantics.md) as SMT-LIB formulas, written from the state's rules alone —
/// nothing of the engine, the analysis or their indexes: whether a flow of protocol <c>proto</c>
/// (0 TCP, 1 UDP, 2 ICMP, 3 ICMPv6, 4 GRE, 5 any other) to port <c>port</c> is allowed from one
/// instance to another, over all their address pairs. Addresses are bit-vector literals and every
/// block a mask, so z3 does the address arithmetic as well as the port and precedence logic.
/// </summary>
public sealed class SmtEncoding(NetworkState state)
{
    /// <summary>The flow's source port, as reachability assumes it.</summary>
    private const int SourcePort = Engine.Flows.Flow.DefaultSourcePort;

    private const string HasPorts = "(or (= proto 0) (= proto 1))";

    public const string Declarations = "(declare-const proto Int)\n(declare-const port Int)\n";

    /// <summary>The flows there are: six protocols; ports 1–65535 for TCP and UDP, none (0) for the others.</summary>
    public const string Domain = "(and (<= 0 proto) (<= proto 5) (ite " + HasPorts + " (and (<= 1 port) (<= port 65535)) (= port 0)))";

    /// <summary>The protocols a family carries: ICMP only between IPv4 addresses, ICMPv6 only between IPv6 ones.</summary>
    public static string Family(bool v6) => $"(not (= proto {(int)(v6 ? IpProtocol.Icmp : IpProtocol.IcmpV6)}))";

    /// <summary>
    /// Whether some address of <paramref name="source"/> of the family reaches some address of
    /// <paramref name="target"/>: every address of every ENI, each judged by the groups of its own ENI.
    /// </summary>
    public string Allowed(Instance source, Instance target, bool v6) => Or(
        from sourceEni in ReferenceEvaluator.Enis(source)
        from a in sourceEni.PrivateAddresses.Where(x => x.IsV6 == v6)
        from targetEni in ReferenceEvaluator.Enis(target)
        from b in targetEni.PrivateAddresses.Where(x => x.IsV6 == v6)
        select And(Accepts(sourceEni, Direction.Egress, peer: b, local: a), Accepts(targetEni, Direction.Ingress, peer: a, local: b)));

    /// <summary>What an answer of the analysis says (per protocol, its port ranges), as a formula over the same variables.</summary>
    public static string Reported(IEnumerable<(IpProtocol Protocol, IEnumerable<PortRange> Ports)> accesses) => Or(accesses.Select(a => a.Protocol.HasPorts()
        ? And($"(= proto {(int)a.Protocol})", Or(a.Ports.Select(InRange)))
        : $"(= proto {(int)a.Protocol})"));

    private string Accepts(Instance nic, Direction direction, IpAddress peer, IpAddress local)
    {
        var groups = nic.SecurityGroupIds.Distinct().Select(state.FindGroup).OfType<SecurityGroup>().ToList();
        var rules = groups.SelectMany(g => g.Rules.Where(r => r.Direction == direction)).Select(r => (Rule: r, Match: Match(r, nic, peer, local))).ToList();
        // A matching accept decides unless a matching drop has the same or a better (lower) priority.
        var acceptedByRules = Or(rules.Where(r => r.Rule.Policy == Verdict.Accept).Select(r => And(
            [r.Match, .. rules.Where(d => d.Rule.Policy == Verdict.Drop && d.Rule.Priority.Value <= r.Rule.Priority.Value).Select(d => Not(d.Match))])));
        var anyMatch = Or(rules.Select(r => r.Match));
        // Members of a basic group whose inner access is Accept reach each other whatever the rules say.
        var innerAccept = Or(groups.Where(g => g.EffectiveInnerAccessPolicy == InnerAccessPolicy.Accept).Select(g => IsMember(nic, g.Id, peer)));
        if (direction == Direction.Ingress)
            return Or([innerAccept, acceptedByRules]);
        // Outbound without a matching rule: accepted, unless one of the NIC's groups is advanced.
        var openByDefault = groups.Any(g => g.Type == SecurityGroupType.Enterprise) ? "false" : "true";
        return Or([innerAccept, acceptedByRules, And([Not(anyMatch), openByDefault])]);
    }

    private string Match(SecurityGroupRule rule, Instance nic, IpAddress peer, IpAddress local)
    {
        // A classic instance's intranet NIC carries these flows; a VPC instance has one NIC for all rules.
        if (nic.NetworkType == NetworkType.Classic && rule.NicType != NicType.Intranet)
            return "false";
        var protocol = rule.Protocol == IpProtocol.All ? "true" : $"(= proto {(int)rule.Protocol})";
        var ports = !rule.Protocol.HasPorts() ? "true"
            : rule.PortRangeListId is { } listId ? (state.FindPortRangeList(listId) is { } list ? Or(list.Entries.Select(InRange)) : "false")
            : InRange(rule.Ports);
        var sourcePorts = rule.SourcePorts is { } sp
            ? $"(ite {HasPorts} {Within(sp, SourcePort)} {Within(sp, 0)})"
            : "true";
        var localBlock = rule.LocalCidr is { } block ? In(block, local) : "true";
        return And([protocol, ports, sourcePorts, localBlock, Peer(rule.Peer, nic, peer)]);
    }

    private string Peer(RulePeer peer, Instance nic, IpAddress address) => peer switch
    {
        RulePeer.CidrBlock c => In(c.Cidr, address),
        RulePeer.PrefixList p => state.FindPrefixList(p.PrefixListId) is { } list ? Or(list.Entries.Select(e => In(e, address))) : "false",
        RulePeer.Group g => IsMember(nic, g.GroupId, address),
        _ => "false",
    };

    /// <summary>The address is one of a member ENI of the group in the NIC's own network (its VPC, or the classic network).</summary>
    private string IsMember(Instance nic, SecurityGroupId group, IpAddress address) => Or(state.Instances
        .SelectMany(ReferenceEvaluator.Enis)
        .Where(i => i.SecurityGroupIds.Contains(group) && i.NetworkType == nic.NetworkType && (i.NetworkType == NetworkType.Classic || i.VpcId == nic.VpcId))
        .SelectMany(i => i.PrivateAddresses)
        .Select(a => a.IsV6 != address.IsV6 ? "false" : $"(= {Bits(a)} {Bits(address)})"));

    private static string In(Cidr block, IpAddress address)
    {
        if (block.IsV6 != address.IsV6)
            return "false";
        var width = address.BitLength;
        var ones = width == 128 ? UInt128.MaxValue : (UInt128.One << width) - 1;
        // A shift by the whole width is no shift at all in C#: a host block (/32, /128) is all ones.
        var mask = block.PrefixLength >= width ? ones : ones ^ (ones >> block.PrefixLength);
        return $"(= (bvand {Bits(address)} {Bits(mask, width)}) {Bits(block.Network.Value & mask, width)})";
    }

    private static string Bits(IpAddress address) => Bits(address.Value, address.BitLength);

    private static string Bits(UInt128 value, int width) =>
        "#x" + (width == 128 ? value.ToString("x32", CultureInfo.InvariantCulture) : ((uint)value).ToString("x8", CultureInfo.InvariantCulture));

    private static string InRange(PortRange range) => $"(and (<= {range.Low} port) (<= port {range.High}))";

    private static string Within(PortRange range, int port) => $"(and (<= {range.Low} {port}) (<= {port} {range.High}))";

    private static string Not(string formula) => $"(not {formula})";

    private static string And(IEnumerable<string> parts) => Join("and", "true", parts);

    private static string And(string a, string b) => And([a, b]);

    private static string Or(IEnumerable<string> parts) => Join("or", "false", parts);

    private static string Join(string op, string empty, IEnumerable<string> parts)
    {
        var list = parts.ToList();
        return list.Count switch { 0 => empty, 1 => list[0], _ => $"({op} {string.Join(' ', list)})" };
    }
}

/// <summary>Runs z3 (Debian's package) on a script of independent queries; each answers sat or unsat.</summary>
public static class Z3
{
    public const string Executable = "/usr/bin/z3";

    public static bool Installed => File.Exists(Executable);

    /// <summary>
    /// For each formula, whether it can be true within <see cref="SmtEncoding.Domain"/>; for a
    /// satisfiable one, also the values of proto and port that make it so (a counterexample).
    /// </summary>
    public static IReadOnlyList<(bool Satisfiable, string Model)> Check(IReadOnlyList<string> formulas)
    {
        var script = new StringBuilder(SmtEncoding.Declarations);
        script.Append("(assert ").Append(SmtEncoding.Domain).Append(")\n");
        foreach (var formula in formulas)
            script.Append("(push 1)\n(assert ").Append(formula).Append(")\n(check-sat)\n(pop 1)\n");
        var answers = Run(script.ToString()).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (answers.Length != formulas.Count || answers.Any(a => a is not ("sat" or "unsat")))
            throw new InvalidOperationException($"z3 answered: {string.Join(" ", answers.Take(5))}");
        return [.. answers.Select((a, i) => a == "sat" ? (true, Model(formulas[i])) : (false, ""))];
    }

    private static string Model(string formula) =>
        Run($"{SmtEncoding.Declarations}(assert {SmtEncoding.Domain})\n(assert {formula})\n(check-sat)\n(get-value (proto port))\n").Replace('\n', ' ');

    private static string Run(string script)
    {
        using var z3 = Process.Start(new ProcessStartInfo(Executable, "-in -smt2")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = z3.StandardOutput.ReadToEndAsync();
        z3.StandardInput.Write(script);
        z3.StandardInput.Close();
        if (!z3.WaitForExit(120_000))
        {
            z3.Kill();
            throw new TimeoutException("z3 took more than two minutes");
        }
        return output.Result;
    }
}
