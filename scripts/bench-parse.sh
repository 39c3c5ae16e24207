#!/usr/bin/env bash
# `syslogkit parse` against the reference a Rust user would write instead: Vector's parser
# syslog_loose + serde_json (examples/reference_parse/), end to end (bytes in, JSON lines
# out), release build, on the same generated file of mixed RFC 3164/5424 lines.
# Prints lines/s for each and the ratio; max RSS for 1M and 10M lines; --jobs 1 vs 2.
# Usage: scripts/bench-parse.sh [LINES]   (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-1000000}
work=${BENCH_DIR:-/tmp/syslogkit-bench}
mkdir -p "$work"
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "needs GNU time (apt-get install time)" >&2; exit 1; }

cargo build --release --locked --bin syslogkit --example reference_parse
sk=target/release/syslogkit
ref=target/release/examples/reference_parse

input="$work/mixed-$lines.log"
[ -s "$input" ] || scripts/gen-syslog.py "$lines" > "$input"
echo "input: $input ($(wc -c < "$input") bytes, $lines lines); commit $(git rev-parse --short HEAD); $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"

# Same output count from both, before timing anything.
[ "$("$sk" parse --jobs 1 --timezone UTC < "$input" | wc -l)" -eq "$lines" ]
[ "$("$ref" < "$input" | wc -l)" -eq "$lines" ]

hyperfine --warmup 1 --runs 5 --export-json "$work/parse.json" \
  -n "syslogkit parse --jobs 1" "$sk parse --jobs 1 --timezone UTC < $input > /dev/null" \
  -n "syslog_loose+serde_json" "$ref < $input > /dev/null" \
  -n "syslogkit parse --jobs 2" "$sk parse --jobs 2 --timezone UTC < $input > /dev/null"

python3 - "$work/parse.json" "$lines" <<'PY'
import json, sys
runs = {r["command"]: r["median"] for r in json.load(open(sys.argv[1]))["results"]}
n = int(sys.argv[2])
one, ref, two = runs["syslogkit parse --jobs 1"], runs["syslog_loose+serde_json"], runs["syslogkit parse --jobs 2"]
print(f"syslogkit --jobs 1: {n/one:,.0f} lines/s   syslog_loose+serde_json: {n/ref:,.0f} lines/s   ratio {ref/one:.2f}x")
print(f"syslogkit --jobs 2: {n/two:,.0f} lines/s   scaling 1->2 cores: {one/two:.2f}x")
PY

rss() { /usr/bin/time -f "%M" "$@" 2>&1 >/dev/null | tail -1; }
echo "max RSS, $lines lines: syslogkit --jobs 1 $(rss "$sk" parse --jobs 1 --timezone UTC "$input") KiB, --jobs 2 $(rss "$sk" parse --jobs 2 --timezone UTC "$input") KiB, reference $(rss sh -c "$ref < $input") KiB"
if [ "${BENCH_RSS_10X:-1}" = 1 ]; then
  big="$work/mixed-$((lines * 10)).log"
  [ -s "$big" ] || for _ in $(seq 10); do cat "$input"; done > "$big"
  echo "max RSS, $((lines * 10)) lines: syslogkit --jobs 1 $(rss "$sk" parse --jobs 1 --timezone UTC "$big") KiB, --jobs 2 $(rss "$sk" parse --jobs 2 --timezone UTC "$big") KiB"
fi
