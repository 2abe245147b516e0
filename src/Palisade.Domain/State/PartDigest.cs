using System.Security.Cryptography;
using System.Text;

namespace Palisade.Domain.State;

/// <summary>
/// The digest of a host's part of an account's state (issue 17, <c>DescribeHostPolicy</c> with
/// <c>PerNic=true</c>): the hash of the part's resources' kinds, IDs and rendering hashes in the part's
/// order. The server computes it when it selects a part; the agent recomputes it over a part it
/// rebuilt from a difference (<see cref="PartDifference"/>) to know that the lists and the resources'
/// texts it holds are exactly the server's. One definition, so the two can never drift apart.
/// </summary>
public static class PartDigest
{
    /// <summary>A part's lists in the state file's order: the list's name, its items' ID field, and the kind the digest hashes.</summary>
    public static readonly (string List, string Id, char Kind)[] Lists =
        [("SecurityGroups", "SecurityGroupId", 'g'), ("Instances", "InstanceId", 'i'), ("NetworkInterfaces", "NetworkInterfaceId", 'e'), ("PrefixLists", "PrefixListId", 'p'), ("PortRangeLists", "PortRangeListId", 'r')];

    /// <summary>How much of a resource's SHA-256 is kept (128 bits, as the digests).</summary>
    public const int HashBytes = 16;

    /// <summary>A resource's hash: the first <see cref="HashBytes"/> bytes of the SHA-256 of its JSON as the server renders it (and the agent receives it).</summary>
    public static byte[] ResourceHash(ReadOnlySpan<byte> json) => SHA256.HashData(json)[..HashBytes];

    /// <summary>
    /// The same hash of a resource's JSON text: its UTF-8 encoded into a stack or pooled buffer and hashed
    /// there, so the hash kept is the one array made (issue 17, twentieth session: the text's bytes and the
    /// whole SHA-256 were two arrays more per resource hashed, ~2,000 after every full fetch).
    /// </summary>
    public static byte[] ResourceHash(string json)
    {
        var most = Encoding.UTF8.GetMaxByteCount(json.Length);
        byte[]? rented = null;
        var bytes = most <= 1024 ? stackalloc byte[1024] : (rented = System.Buffers.ArrayPool<byte>.Shared.Rent(most));
        try
        {
            var length = Encoding.UTF8.GetBytes(json, bytes);
            Span<byte> whole = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(bytes[..length], whole);
            return whole[..HashBytes].ToArray();
        }
        finally
        {
            if (rented is not null)
                System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>The slow twin of <see cref="ResourceHash(string)"/>: the text's bytes as an array, hashed (the form before the twentieth session).</summary>
    public static byte[] ResourceHashOfBytes(string json) => ResourceHash(Encoding.UTF8.GetBytes(json));

    /// <summary>The digest of a part's resources (kind, ID, hash) in the part's order: 32 lowercase hex digits.</summary>
    public static string Of(IEnumerable<(char Kind, string Id, byte[] Hash)> resources)
    {
        // The bytes hashed are written into one buffer and hashed at once: appended resource by resource
        // (three calls into the crypto library each, and each ID's bytes a new array) a 2,000-resource
        // part cost the agent ~0.3 ms a check (issue 17, eighteenth session). The same bytes, so the same digest
        // (OfAppended, the form before, is the slow twin in PartDigestTests).
        var buffer = new Buffer();
        try
        {
            foreach (var (k, id, hash) in resources)
                buffer.Add(k, id, hash);
            return buffer.Digest();
        }
        finally
        {
            buffer.Dispose();
        }
    }

    /// <summary>
    /// The bytes a digest hashes, written resource by resource into one pooled buffer (<see cref="Of"/>'s,
    /// and the agent's check over the resources it holds, which adds them without listing them first).
    /// </summary>
    public struct Buffer : IDisposable
    {
        private byte[] _bytes;
        private int _length;

        public Buffer() => _bytes = System.Buffers.ArrayPool<byte>.Shared.Rent(4096);

        /// <summary>A resource's kind, ID and hash, after those added before.</summary>
        public void Add(char kind, string id, ReadOnlySpan<byte> hash)
        {
            var need = _length + 1 + Encoding.UTF8.GetMaxByteCount(id.Length) + hash.Length;
            if (need > _bytes.Length)
            {
                var larger = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Max(need, _bytes.Length * 2));
                _bytes.AsSpan(0, _length).CopyTo(larger);
                System.Buffers.ArrayPool<byte>.Shared.Return(_bytes);
                _bytes = larger;
            }
            _bytes[_length++] = (byte)kind;
            _length += Encoding.UTF8.GetBytes(id, _bytes.AsSpan(_length));
            hash.CopyTo(_bytes.AsSpan(_length));
            _length += hash.Length;
        }

        /// <summary>The digest of what was added: 32 lowercase hex digits.</summary>
        public readonly string Digest()
        {
            Span<byte> whole = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(_bytes.AsSpan(0, _length), whole);
            return Convert.ToHexStringLower(whole[..HashBytes]);
        }

        public void Dispose()
        {
            if (_bytes is { } bytes)
                System.Buffers.ArrayPool<byte>.Shared.Return(bytes);
            _bytes = null!;
        }
    }

    /// <summary>The slow twin of <see cref="Of"/>: each resource's kind, ID and hash appended to an incremental hash (the form before the eighteenth session).</summary>
    public static string OfAppended(IEnumerable<(char Kind, string Id, byte[] Hash)> resources)
    {
        using var digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> kind = stackalloc byte[1];
        foreach (var (k, id, hash) in resources)
        {
            kind[0] = (byte)k;
            digest.AppendData(kind);
            digest.AppendData(Encoding.UTF8.GetBytes(id));
            digest.AppendData(hash);
        }
        return Convert.ToHexStringLower(digest.GetHashAndReset())[..32];
    }
}
