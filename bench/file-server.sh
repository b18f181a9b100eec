#!/usr/bin/env bash
# bench/file-server.sh: 01-file-server against a Node.js static server (bench/node/static.js)
# and nginx (sendfile on, access_log off), all on 127.0.0.1, serving the same generated root:
#   small  1 KiB index.html   wrk -t1 -c64 -d${DURATION}s
#   large  16 MiB big.bin     wrk -t1 -c4  -d${DURATION}s
# For each: requests/s, p99 latency, MB/s, server CPU (utime+stime from /proc/PID/stat, children
# included), requests per server CPU-second (steadier than req/s when wrk shares the cores),
# and the server's peak RSS (VmHWM).
#
# usage: bench/file-server.sh [--duration S] [--bin DIR]     (DIR default: build/bin, Release)
# Everything it starts is stopped by PID on exit; nothing listens beyond 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=10
BIN=build/bin
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --bin) BIN=$2; shift 2 ;;
    *) echo "usage: $0 [--duration S] [--bin DIR]" >&2; exit 2 ;;
  esac
done
for tool in wrk nginx node python3; do
  command -v "$tool" >/dev/null || { echo "$0: $tool is missing (scripts/setup --bench)" >&2; exit 2; }
done
[ -x "$BIN/01-file-server" ] || { echo "$0: build $BIN/01-file-server first (cmake --build --preset default)" >&2; exit 2; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench-fs.XXXXXX")
ROOT=$TMP/root
mkdir -p "$ROOT"
head -c 1000 /dev/zero | tr '\0' 'x' | { printf '<!doctype html>\n'; cat; printf '\n'; } | head -c 1024 >"$ROOT/index.html"
head -c $((16 * 1024 * 1024)) /dev/urandom >"$ROOT/big.bin"
LARGE_BYTES=$((16 * 1024 * 1024))
TICKS=$(getconf CLK_TCK)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# utime + stime + cutime + cstime of a process, in clock ticks (fields 14-17 of /proc/PID/stat,
# counted after the command name, which may contain spaces).
cpu_ticks() {
  local stat; stat=$(cat "/proc/$1/stat"); stat=${stat##*) }
  awk '{ print $12 + $13 + $14 + $15 }' <<<"$stat"
}

peak_rss_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

wait_for_port() {
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "$0: nothing listens on port $1" >&2; return 1
}

start_ours() {
  local port; port=$(free_port)
  "$BIN/01-file-server" "$port" "$ROOT" --quiet >"$TMP/ours.out" 2>"$TMP/ours.err" &
  SERVER_PID=$!; PIDS+=("$SERVER_PID"); SERVER_PORT=$port
  wait_for_port "$port"
}

start_node() {
  local port; port=$(free_port)
  node bench/node/static.js "$port" "$ROOT" >"$TMP/node.out" 2>&1 &
  SERVER_PID=$!; PIDS+=("$SERVER_PID"); SERVER_PORT=$port
  wait_for_port "$port"
}

start_nginx() {
  local port; port=$(free_port)
  mkdir -p "$TMP/nginx"
  cat >"$TMP/nginx/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  types { text/html html; application/octet-stream bin; }
  default_type application/octet-stream;
  client_body_temp_path $TMP/nginx/body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  uwsgi_temp_path $TMP/nginx/uwsgi;
  scgi_temp_path $TMP/nginx/scgi;
  server {
    listen 127.0.0.1:$port;
    root $ROOT;
    index index.html;
  }
}
EOF
  nginx -e "$TMP/nginx/error.log" -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx" &
  SERVER_PID=$!; PIDS+=("$SERVER_PID"); SERVER_PORT=$port
  wait_for_port "$port"
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
}

# run_shape NAME PATH CONNECTIONS → one table row (server already running)
run_shape() {
  local name=$1 path=$2 conns=$3 url="http://127.0.0.1:$SERVER_PORT$2"
  wrk -t1 -c"$conns" -d1s "$url" >/dev/null  # warm-up: caches, thread pool, page cache
  local before after out
  before=$(cpu_ticks "$SERVER_PID")
  out=$(wrk -t1 -c"$conns" -d"${DURATION}s" --latency "$url")
  after=$(cpu_ticks "$SERVER_PID")
  local requests seconds rps p99 cpu
  requests=$(awk '/requests in/ { print $1 }' <<<"$out")
  seconds=$(awk '/requests in/ { gsub(/s,/, "", $4); print $4 }' <<<"$out")
  rps=$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")
  p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
  cpu=$(awk -v t=$((after - before)) -v hz="$TICKS" 'BEGIN { printf "%.2f", t / hz }')
  local errors; errors=$(awk '/Non-2xx|Socket errors/ { printf "%s ", $0 }' <<<"$out")
  awk -v name="$name" -v shape="$path c$conns" -v rps="$rps" -v p99="$p99" -v req="$requests" \
      -v sec="$seconds" -v cpu="$cpu" -v size="$4" -v err="$errors" 'BEGIN {
    mbs = req * size / sec / 1e6
    per_cpu = cpu > 0 ? req / cpu : 0
    printf "| %-22s | %-16s | %9.0f | %8s | %8.1f | %6.2f | %9.0f |%s\n", name, shape, rps, p99, mbs, cpu, per_cpu, err == "" ? "" : " " err
  }'
}

bench_server() {  # $1 = label, $2 = start function
  "$2"
  run_shape "$1" /index.html 64 1024
  run_shape "$1" /big.bin 4 "$LARGE_BYTES"
  echo "| $1 peak RSS (VmHWM) | $(peak_rss_kib "$SERVER_PID") KiB |" >>"$TMP/rss.txt"
  stop_server
}

echo "# 01-file-server benchmark: $(nproc) cores, ${DURATION}s per shape, $(date -u +%Y-%m-%d)"
echo
echo "| server                 | shape            |     req/s |      p99 |     MB/s | CPU s  | req/CPU-s |"
echo "|------------------------|------------------|-----------|----------|----------|--------|-----------|"
bench_server "01-file-server" start_ours
bench_server "node static.js" start_node
bench_server "nginx" start_nginx
echo
echo "| server | peak RSS |"
echo "|---|---|"
cat "$TMP/rss.txt"
