#!/usr/bin/env bash
# `syslogkit parse` against the reference a Rust user would write instead: Vector's parser
# syslog_loose + serde_json (examples/reference_parse/), end to end (bytes in, JSON lines
# out to /dev/null), release build, on the same generated files. Rows:
#   mix        ~44 % RFC 5424 (0-3 SD elements), ~44 % RFC 3164, ~12 % netfilter LOG lines
#              behind an RFC 3164 header (scripts/gen-syslog.py, the default mix since #16)
#   old mix    a quarter each of BSD with/without PRI and RFC 5424 with/without one SD element
#   netfilter / other lines of the mix on their own, in bytes/s (goal: netfilter no slower
#              per byte than the others), in and out (JSON written)
#   --jobs 1 vs --jobs 2 on the mix: efficiency = speedup / 2
#   sizes      100 B, 1 KiB, 8 KiB, 64 KiB lines of the mix (the free text cut or padded,
#              every line whole and valid): bytes/s
# Each row's ratio comes from one hyperfine run of both programs (same-run ratios: the machine
# drifts). Then max RSS for 1M and 10M lines.
# Usage: scripts/bench-parse.sh [LINES]   (default 1000000)
#   ROWS='mix old kinds jobs sizes rss'  (default: all)   RUNS=5
#   SK=PATH REF=PATH  measure these binaries instead of building them
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-1000000}
rows=${ROWS:-mix old kinds jobs sizes rss}
runs=${RUNS:-5}
work=${BENCH_DIR:-/tmp/syslogkit-bench}
mkdir -p "$work"
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "needs GNU time (apt-get install time)" >&2; exit 1; }

if [ -n "${SK:-}" ]; then
  sk=$SK ref=${REF:?with SK, REF names the reference_parse binary}
else
  cargo build --release --locked --bin syslogkit --example reference_parse
  sk=target/release/syslogkit
  ref=target/release/examples/reference_parse
fi
want() { [[ " $rows " == *" $1 "* ]]; }

input="$work/mix-nf-$lines.log"
[ -s "$input" ] || scripts/gen-syslog.py "$lines" > "$input"
old="$work/mixed-$lines.log"
echo "commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo +dirty); $(nproc) cores,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
echo "mix: $input ($(wc -c < "$input") bytes, $lines lines, $(grep -c ' IN=' "$input") netfilter)"

# compare NAME FILE: hyperfine on syslogkit --jobs 1 and the reference; checks both give one
# line per input line first; prints lines/s, MB/s and the ratio.
compare() {
  local name=$1 file=$2 n bytes
  n=$(wc -l < "$file"); bytes=$(wc -c < "$file")
  [ "$("$sk" parse --jobs 1 --timezone UTC < "$file" | wc -l)" -eq "$n" ]
  [ "$("$ref" < "$file" | wc -l)" -eq "$n" ]
  # What syslogkit writes, for its rate in JSON bytes out: a netfilter line becomes ~45 fields.
  out=$("$sk" parse --jobs 1 --timezone UTC < "$file" | wc -c)
  hyperfine --warmup 1 --runs "$runs" --export-json "$work/parse.json" \
    -n sk "$sk parse --jobs 1 --timezone UTC < $file > /dev/null" -n ref "$ref < $file > /dev/null" > /dev/null
  python3 - "$work/parse.json" "$n" "$bytes" "$name" "$out" <<'PY'
import json, sys
runs = {r["command"]: r["median"] for r in json.load(open(sys.argv[1]))["results"]}
n, b, name, out = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
sk, ref = runs["sk"], runs["ref"]
print(f"| {name} | {n} | {b/n:.0f} | {n/sk:,.0f} | {b/sk/1e6:,.1f} | {out/sk/1e6:,.1f} | {n/ref:,.0f} | {b/ref/1e6:,.1f} | {ref/sk:.2f}x |")
PY
}

