using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Palisade.Domain.Networking;
using Palisade.Engine.Flows;

namespace Palisade.Agent.Kernel;

/// <summary>What one netlink message of conntrack's event group was to the reader.</summary>
public enum ConntrackMessageKind
{
    /// <summary>A new connection, parsed.</summary>
    Connection,

    /// <summary>Well formed but no new connection the sampler reads (another message type, an update, a protocol <c>conntrack -E</c>'s reader skips).</summary>
    Ignored,

    /// <summary>Truncated or inconsistent: lengths that do not add up, the original tuple or its addresses missing.</summary>
    Malformed,
}

/// <summary>
/// The events of conntrack's netlink multicast group as the kernel sends them (ctnetlink: a
/// <c>nlmsghdr</c>, an <c>nfgenmsg</c>, then attributes), parsed into what <see
/// cref="ConntrackLine.ParseEvent"/> makes of the line <c>conntrack -E</c> prints for the same event —
/// its slow twin, checked against it by the tests: the original direction's addresses, protocol and
/// ports (TCP and UDP only: conntrack prints GRE's keys and ICMP's type, code and id in fields the text
/// reader does not take, so they are 0 here too) and the zone (<c>CTA_ZONE</c>; 0 when absent, as the
/// kernel omits the default zone). Pure: bytes in, connections and counts out; it never throws on
/// what it is given. Header fields are in the host's byte order, attribute payloads in the network's.
/// </summary>
public static class ConntrackNetlinkMessage
{
    private const int MessageHeader = 16; // struct nlmsghdr
    private const int GenericHeader = 4; // struct nfgenmsg
    private const int AttributeHeader = 4; // struct nlattr
    private const ushort TypeMask = 0x3FFF; // ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER)

    /// <summary>NFNL_SUBSYS_CTNETLINK &lt;&lt; 8 | IPCTNL_MSG_CT_NEW: a connection created or updated.</summary>
    public const ushort NewMessageType = 1 << 8;

    /// <summary>NLM_F_CREATE: with <see cref="NewMessageType"/>, a new connection (conntrack prints <c>[NEW]</c>; without it <c>[UPDATE]</c>).</summary>
    public const ushort CreateFlag = 0x400;

    // enum ctattr_type, ctattr_tuple, ctattr_ip, ctattr_l4proto (linux/netfilter/nfnetlink_conntrack.h)
    private const int CtaTupleOrig = 1, CtaZone = 18;
    private const int CtaTupleIp = 1, CtaTupleProto = 2;
    private const int CtaIpV4Src = 1, CtaIpV4Dst = 2, CtaIpV6Src = 3, CtaIpV6Dst = 4;
    private const int CtaProtoNum = 1, CtaProtoSrcPort = 2, CtaProtoDstPort = 3;

    /// <summary>
    /// Every message of one datagram (the kernel sends each event as its own, but a datagram may hold
    /// several): the new connections are added to <paramref name="into"/>, each message counted in
    /// <paramref name="counts"/>. Bytes that do not make a whole message are one malformed message.
    /// </summary>
    public static void ParseDatagram(ReadOnlySpan<byte> datagram, List<TrackedConnection> into, ConntrackEventCounts counts)
    {
        while (datagram.Length > 0)
        {
            if (datagram.Length < MessageHeader)
            {
                counts.Malformed++;
                return;
            }
            var length = MemoryMarshal.Read<uint>(datagram);
            if (length < MessageHeader || length > datagram.Length)
            {
                counts.Malformed++;
                return;
            }
            counts.Messages++;
            switch (ParseMessage(datagram[..(int)length], out var connection))
            {
                case ConntrackMessageKind.Connection:
                    counts.Connections++;
                    into.Add(connection);
                    break;
                case ConntrackMessageKind.Ignored:
                    counts.Ignored++;
                    break;
                default:
                    counts.Malformed++;
                    break;
            }
            var next = Align((int)length);
            if (next >= datagram.Length)
                return;
            datagram = datagram[next..];
        }
    }

