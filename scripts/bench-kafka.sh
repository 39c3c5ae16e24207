#!/usr/bin/env bash
# `syslogkit send --kafka-brokers` against librdkafka's own producer (examples/kafka_produce.rs:
# the same librdkafka, the same settings: acks=all, idempotence, lz4, linger 5 ms, batch.size
# 1 MB, message.timeout.ms 0), into a tansu broker (memory storage, 3 partitions a topic) on
# 127.0.0.1, on the same N JSON events of about 500 bytes (one record each, the event as the value):
#   send          syslogkit send --input json -f FILE --kafka-brokers B --kafka-topic T
#   send+key      the same with --kafka-key source.ip and --kafka-topic 'bench-{event.dataset}'
#   send+queue    the same as 'send' with --backpressure queue (every record through the disk queue)
#   librdkafka    target/release/examples/kafka_produce B T FILE
# The four run one after the other, RUNS times in turn (the machine drifts: alternate, then take
# medians), each against a broker started afresh (tansu keeps every record in memory).
# A rate is only reported when the run's delivery reports say every record was delivered (tansu
# 0.6 answers ListOffsets with the last batch's base offset + 1, so end offsets cannot count).
#   events/s = N / wall seconds; CPU µs/event = (user+sys) / N, all threads (librdkafka's
#   included); max RSS from GNU time; ratio = send's median events/s / librdkafka's.
# Then the broker is stopped and 'send --backpressure queue' reads N/5 events with no broker:
# the queue fills; its CPU per event and RSS show what an outage costs (RSS stays bounded: the
# records go to disk, not to memory).
# Usage: scripts/bench-kafka.sh [N]   (default 1000000). Loopback only.
#   RUNS=3   SK=PATH REF=PATH: measure these binaries (syslogkit, kafka_produce) instead of building
# Needs: scripts/install-peers.sh (tansu, GNU time).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
work=${BENCH_DIR:-/tmp/syslogkit-bench-kafka}
port=${BENCH_PORT:-29092}
brokers=127.0.0.1:$port
rm -rf "$work" && mkdir -p "$work"
command -v tansu >/dev/null || { echo "needs tansu: run scripts/install-peers.sh" >&2; exit 1; }

runs=${RUNS:-3}
if [ -n "${SK:-}" ]; then
  sk=$SK ref=${REF:?with SK, REF names the kafka_produce binary}
else
  cargo build --release --locked --bin syslogkit --example kafka_produce >&2
  sk=$PWD/target/release/syslogkit
  ref=$PWD/target/release/examples/kafka_produce
fi

python3 - "$n" > "$work/events.jsonl" <<'EOF'
import json, sys
n = int(sys.argv[1])
pad = "x" * 250
for i in range(n):
    print(json.dumps({
        "@timestamp": "2026-12-02T08:00:00.000Z",
        "message": f"seq={i:09} kernel: IN=eth0 OUT= SRC=10.0.{i % 256}.{i % 7} DST=192.0.2.1 PROTO=TCP {pad}",
        "event": {"dataset": ["fw", "dns", "auth"][i % 3]},
        "log": {"syslog": {"hostname": "host1", "appname": "kernel", "priority": 4}},
        "source": {"ip": f"10.0.{i % 256}.{i % 7}", "port": 40000 + i % 1000},
    }, separators=(",", ":")))
EOF
bytes=$(wc -c < "$work/events.jsonl")
echo "input: $n events, $((bytes / n)) bytes each on average" >&2

start_broker() {
  tansu broker --listener-url "tcp://$brokers" --advertised-listener-url "tcp://$brokers" \
    --storage-engine memory://tansu/ > "$work/tansu.log" 2>&1 &
  echo $! > "$work/tansu.pid"
  for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return; sleep 0.05; done
  echo "tansu did not start: $(cat "$work/tansu.log")" >&2; exit 1
}
stop_broker() {
  [ -s "$work/tansu.pid" ] || return 0
  kill "$(cat "$work/tansu.pid")" 2>/dev/null || true; wait "$(cat "$work/tansu.pid")" 2>/dev/null || true
  rm -f "$work/tansu.pid"
}
trap stop_broker EXIT

