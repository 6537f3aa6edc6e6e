#!/usr/bin/env bash
# The sandbox's own rate: wrk (Debian's `wrk`, a C load generator) costs the shared cores far less
# than a Node client would. Usage: npm run bench:sandbox:wrk [-- SECONDS CONNECTIONS]
set -euo pipefail
command -v wrk >/dev/null || { echo "needs wrk: apt-get install wrk" >&2; exit 1; }
cd "$(dirname "$0")/../.."
port=${BENCH_PORT:-4099}
PORT=$port node --import tsx --conditions=source mailjet-sandbox/src/main.ts >/dev/null &
sandbox=$!
trap 'kill "$sandbox" 2>/dev/null; wait "$sandbox" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/sandbox/faults" >/dev/null && break; sleep 0.1; done
wrk -t1 -c"${2:-64}" -d"${1:-10}s" -s mailjet-sandbox/bench/send-one.lua "http://127.0.0.1:$port/v3.1/send"
