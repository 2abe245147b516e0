#!/usr/bin/env python3
# Runs inside a namespace the benchmark made. For each line "open|closed ADDRESS PORT" on stdin,
# tries new TCP connections back to back, each waiting at most 10 ms (the resolution), until the
# port is in that state, then prints "done MILLISECONDS" (from reading the line). A 10 ms attempt
# that fails may only be slow (a busy CPU), so "closed" is confirmed by an attempt allowed 300 ms;
# the time reported is that of the first failed attempt of the confirmed run. "quit" ends it.
import sys, time
from probe import tcp as is_open

for line in sys.stdin:
    parts = line.split()
    if not parts or parts[0] == "quit":
        break
    start = time.perf_counter()
    want_open, address, port = parts[0] == "open", parts[1], int(parts[2])
    while True:
        attempt = time.perf_counter()
        if is_open(address, port, 0.01) == want_open:
            if want_open or not is_open(address, port, 0.3):
                break
    print("done %.1f" % ((attempt - start) * 1000), flush=True)
