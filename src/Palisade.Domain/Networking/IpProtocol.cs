namespace Palisade.Domain.Networking;

/// <summary>
/// The protocols an ECS rule can name. In a rule, <see cref="All"/> matches every IP protocol; in a
/// flow it stands for a protocol none of the others names (SCTP, ESP, …), which only <c>ALL</c>
/// rules match.
/// </summary>
public enum IpProtocol : byte
{
    Tcp,
    Udp,
    Icmp,
    IcmpV6,
    Gre,
    All,
}

public static class IpProtocols
{
    public const int Count = 6;

    public static bool TryParse(string? text, out IpProtocol protocol)
    {
        protocol = default;
        if (text is null)
            return false;
        switch (text.ToUpperInvariant())
        {
            case "TCP": protocol = IpProtocol.Tcp; return true;
            case "UDP": protocol = IpProtocol.Udp; return true;
            case "ICMP": protocol = IpProtocol.Icmp; return true;
            case "ICMPV6": protocol = IpProtocol.IcmpV6; return true;
            case "GRE": protocol = IpProtocol.Gre; return true;
            case "ALL": protocol = IpProtocol.All; return true;
            default: return false;
        }
    }

    /// <summary>The wire spelling ECS echoes: upper case, except <c>ICMPv6</c>.</summary>
    public static string ToWire(this IpProtocol protocol) => protocol switch
    {
        IpProtocol.Tcp => "TCP",
        IpProtocol.Udp => "UDP",
        IpProtocol.Icmp => "ICMP",
        IpProtocol.IcmpV6 => "ICMPv6",
        IpProtocol.Gre => "GRE",
        IpProtocol.All => "ALL",
        _ => throw new ArgumentOutOfRangeException(nameof(protocol), protocol, null),
    };

    /// <summary>TCP and UDP carry ports; every other protocol's rules take <c>-1/-1</c>.</summary>
    public static bool HasPorts(this IpProtocol protocol) => protocol is IpProtocol.Tcp or IpProtocol.Udp;
}
