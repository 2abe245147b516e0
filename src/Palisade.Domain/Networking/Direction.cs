namespace Palisade.Domain.Networking;

/// <summary>Ingress rules govern traffic arriving at a NIC; egress rules, traffic leaving it.</summary>
public enum Direction : byte
{
    Ingress,
    Egress,
}

public static class Directions
{
    public static bool TryParse(string? text, out Direction direction)
    {
        direction = default;
        switch (text?.ToLowerInvariant())
        {
            case "ingress": direction = Direction.Ingress; return true;
            case "egress": direction = Direction.Egress; return true;
            default: return false;
        }
    }

    public static string ToWire(this Direction direction) => direction == Direction.Egress ? "egress" : "ingress";
}
