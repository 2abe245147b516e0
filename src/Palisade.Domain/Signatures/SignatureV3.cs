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
        var text = new StringBuilder(256);
        WriteCanonicalRequest(new BuilderText(text), method, path, query, header, signedHeaders, body);
        return text.ToString();
    }

    /// <summary>
    /// <see cref="StringToSign"/> of <see cref="CanonicalRequest"/> without the canonical request's text (issue 17,
    /// twentieth session): its UTF-8 bytes go into the hash a buffer at a time. A host's long poll carrying its
    /// status report holds ~100 parameters, and the text, its builder's chunks and its bytes were three copies of
    /// the query per request on the nodes (~110 MiB allocated a 1,000-host change). The same bytes are hashed: the
    /// slow twin is the text (<c>SigningShortcutsTests.TheCanonicalRequestHashedAsItIsWritten_IsItsTextsHash</c>).
    /// </summary>
    public static string StringToSignOf(string method, string path, IEnumerable<KeyValuePair<string, string>> query,
        Func<string, string?> header, IReadOnlyList<string> signedHeaders, byte[] body)
    {
        using var text = new HashedText();
        WriteCanonicalRequest(text, method, path, query, header, signedHeaders, body);
        return Algorithm + "\n" + text.Finish();
    }

    /// <summary>Where the canonical request is written: a builder (its text) or a hash (its text's SHA-256).</summary>
    private interface ICanonicalText
    {
        void Append(ReadOnlySpan<char> text);

        void Append(char c);
    }

    private readonly struct BuilderText(StringBuilder text) : ICanonicalText
    {
        public void Append(ReadOnlySpan<char> value) => text.Append(value);

        public void Append(char c) => text.Append(c);
    }

    /// <summary>
    /// The UTF-8 bytes of what is appended, hashed as they come: characters gather in a pooled buffer and are
    /// encoded by one encoder across the buffers (a surrogate pair split between two is encoded as one rune,
    /// a lone surrogate as U+FFFD: as <see cref="Encoding.UTF8"/> encodes the whole text at once).
    /// </summary>
    private sealed class HashedText : ICanonicalText, IDisposable
    {
        private const int Chars = 1024;
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly Encoder _encoder = Encoding.UTF8.GetEncoder();
        private char[] _chars = System.Buffers.ArrayPool<char>.Shared.Rent(Chars);
        private byte[] _bytes = System.Buffers.ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(Chars));
        private int _used;

        public void Append(ReadOnlySpan<char> text)
        {
            while (text.Length > 0)
            {
                var room = Math.Min(text.Length, Chars - _used);
                text[..room].CopyTo(_chars.AsSpan(_used));
                _used += room;
                text = text[room..];
                if (_used == Chars)
                    Drain(flush: false);
            }
        }

        public void Append(char c) => Append(new ReadOnlySpan<char>(in c));

        private void Drain(bool flush)
        {
            var n = _encoder.GetBytes(_chars.AsSpan(0, _used), _bytes, flush);
            _hash.AppendData(_bytes, 0, n);
            _used = 0;
        }

        /// <summary>The hash of everything appended, in lower-case hex.</summary>
        public string Finish()
        {
            Drain(flush: true);
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            _hash.GetHashAndReset(hash);
            return Convert.ToHexStringLower(hash);
        }

        public void Dispose()
        {
            _hash.Dispose();
            System.Buffers.ArrayPool<char>.Shared.Return(_chars);
            System.Buffers.ArrayPool<byte>.Shared.Return(_bytes);
            (_chars, _bytes) = ([], []);
        }
    }

    private static void WriteCanonicalRequest<T>(T text, string method, string path, IEnumerable<KeyValuePair<string, string>> query,
        Func<string, string?> header, IReadOnlyList<string> signedHeaders, byte[] body) where T : ICanonicalText
    {
        // One writer and one sort of the encoded pairs (issue 17, eighteenth session: every host request of
        // a fleet is signed; the query of a host's fetch holds ~25 pairs, each encoded, paired and joined
        // through LINQ before). The order is OrderBy's: by encoded name, ordinal, equal names as sent.
        var pairs = query is IReadOnlyCollection<KeyValuePair<string, string>> known ? new List<(string Name, string Value)>(known.Count) : [];
        foreach (var p in query)
            pairs.Add((PercentEncoding.Encode(p.Key), PercentEncoding.Encode(p.Value)));
        var order = new int[pairs.Count];
        for (var i = 0; i < order.Length; i++)
            order[i] = i;
        Array.Sort(order, (a, b) => string.CompareOrdinal(pairs[a].Name, pairs[b].Name) is var c && c != 0 ? c : a.CompareTo(b));
        text.Append(method);
        text.Append('\n');
        text.Append(path);
        text.Append('\n');
        for (var i = 0; i < order.Length; i++)
        {
            var (name, value) = pairs[order[i]];
            if (i > 0)
                text.Append('&');
            text.Append(name);
            text.Append('=');
            text.Append(value);
        }
        text.Append('\n');
        foreach (var name in signedHeaders)
        {
            text.Append(name);
            text.Append(':');
            text.Append((header(name) ?? "").AsSpan().Trim());
            text.Append('\n');
        }
        text.Append('\n');
        for (var i = 0; i < signedHeaders.Count; i++)
        {
            if (i > 0)
                text.Append(';');
            text.Append(signedHeaders[i]);
        }
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(body, hash);
        text.Append('\n');
        Span<char> hex = stackalloc char[2 * SHA256.HashSizeInBytes];
        for (var i = 0; i < hash.Length; i++)
            (hex[2 * i], hex[2 * i + 1]) = (HexDigits[hash[i] >> 4], HexDigits[hash[i] & 0xF]);
        text.Append(hex);
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
