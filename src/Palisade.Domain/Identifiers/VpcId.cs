namespace Palisade.Domain.Identifiers;

/// <summary>A VPC's ID (<c>vpc-…</c>).</summary>
public readonly record struct VpcId : IComparable<VpcId>
{
    public const string Prefix = "vpc-";

    private VpcId(string value) => Value = value;

    public string Value { get; }

    public static bool TryParse(string? candidate, out VpcId id)
    {
        id = ResourceIdSyntax.IsValid(Prefix, candidate) ? new VpcId(candidate!) : default;
        return id.Value is not null;
    }

    public static VpcId Parse(string candidate) =>
        TryParse(candidate, out var id) ? id : throw new FormatException($"'{candidate}' is not a valid VpcId.");

    public static VpcId New(string regionCode, Random random) => new(ResourceIdSyntax.NewId(Prefix, regionCode, random));

    public int CompareTo(VpcId other) => string.CompareOrdinal(Value, other.Value);

    public override string ToString() => Value ?? string.Empty;
}
