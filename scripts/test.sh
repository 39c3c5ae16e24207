#!/usr/bin/env bash
# The whole test suite, on a fresh Debian 12 machine: installs the real peers the tests talk to
# (rsyslog, syslog-ng, logger, openssl, iptables/nftables), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-peers.sh
cargo test --locked "$@"