echo "| run | events/s | MB/s | CPU µs/event | max RSS MiB | delivered |"
echo "|---|---|---|---|---|---|"
# row NAME OUTPUT TIMEFILE: OUTPUT holds "N sent" (send) or "delivered N" (librdkafka); prints the
# table row and appends "NAME events/s cpu" to $work/rates.
row() {
  local name=$1 output=$2 timing=$3
  read -r wall user sys rss < <(tail -1 "$timing")
  local got; got=$(grep -oE '^syslogkit send: [0-9]+ sent|^delivered [0-9]+' "$output" | grep -oE '[0-9]+' | head -1)
  if [ "${got:-0}" -ne "$n" ]; then
    echo "| $name | - | - | - | - | ${got:-0} of $n |"; return
  fi
  awk -v n="$n" -v b="$bytes" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v name="$name" \
    'BEGIN { printf "| %s | %.0f | %.1f | %.2f | %.1f | %d |\n", name, n / w, b / w / 1e6, (u + s) / n * 1e6, r / 1024, n }'
  awk -v n="$n" -v w="$wall" -v u="$user" -v s="$sys" -v name="$name" \
    'BEGIN { printf "%s %.0f %.3f\n", name, n / w, (u + s) / n * 1e6 }' >> "$work/rates"
}
# timed NAME OUTFILE COMMAND...: runs COMMAND under GNU time, its stderr and stdout to OUTFILE.
timed() {
  local name=$1 out=$2; shift 2
  /usr/bin/time -f "%e %U %S %M" -o "$work/t.$name" "$@" > "$out" 2>&1 || { cat "$out" >&2; exit 1; }
  row "$name" "$out" "$work/t.$name"
}

: > "$work/rates"
for run in $(seq "$runs"); do
  start_broker
  for t in bench-send bench-fw bench-dns bench-auth bench-queue bench-ref; do
    tansu topic create "$t" --broker "tcp://$brokers" --partitions 3 >/dev/null
  done
  timed send "$work/send.err" "$sk" send --input json -f "$work/events.jsonl" \
    --kafka-brokers "$brokers" --kafka-topic bench-send
  timed librdkafka "$work/ref.out" "$ref" "$brokers" bench-ref "$work/events.jsonl"
  timed send+key "$work/key.err" "$sk" send --input json -f "$work/events.jsonl" \
    --kafka-brokers "$brokers" --kafka-topic 'bench-{event.dataset}' --kafka-key source.ip
  rm -rf "$work/queue"
  timed send+queue "$work/queue.err" "$sk" send --input json -f "$work/events.jsonl" \
    --kafka-brokers "$brokers" --kafka-topic bench-queue --backpressure queue --queue-dir "$work/queue"
  stop_broker
done
echo
echo "medians of $runs runs (events/s, CPU µs/event):"
python3 - "$work/rates" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, rate, cpu = line.split()
    rows.setdefault(name, []).append((float(rate), float(cpu)))
med = {k: (statistics.median(r for r, _ in v), statistics.median(c for _, c in v)) for k, v in rows.items()}
ref = med.get("librdkafka", (0, 0))[0]
for name, (rate, cpu) in med.items():
    ratio = f", {rate / ref:.2f}x librdkafka" if ref and name != "librdkafka" else ""
    print(f"  {name}: {rate:,.0f} events/s, {cpu:.2f} µs CPU/event ({len(rows[name])} runs){ratio}")
PY
echo

# The broker is down: the queue fills.
down=$((n / 5))
head -n "$down" "$work/events.jsonl" > "$work/down.jsonl"
set +e
/usr/bin/time -f "%e %U %S %M" -o "$work/t.down" \
  "$sk" send --input json -f "$work/down.jsonl" --kafka-brokers "$brokers" --kafka-topic bench-queue \
  --backpressure queue --queue-dir "$work/queue-down" --connect-timeout 1s --write-timeout 2s 2> "$work/down.err"
status=$?
set -e
read -r wall user sys rss < <(tail -1 "$work/t.down")
queued=$(du -sm "$work/queue-down" | cut -f1)
echo
echo "broker down: $down events queued in ${wall} s (exit status $status, 3 = left in the queue), $(awk -v n="$down" -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", (u + s) / n * 1e6 }') CPU µs/event, max RSS $((rss / 1024)) MiB, queue ${queued} MiB"
grep -E "queued|sent" "$work/down.err" | tail -2 >&2
echo
echo "tree $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo +dirty), binaries $sk $ref, $(nproc) cores,$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2), $(date -u +%Y-%m-%d), librdkafka $(grep -A1 'name = "rdkafka-sys"' Cargo.lock | grep -o '+[0-9.]*' | tr -d +)"
