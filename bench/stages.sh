#!/usr/bin/env bash
# stages.sh: stages 02-06 against the same five routes in Express (bench/node/express-app.js).
#
#   bench/stages.sh [BUILD_DIR]        (default: build, the Release preset)
#   DURATION=10 CONNECTIONS=32 WORKERS=2 SLOW_RUNS=10 ROUTES='sync brew async promise await' \
#   PARTS='1 2' RUNS=1 bench/stages.sh
#
# Part 1, pure overhead: each route with workers at --latency 0 (both sides quiet, no access log,
# the same number of workers), under `wrk -t1 -cCONNECTIONS -dDURATION` after a 2 s warm-up, user
# ids 1..100 in turn (bench/stages.lua). Reports req/s, p50/p99 latency, requests per CPU-second of
# ALL server processes (server + workers: utime+stime from /proc, sampled around the run), and
# peak RSS (sum of VmHWM of server + workers). With RUNS=N each side runs N times, C++ and Express
# alternating (a burst of load from elsewhere hurts both alike), and the table shows each side's
# median run by req/s. The ratio line adds the N pairwise ratios (each C++ run over the Express
# run right after it), lowest first. Medians, not maxima: this VM has fast phases of a few minutes in
# which Express, all user-space JavaScript, gains up to 1.5x and we about 1.3x; the best of N of
# each side picks whichever side's luckiest run, the median its usual one.
# Part 2, the shape: workers at --latency 100 --block sleep; SLOW_RUNS sequential requests per
# route, median (and minimum) time, against 3 slots (/sync) and 2 slots (the others): 300/200 ms,
# within 2 % + 1 ms.
# The stages have no flag to quiet their workers: --worker names broker-worker with --quiet.
# Every server listens on 127.0.0.1, port 0; only processes this script started are stopped, by
# PID; every wait is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
duration=${DURATION:-10}
connections=${CONNECTIONS:-32}
workers=${WORKERS:-2}
slow_runs=${SLOW_RUNS:-10}
runs=${RUNS:-1}
slow_ms=100
hz=$(getconf CLK_TCK)

for tool in wrk curl node; do
  command -v "$tool" >/dev/null || { echo "stages.sh: $tool not found (scripts/setup --bench)" >&2; exit 1; }
done
[[ -d bench/node/node_modules/express ]] || { echo "stages.sh: run npm ci --prefix bench/node" >&2; exit 1; }
[[ -x $build/bin/broker-worker ]] || {
  echo "stages.sh: $build/bin not built: cmake --preset default && cmake --build --preset default" >&2
  exit 1
}

read -r -a routes <<<"${ROUTES:-sync brew async promise await}"
parts=${PARTS:-1 2}
declare -A stage_of=([sync]=02-sync-callbacks [brew]=03-homebrew-counter [async]=04-auto-dag
  [promise]=05-promises [await]=06-coroutines)
declare -A slots_of=([sync]=3 [brew]=2 [async]=2 [promise]=2 [await]=2)

