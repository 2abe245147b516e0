using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.CompilerServices;
using CsCheck;
using Palisade.Agent.Kernel;
using Palisade.Domain.Networking;

namespace Palisade.Agent.Tests.Kernel;

/// <summary>
/// The netlink parser of conntrack's events (issue 20) against its slow twin, <see
/// cref="ConntrackLine.ParseEvent"/> on the line <c>conntrack -E</c> prints for the same event: random
/// connections are encoded as the kernel encodes them (<see cref="Encoder"/>, ctnetlink's layout) and
/// written as conntrack prints them, and both readings must agree; truncated and garbage datagrams
/// never throw and are counted as malformed.
/// </summary>
public sealed class ConntrackNetlinkMessageTests
{
    /// <summary>A connection as the test draws it: protocol number, addresses, ports (or ICMP type/code/id, GRE keys), zone, and how the kernel flags its attributes.</summary>
    public sealed record Event(int Protocol, IpAddress Source, IpAddress Destination, int SourcePort, int DestinationPort, int Zone, bool Create, bool Nested, bool ByteOrder)
    {
        public bool V6 => Source.IsV6;

        /// <summary>The line <c>conntrack -E</c> prints for it (libnetfilter_conntrack's default format).</summary>
        public string Line()
        {
            var (name, number) = Protocol switch
            {
                6 => ("tcp", "6"),
                17 => ("udp", "17"),
                1 => ("icmp", "1"),
                58 => ("icmpv6", "58"),
                47 => ("gre", "47"),
                132 => ("sctp", "132"),
                _ => ("unknown", Protocol.ToString(CultureInfo.InvariantCulture)),
            };
            string Ports(bool reply) => Protocol switch
            {
                6 or 17 or 132 => reply ? $"sport={DestinationPort} dport={SourcePort}" : $"sport={SourcePort} dport={DestinationPort}",
                1 or 58 => $"type={(reply ? 0 : SourcePort & 0xFF)} code={DestinationPort & 0xFF} id={SourcePort}",
                47 => $"srckey=0x{SourcePort:x} dstkey=0x{DestinationPort:x}",
                _ => "",
            };
            var state = Protocol == 6 ? " SYN_SENT" : "";
            var zone = Zone == 0 ? "" : $" zone={Zone}";
            return $"{(Create ? "    [NEW]" : " [UPDATE]")} {name,-8} {number} 120{state} src={Source} dst={Destination} {Ports(false)} [UNREPLIED] src={Destination} dst={Source} {Ports(true)}{zone}";
        }
    }

    /// <summary>
    /// Writes events as ctnetlink does (<c>ctnetlink_conntrack_event</c>): nlmsghdr, nfgenmsg, the
    /// original and reply tuples (each: CTA_TUPLE_IP, CTA_TUPLE_PROTO), the zone when not the default,
    /// then status, timeout, id — attributes the parser must step over.
    /// </summary>
    public static class Encoder
    {
        public static byte[] Message(Event e, ushort? type = null)
        {
            var body = new List<byte> { (byte)(e.V6 ? 10 : 2), 0, 0, 0 }; // nfgenmsg: family, version, res_id
            body.AddRange(Nest(e, 1, Tuple(e, reply: false)));
            body.AddRange(Nest(e, 2, Tuple(e, reply: true)));
            if (e.Zone != 0)
                body.AddRange(Attribute(18, BigEndian16(e.Zone), e.ByteOrder));
            body.AddRange(Attribute(3, BigEndian32(0x8), false)); // CTA_STATUS
            body.AddRange(Attribute(7, BigEndian32(120), false)); // CTA_TIMEOUT
            body.AddRange(Attribute(12, BigEndian32(0x1234abcd), false)); // CTA_ID
            var header = new byte[16];
            BitConverter.TryWriteBytes(header.AsSpan(0, 4), (uint)(16 + body.Count));
            BitConverter.TryWriteBytes(header.AsSpan(4, 2), type ?? ConntrackNetlinkMessage.NewMessageType);
            BitConverter.TryWriteBytes(header.AsSpan(6, 2), (ushort)(e.Create ? 0x400 | 0x200 : 0)); // NLM_F_CREATE | NLM_F_EXCL
            return [.. header, .. body];
        }

