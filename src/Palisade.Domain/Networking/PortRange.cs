using System.Globalization;
using Palisade.Domain.Errors;

namespace Palisade.Domain.Networking;

/// <summary>
/// An ECS port range, <c>start/end</c>. TCP and UDP take <c>1..65535</c> with start ≤ end; every
/// other protocol takes only <c>-1/-1</c> (<see cref="Any"/>), which matches every port.
/// </summary>
public readonly record struct PortRange
{
    public const int MinPort = 1;
    public const int MaxPort = 65535;

    private PortRange(int from, int to)
    {
        From = from;
        To = to;
    }

    public int From { get; }

    public int To { get; }

    /// <summary><c>-1/-1</c>: all ports, the only range ICMP, ICMPv6, GRE and ALL rules may carry.</summary>
    public static PortRange Any { get; } = new(-1, -1);

    public bool IsAny => From == -1;

    /// <summary>The lowest port this range matches, as a flow's port number (0 for <see cref="Any"/>).</summary>
    public int Low => IsAny ? 0 : From;

    /// <summary>The highest port this range matches.</summary>
    public int High => IsAny ? MaxPort : To;

    public bool Contains(int port) => port >= Low && port <= High;

    public static PortRange Create(int from, int to)
    {
        if (from < MinPort || to > MaxPort || from > to)
            throw new ArgumentOutOfRangeException(nameof(from), $"{from}/{to} is not a port range.");
        return new PortRange(from, to);
    }

    public static PortRange Single(int port) => Create(port, port);

    /// <summary>Reads the two integers of <c>start/end</c> without judging them.</summary>
    public static bool TryParseSyntax(string? text, out int from, out int to)
    {
        from = to = 0;
        if (string.IsNullOrEmpty(text) || text.Length > 13)
            return false;
        var slash = text.IndexOf('/');
        return slash > 0
            && TryParseInt(text.AsSpan(0, slash), out from)
            && TryParseInt(text.AsSpan(slash + 1), out to);
    }

    private static bool TryParseInt(ReadOnlySpan<char> s, out int value)
    {
        value = 0;
        return s.Length is > 0 and <= 6
            && (char.IsAsciiDigit(s[0]) || (s[0] == '-' && s.Length > 1))
            && int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>
    /// Validates a rule's <c>PortRange</c> for its protocol, with the codes of ecs-api.md §4:
    /// missing → <c>InvalidPortRange.Malformed</c>; not <c>int/int</c> → <c>InvalidParam.PortRange</c>;
    /// out of range or reversed → <c>InvalidIpProtocol.Malformed</c>; wrong kind for the protocol
    /// (ICMP 22/22, TCP -1/-1) → <c>OperationDenied</c>.
    /// </summary>
    public static Result<PortRange> ParseFor(IpProtocol protocol, string? text)
    {
        if (string.IsNullOrEmpty(text))
            return EcsErrors.PortRangeMissing();
        if (!TryParseSyntax(text, out var from, out var to))
            return EcsErrors.PortRangeSyntax(text);
        if (!protocol.HasPorts())
            return from == -1 && to == -1 ? Any : EcsErrors.ProtocolPortRangeMismatch(protocol.ToWire(), text);
        if (from == -1 && to == -1)
            return EcsErrors.ProtocolPortRangeMismatch(protocol.ToWire(), text);
        if (from < MinPort || to > MaxPort || from > to)
            return EcsErrors.PortRangeInvalid(text);
        return new PortRange(from, to);
    }

    /// <summary>
    /// Validates an optional <c>SourcePortRange</c>: absent, or a TCP/UDP range, or <c>-1/-1</c>.
    /// Every fault is <c>InvalidSourcePortRange.Malformed</c>.
    /// </summary>
    public static Result<PortRange?> ParseSourceFor(IpProtocol protocol, string? text)
    {
        if (string.IsNullOrEmpty(text))
            return (PortRange?)null;
        if (!TryParseSyntax(text, out var from, out var to))
            return EcsErrors.SourcePortRangeInvalid(text);
        if (from == -1 && to == -1)
            return (PortRange?)null;
        if (!protocol.HasPorts() || from < MinPort || to > MaxPort || from > to)
            return EcsErrors.SourcePortRangeInvalid(text);
        return (PortRange?)new PortRange(from, to);
    }

    /// <summary>
    /// The one notation people read a range in, wherever Palisade prints one (rule tables, what-ifs,
    /// reachability): <c>22</c>, <c>8000-8010</c>, and <c>all</c> for every port, whether the rule
    /// wrote it <c>-1/-1</c> or <c>1/65535</c>. The wire keeps ECS's <c>start/end</c> (<see cref="ToString"/>).
    /// </summary>
    public string ForPeople => IsAny || (Low == MinPort && High == MaxPort) ? "all"
        : Low == High ? Low.ToString(CultureInfo.InvariantCulture) : string.Create(CultureInfo.InvariantCulture, $"{Low}-{High}");

    /// <summary><see cref="ForPeople"/> of a wire range (<c>start/end</c>); text that is no range is shown as it is.</summary>
    public static string ForPeopleOf(string? wire) =>
        TryParseSyntax(wire, out var from, out var to) && (from, to) is (-1, -1) ? Any.ForPeople
        : TryParseSyntax(wire, out from, out to) && from >= MinPort && to <= MaxPort && from <= to ? Create(from, to).ForPeople
        : wire ?? "";

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{From}/{To}");
}
