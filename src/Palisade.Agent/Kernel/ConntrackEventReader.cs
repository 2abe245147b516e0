using System.Text;
using System.Threading.Channels;
using Palisade.Domain.Networking;
using Palisade.Engine.Flows;

namespace Palisade.Agent.Kernel;

/// <summary>
/// Reads <c>conntrack -E</c>'s output the cheap way (issue 20): on a dedicated thread, synchronous
/// reads of large blocks, each complete line parsed from the bytes where it lies (no string per line),
/// the connections of one block handed on as one batch. At 10,000 new connections a second the line-
/// at-a-time reader (<c>StreamReader.ReadLineAsync</c>, a thread-pool round trip and a string per
/// event) cost most of a core; this one reads what the pipe holds in one call. It reads exactly what
/// <see cref="ConntrackLine.ParseEvent"/> reads line by line (its slow twin: the tests feed both the
/// same captured bursts, split at every boundary): a line is ended by <c>\n</c>, <c>\r</c> or
/// <c>\r\n</c> as <see cref="StreamReader.ReadLine"/> ends it, and a line with any byte outside ASCII
/// is given to the slow twin as text. conntrack flushes every event, so a reader that keeps up reads
/// one line per call and wakes once per event; after a short read it therefore waits a few
/// milliseconds (<see cref="DefaultCoalescing"/>) so that the next read takes what came meanwhile.
/// The pipe is widened to 1 MiB where the kernel allows (<see cref="WidenPipe"/>: ~5,000 events, half a
/// second at 10,000 a second, against 30 ms for Linux's default 64 KiB), so that a wait stretched by a
/// busy scheduler does not stall conntrack; at higher rates reads come back large and the reader no
/// longer waits.
/// </summary>
public static class ConntrackEventReader
{
    /// <summary>The block read at once: far more than a burst's worth of lines (a line is ~200 bytes).</summary>
    public const int BlockSize = 256 * 1024;

    /// <summary>The wait after a short read: a sixth of the time even a default 64 KiB pipe takes to fill at 10,000 events a second.</summary>
    public static readonly TimeSpan DefaultCoalescing = TimeSpan.FromMilliseconds(5);

    /// <summary>A read shorter than this is short: the pipe held little, more will come if we wait.</summary>
    private const int ShortRead = 16 * 1024;

