using System.Collections.Concurrent;

namespace Palisade.Server.Actions.Hosts;

/// <summary>
/// What each recently answered part digest stands for: its resources (kind, ID, the hash of their
/// rendering), so that <see cref="DescribeHostPolicy"/> knows which resource versions an agent holds
/// from the digests it sends and sends only the others (issue 17: the fetch after a change costs the
/// change, not the account). A digest is a hash of exactly this list, so the memory is content
/// addressed: an entry is true whichever store, node or account produced it, holds nothing but IDs
/// and hashes the agent was given already, and a host that names a digest it does not hold can only
/// make its own answer smaller (and its own state unreadable, which makes it fetch whole). Bounded
/// by the resources it holds; when full, the oldest digests are forgotten first (an agent naming a
/// forgotten digest is sent that part's resources again).
/// </summary>
internal static class PartMemory
{
    /// <summary>A resource of a part: its kind (g, i, e, p, r), its ID and the first bytes of its rendering's SHA-256 (<see cref="Palisade.Domain.State.PartDigest.ResourceHash(ReadOnlySpan{byte})"/>), in the part's order.</summary>
    internal readonly record struct Resource(char Kind, string Id, byte[] Hash);

    /// <summary>At most this many resources over all remembered parts (about 100 bytes each).</summary>
    public const int MaxResources = 2_000_000;

    private static readonly ConcurrentDictionary<string, Resource[]> Parts = new(StringComparer.Ordinal);
    private static readonly ConcurrentQueue<string> Order = new();
    private static long _resources;

    public static void Remember(string digest, Resource[] resources)
    {
        if (!Parts.TryAdd(digest, resources))
            return;
        Order.Enqueue(digest);
        Interlocked.Add(ref _resources, resources.Length);
        while (Interlocked.Read(ref _resources) > MaxResources && Order.TryDequeue(out var oldest))
        {
            if (Parts.TryRemove(oldest, out var gone))
                Interlocked.Add(ref _resources, -gone.Length);
        }
    }

    public static Resource[]? Recall(string digest) => Parts.GetValueOrDefault(digest);

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Resource[], Dictionary<(char Kind, string Id), byte[]>> Indexes = new();

    /// <summary>
    /// The resources a remembered digest stands for, by kind and ID (built once per digest, kept while
    /// the digest is remembered): what an answer asks, for each resource it may send, of each digest
    /// the agent holds — a few lookups, not a set of every held resource built per answer.
    /// </summary>
    public static IReadOnlyDictionary<(char Kind, string Id), byte[]>? Index(string digest) =>
        Recall(digest) is { } resources
            ? Indexes.GetValue(resources, IndexOf)
            : null;

    private static Dictionary<(char Kind, string Id), byte[]> IndexOf(Resource[] resources)
    {
        var index = new Dictionary<(char Kind, string Id), byte[]>(resources.Length);
        foreach (var m in resources)
            index.TryAdd((m.Kind, m.Id), m.Hash);
        return index;
    }

    /// <summary>Forgets everything (a test of an agent whose digests the server no longer knows).</summary>
    internal static void Forget()
    {
        while (Order.TryDequeue(out var digest))
        {
            if (Parts.TryRemove(digest, out var gone))
                Interlocked.Add(ref _resources, -gone.Length);
        }
    }
}
