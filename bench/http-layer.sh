#!/usr/bin/env bash
# The HTTP layer alone: bin/http-test-server's GET /echo/:name (common::http) against the same
# route in Express, under wrk on 127.0.0.1 (keep-alive, 50 connections, 10 s each). Reports
# requests/s and requests per CPU-second of the server process (fair on a shared 2-core box).
# Usage: bench/http-layer.sh [BUILD_DIR]   (default: build, the Release preset)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
duration=${DURATION:-10}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# run NAME COMMAND...: starts the server, reads its port from the first stdout line, loads it.
run() {
  local name=$1; shift
  local out; out=$(mktemp)
  "$@" > "$out" 2>/dev/null &
  local pid=$!
  for _ in $(seq 1 100); do grep -q listening "$out" && break; sleep 0.1; done
  local port; port=$(sed -E 's/.*:([0-9]+)\/$/\1/' "$out" | head -1)
  wrk -t1 -c50 -d2s "http://127.0.0.1:$port/echo/warm" > /dev/null
  local before; before=$(cpu_ticks "$pid")
  local rps; rps=$(wrk -t1 -c50 -d"${duration}s" "http://127.0.0.1:$port/echo/bench" | awk '/Requests\/sec/ {print $2}')
  local after; after=$(cpu_ticks "$pid")
  kill -TERM "$pid"; wait "$pid" || true
  rm -f "$out"
  local hz; hz=$(getconf CLK_TCK)
  awk -v n="$name" -v r="$rps" -v t=$((after - before)) -v hz="$hz" -v d="$duration" \
    'BEGIN { cpu = t / hz; printf "%-22s %10.0f req/s  %6.2f CPU-s  %10.0f req/CPU-s\n", n, r, cpu, r * d / cpu }'
}

run "common::http (C++)" "$build/bin/http-test-server" 0
run "Express 4 (Node $(node --version))" node bench/node/echo_express.js 0
