#!/usr/bin/env bash
# `syslogkit bench` against syslog-ng's `loggen` as load generators, one after another, against
# the same null receiver on loopback (socat writing to /dev/null; it counts nothing, so this
# measures the senders). Loads: 100 and 500 byte messages, 1 and 8 TCP connections, LF
# (RFC 3164) and octet counting (RFC 5424, loggen -P), and UDP.
# Reports per load: messages/s as each tool reports it, and the sender's CPU (user+sys) per
# message in microseconds (from bash's `time`, so the sender process only).
# Then the loopback ceiling (issue 16): socat pushing ready-made 500-byte LF frames from a file
# in the page cache into the same null receiver, 1 and 8 connections (one socat each), against
# bench's messages/s for the same load: goal >= 0.8 of the ceiling.
# Usage: scripts/bench-loadgen.sh [SECONDS_PER_RUN]   (default 3). Loopback only.
#   LOADS='tcp 500 1 lf;tcp 500 8 lf'  only these loads (default: all)   CEILING=0 skips the ceiling
#   SK=PATH  measure this syslogkit binary instead of building one
# Needs: socat, loggen (scripts/install-peers.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-3}
port=${BENCH_PORT:-26514}
work=${BENCH_DIR:-/tmp/syslogkit-bench-loadgen}
rm -rf "$work" && mkdir -p "$work"
for tool in socat loggen python3; do
  command -v $tool >/dev/null || { echo "needs $tool: run scripts/install-peers.sh" >&2; exit 1; }
done

if [ -n "${SK:-}" ]; then sk=$SK; else
  cargo build --release --locked --bin syslogkit
  sk=$PWD/target/release/syslogkit
fi

echo "commit $(git rev-parse --short HEAD); $(nproc) cores,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2); ${secs}s per run"

sink_pid=
start_sink() { # tcp|udp
  if [ "$1" = udp ]; then
    socat -u -b 262144 UDP-RECV:$port,bind=127.0.0.1 OPEN:/dev/null &
  else
    socat -u -b 262144 TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork OPEN:/dev/null &
  fi
  sink_pid=$!
  sleep 0.3
}
stop_sink() { kill "$sink_pid" 2>/dev/null || true; wait "$sink_pid" 2>/dev/null || true; pkill -P "$sink_pid" 2>/dev/null || true; }
trap stop_sink EXIT

TIMEFORMAT='%U %S'
# cpu_us_per_msg CPU_FILE MESSAGES
cpu_per_msg() { awk -v n="$2" '{ if (n > 0) printf "%.3f", ($1 + $2) * 1e6 / n; else print "n/a" }' "$1"; }

printf '%-34s %14s %10s %14s %10s %7s\n' load "syslogkit msg/s" "µs CPU/msg" "loggen msg/s" "µs CPU/msg" ratio
loads=${LOADS:-tcp 100 1 lf;tcp 500 1 lf;tcp 100 8 lf;tcp 500 8 lf;tcp 100 1 octet;tcp 500 1 octet;tcp 100 8 octet;udp 100 1 dgram;udp 500 1 dgram}
declare -A sk_rates
IFS=';' read -r -a load_list <<< "$loads"
for load in "${load_list[@]}"; do
  set -- $load
  proto=$1 size=$2 conns=$3 framing=$4
  sk_args=(--to 127.0.0.1:$port --protocol "$proto" --connections "$conns" --size "$size" --duration "${secs}s" --json)
  lg_args=(--size "$size" --interval "$secs" --rate 100000000 --active-connections "$conns")
  case $framing in
    lf) lg_args+=(--inet --stream) ;;
    # RFC 5424 header + marker take 108 bytes, more than 100: syslogkit's octet-counted runs
    # carry RFC 3164 messages of the same size (the framing is what differs).
    octet) sk_args+=(--framing octet-counting); lg_args+=(--inet --stream --syslog-proto) ;;
    dgram) lg_args+=(--inet --dgram) ;;
  esac

  start_sink "$proto"
  { time "$sk" bench "${sk_args[@]}" > "$work/sk.json" 2> "$work/sk.err"; } 2> "$work/sk.cpu" \
    || { echo "syslogkit bench failed:" >&2; cat "$work/sk.err" >&2; exit 1; }
  stop_sink
  sk_n=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["messages"])' "$work/sk.json")
  sk_rate=$(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["messages_per_second"]))' "$work/sk.json")

  start_sink "$proto"
  { time loggen "${lg_args[@]}" 127.0.0.1 $port > "$work/lg.out" 2> "$work/lg.err"; } 2> "$work/lg.cpu" || true
  stop_sink
  # "average rate = 1234.56 msg/sec, count=3704, time=3.00..., ..."
  lg_rate=$(grep -o 'average rate = [0-9.]*' "$work/lg.err" | tail -1 | awk '{printf "%.0f", $4}' || true)
  lg_n=$(grep -o 'count=[0-9]*' "$work/lg.err" | tail -1 | cut -d= -f2 || true)

  sk_rates["$proto $size $conns $framing"]=$sk_rate
  ratio=$(awk -v a="$sk_rate" -v b="${lg_rate:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
  printf '%-34s %14s %10s %14s %10s %7s\n' "$proto ${size}B ${conns} conn $framing" \
    "$sk_rate" "$(cpu_per_msg "$work/sk.cpu" "$sk_n")" "${lg_rate:-?}" "$(cpu_per_msg "$work/lg.cpu" "${lg_n:-0}")" "$ratio"
done

[ "${CEILING:-1}" = 1 ] || exit 0
# The ceiling: ready-made 500-byte frames (LF included), pushed whole by socat.
frames=${CEILING_FRAMES:-400000}
file="$work/frames-500.log"
python3 - "$frames" > "$file" <<'PY'
import sys
n = int(sys.argv[1]); out = []
for i in range(n):
    line = f"<13>Dec  2 08:00:00 host bench: seq={i + 1:09d} conn=001 run=00000000 t=1700000000000000 "
    out.append((line + "PADD" * 125)[:499] + "\n")
    if len(out) == 10000:
        sys.stdout.write("".join(out)); out.clear()
sys.stdout.write("".join(out))
PY
cat "$file" > /dev/null
echo
printf '%-34s %14s %14s %9s\n' load "ceiling msg/s" "bench msg/s" "bench/ceiling"
for conns in 1 8; do
  start_sink tcp
  t0=$(date +%s.%N)
  pids=()
  for _ in $(seq "$conns"); do socat -u -b 262144 "OPEN:$file" TCP:127.0.0.1:$port & pids+=($!); done
  wait "${pids[@]}"
  t1=$(date +%s.%N)
  stop_sink
  ceiling=$(echo "$frames * $conns / ($t1 - $t0)" | bc)
  key="tcp 500 $conns lf"
  bench=${sk_rates[$key]:-}
  if [ -z "$bench" ]; then
    start_sink tcp
    "$sk" bench --to 127.0.0.1:$port --connections "$conns" --size 500 --duration "${secs}s" --json > "$work/sk.json"
    stop_sink
    bench=$(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["messages_per_second"]))' "$work/sk.json")
  fi
  printf '%-34s %14s %14s %9s\n' "tcp 500B $conns conn lf" "$ceiling" "$bench" "$(awk -v a="$bench" -v b="$ceiling" 'BEGIN { printf "%.2f", a / b }')"
done
