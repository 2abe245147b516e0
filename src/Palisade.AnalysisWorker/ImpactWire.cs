using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Palisade.Analysis.WhatIf;
using Palisade.Domain.Networking;
using Palisade.Domain.State;

namespace Palisade.AnalysisWorker;

/// <summary>
/// What crosses the pipe between the server and its analysis process (issue 19), in frames: a
/// little-endian 32-bit length, then that many bytes, the first of which says what the frame is.
/// <list type="bullet">
/// <item><b>Compare</b> (server → child): an ID, the before's key (account, region, account revision),
/// the state before as a UTF-8 state file (<see cref="StateFileWriter"/>) or nothing when the child
/// is believed to keep it, and the state after.</item>
/// <item><b>Park</b> (server → child, for tests): an ID the child never answers, so that an analysis is
/// in flight when the child is killed.</item>
/// <item><b>Answer</b> (child → server): the ID, whether it was answered, needs its before (not kept,
/// or kept at another revision) or failed, the CPU time the child spent on it, and the flows gained
/// and lost as the answer spells them (source, target, protocol's wire name, port ranges).</item>
/// </list>
/// Strings are a 32-bit length and UTF-8. Nothing is trusted more than the server trusts its own
/// store: the child is the server's own process, started by it.
/// </summary>
public static class ImpactWire
{
    public const byte Compare = 1;
    public const byte Park = 2;
    public const byte Answer = 3;

    /// <summary>A frame larger than this is a broken pipe, not a request (a 500-instance state is a few MB).</summary>
    public const int MaxFrame = 256 * 1024 * 1024;

    public enum Status : byte
    {
        Answered = 0,
        NeedsBefore = 1,
        Failed = 2,
    }

    /// <summary>One flow of an impact, as the answer spells it.</summary>
    public sealed record Flow(string Source, string Target, string Protocol, string[] Ports)
    {
        public static Flow Of(FlowDelta d) => new(d.Source, d.Target, d.Protocol.ToWire(), [.. d.Ports.Select(p => p.ToString())]);
    }

    public sealed record CompareRequest(long Id, long AccountId, string RegionId, long Revision, ReadOnlyMemory<byte>? Before, ReadOnlyMemory<byte> After);

    public sealed record Answered(long Id, Status Status, TimeSpan Cpu, IReadOnlyList<Flow> Gained, IReadOnlyList<Flow> Lost, string? Error);

    /// <summary>Writes a Compare frame: the states are written as state files straight into the frame.</summary>
    public static void WriteCompare(Frame frame, long id, long accountId, string regionId, long revision, NetworkState? before, NetworkState after)
    {
        frame.Begin(Compare);
        frame.Int64(id);
        frame.Int64(accountId);
        frame.String(regionId);
        frame.Int64(revision);
        frame.State(before);
        frame.State(after);
        frame.End();
    }

    public static void WritePark(Frame frame, long id)
    {
        frame.Begin(Park);
        frame.Int64(id);
        frame.End();
    }

    public static void WriteAnswer(Frame frame, long id, Status status, TimeSpan cpu, IReadOnlyList<Flow>? gained, IReadOnlyList<Flow>? lost, string? error)
    {
        frame.Begin(Answer);
        frame.Int64(id);
        frame.Byte((byte)status);
        frame.Int64(cpu.Ticks);
        if (status == Status.Answered)
        {
            Flows(gained!);
            Flows(lost!);
        }
        else if (status == Status.Failed)
            frame.String(error ?? "");
        frame.End();

        void Flows(IReadOnlyList<Flow> flows)
        {
            frame.Int32(flows.Count);
            foreach (var f in flows)
            {
                frame.String(f.Source);
                frame.String(f.Target);
                frame.String(f.Protocol);
                frame.Int32(f.Ports.Length);
                foreach (var p in f.Ports)
                    frame.String(p);
            }
        }
    }

