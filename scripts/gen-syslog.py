#!/usr/bin/env python3
"""Writes N mixed RFC 3164 / RFC 5424 syslog lines (deterministic) for the benchmarks.

Usage: gen-syslog.py [--mix old|netfilter] N [SIZE] > file. With SIZE every line is exactly
SIZE bytes with its LF, for throughput runs in messages and bytes: in the netfilter mix the free
text is cut or padded (headers, SD and netfilter fields stay whole, so every line parses; a
header longer than SIZE gives a BSD line without PRI); in the old mix the line is cut or padded.

The mix (`--mix netfilter`, the default since issue 16): ~44 % BSD lines as /var/log/syslog and
network senders write them (with and without PRI, with pid), ~44 % RFC 5424 lines with 0 to 3
SD elements, and ~12 % kernel netfilter LOG lines (TCP, UDP, ICMP, IPv4 and IPv6, as
`nf_log_syslog.c` prints them) behind an RFC 3164 header; 100 to 300 bytes each. `--mix old`
is the mix of earlier rounds: a quarter each of BSD with PRI, BSD without, RFC 5424 without SD
and RFC 5424 with one SD element (shared/reference/syslog-parsing.md §7).
"""
import random
import sys

args = sys.argv[1:]
mix = "netfilter"
if args[:1] == ["--mix"]:
    mix, args = args[1], args[2:]
if mix not in ("old", "netfilter"):
    sys.exit(f"--mix {mix}: use old or netfilter")
n = int(args[0])
size = int(args[1]) if len(args) > 1 else None
rnd = random.Random(42)
hosts = ["web01", "db-02.example.com", "fw01", "192.0.2.17", "edge-router"]
apps = ["sshd", "CRON", "nginx", "kernel", "postfix/smtpd", "app"]
words = "the quick brown fox jumps over lazy dog connection accepted from port user session opened closed".split()
months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
prefixes = ["iptables-dropped: ", "[UFW BLOCK] ", "nft drop in: ", "IPTABLES-IN: "]
devs = ["eth0", "ens3", "wan0", "br0"]


def mac():
    return ":".join(f"{rnd.randrange(256):02x}" for _ in range(6))


def v4():
    return f"{rnd.choice([10, 192, 198, 203])}.{rnd.randrange(256)}.{rnd.randrange(256)}.{1 + rnd.randrange(254)}"


def v6():
    return f"2001:db8:{rnd.randrange(65536):x}::{1 + rnd.randrange(65535):x}"


def netfilter(i):
    """A kernel LOG line's text as nf_log_syslog.c prints it, after `kernel: `."""
    out_dev = "" if i % 3 else devs[(i + 1) % len(devs)]
    head = f"[{i % 100000:6d}.{i * 7919 % 1000000:06d}] {prefixes[i % len(prefixes)]}IN={devs[i % len(devs)]} OUT={out_dev} MAC={mac()}:{mac()}:08:00 "
    kind = i % 5
    if kind == 4:  # IPv6 ICMP
        ip = f"SRC={v6()} DST={v6()} LEN={64 + i % 900} TC=0 HOPLIMIT={rnd.choice([64, 255])} FLOWLBL={rnd.randrange(1 << 20)} "
        return head + ip + f"PROTO=ICMPv6 TYPE=128 CODE=0 ID={rnd.randrange(65536)} SEQ={i % 1000} "
    ip = f"SRC={v4()} DST={v4()} LEN={40 + i % 1400} TOS=0x00 PREC=0x00 TTL={rnd.choice([52, 64, 128])} ID={rnd.randrange(65536)} {'DF ' if i % 2 else ''}"
    if kind == 3:
        return head + ip + f"PROTO=UDP SPT={1024 + rnd.randrange(60000)} DPT={rnd.choice([53, 123, 161, 514])} LEN={20 + i % 500} "
    if kind == 2:
        return head + ip + f"PROTO=ICMP TYPE=8 CODE=0 ID={rnd.randrange(65536)} SEQ={i % 1000} "
    flags = ["SYN", "ACK PSH", "ACK FIN", "RST"][i % 4]
    return head + ip + f"PROTO=TCP SPT={1024 + rnd.randrange(60000)} DPT={rnd.choice([22, 80, 443, 3389])} WINDOW={rnd.randrange(65536)} RES=0x00 {flags} URGP=0 "


