#!/usr/bin/env python3
# Runs inside an instance namespace the test made: sends hand-made Ethernet frames (the spoofing
# attempts of issue 18 and their legitimate twins) or watches what arrives on an interface.
#   l2.py arp IFACE SRC_MAC SENDER_IP                 gratuitous ARP reply "SENDER_IP is at SRC_MAC"
#   l2.py udp IFACE SRC_MAC DST_MAC SRC_IP DST_IP SPORT DPORT PAYLOAD
#   l2.py ra IFACE SRC_MAC                            router advertisement to ff02::1 from SRC_MAC's link-local
#   l2.py echo6 IFACE SRC_MAC PAYLOAD                 ICMPv6 echo request to ff02::1 from SRC_MAC's link-local
#   l2.py sniff IFACE SECONDS                         prints "ready", then one line per frame seen until
#                                                     stdin closes or SECONDS pass:
#       "arp OP SENDER_IP SENDER_MAC", "udp SPORT DPORT PAYLOAD", "icmpv6 TYPE PAYLOAD"
import select, socket, struct, sys, time

def mac(text):
    return bytes(int(b, 16) for b in text.split(":"))

def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF

def link_local(m):
    b = bytearray(mac(m))
    b[0] ^= 2
    return bytes([0xFE, 0x80] + [0] * 6) + bytes(b[:3]) + b"\xff\xfe" + bytes(b[3:])

def send(iface, frame, times=3):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    for _ in range(times):
        s.send(frame)
        time.sleep(0.05)
    s.close()

def ipv4(src, dst, proto, payload):
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
    return header[:10] + struct.pack("!H", checksum(header)) + header[12:] + payload

def icmpv6(src_mac, dst_ip, dst_mac, body):
    src = link_local(src_mac)
    dst = socket.inet_pton(socket.AF_INET6, dst_ip)
    pseudo = src + dst + struct.pack("!I3xB", len(body), 58)
    body = body[:2] + struct.pack("!H", checksum(pseudo + body)) + body[4:]
    ip6 = struct.pack("!IHBB", 6 << 28, len(body), 58, 255) + src + dst
    return mac(dst_mac) + mac(src_mac) + b"\x86\xdd" + ip6 + body

command, iface = sys.argv[1], sys.argv[2]
if command == "arp":
    src_mac, sender_ip = sys.argv[3], sys.argv[4]
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, mac(src_mac), socket.inet_aton(sender_ip), b"\xff" * 6, socket.inet_aton(sender_ip))
    send(iface, b"\xff" * 6 + mac(src_mac) + b"\x08\x06" + arp)
elif command == "udp":
    src_mac, dst_mac, src_ip, dst_ip, sport, dport, payload = sys.argv[3:10]
    data = payload.encode()
    udp = struct.pack("!HHHH", int(sport), int(dport), 8 + len(data), 0) + data
    send(iface, mac(dst_mac) + mac(src_mac) + b"\x08\x00" + ipv4(src_ip, dst_ip, 17, udp))
elif command == "ra":
    src_mac = sys.argv[3]
    # type 134, hop limit 64, router lifetime 1800 s, and a source link-layer address option
    body = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0) + struct.pack("!BB6s", 1, 1, mac(src_mac))
    send(iface, icmpv6(src_mac, "ff02::1", "33:33:00:00:00:01", body))
elif command == "echo6":
    src_mac, payload = sys.argv[3], sys.argv[4]
    body = struct.pack("!BBHHH", 128, 0, 0, 7, 1) + payload.encode()
    send(iface, icmpv6(src_mac, "ff02::1", "33:33:00:00:00:01", body))
elif command == "sniff":
    seconds = float(sys.argv[3])
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    s.bind((iface, 0))
    print("ready", flush=True)
    end = time.time() + seconds
    stopping = False
    while time.time() < end:
        watched = [s] if stopping else [s, sys.stdin]
        readable, _, _ = select.select(watched, [], [], 0.3 if stopping else 0.1)
        if stopping and not readable:
            break  # stdin closed and 0.3 s without a frame: what was sent has arrived
        if sys.stdin in readable and not sys.stdin.readline():
            stopping = True
        if s not in readable:
            continue
        frame, address = s.recvfrom(65535)
        if address[2] == socket.PACKET_OUTGOING:
            continue
        kind = struct.unpack("!H", frame[12:14])[0]
        if kind == 0x0806:
            op, sha, spa = struct.unpack_from("!6xH6s4s", frame, 14)
            print("arp %d %s %s" % (op, socket.inet_ntoa(spa), ":".join("%02x" % b for b in sha)), flush=True)
        elif kind == 0x0800 and frame[23] == 17:
            ihl = (frame[14] & 15) * 4
            sport, dport = struct.unpack_from("!HH", frame, 14 + ihl)
            print("udp %d %d %s" % (sport, dport, frame[22 + ihl:].decode(errors="replace")), flush=True)
        elif kind == 0x86DD and frame[20] == 58:
            print("icmpv6 %d %s" % (frame[54], frame[62:].decode(errors="replace") if frame[54] == 128 else ""), flush=True)
else:
    sys.exit("unknown command " + command)
