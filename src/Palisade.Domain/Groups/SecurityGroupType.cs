namespace Palisade.Domain.Groups;

/// <summary>Basic (<c>normal</c>) or advanced (<c>enterprise</c>) security group (ecs-api.md §2.2).</summary>
public enum SecurityGroupType : byte
{
    Normal,
    Enterprise,
}

public static class SecurityGroupTypes
{
    public static bool TryParse(string? text, out SecurityGroupType type)
    {
        type = default;
        switch (text?.ToLowerInvariant())
        {
            case "normal": type = SecurityGroupType.Normal; return true;
            case "enterprise": type = SecurityGroupType.Enterprise; return true;
            default: return false;
        }
    }

    public static string ToWire(this SecurityGroupType type) => type == SecurityGroupType.Enterprise ? "enterprise" : "normal";
}
