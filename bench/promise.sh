#!/usr/bin/env bash
# promise.sh: common::Promise (bin/bench_promise) against Q 1.5.1, Q 2.0.3 and native Promise
# (bench/node/promise.js) in the same two shapes, one after the other on this machine; prints
# each and the C++/JS ratios (higher = C++ faster).
#   bench/promise.sh                        # Release build in build/ (cmake --preset default)
#   CHAIN=1000000 ALLS=100000 bench/promise.sh
# Q 1.5.1 needs about 20 s for the million-long chain; every run is capped at 300 s.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${BENCH_PROMISE:-$root/build/bin/bench_promise}
chain=${CHAIN:-1000000}
alls=${ALLS:-100000}

if [[ ! -x $bin ]]; then
  echo "no $bin: cmake --preset default && cmake --build --preset default" >&2
  exit 1
fi
[[ -d $root/bench/node/node_modules/q2 ]] || npm ci --prefix "$root/bench/node" >&2

cpp=$(timeout 300 "$bin" "$chain" "$alls")
echo "== C++ common::Promise"
echo "$cpp"
declare -A js
for impl in native q1 q2; do
  js[$impl]=$(timeout 300 node "$root/bench/node/promise.js" "$impl" "$chain" "$alls")
  echo "== Node $(node --version) ${js[$impl]}"
done

rate() { sed -n "s/^$1: .* = \([0-9.]*\) [a-z]*\/s$/\1/p" <<<"$2"; }
echo "== C++ / JS (operations per second)"
printf '%-6s %10s %10s %10s\n' shape native "q 1.5.1" "q 2.0.3"
for shape in chain all; do
  c=$(rate "$shape" "$cpp")
  printf '%-6s' "$shape"
  for impl in native q1 q2; do
    n=$(rate "$shape" "${js[$impl]}")
    awk -v c="$c" -v n="$n" 'BEGIN { printf " %9.1fx", c / n }'
  done
  echo
done
