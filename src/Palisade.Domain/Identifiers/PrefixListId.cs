namespace Palisade.Domain.Identifiers;

/// <summary>A prefix list's ID (<c>pl-…</c>).</summary>
public readonly record struct PrefixListId : IComparable<PrefixListId>
{
    public const string Prefix = "pl-";

    private PrefixListId(string value) => Value = value;

    public string Value { get; }

    public static bool TryParse(string? candidate, out PrefixListId id)
    {
        id = ResourceIdSyntax.IsValid(Prefix, candidate) ? new PrefixListId(candidate!) : default;
        return id.Value is not null;
    }

    public static PrefixListId Parse(string candidate) =>
        TryParse(candidate, out var id) ? id : throw new FormatException($"'{candidate}' is not a valid PrefixListId.");

    public static PrefixListId New(string regionCode, Random random) => new(ResourceIdSyntax.NewId(Prefix, regionCode, random));

    public int CompareTo(PrefixListId other) => string.CompareOrdinal(Value, other.Value);

    public override string ToString() => Value ?? string.Empty;
}
