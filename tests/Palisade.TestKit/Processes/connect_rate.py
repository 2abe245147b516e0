#!/usr/bin/env python3
# Runs inside a namespace the benchmark made: new TCP connections to ADDRESS:PORT at about RATE a
# second for SECONDS, each waiting for the server's close (so no TIME_WAIT piles up on this side);
# prints how many were made, how many failed, and the seconds it took.
import socket, sys, time

address, port, rate, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
start = time.perf_counter()
made = failed = 0
while True:
    now = time.perf_counter() - start
    if now >= seconds:
        break
    if made + failed > now * rate:
        time.sleep(0.0005)
        continue
    try:
        s = socket.create_connection((address, port), timeout=2)
        s.recv(1)
        s.close()
        made += 1
    except OSError:
        failed += 1
print(made, failed, "%.3f" % (time.perf_counter() - start), flush=True)
