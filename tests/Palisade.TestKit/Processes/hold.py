#!/usr/bin/env python3
# Runs inside a namespace the test made: opens one TCP connection to ADDRESS:PORT (a listen.py
# port, which answers every line) and keeps using it: every 100 ms it sends a line and waits up to
# 1 s for the answer. Prints "connected", then "cut" (and exits) when the connection stops working.
import socket, sys, time

s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
s.recv(64)  # the listener's greeting
print("connected", flush=True)
s.settimeout(1.0)
while True:
    try:
        s.sendall(b"ping\n")
        if not s.recv(64):
            break
    except OSError:
        break
    time.sleep(0.1)
print("cut", flush=True)
