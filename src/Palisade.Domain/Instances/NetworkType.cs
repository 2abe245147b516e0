namespace Palisade.Domain.Instances;

/// <summary>The network an instance or group lives in.</summary>
public enum NetworkType : byte
{
    Vpc,
    Classic,
}

public static class NetworkTypes
{
    public static bool TryParse(string? text, out NetworkType type)
    {
        type = default;
        switch (text?.ToLowerInvariant())
        {
            case "vpc": type = NetworkType.Vpc; return true;
            case "classic": type = NetworkType.Classic; return true;
            default: return false;
        }
    }

    public static string ToWire(this NetworkType type) => type == NetworkType.Classic ? "classic" : "vpc";
}
