using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;
using CsCheck;
using Palisade.Agent.Kernel;

namespace Palisade.Agent.Tests.Kernel;

/// <summary>
/// The block reader of <c>conntrack -E</c> (issue 20: a dedicated thread, large synchronous reads,
/// lines parsed from the bytes) against its slow twin, the line reader the agent had: <see
/// cref="StreamReader.ReadLine"/> and <see cref="ConntrackLine.ParseEvent"/> per line. Whatever the
/// pipe hands over at once — a byte, a line and a half, the whole burst — both read the same
/// connections in the same order.
/// </summary>
public sealed class ConntrackEventReaderTests
{
    /// <summary>A real capture of conntrack -E and lines in its format for what the capture lacks (Captures/README.md), one after the other.</summary>
    private static byte[] Capture([CallerFilePath] string here = "") =>
        [.. File.ReadAllBytes(Path.Combine(Path.GetDirectoryName(here)!, "Captures", "conntrack-events-captured.txt")),
            .. File.ReadAllBytes(Path.Combine(Path.GetDirectoryName(here)!, "Captures", "conntrack-events-mixed.txt"))];

    /// <summary>The slow twin: what the agent read before, line by line.</summary>
    private static List<TrackedConnection> LineByLine(byte[] output)
    {
        using var reader = new StreamReader(new MemoryStream(output), Encoding.UTF8);
        var read = new List<TrackedConnection>();
        while (reader.ReadLine() is { } line)
        {
            if (ConntrackLine.ParseEvent(line) is { } connection)
                read.Add(connection);
        }
        return read;
    }

    /// <summary>A pipe that hands over at most <paramref name="most"/> bytes per read (at random, seeded), then ends or fails.</summary>
    private sealed class Pipe(byte[] data, int seed, int most, bool failAtEnd = false) : Stream
    {
        private readonly Random _random = new(seed);
        private int _at;

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_at == data.Length)
                return failAtEnd ? throw new IOException("the pipe broke") : 0;
            var n = Math.Min(Math.Min(count, _random.Next(1, most + 1)), data.Length - _at);
            data.AsSpan(_at, n).CopyTo(buffer.AsSpan(offset));
            _at += n;
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>The block reader on its own thread over <paramref name="pipe"/>: every batch it handed on, and how the channel ended.</summary>
    private static (List<TrackedConnection[]> Batches, Exception? Ended) InBlocks(Stream pipe, int capacity = 4, TimeSpan coalescing = default)
    {
        var channel = Channel.CreateBounded<TrackedConnection[]>(new BoundedChannelOptions(capacity) { SingleReader = true, SingleWriter = true });
        var thread = ConntrackEventReader.Start(pipe, channel.Writer, coalescing);
        var batches = new List<TrackedConnection[]>();
        Exception? ended = null;
        try
        {
            // A small channel and a reader slower than the thread: the thread waits, nothing is lost.
            while (channel.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
            {
                while (channel.Reader.TryRead(out var batch))
                    batches.Add(batch);
            }
        }
        catch (IOException e)
        {
            ended = e;
        }
        Assert.True(thread.Join(TimeSpan.FromSeconds(30)), "the reading thread did not end with its output");
        return (batches, ended);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 7)]
    [InlineData(3, 199)]
    [InlineData(4, 4096)]
    [InlineData(5, ConntrackEventReader.BlockSize)]
    public void ACapturedBurst_IsReadAsTheLineReaderReadsIt_WhateverThePipeHandsOverAtOnce(int seed, int most)
    {
        var capture = Capture();
        var expected = LineByLine(capture);
        Assert.True(expected.Count > 400, $"the capture holds {expected.Count} events");
        var (batches, ended) = InBlocks(new Pipe(capture, seed, most));
        Assert.Null(ended);
        Assert.Equal(expected, batches.SelectMany(b => b));
        Assert.DoesNotContain(batches, b => b.Length == 0);
        // Large reads are what make it cheap: a whole burst read at once is a few batches, not one per line.
        if (most == ConntrackEventReader.BlockSize)
            Assert.True(batches.Count <= 2, $"{batches.Count} batches");
    }

    /// <summary>Waiting after short reads (as the agent does, so that a busy host's events come many to a read) changes nothing of what is read.</summary>
    [Fact]
    public void WaitingAfterAShortRead_ReadsTheSame()
    {
        var capture = Capture();
        var (batches, ended) = InBlocks(new Pipe(capture, 6, 8192), coalescing: TimeSpan.FromMilliseconds(1));
        Assert.Null(ended);
        Assert.Equal(LineByLine(capture), batches.SelectMany(b => b));
    }