if want mix || want old || want kinds; then
  echo
  echo "| input | lines | B/line | syslogkit lines/s | MB/s in | JSON MB/s out | syslog_loose+serde_json lines/s | MB/s in | ratio |"
  echo "|---|---|---|---|---|---|---|---|---|"
  want mix && compare "mix (12 % netfilter)" "$input"
  if want old; then
    [ -s "$old" ] || scripts/gen-syslog.py --mix old "$lines" > "$old"
    compare "old mix (no netfilter)" "$old"
  fi
  if want kinds; then
    grep ' IN=' "$input" > "$work/mix-nf-only.log"
    grep -v ' IN=' "$input" > "$work/mix-other.log"
    compare "netfilter lines of the mix" "$work/mix-nf-only.log"
    compare "other lines of the mix" "$work/mix-other.log"
  fi
fi

if want jobs; then
  hyperfine --warmup 1 --runs "$runs" --export-json "$work/jobs.json" \
    -n j1 "$sk parse --jobs 1 --timezone UTC < $input > /dev/null" -n j2 "$sk parse --jobs 2 --timezone UTC < $input > /dev/null" > /dev/null
  python3 - "$work/jobs.json" "$lines" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
n = int(sys.argv[2])
one, two = r["j1"]["median"], r["j2"]["median"]
print(f"\n--jobs 1: {n/one:,.0f} lines/s (user {r['j1']['user']:.2f} s)   --jobs 2: {n/two:,.0f} lines/s (user {r['j2']['user']:.2f} s)   speedup {one/two:.2f}x, efficiency {one/two/2:.2f} (goal >= 0.8)")
PY
fi

if want sizes; then
  echo
  echo "| line size | lines | syslogkit MB/s | lines/s | reference MB/s | ratio |"
  echo "|---|---|---|---|---|---|"
  for size in 100 1024 8192 65536; do
    # About 150 MB per size, at least 2000 lines.
    n=$(( 150000000 / size )); [ "$n" -ge 2000 ] || n=2000
    f="$work/size-fit-$size.log"
    [ -s "$f" ] || scripts/gen-syslog.py "$n" "$size" > "$f"
    [ "$("$sk" parse --jobs 1 --timezone UTC < "$f" | wc -l)" -eq "$n" ]
    hyperfine --warmup 1 --runs "$runs" --export-json "$work/size.json" \
      -n sk "$sk parse --jobs 1 --timezone UTC < $f > /dev/null" -n ref "$ref < $f > /dev/null" > /dev/null
    python3 - "$work/size.json" "$n" "$size" <<'PY'
import json, sys
runs = {r["command"]: r["median"] for r in json.load(open(sys.argv[1]))["results"]}
n, size = int(sys.argv[2]), int(sys.argv[3])
sk, ref = runs["sk"], runs["ref"]
print(f"| {size} B | {n} | {n*size/sk/1e6:,.1f} | {n/sk:,.0f} | {n*size/ref/1e6:,.1f} | {ref/sk:.2f}x |")
PY
  done
fi

if want rss; then
  rss() { /usr/bin/time -f "%M" "$@" 2>&1 >/dev/null | tail -1; }
  echo
  echo "max RSS, $lines lines: syslogkit --jobs 1 $(rss "$sk" parse --jobs 1 --timezone UTC "$input") KiB, --jobs 2 $(rss "$sk" parse --jobs 2 --timezone UTC "$input") KiB, reference $(rss sh -c "$ref < $input") KiB"
  if [ "${BENCH_RSS_10X:-1}" = 1 ]; then
    big="$work/mix-nf-$((lines * 10)).log"
    [ -s "$big" ] || for _ in $(seq 10); do cat "$input"; done > "$big"
    echo "max RSS, $((lines * 10)) lines: syslogkit --jobs 1 $(rss "$sk" parse --jobs 1 --timezone UTC "$big") KiB, --jobs 2 $(rss "$sk" parse --jobs 2 --timezone UTC "$big") KiB"
  fi
fi
