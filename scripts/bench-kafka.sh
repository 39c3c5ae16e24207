#!/usr/bin/env bash
# `syslogkit send --kafka-brokers` against librdkafka's own producer (examples/kafka_produce.rs:
# the same librdkafka, the same settings: acks=all, idempotence, lz4, linger 5 ms), one after
# the other, into one tansu broker (memory storage) on 127.0.0.1, on the same N JSON events of
# about 500 bytes (one record each, the event as the value):
#   send          syslogkit send --input json -f FILE --kafka-brokers B --kafka-topic T
#   send+key      the same with --kafka-key source.ip and --kafka-topic 'bench-{event.dataset}'
#   send+queue    the same as 'send' with --backpressure queue (every record through the disk queue)
#   librdkafka    target/release/examples/kafka_produce B T FILE
# A rate is only reported when the run's delivery reports say every record was delivered (tansu
# 0.6 answers ListOffsets with the last batch's base offset + 1, so end offsets cannot count).
#   events/s = N / wall seconds; CPU µs/event = (user+sys) / N; max RSS from GNU time.
# Then the broker is stopped and 'send --backpressure queue' reads N/5 events with no broker:
# the queue fills; its CPU per event and RSS show what an outage costs.
# Usage: scripts/bench-kafka.sh [N]   (default 1000000). Loopback only.
# Needs: scripts/install-peers.sh (tansu, kafka-python, GNU time).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
work=${BENCH_DIR:-/tmp/syslogkit-bench-kafka}
port=${BENCH_PORT:-29092}
brokers=127.0.0.1:$port
rm -rf "$work" && mkdir -p "$work"
command -v tansu >/dev/null || { echo "needs tansu: run scripts/install-peers.sh" >&2; exit 1; }

cargo build --release --locked --bin syslogkit --example kafka_produce >&2
sk=$PWD/target/release/syslogkit
ref=$PWD/target/release/examples/kafka_produce

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
stop_broker() { kill "$(cat "$work/tansu.pid")" 2>/dev/null || true; wait "$(cat "$work/tansu.pid")" 2>/dev/null || true; }
trap stop_broker EXIT

echo "| run | events/s | MB/s | CPU µs/event | max RSS MiB | delivered |"
echo "|---|---|---|---|---|---|"
row() {  # NAME OUTPUT TIMEFILE: OUTPUT holds "N sent" (send) or "delivered N" (librdkafka)
  local name=$1 output=$2 timing=$3
  read -r wall user sys rss < <(tail -1 "$timing")
  local got; got=$(grep -oE '^syslogkit send: [0-9]+ sent|^delivered [0-9]+' "$output" | grep -oE '[0-9]+' | head -1)
  if [ "$got" -ne "$n" ]; then
    echo "| $name | - | - | - | - | $got of $n |"; return
  fi
  awk -v n="$n" -v b="$bytes" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v name="$name" \
    'BEGIN { printf "| %s | %.0f | %.1f | %.2f | %.1f | %d |\n", name, n / w, b / w / 1e6, (u + s) / n * 1e6, r / 1024, n }'
}

start_broker
for t in bench-send bench-fw bench-dns bench-auth bench-queue bench-ref; do
  tansu topic create "$t" --broker "tcp://$brokers" --partitions 3 >/dev/null
done
/usr/bin/time -f "%e %U %S %M" -o "$work/t.send" \
  "$sk" send --input json -f "$work/events.jsonl" --kafka-brokers "$brokers" --kafka-topic bench-send \
  2> "$work/send.err" || { cat "$work/send.err" >&2; exit 1; }
row send "$work/send.err" "$work/t.send"
/usr/bin/time -f "%e %U %S %M" -o "$work/t.key" \
  "$sk" send --input json -f "$work/events.jsonl" --kafka-brokers "$brokers" \
  --kafka-topic 'bench-{event.dataset}' --kafka-key source.ip 2> "$work/key.err" || { cat "$work/key.err" >&2; exit 1; }
row send+key "$work/key.err" "$work/t.key"
/usr/bin/time -f "%e %U %S %M" -o "$work/t.queue" \
  "$sk" send --input json -f "$work/events.jsonl" --kafka-brokers "$brokers" --kafka-topic bench-queue \
  --backpressure queue --queue-dir "$work/queue" 2> "$work/queue.err" || { cat "$work/queue.err" >&2; exit 1; }
row send+queue "$work/queue.err" "$work/t.queue"
/usr/bin/time -f "%e %U %S %M" -o "$work/t.ref" "$ref" "$brokers" bench-ref "$work/events.jsonl" > "$work/ref.out"
row librdkafka "$work/ref.out" "$work/t.ref"
stop_broker

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
echo "commit $(git rev-parse --short HEAD), $(nproc) cores, $(date -u +%Y-%m-%d), librdkafka $(grep -A1 'name = "rdkafka-sys"' Cargo.lock | grep -o '+[0-9.]*' | tr -d +)"
