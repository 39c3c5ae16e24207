#!/usr/bin/env python3
"""Writes N mixed RFC 3164 / RFC 5424 syslog lines (deterministic) for the benchmarks.

Usage: gen-syslog.py N [SIZE] > file. With SIZE every line is exactly SIZE bytes with its LF
(the text cut or padded), for throughput runs in messages and bytes. The mix: BSD lines as /var/log/syslog and network senders write
them (with and without PRI, with pid), RFC 5424 lines with and without structured data,
100 to 250 bytes each, as in shared/reference/syslog-parsing.md §7.
"""
import random
import sys

n = int(sys.argv[1])
size = int(sys.argv[2]) if len(sys.argv) > 2 else None
rnd = random.Random(42)
hosts = ["web01", "db-02.example.com", "fw01", "192.0.2.17", "edge-router"]
apps = ["sshd", "CRON", "nginx", "kernel", "postfix/smtpd", "app"]
words = "the quick brown fox jumps over lazy dog connection accepted from port user session opened closed".split()
months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
out = sys.stdout
buf = []
for i in range(n):
    host = hosts[i % len(hosts)]
    app = apps[i % len(apps)]
    text = " ".join(rnd.choice(words) for _ in range(8 + i % 12))
    kind = i % 4
    pri = rnd.randrange(0, 192)
    if kind == 0:
        buf.append(f"<{pri}>{months[i % 12]} {1 + i % 28:2d} {i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d} {host} {app}[{1000 + i % 30000}]: {text}\n")
    elif kind == 1:
        buf.append(f"{months[i % 12]} {1 + i % 28:2d} {i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d} {host} {app}: {text}\n")
    elif kind == 2:
        buf.append(f"<{pri}>1 2026-11-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}.{i % 1000000:06d}Z {host} {app.replace('/', '_')} {1000 + i % 30000} ID{i % 100} - {text}\n")
    else:
        buf.append(f'<{pri}>1 2026-11-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}.{i % 1000:03d}+01:00 {host} {app.replace("/", "_")} - ID{i % 100} [exampleSDID@32473 iut="{i % 9}" eventSource="Application" eventID="{1000 + i % 9000}"] {text}\n')
    if size is not None:
        line = buf[-1][:-1]
        line = (line + " " + "x" * size)[: size - 1] if len(line) < size - 1 else line[: size - 1]
        buf[-1] = line + "\n"
    if len(buf) >= 10000:
        out.write("".join(buf))
        buf.clear()
out.write("".join(buf))
