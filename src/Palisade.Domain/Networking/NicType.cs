namespace Palisade.Domain.Networking;

/// <summary>
/// Which NIC of a classic-network instance a rule governs. In a VPC every rule is
/// <see cref="Intranet"/> and governs all of the NIC's traffic (ecs-api.md §2.5).
/// </summary>
public enum NicType : byte
{
    Intranet,
    Internet,
}

public static class NicTypes
{
    public static bool TryParse(string? text, out NicType nicType)
    {
        nicType = default;
        switch (text?.ToLowerInvariant())
        {
            case "intranet": nicType = NicType.Intranet; return true;
            case "internet": nicType = NicType.Internet; return true;
            default: return false;
        }
    }

    public static string ToWire(this NicType nicType) => nicType == NicType.Internet ? "internet" : "intranet";
}
