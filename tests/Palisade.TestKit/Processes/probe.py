#!/usr/bin/env python3
# Runs inside an instance namespace the test made. Reads probes from argv as PROTO:ADDRESS:PORT
# (PORT ignored for icmp), runs them at once, prints one line per probe: "PROTO:ADDRESS:PORT open|closed".
# open: a TCP handshake completed (or was refused, which means the SYN got through), a UDP echo or
# an ICMP echo reply came back within the timeout.
import os, socket, struct, sys, threading, time

timeout = float(os.environ.get("PROBE_TIMEOUT", "1.0"))
results = {}

def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF

def tcp(address, port, wait=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout if wait is None else wait)
    try:
        s.connect((address, port))
        return True
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    finally:
        s.close()

def udp(address, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(b"probe", (address, port))
        data, _ = s.recvfrom(2048)
        return data == b"probe"
    except OSError:
        return False
    finally:
        s.close()

def icmp(address, ident):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.settimeout(timeout)
    try:
        header = struct.pack("!BBHHH", 8, 0, 0, ident, 1)
        payload = b"palisade"
        packet = struct.pack("!BBHHH", 8, 0, checksum(header + payload), ident, 1) + payload
        s.sendto(packet, (address, 0))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            data, peer = s.recvfrom(2048)
            ihl = (data[0] & 0x0F) * 4
            kind, _, _, rid, _ = struct.unpack("!BBHHH", data[ihl:ihl + 8])
            if kind == 0 and rid == ident and peer[0] == address:
                return True
        return False
    except OSError:
        return False
    finally:
        s.close()

def run(index, probe):
    proto, address, port = probe.split(":")
    if proto == "tcp":
        ok = tcp(address, int(port))
    elif proto == "udp":
        ok = udp(address, int(port))
    else:
        ok = icmp(address, (os.getpid() * 64 + index) & 0xFFFF)
    results[probe] = "open" if ok else "closed"

if __name__ == "__main__":
    probes = sys.argv[1:]
    threads = [threading.Thread(target=run, args=(i, p)) for i, p in enumerate(probes)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for p in probes:
        print(p, results[p])
