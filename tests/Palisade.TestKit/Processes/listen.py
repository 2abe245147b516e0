#!/usr/bin/env python3
# Runs inside an instance namespace the test made: accepts TCP connections (and closes them) and
# echoes UDP datagrams on the given ports of the given address, until killed by its PID.
import socket, sys, threading

address = sys.argv[1]
tcp_ports = [int(p) for p in sys.argv[2].split(",") if p]
udp_ports = [int(p) for p in sys.argv[3].split(",") if p]

def serve_connection(c):
    try:
        c.sendall(b"palisade\n")
        c.settimeout(60)
        # Keep the connection while the client holds it (tests of established connections).
        while c.recv(1024):
            c.sendall(b"ok\n")
    except OSError:
        pass
    finally:
        c.close()

def serve_tcp(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((address, port))
    s.listen(128)
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve_connection, args=(c,), daemon=True).start()

def serve_udp(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((address, port))
    while True:
        data, peer = s.recvfrom(2048)
        s.sendto(data, peer)

threads = [threading.Thread(target=serve_tcp, args=(p,), daemon=True) for p in tcp_ports]
threads += [threading.Thread(target=serve_udp, args=(p,), daemon=True) for p in udp_ports]
for t in threads:
    t.start()
print("listening", flush=True)
for t in threads:
    t.join()
