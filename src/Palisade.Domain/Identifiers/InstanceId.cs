namespace Palisade.Domain.Identifiers;

/// <summary>An ECS instance's ID (<c>i-…</c>).</summary>
public readonly record struct InstanceId : IComparable<InstanceId>
{
    public const string Prefix = "i-";

    private InstanceId(string value) => Value = value;

    public string Value { get; }

    public static bool TryParse(string? candidate, out InstanceId id)
    {
        id = ResourceIdSyntax.IsValid(Prefix, candidate) ? new InstanceId(candidate!) : default;
        return id.Value is not null;
    }

    public static InstanceId Parse(string candidate) =>
        TryParse(candidate, out var id) ? id : throw new FormatException($"'{candidate}' is not a valid InstanceId.");

    public static InstanceId New(string regionCode, Random random) => new(ResourceIdSyntax.NewId(Prefix, regionCode, random));

    public int CompareTo(InstanceId other) => string.CompareOrdinal(Value, other.Value);

    public override string ToString() => Value ?? string.Empty;
}
