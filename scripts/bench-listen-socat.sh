#!/usr/bin/env bash
# `syslogkit listen --tcp` (parsing, ECS JSON events to a file) against rsyslog imtcp (raw
# lines to a file, omfile), the sender taken out of the measure: socat pushes one file of
# MESSAGES ready-made 100-byte RFC 3164 lines (LF framing, page cache) over 1 connection.
# Issue 16's row 2: goal >= 2x rsyslog's messages/s, 0 lost.
# Per receiver and run: msg/s end to end = lines written / (last line written - socat start),
# lost = MESSAGES - lines written, and the receiver's CPU seconds. RUNS runs each, alternating
# receivers (the machine drifts); the ratio is of the medians.
# Usage: scripts/bench-listen-socat.sh [MESSAGES]   (default 1000000)   RUNS=3
#   SK=PATH  measure this syslogkit binary instead of building one
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
runs=${RUNS:-3}
port=${BENCH_PORT:-25614}
work=${BENCH_DIR:-/tmp/syslogkit-bench-listen-socat}
rm -rf "$work" && mkdir -p "$work"
for tool in socat rsyslogd python3; do
  command -v $tool >/dev/null || { echo "needs $tool: run scripts/install-peers.sh" >&2; exit 1; }
done
if [ -n "${SK:-}" ]; then sk=$SK; else
  cargo build --release --locked --bin syslogkit
  sk=$PWD/target/release/syslogkit
fi
clk=$(getconf CLK_TCK)
# shellcheck source=scripts/lib/receiver.sh
. scripts/lib/receiver.sh

input="$work/rfc3164-100B-$n.log"
python3 - "$n" > "$input" <<'PY'
# MESSAGES RFC 3164 lines of exactly 100 bytes with the LF, time-ordered, 10 a second.
import random, sys
n = int(sys.argv[1]); r = random.Random(1); out = []
for i in range(n):
    s = i // 10
    line = f"<{r.randrange(192)}>Dec  2 {8 + s // 3600 % 24:02d}:{s // 60 % 60:02d}:{s % 60:02d} web01 sshd[{1000 + i % 3000}]: session opened for user u{i % 97} from 192.0.2.{i % 250} seq={i}"
    out.append((line + " " + "x" * 100)[:99] + "\n")
    if len(out) == 10000:
        sys.stdout.write("".join(out)); out.clear()
sys.stdout.write("".join(out))
PY
cat "$input" > /dev/null # into the page cache
echo "commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo +dirty); $(nproc) cores,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2); $n messages of 100 B a run, 1 connection, socat from a file"

start_receiver() { # name out -> sets pid
  case $1 in
    syslogkit)
      "$sk" listen --tcp 127.0.0.1:$port --timezone UTC --output "$2" 2>"$work/$1.err" &
      pid=$! ;;
    rsyslog)
      cat > "$work/rsyslog.conf" <<CONF
global(workDirectory="$work")
module(load="imtcp" MaxSessions="1000")
input(type="imtcp" address="127.0.0.1" port="$port")
action(type="omfile" file="$2" asyncWriting="on" ioBufferSize="1m" flushOnTXEnd="off")
CONF
      rsyslogd -n -f "$work/rsyslog.conf" -i "$work/rsyslog.pid" 2>"$work/$1.err" &
      pid=$! ;;
  esac
  wait_listening "$1" "$port" "$pid" "$work/$1.err"
}

echo "| receiver | run | msg/s e2e | lost | CPU s |"
echo "|---|---|---|---|---|"
for run in $(seq "$runs"); do
  for name in syslogkit rsyslog; do
    out="$work/out-$name.log"
    rm -f "$out"
    start_receiver "$name" "$out"
    t0=$(date +%s.%N)
    socat -u -b 262144 "OPEN:$input" "TCP:127.0.0.1:$port"
    t_last=$t0
    wait_output "$out" "$n" 40 2400
    cpu=$(cpu_s "$pid")
    kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
    got=$(lines "$out")
    rate=$(echo "$got / ($t_last - $t0)" | bc)
    echo "| $name | $run | $rate | $((n - got)) | $cpu |"
    echo "$name $rate" >> "$work/rates"
    rm -f "$out"
  done
done
python3 - "$work/rates" <<'PY'
import statistics, sys
rates = {}
for line in open(sys.argv[1]):
    name, rate = line.split(); rates.setdefault(name, []).append(int(rate))
sk, rs = statistics.median(rates["syslogkit"]), statistics.median(rates["rsyslog"])
print(f"\nmedian: syslogkit {sk:,.0f} msg/s, rsyslog {rs:,.0f} msg/s: {sk / rs:.2f}x (goal >= 2.0x)")
PY
