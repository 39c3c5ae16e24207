#!/usr/bin/env bash
# Installs what building syslogkit needs beyond the Rust toolchain, on Debian 12: rdkafka builds
# its bundled librdkafka with cmake (send --kafka-brokers) against OpenSSL (TLS, SCRAM), zlib
# (gzip) and libcurl's headers (librdkafka's OAUTHBEARER/OIDC code includes them even when
# curl itself is not linked). .ci/run calls this before the first cargo build; install-peers.sh
# calls it too. Idempotent: a second run only checks.
set -euo pipefail

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

packages=(cmake pkg-config gcc g++ make libssl-dev zlib1g-dev libcurl4-openssl-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
cmake --version >/dev/null