    /// <summary>One whole message (header included): a new connection, something else, or malformed.</summary>
    public static ConntrackMessageKind ParseMessage(ReadOnlySpan<byte> message, out TrackedConnection connection)
    {
        connection = default;
        if (message.Length < MessageHeader)
            return ConntrackMessageKind.Malformed;
        var length = MemoryMarshal.Read<uint>(message);
        if (length < MessageHeader || length > message.Length)
            return ConntrackMessageKind.Malformed;
        message = message[..(int)length];
        var type = MemoryMarshal.Read<ushort>(message[4..]);
        var flags = MemoryMarshal.Read<ushort>(message[6..]);
        if (type != NewMessageType)
            return ConntrackMessageKind.Ignored; // NLMSG_NOOP/ERROR/DONE/OVERRUN, a deletion, another subsystem
        if ((flags & CreateFlag) == 0)
            return ConntrackMessageKind.Ignored; // an update of a known connection
        if (message.Length < MessageHeader + GenericHeader)
            return ConntrackMessageKind.Malformed;
        var attributes = message[(MessageHeader + GenericHeader)..];
        ReadOnlySpan<byte> original = default;
        var hasOriginal = false;
        var zone = 0;
        while (true)
        {
            var payload = Next(ref attributes, out var kind, out var step);
            if (step == Step.End)
                break;
            if (step == Step.Malformed)
                return ConntrackMessageKind.Malformed;
            if (kind == CtaTupleOrig && !hasOriginal)
            {
                original = payload;
                hasOriginal = true;
            }
            else if (kind == CtaZone)
            {
                if (payload.Length < 2)
                    return ConntrackMessageKind.Malformed;
                zone = BinaryPrimitives.ReadUInt16BigEndian(payload);
            }
        }
        if (!hasOriginal)
            return ConntrackMessageKind.Malformed;
        return Tuple(original, zone, out connection);
    }

    private static ConntrackMessageKind Tuple(ReadOnlySpan<byte> tuple, int zone, out TrackedConnection connection)
    {
        connection = default;
        IpAddress? source = null, destination = null;
        int? protocolNumber = null;
        int sourcePort = 0, destinationPort = 0;
        var unusable = false; // an address the text reader refuses (IPv4-mapped IPv6)
        while (true)
        {
            var payload = Next(ref tuple, out var kind, out var step);
            if (step == Step.End)
                break;
            if (step == Step.Malformed)
                return ConntrackMessageKind.Malformed;
            if (kind == CtaTupleIp)
            {
                var ip = payload;
                while (true)
                {
                    var value = Next(ref ip, out var field, out var s);
                    if (s == Step.End)
                        break;
                    if (s == Step.Malformed)
                        return ConntrackMessageKind.Malformed;
                    switch (field)
                    {
                        case CtaIpV4Src or CtaIpV4Dst when value.Length != 4:
                        case CtaIpV6Src or CtaIpV6Dst when value.Length != 16:
                            return ConntrackMessageKind.Malformed;
                        case CtaIpV4Src:
                            source ??= IpAddress.V4(BinaryPrimitives.ReadUInt32BigEndian(value));
                            break;
                        case CtaIpV4Dst:
                            destination ??= IpAddress.V4(BinaryPrimitives.ReadUInt32BigEndian(value));
                            break;
                        case CtaIpV6Src:
                            unusable |= MappedV4(value);
                            source ??= new IpAddress(true, BinaryPrimitives.ReadUInt128BigEndian(value));
                            break;
                        case CtaIpV6Dst:
                            unusable |= MappedV4(value);
                            destination ??= new IpAddress(true, BinaryPrimitives.ReadUInt128BigEndian(value));
                            break;
                    }
                }
            }
            else if (kind == CtaTupleProto)
            {
                var proto = payload;
                while (true)
                {
                    var value = Next(ref proto, out var field, out var s);
                    if (s == Step.End)
                        break;
                    if (s == Step.Malformed)
                        return ConntrackMessageKind.Malformed;
                    switch (field)
                    {
                        case CtaProtoNum when value.Length < 1:
                        case CtaProtoSrcPort or CtaProtoDstPort when value.Length < 2:
                            return ConntrackMessageKind.Malformed;
                        case CtaProtoNum:
                            protocolNumber = value[0];
                            break;
                        case CtaProtoSrcPort:
                            sourcePort = BinaryPrimitives.ReadUInt16BigEndian(value);
                            break;
                        case CtaProtoDstPort:
                            destinationPort = BinaryPrimitives.ReadUInt16BigEndian(value);
                            break;
                    }
                }
            }
        }
        if (source is null || destination is null || protocolNumber is null)
            return ConntrackMessageKind.Malformed;
        // The protocols conntrack -E names in a way the text reader takes (tcp, udp, icmp, icmpv6, gre).
        IpProtocol? protocol = protocolNumber switch
        {
            6 => IpProtocol.Tcp,
            17 => IpProtocol.Udp,
            1 => IpProtocol.Icmp,
            58 => IpProtocol.IcmpV6,
            47 => IpProtocol.Gre,
            _ => null,
        };
        if (protocol is null || unusable)
            return ConntrackMessageKind.Ignored;
        // Only TCP's and UDP's ports are printed as sport=/dport=; GRE's keys and ICMP's id are not ports.
        if (protocol is not (IpProtocol.Tcp or IpProtocol.Udp))
            (sourcePort, destinationPort) = (0, 0);
        connection = new TrackedConnection(new Flow(source.Value, destination.Value, protocol.Value, destinationPort, sourcePort), zone);
        return ConntrackMessageKind.Connection;
    }

