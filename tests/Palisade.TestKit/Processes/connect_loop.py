#!/usr/bin/env python3
# Runs inside a namespace the benchmark made: N sequential TCP connections to ADDRESS:PORT, each
# opened and closed; prints the mean microseconds per connection.
# Each is closed with a reset (SO_LINGER 0): closed normally, the client keeps every connection in
# TIME_WAIT for 60 s, and after ~25,000 of them (four runs of the dispatch bench) connect() spends
# hundreds of microseconds looking for a free source port, which the bench would charge to the ruleset.
import socket, struct, sys, time

address, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
linger = struct.pack("ii", 1, 0)
start = time.perf_counter()
for _ in range(count):
    s = socket.create_connection((address, port), timeout=5)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
    s.close()
print("%.1f" % ((time.perf_counter() - start) / count * 1e6), flush=True)
