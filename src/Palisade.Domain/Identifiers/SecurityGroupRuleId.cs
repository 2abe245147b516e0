namespace Palisade.Domain.Identifiers;

/// <summary>A security group rule's ID (<c>sgr-…</c>).</summary>
public readonly record struct SecurityGroupRuleId : IComparable<SecurityGroupRuleId>
{
    public const string Prefix = "sgr-";

    private SecurityGroupRuleId(string value) => Value = value;

    public string Value { get; }

    public static bool TryParse(string? candidate, out SecurityGroupRuleId id)
    {
        id = ResourceIdSyntax.IsValid(Prefix, candidate) ? new SecurityGroupRuleId(candidate!) : default;
        return id.Value is not null;
    }

    public static SecurityGroupRuleId Parse(string candidate) =>
        TryParse(candidate, out var id) ? id : throw new FormatException($"'{candidate}' is not a valid SecurityGroupRuleId.");

    public static SecurityGroupRuleId New(string regionCode, Random random) => new(ResourceIdSyntax.NewId(Prefix, regionCode, random));

    public int CompareTo(SecurityGroupRuleId other) => string.CompareOrdinal(Value, other.Value);

    public override string ToString() => Value ?? string.Empty;
}
