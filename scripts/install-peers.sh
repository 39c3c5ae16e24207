#!/usr/bin/env bash
# Installs the real peers the tests and benchmarks talk to, on Debian 12:
#   rsyslog (+ gnutls driver, imrelp/omrelp), util-linux logger, openssl, netcat, socat, hyperfine, haproxy,
#   iptables and nftables (rule validation in a network namespace), zstd and pzstd (compressed
#   `parse` input), groff (the man pages rendered as `man` shows them),
#   and syslog-ng 3.38 with loggen. syslog-ng-core conflicts with rsyslog in apt, so it is
#   unpacked from its .deb (apt-get download + dpkg -x) into $SYSLOGKIT_PEERS (default
#   /opt/syslogkit-peers) with wrappers /usr/local/bin/syslog-ng and /usr/local/bin/loggen;
#   for Kafka, the tansu broker (cargo install) and the kafka-python consumer (pip);
#   and the build dependencies (scripts/install-build-deps.sh).
# Idempotent: a second run only checks.
set -euo pipefail

"$(dirname "$0")/install-build-deps.sh"

PEERS=${SYSLOGKIT_PEERS:-/opt/syslogkit-peers}
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

packages=(rsyslog rsyslog-gnutls rsyslog-relp bsdutils openssl netcat-openbsd socat hyperfine iptables nftables haproxy curl
          util-linux procps time bc libivykis0 libnet1 libpcre3 libwrap0 libjson-c5 libglib2.0-0 libssl3
          zstd groff-base)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x "$PEERS/syslog-ng/usr/sbin/syslog-ng" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download syslog-ng-core >/dev/null 2>&1 || { $SUDO apt-get update -qq && apt-get download syslog-ng-core >/dev/null; })
  $SUDO mkdir -p "$PEERS/syslog-ng"
  $SUDO dpkg -x "$tmp"/syslog-ng-core_*.deb "$PEERS/syslog-ng"
  rm -rf "$tmp"
fi

root="$PEERS/syslog-ng"
lib="$root/usr/lib/syslog-ng"
ver=$(basename "$(ls -d "$lib"/3.* | head -1)")
for tool in syslog-ng:usr/sbin/syslog-ng loggen:usr/bin/loggen; do
  name=${tool%%:*}; path=${tool#*:}
  $SUDO tee "/usr/local/bin/$name" >/dev/null <<WRAP
#!/bin/sh
# syslog-ng $ver unpacked from Debian's syslog-ng-core by scripts/install-peers.sh
export LD_LIBRARY_PATH="$lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export SYSLOGNG_PREFIX="$root/usr"
$( [ "$name" = syslog-ng ] && echo "exec \"$root/$path\" --module-path=\"$lib/$ver\" \"\$@\"" || echo "exec \"$root/$path\" \"\$@\"" )
WRAP
  $SUDO chmod +x "/usr/local/bin/$name"
done

# Python modules the tests use to read peers' output: Prometheus's own text-format parser.
python_modules=(prometheus_client)
for m in "${python_modules[@]}"; do
  python3 -c "import $m" 2>/dev/null && continue
  python3 -m pip install --quiet "$m" 2>/dev/null ||
    python3 -m pip install --quiet --break-system-packages "$m"
done

# Kafka (tests/it/kafka.rs): tansu, a Kafka-protocol broker in Rust, built from crates.io (about
# ten minutes on 2 cores; skipped when tansu is already on PATH), and kafka-python, a consumer
# independent of librdkafka.
if ! command -v tansu >/dev/null; then
  cargo install tansu --version 0.6.0 --locked --features dynostore --quiet
fi
python3 -c 'import kafka' 2>/dev/null || python3 -m pip install -q --disable-pip-version-check "kafka-python==3.0.12"

# The checks the tests rely on.
logger --version >/dev/null
rsyslogd -v >/dev/null
syslog-ng --version >/dev/null
loggen --help >/dev/null 2>&1 || true
openssl version >/dev/null
/usr/sbin/haproxy -v >/dev/null
zstd --version >/dev/null
groff --version >/dev/null
tansu --help >/dev/null
python3 -c 'import kafka'
echo "peers installed: rsyslog $(rsyslogd -v | head -1 | awk '{print $2}'), syslog-ng $ver, $(logger --version)"