tmp=$(mktemp -d)
server_pid=""
# The loads run in command substitutions (subshells): the PID of the server being measured is
# also kept in a file, so that an interrupted run still stops it.
cleanup() {
  if [[ -s $tmp/server.pid ]]; then
    server_pid=$(cat "$tmp/server.pid")
    stop_server
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# ------------------------------------------------------------------ processes and /proc

# descendants PID: PID and all its descendants, one per line.
descendants() {
  echo "$1"
  local child
  # The children files hold space-separated PIDs on one line.
  # shellcheck disable=SC2013
  for child in $(cat /proc/"$1"/task/*/children 2>/dev/null); do descendants "$child"; done
}

# cpu_ticks PIDS...: utime + stime, summed (fields 14 and 15; the name in field 2 may hold spaces).
cpu_ticks() {
  local pid total=0 t
  for pid in "$@"; do
    t=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{print $12 + $13}') || t=0
    total=$((total + ${t:-0}))
  done
  echo "$total"
}

# peak_rss_kb PIDS...: VmHWM, summed.
peak_rss_kb() {
  local pid total=0 kb
  for pid in "$@"; do
    kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || kb=0
    total=$((total + ${kb:-0}))
  done
  echo "$total"
}

# start_server ROUTE NAME CMD...: starts it, waits (≤ 10 s) for "http://…:PORT/" on its first
# stdout line, then (≤ 20 s) for GET /ROUTE/1 to answer 200; sets server_pid and port.
start_server() {
  local route=$1 name=$2; shift 2
  # Emptied here, not by the redirection below: that runs in the background job, and a read
  # before it would find the previous server's URL.
  : >"$tmp/out"
  : >"$tmp/err"
  "$@" >"$tmp/out" 2>"$tmp/err" &
  server_pid=$!
  echo "$server_pid" >"$tmp/server.pid"
  port=""
  for _ in $(seq 1 100); do
    port=$(sed -nE '1s|.*http://127\.0\.0\.1:([0-9]+)/.*|\1|p' "$tmp/out")
    [[ -n $port ]] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [[ -z $port ]]; then
    echo "stages.sh: $name did not start:" >&2
    cat "$tmp/err" >&2
    stop_server
    exit 1
  fi
  # Ready once it answers (a loaded machine may take seconds to start the Node workers).
  local status=""
  for _ in $(seq 1 40); do
    status=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$port/$route/1") || true
    [[ $status == 200 ]] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.25
  done
  if [[ $status != 200 ]]; then
    echo "stages.sh: $name: GET /$route/1 gave '$status'" >&2
    cat "$tmp/err" >&2
    stop_server
    exit 1
  fi
}

# stop_server: SIGTERM to the server we started, SIGKILL to it after 5 s (and to its workers, if
# any are left, by the PIDs we saw).
stop_server() {
  local pids; pids=$(descendants "$server_pid")
  kill -TERM "$server_pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  local pid
  for pid in $pids; do kill -KILL "$pid" 2>/dev/null || true; done
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
  rm -f "$tmp/server.pid"
}

# cpp_command ROUTE LATENCY_ARGS...: sets cmd to the stage's command line. The stages have no
# flag to quiet their workers, so --worker names broker-worker with --quiet (the broker appends
# --latency and --block to it).
cpp_command() {
  local route=$1; shift
  cmd=("$build/bin/${stage_of[$route]}" 0 --workers "$workers" --quiet
    --worker "$build/bin/broker-worker --quiet" "$@")
}

# ------------------------------------------------------------------ part 1: overhead under wrk

# load ROUTE NAME CMD...: prints "rps p50_us p99_us req_per_cpu_s cpu_s rss_kb non2xx errors".
load() {
  local route=$1 name=$2; shift 2
  start_server "$route" "$name" "$@"
  local url="http://127.0.0.1:$port"
  timeout 20 wrk -t1 -c"$connections" -d2s -s bench/stages.lua "$url" -- "/$route/" >/dev/null
  local pids before after rss
  mapfile -t pids < <(descendants "$server_pid")
  before=$(cpu_ticks "${pids[@]}")
  timeout $((duration + 20)) wrk -t1 -c"$connections" -d"${duration}s" --timeout 5s \
    -s bench/stages.lua "$url" -- "/$route/" >"$tmp/wrk"
  after=$(cpu_ticks "${pids[@]}")
  rss=$(peak_rss_kb "${pids[@]}")
  stop_server
  local line; line=$(grep '^STAGES' "$tmp/wrk")
  awk -v l="$line" -v t=$((after - before)) -v hz="$hz" -v rss="$rss" 'BEGIN {
    n = split(l, f, " "); for (i = 2; i <= n; i++) { split(f[i], kv, "="); v[kv[1]] = kv[2] }
    cpu = t / hz
    printf "%s %s %s %s %.2f %s %s %s\n", v["rps"], v["p50_us"], v["p99_us"],
      (cpu > 0 ? v["requests"] / cpu : 0), cpu, rss, v["non2xx"], v["errors"] }'
}

# median_line LINES: of result lines of load() (one per line), the median by requests per second
# (the lower middle one for an even count).
median_line() {
  sort -g -k1,1 <<<"$1" | awk '{ line[NR] = $0 } END { print line[int((NR + 1) / 2)] }'
}

# pair_ratios C_LINES N_LINES: the pairwise req/s ratios (the first field of the i-th line of
# each), lowest first, or nothing for a single pair.
pair_ratios() {
  paste -d' ' <(cut -d' ' -f1 <<<"$1") <(cut -d' ' -f1 <<<"$2") |
    awk '$2 > 0 { printf "%.1f\n", $1 / $2 }' | sort -g | awk '
    { list = list (NR > 1 ? " " : "") $1 } END { if (NR > 1) print list "x" }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }'; }
ms() { awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'; }
mb() { awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }'; }

echo "Stages 02-06 against Express: $workers workers, wrk -t1 -c$connections -d${duration}s, median of $runs," \
  "$(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg) at start"
part1() {
  echo
  echo "Part 1: workers at --latency 0 (pure overhead)"
  printf '%-9s %-8s %9s %9s %9s %11s %7s %9s %s\n' route side req/s p50_ms p99_ms req/CPU-s CPU-s \
    RSS_MB "non-2xx/errors"
  declare -A result
  for route in "${routes[@]}"; do
    cpp_command "$route" --latency 0
    local -a c_runs=() n_runs=()
    for ((run = 1; run <= runs; run++)); do  # alternating, so a burst of load hurts both alike
      c_runs+=("$(load "$route" "${stage_of[$route]}" "${cmd[@]}")")
      n_runs+=("$(load "$route" "express /$route" node bench/node/express-app.js 0 \
        --workers "$workers" --latency 0 --quiet)")
    done
    result[$route,cpp]=$(median_line "$(printf '%s\n' "${c_runs[@]}")")
    result[$route,node]=$(median_line "$(printf '%s\n' "${n_runs[@]}")")
    result[$route,pairs]=$(pair_ratios "$(printf '%s\n' "${c_runs[@]}")" \
      "$(printf '%s\n' "${n_runs[@]}")")
    for side in cpp node; do
      read -r rps p50 p99 per_cpu cpu rss non2xx errors <<<"${result[$route,$side]}"
      side_name=C++
      [[ $side == node ]] && side_name=Express
      printf '%-9s %-8s %9.0f %9s %9s %11.0f %7s %9s %s\n' "/$route" "$side_name" "$rps" \
        "$(ms "$p50")" "$(ms "$p99")" "$per_cpu" "$cpu" "$(mb "$rss")" "$non2xx/$errors"
    done
  done

  echo
  echo "Ratios, C++ / Express (floor: req/s >= 4x, median of the pairs; also, C++ p99 <= Express p50, memory <= 1/10)"
  printf '%-9s %7s %9s %13s %13s %8s %s\n' route req/s req/CPU-s "C++ p99" "Express p50" memory \
    "req/s of each pair"
  for route in "${routes[@]}"; do
    read -r c_rps _ c_p99 c_cpu _ c_rss _ _ <<<"${result[$route,cpp]}"
    read -r n_rps n_p50 _ n_cpu _ n_rss _ _ <<<"${result[$route,node]}"
    printf '%-9s %7s %9s %10s ms %10s ms %8s %s\n' "/$route" "$(ratio "$c_rps" "$n_rps")" \
      "$(ratio "$c_cpu" "$n_cpu")" "$(ms "$c_p99")" "$(ms "$n_p50")" \
      "1/$(awk -v a="$n_rss" -v b="$c_rss" 'BEGIN { printf "%.0f", (b > 0 ? a / b : 0) }')" \
      "${result[$route,pairs]}"
  done
  echo "load at the end of part 1: $(cut -d' ' -f1-3 /proc/loadavg)"
}

# ------------------------------------------------------------------ part 2: the shape at 100 ms

# median_ms ROUTE NAME CMD...: SLOW_RUNS sequential requests (after the readiness probe, which
# warms up); prints "median min" in ms.
median_ms() {
  local route=$1 name=$2; shift 2
  start_server "$route" "$name" "$@"
  local url="http://127.0.0.1:$port/$route/" i
  for ((i = 1; i <= slow_runs; i++)); do
    curl -s -o /dev/null -m 5 -w '%{http_code} %{time_total}\n' "$url$i" || true
  done >"$tmp/times"
  stop_server
  if grep -qv '^200 ' "$tmp/times"; then
    echo "stages.sh: $name: not every request was answered 200:" >&2
    cat "$tmp/times" "$tmp/err" >&2
    exit 1
  fi
  cut -d' ' -f2 "$tmp/times" | sort -g | awk '{ t[NR] = $1 * 1000 } END {
    printf "%.1f %.1f\n", (NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2), t[1] }'
}

part2() {
  echo
  echo "Part 2: workers at --latency $slow_ms --block sleep, median of $slow_runs sequential requests"
  printf '%-9s %8s %16s %16s %s\n' route expected "C++ ms (min)" "Express ms (min)" \
    "median within 2 % + 1 ms"
  for route in "${routes[@]}"; do
    expected=$((slow_ms * ${slots_of[$route]}))
    cpp_command "$route" --latency $slow_ms --block sleep
    read -r c c_min < <(median_ms "$route" "${stage_of[$route]}" "${cmd[@]}")
    read -r n n_min < <(median_ms "$route" "express /$route" node bench/node/express-app.js 0 --workers "$workers" \
      --latency $slow_ms --block sleep --quiet)
    [[ -n $c && -n $n ]] || exit 1
    verdict=$(awk -v c="$c" -v n="$n" -v e="$expected" 'BEGIN {
      limit = e * 1.02 + 1
      printf "C++ %s, Express %s", (c >= e && c <= limit ? "yes" : "NO"), (n >= e && n <= limit ? "yes" : "NO") }')
    printf '%-9s %8s %16s %16s %s\n' "/$route" "$expected" "$c ($c_min)" "$n ($n_min)" "$verdict"
  done
  echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
}

for part in $parts; do "part$part"; done
