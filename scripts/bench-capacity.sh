#!/usr/bin/env bash
# How many messages/s rsyslog (imtcp -> omfile) and `syslogkit listen` (parsing, JSON events to a
# file) take from `syslogkit bench` with 0 loss, one after another on loopback. For each receiver,
# 1 and 4 connections, 100-byte RFC 3164 messages, LF framing: bench sends a fixed count as fast
# as it can, the script waits (bounded) until the receiver's output stops growing, stops the
# receiver and runs `bench verify --sent` on the output. Reports:
#   bench msg/s       = what bench reports (messages written / its sending time)
#   e2e msg/s         = lines in the output / (time the last line was written - bench start)
#   after connect     = the same from when bench had opened its connections (its
#                       connect_seconds): at 10,000 connections opening them is a second or more
#   missing           = bench verify's count (messages sent that the output lacks)
#   CPU s, max RSS    = the receiver's utime+stime and VmHWM from /proc
#   bench CPU s       = the sender's own user+system time: on a small machine it shares the
#                       cores with the receiver. Plain TCP runs from a few threads (four per
#                       core), so 10,000 connections cost it mostly the kernel's work of
#                       opening, writing and closing them (0.66 s on 2 cores; 1.84 s when it
#                       ran a thread per connection)
# Ramp (RAMP=1, the default): a receiver that lost messages at full speed is run again with
# --rate, from 90 % of its end-to-end rate and 20 % lower each time, until a rate with 0 missing
# (at most RAMP_STEPS runs); that rate is its capacity without loss.
# Usage: scripts/bench-capacity.sh [MESSAGES_PER_RUN]   (default 2000000)
#   RECEIVERS='syslogkit rsyslog'   CONNS='1 4'   RAMP=0 skips the ramp   RAMP_STEPS=6
#   SIZES='100'  message sizes in bytes; a run of size S sends MESSAGES_PER_RUN * 100 / S
#                messages (the same bytes as 100 B messages), and MB/s is e2e msg/s * S
#   Issue 16's rows: RECEIVERS=syslogkit CONNS='1 8 100 1000 10000' RAMP=0 (connections)
#                    RECEIVERS=syslogkit CONNS=8 SIZES='100 1024 8192 65536' RAMP=0 (sizes)
#   SK=PATH        measure this syslogkit binary instead of building one
#   SINK=null      syslogkit writes its events to /dev/null, and what arrived is its own count
#                  (syslogkit_events_written_total from --metrics) instead of bench verify's:
#                  the rate without the kernel's cost of copying the output into a file, which
#                  varies up to 2x between runs and decides the 10,000-connection ratio.
#                  "missing" is then sent - written (no per-message check)
# Needs: rsyslogd (scripts/install-peers.sh), bc, ss, python3. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000000}
receivers=${RECEIVERS:-syslogkit rsyslog}
conns_list=${CONNS:-1 4}
sizes=${SIZES:-100}
ramp=${RAMP:-1}
ramp_steps=${RAMP_STEPS:-6}
port=${BENCH_PORT:-27514}
metrics_port=$((port + 1))
null_sink=0
[ "${SINK:-file}" = null ] && null_sink=1
work=${BENCH_DIR:-/tmp/syslogkit-bench-capacity}
rm -rf "$work" && mkdir -p "$work"
for tool in rsyslogd bc ss python3 /usr/bin/time; do
  command -v $tool >/dev/null || { echo "needs $tool: run scripts/install-peers.sh" >&2; exit 1; }
done

if [ -n "${SK:-}" ]; then
  sk=$SK
else
  cargo build --release --locked --bin syslogkit
  sk=$PWD/target/release/syslogkit
fi
clk=$(getconf CLK_TCK)
# shellcheck source=scripts/lib/receiver.sh
. scripts/lib/receiver.sh

echo "commit $(git rev-parse --short HEAD); $(nproc) cores,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2); $n messages of 100 B per run (or the same bytes), LF"

pid=
start_receiver() { # name out -> sets pid
  local name=$1 out=$2
  case $name in
    syslogkit)
      local sink=(--output "$out")
      [ "$null_sink" = 1 ] && sink=(--output /dev/null --metrics "127.0.0.1:$metrics_port")
      "$sk" listen --tcp 127.0.0.1:$port --recv-buffer-size 8MiB --timezone UTC \
        "${sink[@]}" 2>"$work/$name.err" &
      pid=$! ;;
    rsyslog)
      cat > "$work/rsyslog.conf" <<EOF
