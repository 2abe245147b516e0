using System.Security.Cryptography;
using System.Text;

namespace Palisade.Domain.Signatures;

/// <summary>
/// The signature V3 (ACS3-HMAC-SHA256), ecs-api.md §1.4 and sdk-wire.md §7.1. The payload hash is
/// recomputed from the body, never taken from <c>x-acs-content-sha256</c>.
/// </summary>
public static class SignatureV3
{
    public const string Algorithm = "ACS3-HMAC-SHA256";

    public sealed record Authorization(string AccessKeyId, IReadOnlyList<string> SignedHeaders, string Signature);

    /// <summary>Reads <c>ACS3-HMAC-SHA256 Credential=…,SignedHeaders=a;b,Signature=hex</c>; null when malformed.</summary>
    public static Authorization? ParseAuthorization(string header)
    {
        if (!header.StartsWith(Algorithm + " ", StringComparison.Ordinal))
            return null;
        string? credential = null, signedHeaders = null, signature = null;
        foreach (var part in header[(Algorithm.Length + 1)..].Split(','))
        {
            var eq = part.IndexOf('=');
            if (eq <= 0)
                return null;
            var name = part[..eq].Trim();
            var value = part[(eq + 1)..].Trim();
            switch (name)
            {
                case "Credential": credential = value; break;
                case "SignedHeaders": signedHeaders = value; break;
                case "Signature": signature = value; break;
            }
        }
        if (string.IsNullOrEmpty(credential) || string.IsNullOrEmpty(signedHeaders) || string.IsNullOrEmpty(signature))
            return null;
        return new Authorization(credential, signedHeaders.Split(';'), signature);
    }

    public static string CanonicalRequest(string method, string path, IEnumerable<KeyValuePair<string, string>> query,
        Func<string, string?> header, IReadOnlyList<string> signedHeaders, byte[] body)
    {
        // One builder and one sort of the encoded pairs (issue 17, eighteenth session: every host request of
        // a fleet is signed; the query of a host's fetch holds ~25 pairs, each encoded, paired and joined
        // through LINQ before). The order is OrderBy's: by encoded name, ordinal, equal names as sent.
        var pairs = query is IReadOnlyCollection<KeyValuePair<string, string>> known ? new List<(string Name, string Value)>(known.Count) : [];
        foreach (var p in query)
            pairs.Add((PercentEncoding.Encode(p.Key), PercentEncoding.Encode(p.Value)));
        var order = new int[pairs.Count];
        for (var i = 0; i < order.Length; i++)
            order[i] = i;
        Array.Sort(order, (a, b) => string.CompareOrdinal(pairs[a].Name, pairs[b].Name) is var c && c != 0 ? c : a.CompareTo(b));
        var text = new StringBuilder(256);
        text.Append(method).Append('\n').Append(path).Append('\n');
        for (var i = 0; i < order.Length; i++)
        {
            var (name, value) = pairs[order[i]];
            (i == 0 ? text : text.Append('&')).Append(name).Append('=').Append(value);
        }
        text.Append('\n');
        foreach (var name in signedHeaders)
            text.Append(name).Append(':').Append((header(name) ?? "").AsSpan().Trim()).Append('\n');
        text.Append('\n');
        for (var i = 0; i < signedHeaders.Count; i++)
            (i == 0 ? text : text.Append(';')).Append(signedHeaders[i]);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(body, hash);
        text.Append('\n');
        foreach (var b in hash)
            text.Append(HexDigits[b >> 4]).Append(HexDigits[b & 0xF]);
        return text.ToString();
    }

    private const string HexDigits = "0123456789abcdef";

    /// <summary>The slow twin of <see cref="CanonicalRequest"/> (tests compare them): as the signature's reference states it, step by step.</summary>
    internal static string CanonicalRequestSlow(string method, string path, IEnumerable<KeyValuePair<string, string>> query,
        Func<string, string?> header, IReadOnlyList<string> signedHeaders, byte[] body)
    {
        var canonicalQuery = string.Join('&', query
            .Select(p => (Name: PercentEncoding.EncodeEach(p.Key), Value: PercentEncoding.EncodeEach(p.Value)))
            .OrderBy(p => p.Name, StringComparer.Ordinal)
            .Select(p => $"{p.Name}={p.Value}"));
        var headers = new StringBuilder();
        foreach (var name in signedHeaders)
            headers.Append(name).Append(':').Append((header(name) ?? "").Trim()).Append('\n');
        return $"{method}\n{path}\n{canonicalQuery}\n{headers}\n{string.Join(';', signedHeaders)}\n{Hex(SHA256.HashData(body))}";
    }

    public static string StringToSign(string canonicalRequest) =>
        $"{Algorithm}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest)))}";

    public static string Sign(string secret, string stringToSign) =>
        Hex(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(stringToSign)));

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
