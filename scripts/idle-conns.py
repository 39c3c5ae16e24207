#!/usr/bin/env python3
"""Opens N TCP connections to HOST:PORT and holds them; for scripts/bench-listen.sh.

Prints "open N" once all are connected, then waits for a line on stdin; on "send" writes one
short LF-framed syslog message on every connection and prints "sent N"; on "close" (or end of
stdin, or after --hold seconds) closes them all and exits. Loopback only; bounded in count and time.
"""
import argparse
import resource
import select
import socket
import sys
import time

p = argparse.ArgumentParser()
p.add_argument("host")
p.add_argument("port", type=int)
p.add_argument("-n", type=int, default=10000)
p.add_argument("--hold", type=float, default=120.0, help="give up after this many seconds")
a = p.parse_args()
if a.host not in ("127.0.0.1", "::1", "localhost"):
    sys.exit("loopback only")

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft < a.n + 64:
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, a.n + 64), hard))

deadline = time.monotonic() + a.hold
conns = []
for i in range(a.n):
    s = socket.create_connection((a.host, a.port), timeout=10)
    conns.append(s)
print(f"open {len(conns)}", flush=True)

while time.monotonic() < deadline:
    ready, _, _ = select.select([sys.stdin], [], [], max(0.0, deadline - time.monotonic()))
    if not ready:
        break
    cmd = sys.stdin.readline().strip()
    if cmd == "send":
        for i, s in enumerate(conns):
            s.sendall(f"<13>Nov 22 18:21:00 h idle: conn={i}\n".encode())
        print(f"sent {len(conns)}", flush=True)
    else:
        break
for s in conns:
    s.close()
