namespace Palisade.Domain.Identifiers;

/// <summary>A port range list's ID (<c>prl-…</c>).</summary>
public readonly record struct PortRangeListId : IComparable<PortRangeListId>
{
    public const string Prefix = "prl-";

    private PortRangeListId(string value) => Value = value;

    public string Value { get; }

    public static bool TryParse(string? candidate, out PortRangeListId id)
    {
        id = ResourceIdSyntax.IsValid(Prefix, candidate) ? new PortRangeListId(candidate!) : default;
        return id.Value is not null;
    }

    public static PortRangeListId Parse(string candidate) =>
        TryParse(candidate, out var id) ? id : throw new FormatException($"'{candidate}' is not a valid PortRangeListId.");

    public static PortRangeListId New(string regionCode, Random random) => new(ResourceIdSyntax.NewId(Prefix, regionCode, random));

    public int CompareTo(PortRangeListId other) => string.CompareOrdinal(Value, other.Value);

    public override string ToString() => Value ?? string.Empty;
}
