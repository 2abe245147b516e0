using System.Globalization;

namespace Palisade.Domain.Networking;

/// <summary>
/// An IPv4 or IPv6 CIDR block. Host bits are cleared on parse (<c>10.0.0.1/8</c> is
/// <c>10.0.0.0/8</c>); a single address written without a mask is echoed back without one, as ECS
/// does (ARCHITECTURE.md semantics 7). Two blocks are equal when they cover the same addresses,
/// however they were written.
/// </summary>
public readonly struct Cidr : IEquatable<Cidr>, IComparable<Cidr>
{
    private Cidr(IpAddress network, int prefixLength, bool writtenAsAddress)
    {
        Network = network;
        PrefixLength = prefixLength;
        WrittenAsAddress = writtenAsAddress;
    }

    public IpAddress Network { get; }

    public int PrefixLength { get; }

    /// <summary>True when the user wrote a bare address; only affects <see cref="ToString"/>.</summary>
    public bool WrittenAsAddress { get; }

    public bool IsV6 => Network.IsV6;

    /// <summary>The first address of the block, as a number within its family.</summary>
    public UInt128 First => Network.Value;

    /// <summary>The last address of the block, as a number within its family.</summary>
    public UInt128 Last => First | HostMask(Network.BitLength, PrefixLength);

    public static Cidr AnyV4 { get; } = new(IpAddress.V4(0), 0, false);

    public static Cidr AnyV6 { get; } = new(new IpAddress(true, 0), 0, false);

    public static Cidr Create(IpAddress address, int prefixLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, address.BitLength);
        return new Cidr(Normalise(address, prefixLength), prefixLength, false);
    }

    public static Cidr Host(IpAddress address) => new(address, address.BitLength, true);

    public static bool TryParse(string? text, out Cidr cidr)
    {
        cidr = default;
        if (string.IsNullOrEmpty(text) || text.Length > 64)
            return false;
        var span = text.AsSpan();
        var slash = span.IndexOf('/');
        if (slash < 0)
        {
            if (!IpAddress.TryParse(span, out var host))
                return false;
            cidr = Host(host);
            return true;
        }
        if (!IpAddress.TryParse(span[..slash], out var address))
            return false;
        var lengthText = span[(slash + 1)..];
        if (lengthText.Length is 0 or > 3 || (lengthText.Length > 1 && lengthText[0] == '0'))
            return false;
        foreach (var c in lengthText)
        {
            if (!char.IsAsciiDigit(c))
                return false;
        }
        var length = int.Parse(lengthText, NumberStyles.None, CultureInfo.InvariantCulture);
        if (length > address.BitLength)
            return false;
        cidr = new Cidr(Normalise(address, length), length, false);
        return true;
    }

    public static Cidr Parse(string text) =>
        TryParse(text, out var c) ? c : throw new FormatException($"'{text}' is not a valid CIDR block.");

    public bool Contains(IpAddress address) =>
        address.IsV6 == IsV6 && address.Value >= First && address.Value <= Last;

    /// <summary>True when every address of <paramref name="other"/> is also in this block.</summary>
    public bool Covers(Cidr other) =>
        other.IsV6 == IsV6 && other.First >= First && other.Last <= Last;

    private static UInt128 HostMask(int bits, int prefixLength)
    {
        var hostBits = bits - prefixLength;
        // Shifts of UInt128 are taken modulo 128: "One << 128" is One, not zero, so ::/0 needs its own case.
        return hostBits switch
        {
            0 => UInt128.Zero,
            128 => UInt128.MaxValue,
            _ => (UInt128.One << hostBits) - 1,
        };
    }

    private static IpAddress Normalise(IpAddress address, int prefixLength) =>
        address with { Value = address.Value & ~HostMask(address.BitLength, prefixLength) };

    public bool Equals(Cidr other) => Network == other.Network && PrefixLength == other.PrefixLength;

    public override bool Equals(object? obj) => obj is Cidr other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Network, PrefixLength);

    public int CompareTo(Cidr other)
    {
        var byNetwork = Network.CompareTo(other.Network);
        return byNetwork != 0 ? byNetwork : PrefixLength.CompareTo(other.PrefixLength);
    }

    public static bool operator ==(Cidr left, Cidr right) => left.Equals(right);

    public static bool operator !=(Cidr left, Cidr right) => !left.Equals(right);

    public override string ToString() =>
        WrittenAsAddress && PrefixLength == Network.BitLength
            ? Network.ToString()
            : string.Create(CultureInfo.InvariantCulture, $"{Network}/{PrefixLength}");
}