    [Fact]
    public void AnUnfinishedLastLine_IsALine_AndABrokenPipeEndsTheWatchWithItsError()
    {
        var capture = Capture();
        var unfinished = capture.AsSpan(0, capture.Length - 1).ToArray(); // no final newline
        Assert.Equal(LineByLine(unfinished), InBlocks(new Pipe(unfinished, 1, 100)).Batches.SelectMany(b => b));
        var (batches, ended) = InBlocks(new Pipe(capture, 2, 1000, failAtEnd: true));
        Assert.IsType<IOException>(ended);
        Assert.Equal(LineByLine(capture), batches.SelectMany(b => b));
    }

    /// <summary>The pipe from a child process (as from conntrack -E) is widened to 1 MiB, so that a reader waiting between reads does not stall the child.</summary>
    [Fact]
    public void AChildsOutputPipe_IsWidened()
    {
        var start = new System.Diagnostics.ProcessStartInfo("cat") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        using var child = System.Diagnostics.Process.Start(start)!;
        try
        {
            Assert.True(ConntrackEventReader.WidenPipe(child.StandardOutput.BaseStream));
            Assert.False(ConntrackEventReader.WidenPipe(new MemoryStream()));
        }
        finally
        {
            child.Kill();
            child.WaitForExit();
        }
    }

    private static readonly string[] Protocols = ["tcp", "udp", "icmp", "icmpv6", "gre", "sctp", "TCP", ""];

    private static readonly string[] Values = ["198.18.0.1", "2001:db8::1", "2001:DB8::1", "::ffff:198.18.0.1", "198.18.0.300", "", "80", "0", "007", "65535", "2147483647", "2147483648",
        "99999999999", "-1", "+1", "1 ", "x", "é", "1\t", "3"];

    private static readonly string[] Keys = ["src=", "dst=", "sport=", "dport=", "zone=", "type=", "[UNREPLIED]", "SYN_SENT", "6", "120", ""];

    /// <summary>Lines near conntrack's: prefixes, protocols, fields in any order and number, odd values, odd spacing, and line ends of every kind.</summary>
    private static readonly Gen<string> Output =
        Gen.Select(
            Gen.OneOf("", "    ", "\t", " \v", "\u00a0"),
            Gen.OneOf("[NEW] ", "[NEW]", "[DESTROY] ", "[UPDATE] ", "", "conntrack v1.4.7 (conntrack-tools): 3 flow events have been shown. "),
            Gen.Int[0, Protocols.Length - 1],
            Gen.Select(Gen.Int[0, Keys.Length - 1], Gen.Int[0, Values.Length - 1], Gen.OneOf(" ", "  ", " \t")).Array[0, 12],
            Gen.OneOf("\n", "\r\n", "\r", "\n\n", ""))
        .Select((indent, tag, protocol, fields, end) =>
            indent + tag + Protocols[protocol] + " " + string.Concat(fields.Select(f => Keys[f.Item1] + (Keys[f.Item1].EndsWith('=') ? Values[f.Item2] : "") + f.Item3)) + end)
        .Array[1, 40]
        .Select(string.Concat);

    [Fact]
    public void Property_AnyOutput_IsReadAsTheLineReaderReadsIt()
    {
        Gen.Select(Output, Gen.Int[1, 64], Gen.Int[0, 1000]).Sample((text, most, seed) =>
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            var (batches, ended) = InBlocks(new Pipe(bytes, seed, most));
            return ended is null && LineByLine(bytes).SequenceEqual(batches.SelectMany(b => b));
        }, iter: 2000, print: t => $"{t.Item1.Replace("\r", "\\r").Replace("\n", "\\n")} (reads of at most {t.Item2}, seed {t.Item3})");
    }

    [Theory]
    [InlineData("    [NEW] tcp      6 120 SYN_SENT src=198.18.2.2 dst=198.18.2.3 sport=40000 dport=9000 [UNREPLIED] src=198.18.2.3 dst=198.18.2.2 sport=9000 dport=40000 zone=7")]
    [InlineData("[NEW] icmpv6   58 30 src=2001:db8::1 dst=2001:db8::2 type=128 code=0 id=7 [UNREPLIED] src=2001:db8::2 dst=2001:db8::1 type=129 code=0 id=7")]
    [InlineData("[NEW] tcp 6 120 SYN_SENT src=198.18.2.2 dst=198.18.2.3 sport=40000 dport=99999999999")]
    [InlineData("[NEW] tcp 6")]
    [InlineData("[DESTROY] tcp 6 src=198.18.2.2 dst=198.18.2.3")]
    [InlineData("[NEW] tcp 6 120 src=198.18.2.2 dst=198.18.2.3 zone=é")]
    public void ALine_IsReadFromItsBytes_AsFromItsText(string line) =>
        Assert.Equal(ConntrackLine.ParseEvent(line), ConntrackEventReader.ParseEvent(Encoding.UTF8.GetBytes(line)));
}
