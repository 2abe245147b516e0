namespace Palisade.Server.Actions.Vpcs;

/// <summary>What CIDR blocks VPCs and vSwitches may take (ecs-api.md §3.14).</summary>
internal static class VpcRules
{
    private static readonly Cidr[] Reserved = [Cidr.Parse("100.64.0.0/10"), Cidr.Parse("224.0.0.0/4"), Cidr.Parse("127.0.0.0/8"), Cidr.Parse("169.254.0.0/16"), Cidr.Parse("0.0.0.0/8"), Cidr.Parse("240.0.0.0/4")];

    public static Cidr VpcBlock(string text)
    {
        if (!Cidr.TryParse(text, out var cidr) || cidr.IsV6 || cidr.WrittenAsAddress || cidr.PrefixLength is < 8 or > 28
            || Reserved.Any(r => r.Covers(cidr) || cidr.Covers(r)) || cidr.ToString() != text)
            throw new EcsException(EcsErrors.VpcCidrInvalid(text));
        return cidr;
    }

    public static Cidr VSwitchBlock(string text, Cidr vpc)
    {
        if (!Cidr.TryParse(text, out var cidr) || cidr.IsV6 || cidr.WrittenAsAddress || cidr.ToString() != text)
            throw new EcsException(EcsErrors.VpcCidrInvalid(text));
        if (cidr.PrefixLength is < 16 or > 29)
            throw new EcsException(EcsErrors.VSwitchCidrMask(text));
        if (!vpc.Covers(cidr))
            throw new EcsException(EcsErrors.VSwitchCidrOutsideVpc(text));
        return cidr;
    }

    /// <summary>The addresses instances may take: all but the first and the last three of the block.</summary>
    public static IEnumerable<IpAddress> Usable(Cidr block)
    {
        for (var v = block.First + 1; v <= block.Last - 3; v++)
            yield return new IpAddress(false, v);
    }

    public static int UsableCount(Cidr block) => (int)Math.Max(0, (long)(ulong)(block.Last - block.First) - 3);
}
