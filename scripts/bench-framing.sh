#!/usr/bin/env bash
# Framing throughput (issue 5 §5): runs benches/framing.rs in release mode, then prints MB/s and
# messages/s for every case and the ratios the issue sets as goals:
#   LF decoding >= 3x tokio-util's LinesCodec and >= 50% of a bare memchr scan;
#   octet counting at least as fast as LF (compared in messages/s).
#
# Usage: scripts/bench-framing.sh [extra criterion args, e.g. a filter such as decode]
#        scripts/bench-framing.sh --report   (only print the table of the last run)
# Short by default (1 s warm-up, 3 s per case); override with BENCH_ARGS.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = --report ]; then
    shift
else
    BENCH_ARGS=${BENCH_ARGS:---warm-up-time 1 --measurement-time 3}
    # shellcheck disable=SC2086
    cargo bench --bench framing -- $BENCH_ARGS "$@"
fi

target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')

echo
echo "commit $(git rev-parse --short HEAD)$(git diff --quiet || echo '+dirty'), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
python3 - "$target_dir/criterion" <<'EOF'
import json, pathlib, re, sys
from collections import defaultdict

root = pathlib.Path(sys.argv[1])
groups = defaultdict(dict)
for bench in root.glob("*/*/new/benchmark.json"):
    meta = json.loads(bench.read_text())
    est = json.loads((bench.parent / "estimates.json").read_text())
    group, fid = meta["group_id"], meta["function_id"]
    m = re.match(r"(decode|encode)/(\d+)x(.+)", group or "")
    if not m:
        continue
    secs = est["mean"]["point_estimate"] / 1e9
    nbytes = meta["throughput"]["Bytes"]
    groups[group][fid] = (nbytes / secs / 1e6, int(m.group(2)) / secs / 1e6)

def order(group):
    kind, n, size = re.match(r"(decode|encode)/(\d+)x(.+)", group).groups()
    return (kind, int(n) < 1000, size)

for group in sorted(groups, key=order):
    cases = groups[group]
    print(f"\n{group}")
    print(f"  {'case':32} {'MB/s':>9} {'M msg/s':>9}")
    for fid, (mbs, mmsgs) in sorted(cases.items(), key=lambda kv: -kv[1][1]):
        print(f"  {fid:32} {mbs:9.0f} {mmsgs:9.2f}")
    def ratio(a, b, i=1):
        if a in cases and b in cases:
            return cases[a][i] / cases[b][i]
        return None
    goals = []
    if group.startswith("decode"):
        goals = [
            ("syslogkit/lf vs tokio-util/LinesCodec", ratio("syslogkit/lf", "tokio-util/LinesCodec"), 3.0),
            ("syslogkit/lf vs memchr/lf", ratio("syslogkit/lf", "memchr/lf"), 0.5),
            ("syslogkit/octet vs syslogkit/lf (msg/s)", ratio("syslogkit/octet", "syslogkit/lf"), 1.0),
            ("syslogkit-codec/lf vs tokio-util/LinesCodec", ratio("syslogkit-codec/lf", "tokio-util/LinesCodec"), 3.0),
            ("syslogkit-codec/lf vs memchr/lf", ratio("syslogkit-codec/lf", "memchr/lf"), 0.5),
            ("syslogkit-codec/octet vs syslogkit-codec/lf", ratio("syslogkit-codec/octet", "syslogkit-codec/lf"), 1.0),
            ("syslogkit-codec-in-place/lf vs tokio-util/LinesCodec", ratio("syslogkit-codec-in-place/lf", "tokio-util/LinesCodec"), 3.0),
            ("syslogkit-codec-in-place/lf vs memchr/lf", ratio("syslogkit-codec-in-place/lf", "memchr/lf"), 0.5),
            ("syslogkit-codec-in-place/octet vs .../lf", ratio("syslogkit-codec-in-place/octet", "syslogkit-codec-in-place/lf"), 1.0),
            ("syslogkit-codec/lf vs tokio-util/AnyDelimiterCodec", ratio("syslogkit-codec/lf", "tokio-util/AnyDelimiterCodec"), None),
        ]
    else:
        goals = [
            ("syslogkit/lf (escaping) vs memcpy/lf", ratio("syslogkit/lf", "memcpy/lf"), None),
            ("syslogkit/octet vs syslogkit/lf", ratio("syslogkit/octet", "syslogkit/lf"), None),
            ("syslogkit-codec/lf vs tokio-util/LinesCodec", ratio("syslogkit-codec/lf", "tokio-util/LinesCodec"), None),
        ]
    for name, value, goal in goals:
        if value is None:
            continue
        verdict = "" if goal is None else ("  goal >= %gx: %s" % (goal, "met" if value >= goal else "NOT met"))
        print(f"  {name:52} {value:6.2f}x{verdict}")
EOF
