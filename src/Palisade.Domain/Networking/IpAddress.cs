using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Palisade.Domain.Networking;

/// <summary>
/// An IPv4 or IPv6 address as a number: IPv4 in the low 32 bits, IPv6 in all 128. Parsing is
/// strict — dotted quads only for IPv4 (no <c>10.1</c>, no leading zeros), no scope IDs, and no
/// IPv4-mapped IPv6, whose family would be ambiguous in a rule.
/// </summary>
public readonly record struct IpAddress(bool IsV6, UInt128 Value) : IComparable<IpAddress>
{
    public int BitLength => IsV6 ? 128 : 32;

    public static IpAddress V4(uint value) => new(false, value);

    public static bool TryParse(ReadOnlySpan<char> text, out IpAddress address)
    {
        address = default;
        if (text.Contains(':'))
        {
            if (text.Contains('%') || !IPAddress.TryParse(text, out var ip) || ip.AddressFamily != AddressFamily.InterNetworkV6 || ip.IsIPv4MappedToIPv6)
                return false;
            Span<byte> bytes = stackalloc byte[16];
            ip.TryWriteBytes(bytes, out _);
            address = new IpAddress(true, System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(bytes));
            return true;
        }
        uint value = 0;
        var octets = 0;
        foreach (var range in text.Split('.'))
        {
            var part = text[range];
            if (octets == 4 || part.Length is 0 or > 3 || (part.Length > 1 && part[0] == '0'))
                return false;
            foreach (var c in part)
            {
                if (!char.IsAsciiDigit(c))
                    return false;
            }
            var octet = int.Parse(part, NumberStyles.None, CultureInfo.InvariantCulture);
            if (octet > 255)
                return false;
            value = (value << 8) | (uint)octet;
            octets++;
        }
        if (octets != 4)
            return false;
        address = V4(value);
        return true;
    }

    public static IpAddress Parse(string text) =>
        TryParse(text, out var a) ? a : throw new FormatException($"'{text}' is not a valid IP address.");

    public int CompareTo(IpAddress other) =>
        IsV6 != other.IsV6 ? IsV6.CompareTo(other.IsV6) : Value.CompareTo(other.Value);

    public override string ToString()
    {
        if (!IsV6)
        {
            var v = (uint)Value;
            return string.Create(CultureInfo.InvariantCulture, $"{v >> 24}.{(v >> 16) & 0xFF}.{(v >> 8) & 0xFF}.{v & 0xFF}");
        }
        Span<byte> bytes = stackalloc byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt128BigEndian(bytes, Value);
        return new IPAddress(bytes).ToString();
    }
}
