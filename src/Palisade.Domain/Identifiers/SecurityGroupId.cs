namespace Palisade.Domain.Identifiers;

/// <summary>A security group's ID (<c>sg-…</c>).</summary>
public readonly record struct SecurityGroupId : IComparable<SecurityGroupId>
{
    public const string Prefix = "sg-";

    private SecurityGroupId(string value) => Value = value;

    public string Value { get; }

    public static bool TryParse(string? candidate, out SecurityGroupId id)
    {
        id = ResourceIdSyntax.IsValid(Prefix, candidate) ? new SecurityGroupId(candidate!) : default;
        return id.Value is not null;
    }

    public static SecurityGroupId Parse(string candidate) =>
        TryParse(candidate, out var id) ? id : throw new FormatException($"'{candidate}' is not a valid SecurityGroupId.");

    public static SecurityGroupId New(string regionCode, Random random) => new(ResourceIdSyntax.NewId(Prefix, regionCode, random));

    public int CompareTo(SecurityGroupId other) => string.CompareOrdinal(Value, other.Value);

    public override string ToString() => Value ?? string.Empty;
}
