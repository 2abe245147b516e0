using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Palisade.Domain.Identifiers;

namespace Palisade.Domain.Networking;

/// <summary>
/// A NIC's Ethernet address (ECS's <c>MacAddress</c> of a network interface, <c>00:16:3e:…</c> there),
/// written <c>xx:xx:xx:xx:xx:xx</c> in lower case. The agent pins it to the NIC's port: frames from
/// that port must carry it, and no other port may.
/// </summary>
public readonly record struct MacAddress(ulong Value) : IComparable<MacAddress>
{
    /// <summary>
    /// The MAC of an instance's primary NIC until NICs carry a stored one (network interfaces, ENIs):
    /// derived from the ID alone, so every host and the control plane agree without storing it. A
    /// locally administered unicast address (02:…), FNV-1a of the ID in the other 40 bits; the one
    /// place that makes it, so a stored MAC can replace it later.
    /// </summary>
    public static MacAddress ForInstance(InstanceId id)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in id.Value)
        {
            hash ^= c;
            hash *= 1099511628211UL;
        }
        return new MacAddress((0x02UL << 40) | (hash & 0xFF_FFFF_FFFFUL));
    }

    /// <summary>
    /// The MAC of a secondary network interface: a function of its ENI ID (SHA-256, locally
    /// administered unicast), stable for the interface's whole life, attached or not, with no storage.
    /// A primary ENI's MAC is its instance's (<see cref="ForInstance"/>), the one the agent pins.
    /// </summary>
    public static MacAddress Of(NetworkInterfaceId id)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(id.Value));
        ulong value = 0;
        foreach (var b in hash.Take(6))
            value = (value << 8) | b;
        // Locally administered (second-lowest bit of the first octet set), unicast (lowest clear).
        value = (value & ~(0x01UL << 40)) | (0x02UL << 40);
        return new MacAddress(value);
    }

    public static bool TryParse(string? text, out MacAddress mac)
    {
        mac = default;
        var parts = text?.Split(':');
        if (parts is not { Length: 6 } || parts.Any(p => p.Length != 2))
            return false;
        ulong value = 0;
        foreach (var p in parts)
        {
            if (!byte.TryParse(p, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b))
                return false;
            value = (value << 8) | b;
        }
        mac = new MacAddress(value);
        return true;
    }

    /// <summary>The IPv6 link-local address a Linux NIC of this MAC takes (modified EUI-64, RFC 4291 appendix A).</summary>
    public IpAddress LinkLocal
    {
        get
        {
            var flipped = Value ^ (0x02UL << 40);
            var interfaceId = ((flipped >> 24) << 40) | (0xFFFEUL << 24) | (flipped & 0xFF_FFFF);
            return new IpAddress(true, ((UInt128)0xFE80UL << 112) | interfaceId);
        }
    }

    public int CompareTo(MacAddress other) => Value.CompareTo(other.Value);

    public override string ToString()
    {
        var value = Value;
        return string.Join(':', Enumerable.Range(0, 6).Select(i => ((byte)(value >> (8 * (5 - i)))).ToString("x2", CultureInfo.InvariantCulture)));
    }
}
