#!/usr/bin/env python3
# Runs inside a namespace the benchmark made: N sequential TCP connections to ADDRESS:PORT, each
# opened and closed; prints the mean microseconds per connection.
import socket, sys, time

address, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
start = time.perf_counter()
for _ in range(count):
    s = socket.create_connection((address, port), timeout=5)
    s.close()
print("%.1f" % ((time.perf_counter() - start) / count * 1e6), flush=True)