    public static CompareRequest ReadCompare(ReadOnlyMemory<byte> payload)
    {
        var r = new Reader(payload, Compare);
        var id = r.Int64();
        var account = r.Int64();
        var region = r.String();
        var revision = r.Int64();
        var before = r.Bytes();
        var after = r.Bytes() ?? throw new InvalidDataException("a comparison without the state after");
        return new CompareRequest(id, account, region, revision, before, after);
    }

    /// <summary>The ID of any server → child frame.</summary>
    public static long IdOf(ReadOnlyMemory<byte> payload) => BinaryPrimitives.ReadInt64LittleEndian(payload.Span[1..]);

    public static Answered ReadAnswer(ReadOnlyMemory<byte> payload)
    {
        var r = new Reader(payload, Answer);
        var id = r.Int64();
        var status = (Status)r.Byte();
        var cpu = TimeSpan.FromTicks(r.Int64());
        return status switch
        {
            Status.Answered => new Answered(id, status, cpu, Flows(ref r), Flows(ref r), null),
            Status.Failed => new Answered(id, status, cpu, [], [], r.String()),
            _ => new Answered(id, status, cpu, [], [], null),
        };

        // An answer of a thousand flows names a hundred instances, one protocol and one port range again
        // and again: each distinct string is made once per answer (issue 19: the server's garbage per question).
        static Flow[] Flows(ref Reader r)
        {
            var flows = new Flow[r.Count()];
            var seen = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var k = 0; k < flows.Length; k++)
            {
                var (source, target, protocol) = (r.String(seen), r.String(seen), r.String(seen));
                var ports = new string[r.Count()];
                for (var p = 0; p < ports.Length; p++)
                    ports[p] = r.String(seen);
                flows[k] = new Flow(source, target, protocol, ports);
            }
            return flows;
        }
    }

    /// <summary>Reads one frame's payload (kind first) into a new array, or null at the end of the stream.</summary>
    public static Task<ReadOnlyMemory<byte>?> ReadFrameAsync(Stream input, byte[] length, CancellationToken cancel = default) =>
        ReadFrameAsync(input, length, null, cancel);

    /// <summary>
    /// Reads one frame's payload (kind first), or null at the end of the stream; with <paramref name="reuse"/>
    /// into its buffer, valid until the next read (a reader that decodes each frame before the next: the
    /// server's, whose answers of a hundred KB or more would otherwise each be a large-object allocation
    /// and, now and then, a collection of every generation in the process that serves everyone).
    /// </summary>
    public static async Task<ReadOnlyMemory<byte>?> ReadFrameAsync(Stream input, byte[] length, ReusedPayload? reuse, CancellationToken cancel = default)
    {
        var read = await input.ReadAtLeastAsync(length.AsMemory(0, 4), 4, throwOnEndOfStream: false, cancel);
        if (read == 0)
            return null;
        if (read < 4)
            throw new EndOfStreamException("the pipe closed inside a frame");
        var size = BinaryPrimitives.ReadInt32LittleEndian(length);
        if (size is < 1 or > MaxFrame)
            throw new InvalidDataException($"a frame of {size} bytes");
        var payload = reuse?.Take(size) ?? new byte[size];
        await input.ReadExactlyAsync(payload.AsMemory(0, size), cancel);
        return payload.AsMemory(0, size);
    }

    /// <summary>A reader's payload buffer, grown as frames need and kept up to <see cref="MaxKept"/> bytes.</summary>
    public sealed class ReusedPayload
    {
        /// <summary>A larger frame gets an array of its own, so one huge answer does not stay in memory for good.</summary>
        public const int MaxKept = 8 * 1024 * 1024;

        private byte[] _buffer = [];

        internal byte[] Take(int size)
        {
            if (size <= _buffer.Length)
                return _buffer;
            if (size > MaxKept)
                return new byte[size];
            return _buffer = new byte[Math.Min(MaxKept, Math.Max(size, _buffer.Length * 2))];
        }
    }

    /// <summary>
    /// A frame being written, in one buffer kept and reused by its owner (a pipe's writer): a state of
    /// a hundred instances is written into it without a string or a second copy.
    /// </summary>
    public sealed class Frame : IBufferWriter<byte>
    {
        private byte[] _buffer = new byte[64 * 1024];
        private int _length;

        /// <summary>The frame written (length first), valid until the next <see cref="Begin"/>.</summary>
        public ReadOnlyMemory<byte> Written => _buffer.AsMemory(0, _length);

        public void Begin(byte kind)
        {
            _length = 4;
            Byte(kind);
        }

        public void End() => BinaryPrimitives.WriteInt32LittleEndian(_buffer, _length - 4);

        public void Byte(byte value)
        {
            GetSpan(1)[0] = value;
            Advance(1);
        }

        public void Int32(int value)
        {
            BinaryPrimitives.WriteInt32LittleEndian(GetSpan(4), value);
            Advance(4);
        }

        public void Int64(long value)
        {
            BinaryPrimitives.WriteInt64LittleEndian(GetSpan(8), value);
            Advance(8);
        }

        public void String(string value)
        {
            var span = GetSpan(4 + Encoding.UTF8.GetMaxByteCount(value.Length));
            var written = Encoding.UTF8.GetBytes(value, span[4..]);
            BinaryPrimitives.WriteInt32LittleEndian(span, written);
            Advance(4 + written);
        }

        /// <summary>A state file, its length first (-1: none).</summary>
        public void State(NetworkState? state)
        {
            if (state is null)
            {
                Int32(-1);
                return;
            }
            var at = _length;
            Int32(0);
            StateFileWriter.Write(state, this);
            BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(at), _length - at - 4);
        }

        public void Advance(int count) => _length += count;

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            Ensure(sizeHint);
            return _buffer.AsMemory(_length);
        }

        public Span<byte> GetSpan(int sizeHint = 0)
        {
            Ensure(sizeHint);
            return _buffer.AsSpan(_length);
        }

        private void Ensure(int sizeHint)
        {
            var need = _length + Math.Max(sizeHint, 256);
            if (need > _buffer.Length)
                Array.Resize(ref _buffer, Math.Max(need, _buffer.Length * 2));
        }
    }

    private ref struct Reader
    {
        private readonly ReadOnlySpan<byte> _span;
        private readonly ReadOnlyMemory<byte> _memory;
        private int _at;

        public Reader(ReadOnlyMemory<byte> payload, byte kind)
        {
            _memory = payload;
            _span = payload.Span;
            if (_span.Length == 0 || _span[0] != kind)
                throw new InvalidDataException($"expected a frame of kind {kind}");
            _at = 1;
        }

        public byte Byte() => _span[_at++];

        public int Int32()
        {
            var v = BinaryPrimitives.ReadInt32LittleEndian(_span[_at..]);
            _at += 4;
            return v;
        }

        public int Count()
        {
            var n = Int32();
            return n >= 0 && n <= _span.Length ? n : throw new InvalidDataException($"a count of {n}");
        }

        public long Int64()
        {
            var v = BinaryPrimitives.ReadInt64LittleEndian(_span[_at..]);
            _at += 8;
            return v;
        }

        public string String()
        {
            var n = Count();
            var s = Encoding.UTF8.GetString(_span.Slice(_at, n));
            _at += n;
            return s;
        }

        /// <summary>A string, the one already made for the same text when <paramref name="seen"/> holds it.</summary>
        public string String(Dictionary<string, string> seen)
        {
            var n = Count();
            var bytes = _span.Slice(_at, n);
            // Short strings (IDs, addresses, port ranges) are looked up by their characters, without a string made.
            if (n > 256)
            {
                _at += n;
                return Encoding.UTF8.GetString(bytes);
            }
            Span<char> chars = stackalloc char[256];
            var length = Encoding.UTF8.GetChars(bytes, chars);
            _at += n;
            var lookup = seen.GetAlternateLookup<ReadOnlySpan<char>>();
            if (lookup.TryGetValue(chars[..length], out var known))
                return known;
            var made = new string(chars[..length]);
            seen[made] = made;
            return made;
        }

        public ReadOnlyMemory<byte>? Bytes()
        {
            var n = Int32();
            if (n < 0)
                return null;
            var m = _memory.Slice(_at, n);
            _at += n;
            return m;
        }
    }
}