        private static List<byte> Tuple(Event e, bool reply)
        {
            var (from, to) = reply ? (e.Destination, e.Source) : (e.Source, e.Destination);
            var ip = new List<byte>();
            ip.AddRange(Attribute(e.V6 ? 3 : 1, Address(from), false));
            ip.AddRange(Attribute(e.V6 ? 4 : 2, Address(to), false));
            var proto = new List<byte>();
            proto.AddRange(Attribute(1, [(byte)e.Protocol], false));
            switch (e.Protocol)
            {
                case 1 or 58: // ICMP: id, type, code (CTA_PROTO_ICMP_* or ICMPV6_*)
                    var b = e.Protocol == 1 ? 4 : 7;
                    proto.AddRange(Attribute(b, BigEndian16(e.SourcePort), false));
                    proto.AddRange(Attribute(b + 1, [(byte)(reply ? 0 : e.SourcePort & 0xFF)], false));
                    proto.AddRange(Attribute(b + 2, [(byte)(e.DestinationPort & 0xFF)], false));
                    break;
                case 6 or 17 or 47 or 132: // ports (GRE: its keys in the port attributes)
                    var (sport, dport) = reply ? (e.DestinationPort, e.SourcePort) : (e.SourcePort, e.DestinationPort);
                    proto.AddRange(Attribute(2, BigEndian16(sport), e.ByteOrder));
                    proto.AddRange(Attribute(3, BigEndian16(dport), e.ByteOrder));
                    break;
            }
            return [.. Nest(e, 1, ip), .. Nest(e, 2, proto)];
        }

        private static List<byte> Nest(Event e, int type, List<byte> inner) => Attribute(type | (e.Nested ? 0x8000 : 0), [.. inner], false);

        public static List<byte> Attribute(int type, byte[] payload, bool byteOrder)
        {
            var attribute = new List<byte>();
            attribute.AddRange(BitConverter.GetBytes((ushort)(4 + payload.Length)));
            attribute.AddRange(BitConverter.GetBytes((ushort)(type | (byteOrder ? 0x4000 : 0))));
            attribute.AddRange(payload);
            while (attribute.Count % 4 != 0)
                attribute.Add(0);
            return attribute;
        }

