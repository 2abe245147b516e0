namespace Palisade.Domain.Identifiers;

/// <summary>A vSwitch's ID (<c>vsw-…</c>).</summary>
public readonly record struct VSwitchId : IComparable<VSwitchId>
{
    public const string Prefix = "vsw-";

    private VSwitchId(string value) => Value = value;

    public string Value { get; }

    public static bool TryParse(string? candidate, out VSwitchId id)
    {
        id = ResourceIdSyntax.IsValid(Prefix, candidate) ? new VSwitchId(candidate!) : default;
        return id.Value is not null;
    }

    public static VSwitchId Parse(string candidate) =>
        TryParse(candidate, out var id) ? id : throw new FormatException($"'{candidate}' is not a valid VSwitchId.");

    public static VSwitchId New(string regionCode, Random random) => new(ResourceIdSyntax.NewId(Prefix, regionCode, random));

    public int CompareTo(VSwitchId other) => string.CompareOrdinal(Value, other.Value);

    public override string ToString() => Value ?? string.Empty;
}
