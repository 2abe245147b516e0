namespace Palisade.Analysis.Audit;

/// <summary>The address blocks the rule checks judge peers by.</summary>
internal static class AuditBlocks
{
    private static readonly Cidr[] PrivateBlocks =
    [
        Cidr.Parse("10.0.0.0/8"), Cidr.Parse("172.16.0.0/12"), Cidr.Parse("192.168.0.0/16"), Cidr.Parse("100.64.0.0/10"), Cidr.Parse("fc00::/7"),
    ];

    private static readonly Cidr[] WideBlocks =
    [
        Cidr.Parse("0.0.0.0/0"), Cidr.Parse("::/0"), Cidr.Parse("10.0.0.0/8"), Cidr.Parse("172.16.0.0/12"), Cidr.Parse("192.168.0.0/16"), Cidr.Parse("100.64.0.0/10"), Cidr.Parse("fc00::/7"),
    ];

    /// <summary>Inside one of the private ranges (RFC 1918, shared address space, unique local IPv6).</summary>
    public static bool IsPrivate(Cidr c) => PrivateBlocks.Any(p => p.Covers(c));

    /// <summary>One of the blocks that admit far more than a role's peers: everything, or a whole private range.</summary>
    public static bool IsWide(Cidr c) => WideBlocks.Any(w => w == c);
}
