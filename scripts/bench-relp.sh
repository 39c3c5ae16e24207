#!/usr/bin/env bash
# RELP against rsyslog (Debian's rsyslog-relp), release build, loopback only, one session:
#   sending:   syslogkit send --protocol relp -f FILE   vs  rsyslog imfile → omrelp
#              both into the same rsyslog imrelp → omfile receiver        (goal ≥ 2×)
#   receiving: rsyslog imfile → omrelp into syslogkit listen --relp -o FILE
#              vs the same omrelp into rsyslog imrelp → omfile             (goal ≥ 1.5×)
# Lines come from scripts/gen-syslog.py N 200. A run's time is from the sender's start to
# the moment the receiver's file holds all N lines (polled every 20 ms); a rate is reported
# only when all N arrived (else the row says how many), so "0 lost" is checked, not assumed.
# Usage: scripts/bench-relp.sh [N]   (default 200000). Needs scripts/install-peers.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200000}
work=${BENCH_DIR:-/tmp/syslogkit-bench-relp}
port=${BENCH_PORT:-26520}
limit=${BENCH_TIMEOUT:-300}   # seconds any one run may take
rm -rf "$work" && mkdir -p "$work"
# Whatever way the script ends, its rsyslogds (pid files) and listen (a job) stop.
trap 'for f in "$work"/*/pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done; jobs -p | xargs -r kill 2>/dev/null || true' EXIT
/usr/sbin/rsyslogd -v >/dev/null 2>&1 || command -v rsyslogd >/dev/null || { echo "needs rsyslogd: run scripts/install-peers.sh" >&2; exit 1; }
[ -e /usr/lib/x86_64-linux-gnu/rsyslog/imrelp.so ] || ls /usr/lib/*/rsyslog/imrelp.so >/dev/null 2>&1 \
  || { echo "needs rsyslog-relp: run scripts/install-peers.sh" >&2; exit 1; }

cargo build --release --locked --bin syslogkit >&2
sk=$PWD/target/release/syslogkit
file="$work/lines.log"
python3 scripts/gen-syslog.py "$n" 200 > "$file"

# rsyslog NAME CONFIG: starts rsyslogd with CONFIG in $work/NAME (workDirectory there).
rsyslog() {
  local dir="$work/$1"
  rm -rf "$dir" && mkdir -p "$dir"
  printf 'global(workDirectory="%s" maxMessageSize="64k")\n%s\n' "$dir" "$2" > "$dir/rsyslog.conf"
  rsyslogd -n -f "$dir/rsyslog.conf" -i "$dir/pid" > "$dir/out.txt" 2>&1 &
  echo $!
}

stop() { kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

wait_port() {
  for _ in $(seq 400); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.025
  done
  echo "nothing listens on $1" >&2; return 1
}

# lines FILE: complete lines in FILE.
lines() { [ -f "$1" ] && wc -l < "$1" || echo 0; }

# wait_lines FILE T0: waits until FILE has N lines (or the limit); prints "count seconds".
wait_lines() {
  local f=$1 t0=$2 got=0
  local deadline=$(( $(date +%s) + limit ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    got=$(lines "$f")
    [ "$got" -ge "$n" ] && break
    sleep 0.02
  done
  echo "$got $(echo "$(date +%s.%N) - $t0" | bc -l)"
}

declare -A rates
row() { # NAME GOT SECS
  if [ "$2" -ge "$n" ]; then
    rates[$1]=$(echo "$n / $3" | bc)
    printf '| %-36s | %9s | %6.2f | %s |\n' "$1" "${rates[$1]}" "$3" "$2"
  else
    rates[$1]=0
    printf '| %-36s | %9s | %6s | got %s of %s |\n' "$1" "-" "-" "$2" "$n"
  fi
}

imrelp_conf() { # PORT OUT
  printf 'module(load="imrelp")\ninput(type="imrelp" address="127.0.0.1" port="%s" maxDataSize="64k")\ntemplate(name="m" type="string" string="%%rawmsg%%\\n")\naction(type="omfile" file="%s" template="m")\n' "$1" "$2"
}

omrelp_conf() { # PORT
  printf 'module(load="imfile" mode="inotify")\nmodule(load="omrelp")\ninput(type="imfile" File="%s" Tag="bench" ruleset="fwd" freshStartTail="off")\ntemplate(name="raw" type="string" string="%%rawmsg%%")\nruleset(name="fwd") {\n  action(type="omrelp" target="127.0.0.1" port="%s" template="raw" action.resumeRetryCount="-1" action.resumeInterval="1" queue.type="LinkedList" queue.size="500000")\n}\n' "$file" "$1"
}

echo "commit $(git rev-parse --short HEAD)$(git diff --quiet || echo '+dirty'); $(nproc) cores,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2); $n messages of 200 bytes per run, one RELP session"
echo
echo "| run                                  |     msg/s | s      | received |"
echo "|---|---|---|---|"

# --- Sending: into rsyslog imrelp.
out="$work/recv-send.log"; rm -f "$out"
r=$(rsyslog recv-send "$(imrelp_conf "$port" "$out")"); wait_port "$port"
t0=$(date +%s.%N)
timeout "$limit" "$sk" send --format raw --protocol relp -f "$file" --to "127.0.0.1:$port" > "$work/send.txt" 2>&1 || true
read -r got secs < <(wait_lines "$out" "$t0")
stop "$r"
row "send --protocol relp → imrelp" "$got" "$secs"

out="$work/recv-omrelp.log"; rm -f "$out"
r=$(rsyslog recv-omrelp "$(imrelp_conf "$port" "$out")"); wait_port "$port"
t0=$(date +%s.%N)
s=$(rsyslog send-omrelp "$(omrelp_conf "$port")")
read -r got secs < <(wait_lines "$out" "$t0")
stop "$s"; stop "$r"
row "rsyslog omrelp → imrelp" "$got" "$secs"

# --- Receiving: from rsyslog omrelp.
out="$work/listen.jsonl"; rm -f "$out"
"$sk" listen --relp "127.0.0.1:$port" --output "$out" 2> "$work/listen.txt" &
l=$!; wait_port "$port"
t0=$(date +%s.%N)
s=$(rsyslog send-listen "$(omrelp_conf "$port")")
read -r got secs < <(wait_lines "$out" "$t0")
stop "$s"; stop "$l"
row "omrelp → listen --relp" "$got" "$secs"

out="$work/recv-imrelp.log"; rm -f "$out"
r=$(rsyslog recv-imrelp "$(imrelp_conf "$port" "$out")"); wait_port "$port"
t0=$(date +%s.%N)
s=$(rsyslog send-imrelp "$(omrelp_conf "$port")")
read -r got secs < <(wait_lines "$out" "$t0")
stop "$s"; stop "$r"
row "omrelp → rsyslog imrelp" "$got" "$secs"

ratio() { [ "${rates[$2]}" -gt 0 ] && echo "scale=2; ${rates[$1]} / ${rates[$2]}" | bc || echo "n/a"; }
echo
echo "sending:   send --protocol relp / rsyslog omrelp = $(ratio "send --protocol relp → imrelp" "rsyslog omrelp → imrelp")× (goal ≥ 2)"
echo "receiving: listen --relp / rsyslog imrelp       = $(ratio "omrelp → listen --relp" "omrelp → rsyslog imrelp")× (goal ≥ 1.5)"
