#!/usr/bin/env bash
# auto.sh: common::auto_run (bin/bench_auto) against async.auto 3.2.6 (bench/node/auto.js) on
# the same graphs, one after the other on this machine; prints both and the C++/Node ratios.
#   bench/auto.sh                 # Release build in build/ (cmake --preset default)
#   DIAMOND_RUNS=100000 DAG_RUNS=100 NODE_DAG_RUNS=1 SMALL_DAG_RUNS=10000 bench/auto.sh
# Node runs the 10 000-task dag only NODE_DAG_RUNS times (default 1): async's cycle check is
# quadratic in the task count and takes tens of seconds per run there. Ratios compare runs/s.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${BENCH_AUTO:-$root/build/bin/bench_auto}
diamond=${DIAMOND_RUNS:-100000}
dag=${DAG_RUNS:-100}
node_dag=${NODE_DAG_RUNS:-1}
small=${SMALL_DAG_RUNS:-10000}

if [[ ! -x $bin ]]; then
  echo "no $bin: cmake --preset default && cmake --build --preset default" >&2
  exit 1
fi
[[ -d $root/bench/node/node_modules/async ]] || npm ci --prefix "$root/bench/node" >&2

cpp=$(timeout 600 "$bin" "$diamond" "$dag" "$small")
node=$(timeout 600 node "$root/bench/node/auto.js" "$diamond" "$node_dag" "$small")
echo "== C++ common::auto_run"; echo "$cpp"
echo "== Node $(node --version) async $(node -p 'require(process.argv[1]).version' "$root/bench/node/node_modules/async/package.json")"
echo "$node"

# "name: … = 123.4 runs/s, 567.8 runs/cpu-s" → the wall (field 1) or cpu (field 2) rate.
rate() { sed -n "s/^$1: .* = \([0-9.]*\) runs\/s, \([0-9.]*\) runs\/cpu-s$/\\$3/p" <<<"$2"; }
echo "== C++ / Node (runs per second of wall time, and of CPU time)"
compare() {  # compare <C++ row> <Node row>
  local cw nw cc nc
  cw=$(rate "$1" "$cpp" 1); nw=$(rate "$2" "$node" 1); cc=$(rate "$1" "$cpp" 2); nc=$(rate "$2" "$node" 2)
  [[ -n $cw && -n $nw ]] || return 0
  awk -v name="$1" -v cw="$cw" -v nw="$nw" -v cc="$cc" -v nc="$nc" \
    'BEGIN { printf "%-20s wall %9.1fx   cpu %9.1fx\n", name, cw / nw, cc / nc }'
}
compare diamond diamond
compare "diamond 1 per turn" diamond
compare dag dag
compare "small dag" "small dag"
