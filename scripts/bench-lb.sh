#!/usr/bin/env bash
# make bench-lb: the built-in balancer (bin/regify-verify lb) against HAProxy
# with one thread, in interleaved rounds, four modes (keep-alive, full TLS
# handshake, resumed handshake, redirect port). wrk on CPU 0, the measured
# balancer on CPU 1. Prints a Markdown table for BENCHMARKS.md ("Balancer").
# Knobs: ROUNDS (4), DURATION (5s), WARMUP (1s), MODES, EXTRA (more flags),
# LB_BIN (default self: benchmain serves package lb itself; or bin/regify-verify).
set -euo pipefail
cd "$(dirname "$0")/.."

for cmd in wrk taskset; do
  command -v "$cmd" >/dev/null || { echo "bench-lb: $cmd is missing (make setup installs it)" >&2; exit 2; }
done
[ -x /usr/sbin/haproxy ] || { echo "bench-lb: /usr/sbin/haproxy is missing (make setup installs it)" >&2; exit 2; }


tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/benchmain" ./lb/internal/benchmain
# benchmain starts and stops only its own processes (by pid) and cleans up on Ctrl-C.
"$tmp/benchmain" -lb "${LB_BIN:-self}" \
  -rounds "${ROUNDS:-4}" -duration "${DURATION:-5s}" -warmup "${WARMUP:-1s}" \
  -modes "${MODES:-keepalive,full,resumed,redirect}" ${EXTRA:-}
