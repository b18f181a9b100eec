#!/usr/bin/env bash
# ipc.sh: IPC round trips per second through our broker (bin/bench_ipc) and through Node's
# child_process.fork (bench/node/ipc.js), side by side, the floor of a round trip on this machine
# (bin/bench_ipc_floor), and the cost of one spawn.
#
#   bench/ipc.sh [BUILD_DIR]          (default: build, i.e. the Release preset)
#   RUNS=5 SECONDS_PER_RUN=3 bench/ipc.sh
#
# Both sides use a worker that speaks the same contract (broker-worker / tests/node/db.js) with
# --latency 0 --quiet and ask {"bucket":"users","query":n}. C++ and Node runs alternate and the
# best of RUNS is kept for each, so a burst of load from elsewhere hurts both alike.
# Besides round trips per second, it reports the CPU time (user + sys of the parent and its
# reaped children, from bash's `time`) per round trip: on a busy machine throughput mostly
# measures the scheduler, CPU per round trip still measures the code.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
runs=${RUNS:-3}
seconds=${SECONDS_PER_RUN:-3}
bench="$build/bin/bench_ipc"
if [[ ! -x $bench ]]; then
  echo "ipc.sh: $bench not found; build first: cmake --preset default && cmake --build --preset default" >&2
  exit 1
fi
command -v node >/dev/null || { echo "ipc.sh: node not found" >&2; exit 1; }

per_second() { grep -o '"per_second":[0-9]*' | cut -d: -f2; }
round_trips() { grep -o '"round_trips":[0-9]*' | cut -d: -f2; }

# run_one CMD...: prints "per_second cpu_ns_per_round_trip".
run_one() {
  local out cpu tmp
  tmp=$(mktemp)
  TIMEFORMAT='%U %S'
  cpu=$( { time "$@" >"$tmp" 2>/dev/null; } 2>&1 )
  out=$(cat "$tmp")
  rm -f "$tmp"
  awk -v ps="$(per_second <<<"$out")" -v rt="$(round_trips <<<"$out")" -v cpu="$cpu" 'BEGIN {
    split(cpu, t, " "); printf "%d %d\n", ps, (rt > 0 ? (t[1] + t[2]) * 1e9 / rt : 0) }'
}

# best_of ARGS SECONDS: runs both implementations RUNS times, prints
# "cpp_per_second cpp_cpu_ns node_per_second node_cpu_ns" (best throughput, least CPU).
best_of() {
  local args=$1 secs=$2 cpp=0 cpp_cpu=0 node=0 node_cpu=0 ps cpu
  for ((run = 0; run < runs; run++)); do
    # shellcheck disable=SC2086
    read -r ps cpu < <(run_one "$bench" $args --seconds "$secs")
    ((ps > cpp)) && cpp=$ps
    ((cpp_cpu == 0 || cpu < cpp_cpu)) && cpp_cpu=$cpu
    # shellcheck disable=SC2086
    read -r ps cpu < <(run_one node bench/node/ipc.js $args --seconds "$secs")
    ((ps > node)) && node=$ps
    ((node_cpu == 0 || cpu < node_cpu)) && node_cpu=$cpu
  done
  echo "$cpp $cpp_cpu $node $node_cpu"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }'; }

echo "IPC round trips (best of $runs runs of ${seconds}s; $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg))"
printf '%-26s %11s %11s %6s   %12s %12s %6s\n' "case" "C++ rt/s" "Node rt/s" "ratio" \
  "C++ CPU/rt" "Node CPU/rt" "ratio"
while IFS='|' read -r label args; do
  read -r cpp cpp_cpu node node_cpu < <(best_of "$args" "$seconds")
  printf '%-26s %11s %11s %6s   %10.2fus %10.2fus %6s\n' "$label" "$cpp" "$node" \
    "$(ratio "$cpp" "$node")" "$(awk -v n="$cpp_cpu" 'BEGIN { print n / 1000 }')" \
    "$(awk -v n="$node_cpu" 'BEGIN { print n / 1000 }')" "$(ratio "$node_cpu" "$cpp_cpu")"
done <<'CASES'
sequential, 1 worker|--mode seq
64 in flight, 1 worker|--mode inflight --inflight 64 --workers 1
64 in flight, 2 workers|--mode inflight --inflight 64 --workers 2
channel, 64 in flight|--mode channel --inflight 64 --workers 1
CASES

# The floor: bare processes with the same system calls and none of the rest (bench_ipc_floor).
# A sequential round trip cannot beat its "epoll + read, two CPUs" line.
echo
echo "the floor: two bare processes bouncing one line (no libuv, no JSON), one at a time"
"$build/bin/bench_ipc_floor" --seconds "$seconds" | while IFS= read -r line; do
  shape=$(grep -o '"shape":"[^"]*"' <<<"$line" | cut -d'"' -f4)
  printf '%-26s %11s rt/s %8sus per round trip\n' "$shape" "$(per_second <<<"$line")" \
    "$(grep -o '"us_per_round_trip":[0-9.]*' <<<"$line" | cut -d: -f2)"
done

read -r cpp cpp_cpu node node_cpu < <(best_of "--mode spawn" "$seconds")
echo
echo "fork per query (spawn + one round trip + exit), one at a time"
awk -v c="$cpp" -v n="$node" -v cc="$cpp_cpu" -v nc="$node_cpu" 'BEGIN {
  printf "%-26s %11s %11s\n", "", "C++", "Node"
  printf "%-26s %11d %11d\n", "spawned queries per second", c, n
  printf "%-26s %11.2f %11.2f\n", "ms per spawned query", (c > 0 ? 1000 / c : 0), (n > 0 ? 1000 / n : 0)
  printf "%-26s %11.2f %11.2f\n", "CPU ms per spawned query", cc / 1e6, nc / 1e6
}'
