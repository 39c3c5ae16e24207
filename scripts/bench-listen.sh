#!/usr/bin/env bash
# `syslogkit listen` against rsyslog (imtcp/imudp -> omfile) and syslog-ng (network()/syslog()
# -> file), one after another on the same machine, driven by syslog-ng's loggen over loopback.
# Loads: 144 and 500 byte messages, 1 and 8 connections, LF and octet counting, and UDP.
# Each run sends a bounded number of messages, waits (bounded) until the receiver's output
# file stops growing, and reports:
#   msg/s end to end  = lines in the output / (last line written - loggen start)
#   lost              = messages loggen says it sent - lines in the output
#   CPU s, max RSS    = the receiver's utime+stime and VmHWM from /proc
# Then: IDLE (default 10000) idle TCP connections held by syslogkit listen, opened by
# scripts/idle-conns.py; its VmRSS with them idle, after one message on each, and its VmHWM.
# Usage: scripts/bench-listen.sh [MESSAGES_PER_RUN]   (default 200000; UDP runs at a fixed rate)
#   ONLY=REGEX     run only the loads whose "SIZE-CONNS-FRAMING" matches (e.g. '500-1-lf|udp')
#   RECEIVERS='syslogkit rsyslog syslog-ng'   IDLE=0 skips the idle connections
#   SK=PATH        measure this syslogkit binary instead of building one (e.g. an older build)
# Needs: scripts/install-peers.sh (rsyslog, syslog-ng + loggen). Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200000}
udp_rate=${UDP_RATE:-50000}
only=${ONLY:-.}
receivers=${RECEIVERS:-syslogkit rsyslog syslog-ng}
idle=${IDLE:-10000}
work=${BENCH_DIR:-/tmp/syslogkit-bench-listen}
rm -rf "$work" && mkdir -p "$work"
command -v loggen >/dev/null || { echo "needs loggen: run scripts/install-peers.sh" >&2; exit 1; }

if [ -n "${SK:-}" ]; then
  sk=$SK
else
  cargo build --release --locked --bin syslogkit
  sk=$PWD/target/release/syslogkit
fi
port=${BENCH_PORT:-25514}      # TCP LF / auto, UDP
octet_port=$((port + 1))       # syslog-ng's syslog() source (octet counting)
clk=$(getconf CLK_TCK)
# shellcheck source=scripts/lib/receiver.sh
. scripts/lib/receiver.sh

echo "commit $(git rev-parse --short HEAD); $(nproc) cores,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2); $n messages per TCP run, UDP at $udp_rate msg/s"

start_receiver() { # name out -> sets pid
  local name=$1 out=$2
  case $name in
    syslogkit)
      "$sk" listen --tcp 127.0.0.1:$port --udp 127.0.0.1:$port --recv-buffer-size 8MiB \
        --timezone UTC --output "$out" 2>"$work/$name.err" &
      pid=$! ;;
    rsyslog)
      cat > "$work/rsyslog.conf" <<EOF
global(workDirectory="$work")
module(load="imtcp" MaxSessions="1000")
module(load="imudp")
input(type="imtcp" address="127.0.0.1" port="$port")
input(type="imudp" address="127.0.0.1" port="$port" rcvbufSize="8m")
action(type="omfile" file="$out" asyncWriting="on" ioBufferSize="1m" flushOnTXEnd="off")
EOF
      rsyslogd -n -f "$work/rsyslog.conf" -i "$work/rsyslog.pid" 2>"$work/$name.err" &
      pid=$! ;;
    syslog-ng)
      cat > "$work/syslog-ng.conf" <<EOF
@version: 3.38
options { stats-freq(0); keep-hostname(yes); log-fifo-size(100000); };
source s { network(ip("127.0.0.1") port($port) transport("tcp") max-connections(1000) log-iw-size(100000));
           syslog(ip("127.0.0.1") port($octet_port) transport("tcp") max-connections(1000) log-iw-size(100000));
           network(ip("127.0.0.1") port($port) transport("udp") so-rcvbuf(8388608)); };
destination d { file("$out"); };
log { source(s); destination(d); };
EOF
      syslog-ng -F --no-caps -f "$work/syslog-ng.conf" -R "$work/sng.persist" -p "$work/sng.pid" \
        -c "$work/sng.ctl" 2>"$work/$name.err" &
      pid=$! ;;
  esac
  wait_listening "$name" "$port" "$pid" "$work/$name.err"
}



