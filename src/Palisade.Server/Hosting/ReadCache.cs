using System.Buffers;
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
    /// A rendered response and where its RequestId is (in which piece, at which offset), so that each
    /// hit carries its own: the body is kept as rendered, in pieces below the large-object heap's
    /// threshold (<see cref="RenderedAnswer"/>), not copied (an analysis's answer is 100 KB and more;
    /// docs/benchmarks.md, issue 19). A hit of an analysis's answer is admitted by its length
    /// (<see cref="Protocol.AnalysisAdmission.AdmitCached"/>).
    /// </summary>
    public sealed record Entry(long Revision, RenderedAnswer Body, int Piece, int IdAt, int IdLength)
    {
        /// <summary>The answer's length with <paramref name="requestId"/> in place of the rendered one.</summary>
        public int LengthWith(string requestId) => Body.Length - IdLength + Encoding.UTF8.GetByteCount(requestId);

        /// <summary>Writes the answer with <paramref name="requestId"/> in place of the rendered one.</summary>
        public void WriteTo(IBufferWriter<byte> output, string requestId)
        {
            var pieces = Body.Pieces;
            for (var i = 0; i < pieces.Count; i++)
            {
                ReadOnlySpan<byte> piece = pieces[i].AsSpan();
                if (i != Piece)
                {
                    output.Write(piece);
                    continue;
                }
                output.Write(piece[..IdAt]);
                Encoding.UTF8.GetBytes(requestId, output);
                output.Write(piece[(IdAt + IdLength)..]);
            }
        }
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

    /// <summary>Remembers a rendered body in which <paramref name="requestId"/> appears once, as the RequestId (within one piece: it comes first).</summary>
    public void Put(string key, long revision, RenderedAnswer body, string requestId)
    {
        var id = Encoding.UTF8.GetBytes(requestId);
        var (piece, at) = (-1, -1);
        for (var i = 0; i < body.Pieces.Count && at < 0; i++)
            (piece, at) = (i, body.Pieces[i].AsSpan().IndexOf(id));
        if (at < 0)
            return;
        if (_entries.Count >= MaxEntries || Interlocked.Read(ref _bytes) + body.Length > MaxBytes)
        {
            _entries.Clear();
            Interlocked.Exchange(ref _bytes, 0);
        }
        // The caller hands the body over: it is not written to again.
        var entry = new Entry(revision, body, piece, at, id.Length);
        if (_entries.TryGetValue(key, out var old))
            Interlocked.Add(ref _bytes, -old.Body.Length);
        _entries[key] = entry;
        Interlocked.Add(ref _bytes, entry.Body.Length);
    }
}
