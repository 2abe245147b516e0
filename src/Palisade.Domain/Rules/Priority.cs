using System.Globalization;
using Palisade.Domain.Errors;

namespace Palisade.Domain.Rules;

/// <summary>
/// A rule's priority, 1 to 100; the smaller number wins. ECS's default is 1.
/// </summary>
public readonly record struct Priority : IComparable<Priority>
{
    public const int Highest = 1;
    public const int Lowest = 100;

    private Priority(int value) => Value = value;

    public int Value { get; }

    public static Priority Default { get; } = new(Highest);

    public static Priority Create(int value)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(value, Highest);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(value, Lowest);
        return new Priority(value);
    }

    /// <summary>Absent → 1; not an integer → <c>InvalidPriority.Malformed</c>; outside 1..100 → <c>InvalidPriority.ValueNotSupported</c>.</summary>
    public static Result<Priority> Parse(string? text)
    {
        if (string.IsNullOrEmpty(text))
            return Default;
        if (text.Length > 11 || !int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            return EcsErrors.PriorityMalformed(text);
        if (value is < Highest or > Lowest)
            return EcsErrors.PriorityNotSupported(text);
        return new Priority(value);
    }

    public int CompareTo(Priority other) => Value.CompareTo(other.Value);

    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);
}
