#!/usr/bin/env bash
# `listen --workers N`: messages/s end to end (parse on, JSON to a file) with `syslogkit bench`
# pushing N messages over 8 TCP connections, at 1 and 2 workers, and the scaling from 1 to 2
# (rate at 2 / rate at 1; the issue's goal is >= 1.6 when the sender is not the limit). On a
# 2-core machine the sender takes one core itself, so the figure also says how much of the
# second core listen could get. Each rate counts only what arrived: lines in the output file /
# (last line written - bench start).
# SENDER=socat takes the sender out of the measure: 8 socat processes push 8 ready-made files of
# 500-byte RFC 3164 lines from the page cache (a few percent of a core in all), so that listen
# can have nearly both cores; bench (the default) builds every message and needs a core itself.
# Usage: scripts/bench-workers.sh [MESSAGES]   (default 1000000). Loopback only.
#   SK=PATH  measure this binary instead of building one.   SENDER=bench|socat
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
port=${BENCH_PORT:-27514}
work=${BENCH_DIR:-/tmp/syslogkit-bench-workers}
rm -rf "$work" && mkdir -p "$work"
if [ -n "${SK:-}" ]; then sk=$SK; else cargo build --release --locked --bin syslogkit; sk=$PWD/target/release/syslogkit; fi
clk=$(getconf CLK_TCK)
# shellcheck source=scripts/lib/receiver.sh
. scripts/lib/receiver.sh
sender=${SENDER:-bench}
case $sender in
  bench) ;;
  socat)
    command -v socat >/dev/null || { echo "needs socat: run scripts/install-peers.sh" >&2; exit 1; }
    # N lines of 500 bytes with the LF, in 8 files (one a connection), time-ordered.
    python3 - "$n" "$work" <<'PY'
import sys
n, work = int(sys.argv[1]), sys.argv[2]
files = [open(f"{work}/part-{k}.log", "w") for k in range(8)]
for i in range(n):
    s = i // 10
    line = f"<{i % 192}>Dec  2 {8 + s // 3600 % 24:02d}:{s // 60 % 60:02d}:{s % 60:02d} web01 sshd[{1000 + i % 3000}]: session opened for user u{i % 97} seq={i} "
    files[i % 8].write((line + "x" * 500)[:499] + "\n")
for f in files:
    f.close()
PY
    cat "$work"/part-*.log > /dev/null ;; # into the page cache
  *) echo "SENDER=$sender: use bench or socat" >&2; exit 1 ;;
esac
echo "commit $(git rev-parse --short HEAD); $(nproc) cores,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2); $n messages of 500 B over 8 connections, sent by $sender"
echo "| workers | received | lost | msg/s | listen CPU s |"
echo "|---|---|---|---|---|"
declare -A rate
for workers in 1 2; do
  out=$work/out-$workers.jsonl
  "$sk" listen --tcp 127.0.0.1:$port --udp 127.0.0.1:0 --workers $workers --timezone UTC \
    --output "$out" 2>"$work/listen-$workers.err" &
  pid=$!
  wait_listening listen $port $pid "$work/listen-$workers.err"
  t0=$(date +%s.%N)
  if [ "$sender" = socat ]; then
    for part in "$work"/part-*.log; do
      socat -u -b 262144 "OPEN:$part" "TCP:127.0.0.1:$port" &
    done
    wait_jobs=$(jobs -p | grep -v "^$pid$" || true)
    # shellcheck disable=SC2086
    wait $wait_jobs
  else
    "$sk" bench --to 127.0.0.1:$port --connections 8 --size 500 -n "$n" >/dev/null 2>"$work/bench-$workers.err"
  fi
  wait_output "$out" "$n" 40 2400
  cpu=$(cpu_s $pid)
  kill -TERM $pid; wait $pid 2>/dev/null || true
  got=$(lines "$out")
  r=$(awk -v n="$got" -v a="$t0" -v b="$t_last" 'BEGIN {printf "%.0f", n / (b - a)}')
  rate[$workers]=$r
  echo "| $workers | $got | $((n - got)) | $r | $cpu |"
done
awk -v a="${rate[1]}" -v b="${rate[2]}" 'BEGIN {printf "scaling 1 -> 2 workers: %.2fx\n", b / a}'