    /// <summary>::ffff:0:0/96: an IPv4 address written as IPv6, which <see cref="IpAddress"/> refuses (its family would be ambiguous).</summary>
    private static bool MappedV4(ReadOnlySpan<byte> v6) =>
        v6[..10].IndexOfAnyExcept((byte)0) < 0 && v6[10] == 0xFF && v6[11] == 0xFF;

    private enum Step
    {
        Attribute,
        End,
        Malformed,
    }

    /// <summary>The next attribute of <paramref name="rest"/> (its type without the nested/byte-order flags), advancing past it.</summary>
    private static ReadOnlySpan<byte> Next(scoped ref ReadOnlySpan<byte> rest, out int kind, out Step step)
    {
        kind = 0;
        step = Step.Malformed;
        if (rest.IsEmpty)
        {
            step = Step.End;
            return default;
        }
        if (rest.Length < AttributeHeader)
            return default;
        var length = MemoryMarshal.Read<ushort>(rest);
        if (length < AttributeHeader || length > rest.Length)
            return default;
        kind = MemoryMarshal.Read<ushort>(rest[2..]) & TypeMask;
        var payload = rest[AttributeHeader..length];
        var next = Align(length);
        rest = next >= rest.Length ? default : rest[next..];
        step = Step.Attribute;
        return payload;
    }

    private static int Align(int length) => (length + 3) & ~3;
}

/// <summary>What the netlink reader has seen since it started. Written by its one thread; read by others as a snapshot (<see cref="Snapshot"/>).</summary>
public sealed class ConntrackEventCounts
{
    /// <summary>Messages received whole.</summary>
    public long Messages;

    /// <summary>New connections parsed and handed on.</summary>
    public long Connections;

    /// <summary>Messages that were no new connection of a protocol the sampler reads.</summary>
    public long Ignored;

    /// <summary>Messages or datagrams that were truncated or inconsistent (or cut short by the read).</summary>
    public long Malformed;

    /// <summary>Times the kernel said the socket's buffer overran (<c>ENOBUFS</c>): events were lost.</summary>
    public long Overruns;

    /// <summary>Events the kernel could not deliver because the buffer was full (the socket's drop count), as last read.</summary>
    public long Lost;

    public ConntrackEventCounts Snapshot() => new()
    {
        Messages = Interlocked.Read(ref Messages),
        Connections = Interlocked.Read(ref Connections),
        Ignored = Interlocked.Read(ref Ignored),
        Malformed = Interlocked.Read(ref Malformed),
        Overruns = Interlocked.Read(ref Overruns),
        Lost = Interlocked.Read(ref Lost),
    };

    public override string ToString() =>
        $"{Messages} messages, {Connections} new connections, {Ignored} ignored, {Malformed} malformed, {Overruns} overruns, {Lost} events lost";
}