        private static byte[] Address(IpAddress a)
        {
            var bytes = new byte[a.IsV6 ? 16 : 4];
            if (a.IsV6)
                BinaryPrimitives.WriteUInt128BigEndian(bytes, a.Value);
            else
                BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)a.Value);
            return bytes;
        }

        private static byte[] BigEndian16(int value) => [(byte)(value >> 8), (byte)value];

        private static byte[] BigEndian32(uint value) => [(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value];
    }

    private static readonly Gen<IpAddress> V4 = Gen.Select(Gen.Int[0, 1], Gen.Int[0, 255], Gen.Int[0, 255])
        .Select((b, c, d) => IpAddress.Parse($"198.{18 + b}.{c}.{d}"));

    private static readonly Gen<IpAddress> V6 = Gen.Select(Gen.Int[0, 0xFFFF], Gen.Int[0, 0xFFFF], Gen.Int[0, 9])
        .Select((a, b, mapped) => mapped == 0 ? IpAddress.Parse("2001:db8::1") with { Value = ((UInt128)0xFFFF << 32) | (uint)(0xC6120000 | b) } : IpAddress.Parse($"2001:db8:{a:x}::{b:x}"));

    public static readonly Gen<Event> Events =
        Gen.Select(Gen.OneOf(Gen.Const(6), Gen.Const(17), Gen.Const(1), Gen.Const(58), Gen.Const(47), Gen.Const(132), Gen.Int[0, 255]), Gen.Bool, Gen.Int[0, 65535], Gen.Int[0, 65535],
                Gen.OneOf(Gen.Const(0), Gen.Int[1, 65535]), Gen.Int[0, 7])
            .SelectMany((protocol, v6, sport, dport, zone, flags) =>
                (v6 ? Gen.Select(V6, V6) : Gen.Select(V4, V4)).Select((s, d) =>
                    new Event(protocol, s, d, sport, dport, zone, Create: flags != 7, Nested: (flags & 1) == 0, ByteOrder: (flags & 2) != 0)));

    [Fact]
    public void EveryEncodedEvent_IsReadAsConntrackEsLineForIt()
    {
        Events.Sample(e =>
        {
            var expected = ConntrackLine.ParseEvent(e.Line());
            var kind = ConntrackNetlinkMessage.ParseMessage(Encoder.Message(e), out var connection);
            Assert.Equal(expected is null ? ConntrackMessageKind.Ignored : ConntrackMessageKind.Connection, kind);
            if (expected is not null)
                Assert.Equal(expected.Value, connection);
        }, iter: 5000);
    }

    [Fact]
    public void ADatagramOfManyMessages_YieldsTheirConnectionsInOrder_AndCountsEach()
    {
        Events.Array[1, 40].Sample(events =>
        {
            var datagram = events.SelectMany(e => Encoder.Message(e)).ToArray();
            var counts = new ConntrackEventCounts();
            var read = new List<TrackedConnection>();
            ConntrackNetlinkMessage.ParseDatagram(datagram, read, counts);
            var expected = events.Select(e => ConntrackLine.ParseEvent(e.Line())).OfType<TrackedConnection>().ToList();
            Assert.Equal(expected, read);
            Assert.Equal(events.Length, counts.Messages);
            Assert.Equal(expected.Count, counts.Connections);
            Assert.Equal(events.Length - expected.Count, counts.Ignored);
            Assert.Equal(0, counts.Malformed);
        }, iter: 300);
    }

    [Fact]
    public void AKnownEvent_IsReadExactly()
    {
        var e = new Event(6, IpAddress.Parse("198.18.2.2"), IpAddress.Parse("198.18.2.3"), 59632, 9000, 1736, Create: true, Nested: true, ByteOrder: false);
        Assert.Equal(ConntrackMessageKind.Connection, ConntrackNetlinkMessage.ParseMessage(Encoder.Message(e), out var connection));
        Assert.Equal("TCP 198.18.2.2:59632 -> 198.18.2.3:9000 (zone 1736)", connection.ToString());
        var icmp = e with { Protocol = 1, Zone = 0 };
        Assert.Equal(ConntrackMessageKind.Connection, ConntrackNetlinkMessage.ParseMessage(Encoder.Message(icmp), out connection));
        Assert.Equal("ICMP 198.18.2.2 -> 198.18.2.3", connection.ToString());
        Assert.Equal(0, connection.Flow.SourcePort); // as the text reader has it: ICMP's id is no port
    }

    [Fact]
    public void Updates_Deletions_AndOtherMessages_AreIgnored()
    {
        var e = new Event(6, IpAddress.Parse("198.18.2.2"), IpAddress.Parse("198.18.2.3"), 1, 2, 0, Create: true, Nested: true, ByteOrder: false);
        Assert.Equal(ConntrackMessageKind.Ignored, ConntrackNetlinkMessage.ParseMessage(Encoder.Message(e with { Create = false }), out _));
        Assert.Equal(ConntrackMessageKind.Ignored, ConntrackNetlinkMessage.ParseMessage(Encoder.Message(e, type: 0x102), out _)); // IPCTNL_MSG_CT_DELETE
        Assert.Equal(ConntrackMessageKind.Ignored, ConntrackNetlinkMessage.ParseMessage(Encoder.Message(e, type: 2), out _)); // NLMSG_ERROR
        Assert.Equal(ConntrackMessageKind.Ignored, ConntrackNetlinkMessage.ParseMessage(Encoder.Message(e, type: 0x200), out _)); // another subsystem
    }

    [Fact]
    public void EveryTruncation_IsMalformed_NeverAConnectionNorAThrow()
    {
        var e = new Event(17, IpAddress.Parse("2001:db8::1"), IpAddress.Parse("2001:db8::2"), 5353, 53, 7, Create: true, Nested: true, ByteOrder: true);
        var whole = Encoder.Message(e);
        for (var length = 0; length < whole.Length; length++)
        {
            var counts = new ConntrackEventCounts();
            var read = new List<TrackedConnection>();
            ConntrackNetlinkMessage.ParseDatagram(whole.AsSpan(0, length), read, counts);
            Assert.Empty(read);
            Assert.Equal(length == 0 ? 0 : 1, counts.Malformed);
        }
    }

    [Fact]
    public void MessagesWhoseInnerLengthsLie_AreMalformed()
    {
        var e = new Event(6, IpAddress.Parse("198.18.2.2"), IpAddress.Parse("198.18.2.3"), 1, 2, 0, Create: true, Nested: true, ByteOrder: false);
        var message = Encoder.Message(e);
        // The first attribute (CTA_TUPLE_ORIG at offset 20) claims more than the message holds.
        BitConverter.TryWriteBytes(message.AsSpan(20, 2), (ushort)(message.Length));
        Assert.Equal(ConntrackMessageKind.Malformed, ConntrackNetlinkMessage.ParseMessage(message, out _));
        // The original tuple without its addresses.
        var bare = Encoder.Message(e);
        var inner = Encoder.Attribute(0x8001, [.. Encoder.Attribute(0x8002, [.. Encoder.Attribute(1, [6], false)], false)], false);
        byte[] noAddresses = [.. bare.AsSpan(0, 20), .. inner];
        BitConverter.TryWriteBytes(noAddresses.AsSpan(0, 4), (uint)noAddresses.Length);
        Assert.Equal(ConntrackMessageKind.Malformed, ConntrackNetlinkMessage.ParseMessage(noAddresses, out _));
    }

    [Fact]
    public void Garbage_NeverThrows_AndWhatItYieldsIsCounted()
    {
        Gen.Select(Events.Array[0, 4], Gen.Byte.Array[0, 64].Array[0, 8], Gen.Int[0, 10_000]).Sample((events, noise, seed) =>
        {
            // Real messages with random bytes written over them and random bytes between them.
            var random = new Random(seed);
            var datagram = events.SelectMany(e => Encoder.Message(e)).Concat(noise.SelectMany(n => n)).ToArray();
            for (var i = 0; i < datagram.Length / 16; i++)
                datagram[random.Next(datagram.Length)] = (byte)random.Next(256);
            var counts = new ConntrackEventCounts();
            var read = new List<TrackedConnection>();
            ConntrackNetlinkMessage.ParseDatagram(datagram, read, counts);
            Assert.Equal(read.Count, counts.Connections);
            // Every whole message is a connection, ignored or malformed; malformed also counts bytes that made no whole message.
            Assert.True(counts.Messages - counts.Connections - counts.Ignored <= counts.Malformed);
            Assert.True(counts.Connections + counts.Ignored <= counts.Messages);
        }, iter: 3000);
    }

    /// <summary>
    /// Real datagrams from the kernel (Captures/README.md: captured by ConntrackNetlinkTests in its
    /// namespaces) read as the lines conntrack -E printed for the same events at the same time.
    /// </summary>
    [Fact]
    public void CapturedDatagrams_AreReadAsConntrackEPrintedTheSameEvents()
    {
        var captures = Captures();
        var counts = new ConntrackEventCounts();
        var binary = new List<TrackedConnection>();
        foreach (var hex in File.ReadAllLines(Path.Combine(captures, "conntrack-netlink-captured.hex")))
            ConntrackNetlinkMessage.ParseDatagram(Convert.FromHexString(hex), binary, counts);
        var text = File.ReadAllLines(Path.Combine(captures, "conntrack-netlink-captured.txt")).Select(ConntrackLine.ParseEvent).OfType<TrackedConnection>().ToList();
        Assert.Equal(0, counts.Malformed);
        Assert.True(text.Count >= 8, $"the capture holds {text.Count} connections");
        // The capture's netlink side started first: the events conntrack -E printed are the last ones it saw, in the same order.
        Assert.Equal(text, binary.TakeLast(text.Count));
        Assert.Contains(binary, b => b.Flow.Source.IsV6 && b.Zone == 7);
        Assert.Contains(binary, b => b.Flow.Protocol == IpProtocol.Icmp);
    }

    private static string Captures([CallerFilePath] string here = "") => Path.Combine(Path.GetDirectoryName(here)!, "Captures");

    [Fact]
    public void TheSocketsDropCount_IsReadFromItsRowOfProcNetNetlink()
    {
        const string table = """
            sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode
            00000000653fff07 0   0          00000000 0        0        0     2        0        4
            00000000ab12cd34 12  3141592    00000001 0        0        0     2        417      55123
            00000000ab12cd35 12  27         00000000 0        0        0     2        9        55124
            """;
        Assert.Equal(417, ConntrackNetlinkSocket.DropsOf(table, 3141592));
        Assert.Equal(9, ConntrackNetlinkSocket.DropsOf(table, 27));
        Assert.Null(ConntrackNetlinkSocket.DropsOf(table, 0)); // port 0 is a socket of another protocol
        Assert.Null(ConntrackNetlinkSocket.DropsOf("", 27));
    }
}
