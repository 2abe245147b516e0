#!/usr/bin/env python3
# Runs inside a namespace the benchmark made: accepts TCP connections on ADDRESS:PORT and closes
# them at once (no I/O, a deep backlog), so that a connect benchmark measures the network path.
import socket, sys

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(4096)
print("listening", flush=True)
while True:
    c, _ = s.accept()
    c.close()