    /// <summary>
    /// Starts the reading thread over <paramref name="output"/>: each block's connections go to
    /// <paramref name="batches"/> (waiting while it is full: the kernel's buffer then absorbs the burst,
    /// or conntrack reports an overrun and goes on). At the end of the output the writer is completed;
    /// on a read error, completed with that error. The thread ends when the output ends or the writer
    /// is completed by the reader's side.
    /// </summary>
    /// <summary>
    /// Asks the kernel for a 1 MiB pipe behind <paramref name="output"/> (<c>F_SETPIPE_SZ</c>; Linux's
    /// default is 64 KiB, its usual ceiling for an unprivileged process 1 MiB): whether it was granted.
    /// Nothing changes when it is not a pipe or the kernel refuses.
    /// </summary>
    public static bool WidenPipe(Stream output)
    {
        if (output is not System.IO.Pipes.PipeStream pipe || !OperatingSystem.IsLinux())
            return false;
        const int SetPipeSize = 1031; // F_SETPIPE_SZ
        return Fcntl((int)pipe.SafePipeHandle.DangerousGetHandle(), SetPipeSize, 1 << 20) >= 1 << 20;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static extern int Fcntl(int fd, int command, int argument);

    /// <param name="coalescing">The wait after a short read (zero: none).</param>
    public static Thread Start(Stream output, ChannelWriter<TrackedConnection[]> batches, TimeSpan coalescing = default)
    {
        var thread = new Thread(() => Run(output, batches, coalescing)) { IsBackground = true, Name = "conntrack-events" };
        thread.Start();
        return thread;
    }

    private static void Run(Stream output, ChannelWriter<TrackedConnection[]> batches, TimeSpan coalescing)
    {
        var buffer = new byte[BlockSize];
        var held = 0; // bytes of an unfinished line kept at the start of the buffer
        var batch = new List<TrackedConnection>(1024);
        try
        {
            while (true)
            {
                // A line longer than the whole buffer is no event of conntrack's, but it is read whole, as ReadLine reads it.
                if (held == buffer.Length)
                    Array.Resize(ref buffer, buffer.Length * 2);
                var read = output.Read(buffer, held, buffer.Length - held);
                if (read == 0)
                {
                    // The output ended: an unfinished last line is still a line, as ReadLine reads it.
                    ParseBlock(buffer.AsSpan(0, held), batch, final: true);
                    Send(batches, batch);
                    batches.TryComplete();
                    return;
                }
                var end = held + read;
                var used = ParseBlock(buffer.AsSpan(0, end), batch, final: false);
                held = end - used;
                if (held > 0)
                    buffer.AsSpan(used, held).CopyTo(buffer);
                if (!Send(batches, batch))
                    return;
                if (read < ShortRead && coalescing > TimeSpan.Zero)
                    Thread.Sleep(coalescing);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            batches.TryComplete(e);
        }
    }

    /// <summary>Hands the batch on (if any), waiting while the channel is full; false when the reading side is gone.</summary>
    internal static bool Send(ChannelWriter<TrackedConnection[]> batches, List<TrackedConnection> batch)
    {
        if (batch.Count == 0)
            return true;
        var items = batch.ToArray();
        batch.Clear();
        while (!batches.TryWrite(items))
        {
            // This thread is ours alone: blocking it is the point.
            if (!batches.WaitToWriteAsync().AsTask().GetAwaiter().GetResult())
                return false;
        }
        return true;
    }

    /// <summary>
    /// Parses the complete lines of <paramref name="block"/> into <paramref name="into"/>; returns how
    /// many bytes they took (what follows is an unfinished line, unless <paramref name="final"/>, when
    /// it is a line too). A <c>\r\n</c> split across two blocks ends one line, as ReadLine has it: a
    /// block's trailing <c>\r</c> is left for the next one.
    /// </summary>
    public static int ParseBlock(ReadOnlySpan<byte> block, List<TrackedConnection> into, bool final)
    {
        var start = 0;
        while (start < block.Length)
        {
            var rest = block[start..];
            var end = rest.IndexOfAny((byte)'\n', (byte)'\r');
            if (end < 0)
            {
                if (!final)
                    return start;
                Add(rest, into);
                return block.Length;
            }
            if (rest[end] == '\r' && end + 1 == rest.Length && !final)
                return start; // maybe the first half of \r\n: wait for the next byte
            Add(rest[..end], into);
            start += end + (rest[end] == '\r' && end + 1 < rest.Length && rest[end + 1] == '\n' ? 2 : 1);
        }
        return start;
    }

    private static void Add(ReadOnlySpan<byte> line, List<TrackedConnection> into)
    {
        if (ParseEvent(line) is { } connection)
            into.Add(connection);
    }

    /// <summary>
    /// One event line as bytes: what <see cref="ConntrackLine.ParseEvent"/> makes of the same line as
    /// text, without making the text. Fields are split on spaces; the first <c>src=</c>, <c>dst=</c>,
    /// <c>sport=</c>, <c>dport=</c> and <c>zone=</c> are the original direction's.
    /// </summary>
    public static TrackedConnection? ParseEvent(ReadOnlySpan<byte> line)
    {
        if (!Ascii.IsValid(line))
            return ConntrackLine.ParseEvent(Encoding.UTF8.GetString(line));
        var i = 0;
        while (i < line.Length && IsAsciiWhiteSpace(line[i]))
            i++;
        var text = line[i..];
        if (!text.StartsWith("[NEW]"u8))
            return null;
        text = text[5..];
        ReadOnlySpan<byte> protocolName = default, source = default, destination = default, sport = default, dport = default, zone = default;
        bool hasSource = false, hasDestination = false, hasSport = false, hasDport = false, hasZone = false;
        var fields = 0;
        foreach (var range in text.Split((byte)' '))
        {
            var field = text[range];
            if (field.IsEmpty)
                continue;
            if (fields++ == 0)
                protocolName = field;
            else if (!hasSource && field.StartsWith("src="u8))
            {
                source = field[4..];
                hasSource = true;
            }
            else if (!hasDestination && field.StartsWith("dst="u8))
            {
                destination = field[4..];
                hasDestination = true;
            }
            else if (!hasSport && field.StartsWith("sport="u8))
            {
                sport = field[6..];
                hasSport = true;
            }
            else if (!hasDport && field.StartsWith("dport="u8))
            {
                dport = field[6..];
                hasDport = true;
            }
            else if (!hasZone && field.StartsWith("zone="u8))
            {
                zone = field[5..];
                hasZone = true;
            }
        }
        // The protocol name is also the first field: a "src=" there is not the source (as the text parser has it).
        if (fields < 3)
            return null;
        IpProtocol? protocol = protocolName switch
        {
            _ when protocolName.SequenceEqual("tcp"u8) => IpProtocol.Tcp,
            _ when protocolName.SequenceEqual("udp"u8) => IpProtocol.Udp,
            _ when protocolName.SequenceEqual("icmp"u8) => IpProtocol.Icmp,
            _ when protocolName.SequenceEqual("icmpv6"u8) => IpProtocol.IcmpV6,
            _ when protocolName.SequenceEqual("gre"u8) => IpProtocol.Gre,
            _ => null,
        };
        if (protocol is null || !hasSource || !hasDestination || !TryAddress(source, out var from) || !TryAddress(destination, out var to))
            return null;
        return new TrackedConnection(new Flow(from, to, protocol.Value, Number(dport), Number(sport)), Number(zone));
    }

    /// <summary>As <c>char.IsWhiteSpace</c> for ASCII (what <c>TrimStart</c> removes).</summary>
    private static bool IsAsciiWhiteSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r';

    private static bool TryAddress(ReadOnlySpan<byte> text, out IpAddress address)
    {
        address = default;
        if (text.Length > 64)
            return false;
        Span<char> chars = stackalloc char[text.Length];
        for (var i = 0; i < text.Length; i++)
            chars[i] = (char)text[i];
        return IpAddress.TryParse(chars, out address);
    }

    /// <summary>Digits only, as <c>int.TryParse(…, NumberStyles.None)</c> reads them; 0 when absent or not such a number (as the text parser has it).</summary>
    private static int Number(ReadOnlySpan<byte> digits)
    {
        if (digits.IsEmpty)
            return 0;
        long value = 0;
        foreach (var d in digits)
        {
            if (d is < (byte)'0' or > (byte)'9')
                return 0;
            value = value * 10 + (d - '0');
            if (value > int.MaxValue)
                return 0;
        }
        return (int)value;
    }
}
