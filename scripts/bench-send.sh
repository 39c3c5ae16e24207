#!/usr/bin/env bash
# `syslogkit send` against loggen and rsyslog omfwd, one after another, into the same null
# receiver on the same machine, over 1 TCP connection (LF framing), for 100- and 500-byte
# lines from scripts/gen-syslog.py --mix old N SIZE:
#   send        syslogkit send --format raw -f FILE --to RECEIVER (lines sent as they are)
#   send+fmt    the same without --format raw: each line is wrapped in an RFC 3164 header
#   send+queue  the same as 'send' with --backpressure queue --queue-dir (the disk queue on)
#   loggen      loggen --inet --stream --read-file FILE --dont-parse --rate 1e8 (lines as they are)
#   rsyslog     rsyslogd: imfile reads FILE, omfwd TCP forwards "%rawmsg%" (lines as they are)
# The receiver (python, below) counts LF-terminated lines and records the time of the last
# byte; a rate is only reported when it got every message (else the row says how many).
#   msg/s, MB/s = N / (last byte received - sender started)  (MB = 10^6 bytes of lines)
#   CPU s, max RSS = the sender's user+sys time and maximum RSS from GNU time
# Usage: scripts/bench-send.sh [N]   (default 1000000 messages per run). Loopback only.
# Needs: scripts/install-peers.sh (rsyslog, loggen, python3, GNU time).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
work=${BENCH_DIR:-/tmp/syslogkit-bench-send}
port=${BENCH_PORT:-26514}
limit=${BENCH_TIMEOUT:-300}   # seconds any one run may take
rm -rf "$work" && mkdir -p "$work"
command -v loggen >/dev/null || { echo "needs loggen: run scripts/install-peers.sh" >&2; exit 1; }

cargo build --release --locked --bin syslogkit >&2
sk=$PWD/target/release/syslogkit

cat > "$work/receiver.py" <<'EOF'
# Counts LF-terminated lines on 127.0.0.1:PORT over any number of connections, one after the
# other, until N lines or TIMEOUT seconds; prints "count first_byte_time last_byte_time".
import socket, sys, time
port, n, timeout, ready = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(16)
open(ready, "w").close()
deadline = time.time() + timeout
count, first, last = 0, 0.0, 0.0
buf = bytearray(1 << 20)
view = memoryview(buf)
while count < n and time.time() < deadline:
    srv.settimeout(max(0.1, deadline - time.time()))
    try:
        conn, _ = srv.accept()
    except socket.timeout:
        break
    conn.settimeout(max(0.1, deadline - time.time()))
    while count < n:
        try:
            k = conn.recv_into(buf)
        except socket.timeout:
            break
        if k == 0:
            break
        if not first:
            first = time.time()
        count += buf.count(b"\n", 0, k)
        last = time.time()
    conn.close()
print(count, first, last)
EOF

# Runs one sender: NAME SIZE FILE COMMAND... ; prints a table row.
run() {
  local name=$1 size=$2 file=$3; shift 3
  local ready="$work/ready" result="$work/result" timing="$work/time"
  rm -f "$ready" "$result" "$timing"
  python3 "$work/receiver.py" "$port" "$n" "$limit" "$ready" > "$result" &
  local rpid=$!
  for _ in $(seq 200); do [ -f "$ready" ] && break; sleep 0.05; done
  local t0; t0=$(date +%s.%N)
  if [ "$name" = rsyslog ]; then
    # rsyslog runs until stopped: stop it once the receiver has everything (or gave up).
    /usr/bin/time -f "%e %U %S %M" -o "$timing" "$@" > "$work/sender.out" 2>&1 &
    local spid=$!
    wait "$rpid" || true
    kill -TERM "$(cat "$work/rsyslog.pid")" 2>/dev/null || true
    wait "$spid" || true
  else
    timeout "$limit" /usr/bin/time -f "%e %U %S %M" -o "$timing" "$@" > "$work/sender.out" 2>&1 || true
    wait "$rpid" || true
  fi
  local got first last
  read -r got first last < "$result"
  local wall user sys rss
  read -r wall user sys rss < <(tail -1 "$timing")
  local cpu; cpu=$(echo "$user + $sys" | bc)
  if [ "$got" -ne "$n" ]; then
    printf '| %-10s | %4s B | %9s | %7s | %6s | %7s | got %s of %s (%s) |\n' "$name" "$size" "-" "-" "$cpu" "$((rss / 1024))" "$got" "$n" "$(tail -c 300 "$work/sender.out" | tr '\n' ' ')"
    return
  fi
  local secs; secs=$(echo "$last - $t0" | bc -l)
  local rate mbs
  rate=$(echo "$n / $secs" | bc)
  mbs=$(echo "scale=1; $n * $size / $secs / 1000000" | bc)
  printf '| %-10s | %4s B | %9s | %7s | %6s | %7s | %s |\n' "$name" "$size" "$rate" "$mbs" "$cpu" "$((rss / 1024))" "$got"
  rates[$name-$size]=$rate
}

declare -A rates
echo "commit $(git rev-parse --short HEAD)$(git diff --quiet || echo '+dirty'); $(nproc) cores,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2); $n messages per run, 1 TCP connection, LF framing"
echo
echo "| sender     |  size  |     msg/s |    MB/s |  CPU s | RSS MiB | received |"
echo "|---|---|---|---|---|---|---|"
for size in 100 500; do
  file="$work/lines-$size.log"
  python3 scripts/gen-syslog.py --mix old "$n" "$size" > "$file"
  run send "$size" "$file" "$sk" send --format raw -f "$file" --to "127.0.0.1:$port"
  run send+fmt "$size" "$file" "$sk" send -f "$file" --to "127.0.0.1:$port"
  rm -rf "$work/queue"
  run send+queue "$size" "$file" "$sk" send --format raw -f "$file" --to "127.0.0.1:$port" \
    --backpressure queue --queue-dir "$work/queue"
  run loggen "$size" "$file" loggen --inet --stream --read-file "$file" --dont-parse \
    --number "$n" --rate 100000000 127.0.0.1 "$port"
  rm -rf "$work/rs" && mkdir -p "$work/rs"
  cat > "$work/rsyslog.conf" <<EOF
global(workDirectory="$work/rs" maxMessageSize="64k")
module(load="imfile" mode="inotify")
input(type="imfile" File="$file" Tag="bench" ruleset="fwd" readMode="0" freshStartTail="off")
template(name="raw" type="string" string="%rawmsg%")
ruleset(name="fwd" queue.type="LinkedList" queue.size="100000") {
  action(type="omfwd" target="127.0.0.1" port="$port" protocol="tcp" template="raw" TCP_Framing="traditional")
}
EOF
  run rsyslog "$size" "$file" rsyslogd -n -f "$work/rsyslog.conf" -i "$work/rsyslog.pid"
  echo "| ratios $size B | send/loggen $(echo "scale=2; ${rates[send-$size]:-0} / ${rates[loggen-$size]:-1}" | bc) | send/rsyslog $(echo "scale=2; ${rates[send-$size]:-0} / ${rates[rsyslog-$size]:-1}" | bc) | queue/send $(echo "scale=2; ${rates[send+queue-$size]:-0} / ${rates[send-$size]:-1}" | bc) | | | |"
done
