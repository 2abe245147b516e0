using System.Collections.Concurrent;
using System.Text;
using Palisade.Server.Actions;
using Palisade.Server.Protocol;
using Palisade.Server.Responses;

namespace Palisade.Server.Hosting;

/// <summary>
/// Rendered answers of read-only actions, valid while the store's revision has not moved. Every
/// committed change bumps the global revision, so an entry recorded at revision R was computed from
/// a state at least as new as R, and is served only while the revision is still R: never stale.
/// The slow twin is the uncached path (<see cref="ServerOptions.CacheReads"/> off); a test checks
/// they answer byte for byte the same.
/// </summary>
internal sealed class ReadCache
{
    private const int MaxEntries = 20_000;

    /// <summary>Answers can be large (140 KB for a 200-rule group): the cache is bounded by bytes too.</summary>
    private const long MaxBytes = 256L * 1024 * 1024;

    private long _bytes;
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>
    /// A rendered response and where its RequestId is, so that each hit carries its own: the body is
    /// kept as rendered, not copied in two (an analysis's answer of 100 KB or more is a large-object-heap
    /// array, and every copy of one counts towards a gen2 collection; docs/benchmarks.md, issue 19).
    /// </summary>
    public sealed record Entry(long Revision, byte[] Body, int IdAt, int IdLength)
    {
        public ReadOnlySpan<byte> Head => Body.AsSpan(0, IdAt);

        public ReadOnlySpan<byte> Tail => Body.AsSpan(IdAt + IdLength);
    }

    public static string Key(Caller caller, IEcsAction action, RpcRequest request, ResponseFormat format)
    {
        var sb = new StringBuilder();
        // A host credential has no account: its host sets its answers apart.
        sb.Append(caller.AccountId).Append(caller.HostName is { } host ? "@" + host : "").Append('\n').Append(action.Version).Append('\n').Append(action.Name).Append('\n').Append(format);
        foreach (var (name, value) in request.Parameters.Where(p => !ActionContext.CommonParameters.Contains(p.Key)).OrderBy(p => p.Key, StringComparer.Ordinal))
            sb.Append('\n').Append(name).Append('=').Append(value);
        return sb.ToString();
    }

    public bool TryGet(string key, long revision, out Entry entry) =>
        _entries.TryGetValue(key, out entry!) && entry.Revision == revision;

    /// <summary>Remembers a rendered body in which <paramref name="requestId"/> appears once, as the RequestId.</summary>
    public void Put(string key, long revision, byte[] body, string requestId)
    {
        var id = Encoding.UTF8.GetBytes(requestId);
        var at = body.AsSpan().IndexOf(id);
        if (at < 0)
            return;
        if (_entries.Count >= MaxEntries || Interlocked.Read(ref _bytes) + body.Length > MaxBytes)
        {
            _entries.Clear();
            Interlocked.Exchange(ref _bytes, 0);
        }
        // The caller hands the body over: it is not written to again.
        var entry = new Entry(revision, body, at, id.Length);
        if (_entries.TryGetValue(key, out var old))
            Interlocked.Add(ref _bytes, -old.Body.Length);
        _entries[key] = entry;
        Interlocked.Add(ref _bytes, entry.Body.Length);
    }
}
