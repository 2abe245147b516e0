namespace Palisade.Domain.Identifiers;

/// <summary>A network interface's (ENI's) ID (<c>eni-…</c>).</summary>
public readonly record struct NetworkInterfaceId : IComparable<NetworkInterfaceId>
{
    public const string Prefix = "eni-";

    private NetworkInterfaceId(string value) => Value = value;

    public string Value { get; }

    public static bool TryParse(string? candidate, out NetworkInterfaceId id)
    {
        id = ResourceIdSyntax.IsValid(Prefix, candidate) ? new NetworkInterfaceId(candidate!) : default;
        return id.Value is not null;
    }

    public static NetworkInterfaceId Parse(string candidate) =>
        TryParse(candidate, out var id) ? id : throw new FormatException($"'{candidate}' is not a valid NetworkInterfaceId.");

    public static NetworkInterfaceId New(string regionCode, Random random) => new(ResourceIdSyntax.NewId(Prefix, regionCode, random));

    public int CompareTo(NetworkInterfaceId other) => string.CompareOrdinal(Value, other.Value);

    public override string ToString() => Value ?? string.Empty;
}
