using System.Security.Cryptography;
using System.Text;

namespace Palisade.Domain.Signatures;

/// <summary>
/// The RPC signature V1 (HMAC-SHA1), ecs-api.md §1.3 and sdk-wire.md §7.2: every parameter but
/// <c>Signature</c>, decoded, re-encoded, sorted; signed with <c>secret + "&amp;"</c>.
/// </summary>
public static class SignatureV1
{
    public static string StringToSign(string method, IEnumerable<KeyValuePair<string, string>> parameters)
    {
        var canonical = string.Join('&', parameters
            .Where(p => p.Key != "Signature")
            .Select(p => (Name: PercentEncoding.Encode(p.Key), Value: PercentEncoding.Encode(p.Value)))
            .OrderBy(p => p.Name, StringComparer.Ordinal)
            .Select(p => $"{p.Name}={p.Value}"));
        return $"{method}&%2F&{PercentEncoding.Encode(canonical)}";
    }

    public static string Sign(string secret, string stringToSign) =>
        Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(secret + "&"), Encoding.UTF8.GetBytes(stringToSign)));
}