def sd_elements(i):
    """0 to 3 SD elements."""
    elements = [
        f'[exampleSDID@32473 iut="{i % 9}" eventSource="Application" eventID="{1000 + i % 9000}"]',
        f'[origin ip="192.0.2.{i % 250}" software="app" swVersion="1.{i % 10}"]',
        f'[meta sequenceId="{i}" sysUpTime="{i * 13 % 100000}"]',
    ]
    count = i // 8 % 4
    return "".join(elements[:count]) or "-"


out = sys.stdout
buf = []
for i in range(n):
    host = hosts[i % len(hosts)]
    app = apps[i % len(apps)]
    text = " ".join(rnd.choice(words) for _ in range(8 + i % 12))
    kind = i % 4
    pri = rnd.randrange(0, 192)
    if mix == "netfilter":
        # Of 25 lines: 3 netfilter, 11 BSD (6 with PRI, 5 without), 11 RFC 5424.
        slot = i % 25
        if slot in (5, 13, 21):
            buf.append(f"<{rnd.choice([4, 12])}>{months[i % 12]} {1 + i % 28:2d} {i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d} {host} kernel: {netfilter(i // 25 * 3 + (5, 13, 21).index(slot))}\n")
        else:
            other = slot - sum(slot > s for s in (5, 13, 21))  # 0..21
            if other < 6:
                kind = 0
            elif other < 11:
                kind = 1
            else:
                kind = 4
    if kind == 4:
        buf.append(f'<{pri}>1 2026-11-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}.{i % 1000000:06d}{"Z" if i % 2 else "+01:00"} {host} {app.replace("/", "_")} {1000 + i % 30000 if i % 3 else "-"} ID{i % 100} {sd_elements(i)} {text}\n')
    elif mix == "netfilter" and slot in (5, 13, 21):
        pass
    elif kind == 0:
        buf.append(f"<{pri}>{months[i % 12]} {1 + i % 28:2d} {i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d} {host} {app}[{1000 + i % 30000}]: {text}\n")
    elif kind == 1:
        buf.append(f"{months[i % 12]} {1 + i % 28:2d} {i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d} {host} {app}: {text}\n")
    elif kind == 2:
        buf.append(f"<{pri}>1 2026-11-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}.{i % 1000000:06d}Z {host} {app.replace('/', '_')} {1000 + i % 30000} ID{i % 100} - {text}\n")
    else:
        buf.append(f'<{pri}>1 2026-11-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}.{i % 1000:03d}+01:00 {host} {app.replace("/", "_")} - ID{i % 100} [exampleSDID@32473 iut="{i % 9}" eventSource="Application" eventID="{1000 + i % 9000}"] {text}\n')
    if size is not None and mix == "netfilter":
        # Fit the free text, so that every line stays whole and parses: the header (and SD,
        # and netfilter fields) as generated, the text cut or padded. A line whose header alone
        # is too long becomes a BSD line without PRI.
        line = buf[-1][:-1]
        head = line[: len(line) - len(text)] if line.endswith(text) else line + " "
        if len(head) >= size - 1:
            head = f"{months[i % 12]} {1 + i % 28:2d} {i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d} {host} {app}: "
        buf[-1] = (head + text + " " + "x" * size)[: size - 1] + "\n"
    elif size is not None:
        line = buf[-1][:-1]
        line = (line + " " + "x" * size)[: size - 1] if len(line) < size - 1 else line[: size - 1]
        buf[-1] = line + "\n"
    if len(buf) >= 10000:
        out.write("".join(buf))
        buf.clear()
out.write("".join(buf))