global(workDirectory="$work")
module(load="imtcp" MaxSessions="1000")
input(type="imtcp" address="127.0.0.1" port="$port")
if \$inputname == "imtcp" then action(type="omfile" file="$out" asyncWriting="on" ioBufferSize="1m" flushOnTXEnd="off")
EOF
      rsyslogd -n -f "$work/rsyslog.conf" -i "$work/rsyslog.pid" 2>"$work/$name.err" &
      pid=$! ;;
    *) echo "unknown receiver $name (syslogkit or rsyslog)" >&2; exit 1 ;;
  esac
  wait_listening "$name" "$port" "$pid" "$work/$name.err"
}
stop_receiver() { [ -n "$pid" ] && { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }; pid=; }
trap stop_receiver EXIT

# Events syslogkit wrote, from its metrics (SINK=null); 0 until it answers.
written() {
  python3 - "$metrics_port" <<'PY'
import sys, urllib.request
try:
    text = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=2).read().decode()
except OSError:
    print(0); sys.exit()
print(next((int(float(l.split()[1])) for l in text.splitlines()
            if l.startswith("syslogkit_events_written_total")), 0))
PY
}

json() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

# run NAME CONNS SIZE [RATE]: one bench run into a fresh receiver; prints a table row, sets
# $missing and $e2e.
run() {
  local name=$1 conns=$2 size=$3 rate=${4:-} out="$work/out-$1-$2.log"
  local count=$(( n * 100 / size ))
  [ "$count" -ge "$conns" ] || count=$conns
  rm -f "$out"
  start_receiver "$name" "$out"
  local args=(--to 127.0.0.1:$port --connections "$conns" --count "$count" --size "$size" --framing lf --json)
  [ -n "$rate" ] && args+=(--rate "$rate")
  local t0 t_last last sent
  t0=$(date +%s.%N); t_last=$t0
  /usr/bin/time -f '%U %S' -o "$work/bench.time" "$sk" bench "${args[@]}" > "$work/sent.json" 2> "$work/bench.err" \
    || { echo "syslogkit bench failed:" >&2; cat "$work/bench.err" >&2; exit 1; }
  sent=$(json "$work/sent.json" messages)
  # Until every message is written, or the output stopped growing for 2 s (rsyslog's async
  # writer flushes every second); at most 10 min, polled every 50 ms.
  local count=lines
  [ "$null_sink" = 1 ] && [ "$name" = syslogkit ] && count=written
  wait_output "$out" "$sent" 40 12000 "$count"
  local cpu rss late=0
  cpu=$(cpu_s "$pid"); rss=$(rss_mib "$pid")
  if [ "$count" = written ]; then
    missing=$(( sent - $(written) ))
    stop_receiver
  else
    stop_receiver
    "$sk" bench verify --json --sent "$work/sent.json" "$out" > "$work/verify.json" || true
    missing=$(json "$work/verify.json" missing)
    late=$(( $(lines "$out") - last ))
  fi
  e2e=0
  [ "$last" -gt 0 ] && e2e=$(echo "$last / ($t_last - $t0)" | bc)
  local connect_s after=0
  connect_s=$(json "$work/sent.json" connect_seconds)
  [ "$last" -gt 0 ] && after=$(echo "$last / ($t_last - $t0 - $connect_s)" | bc)
  local sender_cpu
  sender_cpu=$(awk '{printf "%.2f", $1 + $2}' "$work/bench.time")
  printf '| %-9s | %d | %d | %9s | %9s | %9s | %9s | %7s | %7s | %6s | %4s | %6s |\n' "$name" "$conns" "$size" "${rate:-unlimited}" \
    "$(printf '%.0f' "$(json "$work/sent.json" messages_per_second)")" "$e2e" "$after" \
    "$(echo "scale=1; $e2e * $size / 1000000" | bc)" "$missing" "$cpu" "$rss" "$sender_cpu"
  if [ "$late" -gt 0 ]; then echo "  ($late lines were written only when $name was stopped)"; fi
  rm -f "$out"
}

echo "| receiver  | conns | size | --rate | bench msg/s | e2e msg/s | after connect | e2e MB/s | missing | CPU s | max RSS MiB | bench CPU s |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for name in $receivers; do
  for size in $sizes; do
  for conns in $conns_list; do
    run "$name" "$conns" "$size"
    if [ "$ramp" = 1 ] && [ "$missing" -gt 0 ]; then
      rate=$(( e2e * 9 / 10 ))
      for _ in $(seq "$ramp_steps"); do
        [ "$rate" -gt 0 ] || break
        run "$name" "$conns" "$size" "$rate"
        [ "$missing" -eq 0 ] && break
        rate=$(( rate * 8 / 10 ))
      done
      if [ "$missing" -gt 0 ]; then echo "  ($name, $conns conns: no rate without loss in $ramp_steps steps)"; fi
    fi
  done
done
done
