using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Palisade.Domain.Identifiers;

namespace Palisade.Domain.Networking;

/// <summary>
/// The MAC address of a network interface: a function of its ENI ID, so it is stable for the
/// interface's whole life (attached, detached, attached elsewhere) and needs no storage. Locally
/// administered and unicast (the second-lowest bit of the first octet set, the lowest clear), so it
/// never claims a vendor's block (ECS's own are 00:16:3e:…, which a self-hosted plane must not use);
/// 46 bits from SHA-256 make a collision between two interfaces of one network negligible.
/// </summary>
public static class MacAddress
{
    public static string Of(NetworkInterfaceId id)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(id.Value));
        hash[0] = (byte)((hash[0] & 0xFE) | 0x02);
        return string.Join(':', hash.Take(6).Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));
    }
}
