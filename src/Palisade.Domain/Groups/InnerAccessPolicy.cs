namespace Palisade.Domain.Groups;

/// <summary>
/// Whether the members of a basic group reach each other without rules. <see cref="Accept"/>
/// overrides every user rule; <see cref="Drop"/> sits below them all. Advanced groups are always
/// <see cref="Drop"/> (ecs-api.md §2.5).
/// </summary>
public enum InnerAccessPolicy : byte
{
    Accept,
    Drop,
}

public static class InnerAccessPolicies
{
    public static bool TryParse(string? text, out InnerAccessPolicy policy)
    {
        policy = default;
        switch (text?.ToLowerInvariant())
        {
            case "accept": policy = InnerAccessPolicy.Accept; return true;
            case "drop": policy = InnerAccessPolicy.Drop; return true;
            default: return false;
        }
    }

    public static string ToWire(this InnerAccessPolicy policy) => policy == InnerAccessPolicy.Drop ? "Drop" : "Accept";
}