run() { # receiver size conns framing(lf|octet|udp)
  local name=$1 size=$2 conns=$3 framing=$4 out="$work/out-$1-$2-$3-$4.log"
  start_receiver "$name" "$out"
  local target=$port args=(--inet --stream --size "$size" --active-connections "$conns" --rate 100000000)
  case $framing in
    octet) args+=(--syslog-proto); [ "$name" = syslog-ng ] && target=$octet_port ;;
    udp) args=(--inet --dgram --size "$size" --active-connections 1 --rate "$udp_rate") ;;
  esac
  local per=$(( n / conns ))
  [ "$framing" = udp ] && per=$(( n / 4 ))
  local t0 t_last=0 last sent
  t0=$(date +%s.%N)
  loggen "${args[@]}" --number "$per" 127.0.0.1 "$target" > "$work/loggen.out" 2>&1 || true
  sent=$(grep -o 'count=[0-9]*' "$work/loggen.out" | tail -1 | cut -d= -f2)
  [ -n "$sent" ] || sent=$(( per * (framing == "udp" ? 1 : conns) ))
  # Wait until every message arrived or the file stopped growing for 1 s (at most 60 s; polled every 50 ms).
  wait_output "$out" "$sent" 20 1200
  local cpu rss
  cpu=$(cpu_s "$pid"); rss=$(rss_mib "$pid")
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  last=$(lines "$out")
  local secs rate
  secs=$(echo "$t_last - $t0" | bc -l)
  rate=$(echo "$last / $secs" | bc)
  printf '| %-9s | %4s B | %d | %-5s | %9s | %8s | %6s | %6s | %4s |\n' \
    "$name" "$size" "$conns" "$framing" "$rate" "$sent" "$((sent - last))" "$cpu" "$rss"
  rm -f "$out"
}

# NAME SIZE CONNS FRAMING, if ONLY selects it.
load() { [[ "$2-$3-$4" =~ $only ]] && run "$@" || true; }

if [ "$only" != none ]; then
  echo "| receiver  |  size  | conns | framing | msg/s e2e | sent | lost | CPU s | RSS MiB |"
  echo "|---|---|---|---|---|---|---|---|---|"
  # loggen refuses to make messages under 127 bytes (140 with -P) and then sends them without
  # framing, so the small size is 144.
  for size in 144 500; do
    for conns in 1 8; do
      for framing in lf octet; do
        for name in $receivers; do load $name $size $conns $framing; done
      done
    done
    for name in $receivers; do load $name $size 1 udp; done
  done
fi

# Idle connections: syslogkit listen only (the goal is < 200 MiB for 10,000).
idle_connections() { # n
  local n=$1 out="$work/idle.jsonl" line fds
  ulimit -n "$(ulimit -Hn)"
  if [ "$(ulimit -n)" -lt $((n + 100)) ]; then
    echo "idle: ulimit -n is $(ulimit -n) (hard limit): too low for $n connections" >&2; return 1
  fi
  "$sk" listen --tcp 127.0.0.1:$port --max-connections "$n" --output "$out" 2>"$work/idle.err" &
  pid=$!
  for _ in $(seq 100); do ss -ltn "sport = :$port" | grep -q LISTEN && break; sleep 0.05; done
  coproc IDLE_CLIENT { exec python3 scripts/idle-conns.py 127.0.0.1 "$port" -n "$n" --hold 180; }
  local client=$IDLE_CLIENT_PID
  read -r -t 120 line <&"${IDLE_CLIENT[0]}" || { echo "idle: the client did not connect" >&2; kill "$pid"; return 1; }
  # Every connection accepted: one descriptor each in listen (bounded: 30 s).
  for _ in $(seq 600); do
    fds=$(ls "/proc/$pid/fd" | wc -l)
    [ "$fds" -ge "$n" ] && break
    sleep 0.05
  done
  local rss_idle; rss_idle=$(awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
  # At --max-connections: 10 more are refused (and counted), the open ones keep working.
  python3 scripts/idle-conns.py 127.0.0.1 "$port" -n 10 --hold 10 </dev/null >/dev/null || true
  echo send >&"${IDLE_CLIENT[1]}"
  read -r -t 120 line <&"${IDLE_CLIENT[0]}" || true
  for _ in $(seq 600); do [ "$(lines "$out")" -ge "$n" ] && break; sleep 0.05; done
  local got rss_used hwm
  got=$(lines "$out")
  rss_used=$(awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
  hwm=$(awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
  echo close >&"${IDLE_CLIENT[1]}"
  wait "$client" 2>/dev/null || true
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  echo
  local refused; refused=$(grep -o '[0-9]* refused' "$work/idle.err" | tail -1)
  echo "| idle TCP connections (--max-connections $n) | descriptors in listen | VmRSS idle MiB | 10 more connections | events (1 per open connection) | VmRSS after MiB | VmHWM MiB |"
  echo "|---|---|---|---|---|---|---|"
  echo "| $n | $fds | $rss_idle | $refused | $got | $rss_used | $hwm |"
  grep -v -e 'listening on' -e 'refused: --max-connections' "$work/idle.err" | tail -3 || true
  rm -f "$out"
}
[ "$idle" -gt 0 ] && idle_connections "$idle"
