#!/usr/bin/env python3
# Runs inside a namespace the benchmark made: N sequential TCP connections to ADDRESS:PORT, each
# opened and closed; prints the mean microseconds per connection of wall time and of this process's
# CPU time (user + system). The first packet of a connection crosses the veth, the bridge and the
# host's netfilter hooks in the sender's softirq, charged to this process, so its CPU time holds the
# ruleset's cost per connection without the waiting a loaded machine adds to wall time.
import resource, socket, sys, time

address, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
usage = resource.getrusage(resource.RUSAGE_SELF)
cpu = usage.ru_utime + usage.ru_stime
start = time.perf_counter()
for _ in range(count):
    s = socket.create_connection((address, port), timeout=5)
    s.close()
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_SELF)
print("%.1f %.1f" % (wall / count * 1e6, (usage.ru_utime + usage.ru_stime - cpu) / count * 1e6), flush=True)
