using System.Buffers;

namespace Palisade.Server.Responses;

/// <summary>
/// A rendered answer kept as pieces each smaller than the large-object heap's threshold (85,000
/// bytes), written to the connection one after the other: the same bytes as one array would hold.
/// An analysis answers 100 KB and more, and as one array each new question's answer (kept by the
/// read cache) went to the large-object heap, whose budget started gen2 collections that the quiet
/// tenants' reads then met (issue 19).
/// </summary>
internal sealed class RenderedAnswer
{
    /// <summary>The size of a piece: well below the large-object heap's 85,000 bytes.</summary>
    public const int PieceBytes = 64 * 1024;

    private RenderedAnswer(IReadOnlyList<ArraySegment<byte>> pieces, int length, byte[]? lent = null) => (Pieces, Length, _lent) = (pieces, length, lent);

    /// <summary>The pool's buffer the last piece lies in, until <see cref="Release"/> (<see cref="Writer.Finish"/> with <c>lend</c>).</summary>
    private byte[]? _lent;

    /// <summary>Whether the last piece is the writer's pooled buffer itself, to be given back by <see cref="Release"/> once written.</summary>
    public bool Lends => Volatile.Read(ref _lent) is not null;

    /// <summary>
    /// Gives a lent buffer back to the pool (once; nothing for an answer that lends none). The pieces must
    /// not be read after: the connection's writer has copied them (<c>RpcEndpoint</c>'s answer is written once).
    /// </summary>
    public void Release()
    {
        if (Interlocked.Exchange(ref _lent, null) is { } lent)
            ArrayPool<byte>.Shared.Return(lent);
    }

    /// <summary>The answer's bytes, in order; none empty.</summary>
    public IReadOnlyList<ArraySegment<byte>> Pieces { get; }

    public int Length { get; }

    /// <summary>An answer rendered into one array already (the slow twin, and small answers).</summary>
    public static RenderedAnswer Of(byte[] bytes) => new(bytes.Length == 0 ? [] : [new ArraySegment<byte>(bytes)], bytes.Length);

    /// <summary>The answer as one array (tests; the slow twin's shape).</summary>
    public byte[] ToArray()
    {
        var all = new byte[Length];
        var at = 0;
        foreach (var piece in Pieces)
        {
            piece.AsSpan().CopyTo(all.AsSpan(at));
            at += piece.Count;
        }
        return all;
    }

    /// <summary>
    /// Where the answer is written while it is rendered: a JSON writer's buffer (<see cref="IBufferWriter{T}"/>)
    /// or an XML writer's stream. It writes into one buffer rented from the shared pool and, each time
    /// the buffer is full (<see cref="PieceBytes"/>, or more only when one write asks for more at once)
    /// and at the end, copies what it holds out to a piece of exactly that size: a small answer is one
    /// array of its size, as before, and a large one never one array of its size.
    /// </summary>
    internal sealed class Writer(int pieceBytes = PieceBytes) : Stream, IBufferWriter<byte>
    {
        private readonly List<ArraySegment<byte>> _done = [];
        private byte[] _current = [];
        private int _used;
        private int _length;

        /// <summary>The answer; the rented buffer goes back to the pool.</summary>
        public RenderedAnswer Finish() => Finish(lend: false);

        /// <summary>
        /// The answer. With <paramref name="lend"/> the last piece is the rented buffer itself, not a copy of
        /// it (issue 17, twenty-first session: an answer written once to its connection, as a woken host poll's,
        /// was copied here and again into the connection's pipe), given back by <see cref="Release"/> once
        /// written; without (an answer kept: the read cache's, a warm-up's) it is copied out as before — the slow twin.
        /// </summary>
        public RenderedAnswer Finish(bool lend)
        {
            if (lend && _used > 0)
            {
                _done.Add(new ArraySegment<byte>(_current, 0, _used));
                var lent = _current;
                (_current, _used) = ([], 0);
                return new RenderedAnswer(_done, _length, lent);
            }
            Seal();
            if (_current.Length > 0)
                ArrayPool<byte>.Shared.Return(_current);
            _current = [];
            return new RenderedAnswer(_done, _length);
        }

        /// <summary>Copies what the buffer holds out to a piece of its size; the buffer is written from its start again.</summary>
        private void Seal()
        {
            if (_used > 0)
                _done.Add(new ArraySegment<byte>(_current.AsSpan(0, _used).ToArray()));
            _used = 0;
        }

        /// <summary>Makes room for <paramref name="sizeHint"/> bytes (at least one) in the buffer, sealing what it holds first if need be.</summary>
        private void Reserve(int sizeHint)
        {
            var needed = Math.Max(sizeHint, 1);
            if (_current.Length - _used >= needed)
                return;
            Seal();
            if (_current.Length >= needed)
                return;
            if (_current.Length > 0)
                ArrayPool<byte>.Shared.Return(_current);
            _current = ArrayPool<byte>.Shared.Rent(Math.Max(pieceBytes, needed));
        }

        public void Advance(int count)
        {
            if (count < 0 || _used + count > _current.Length)
                throw new ArgumentOutOfRangeException(nameof(count));
            _used += count;
            _length += count;
        }

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            Reserve(sizeHint);
            return _current.AsMemory(_used);
        }

        public Span<byte> GetSpan(int sizeHint = 0)
        {
            Reserve(sizeHint);
            return _current.AsSpan(_used);
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            while (buffer.Length > 0)
            {
                Reserve(1);
                var room = Math.Min(buffer.Length, _current.Length - _used);
                buffer[..room].CopyTo(_current.AsSpan(_used));
                Advance(room);
                buffer = buffer[room..];
            }
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void WriteByte(byte value) => Write([value]);

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _length;

        public override long Position { get => _length; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
