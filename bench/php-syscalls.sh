#!/usr/bin/env bash
# Per-request cost of a PHP hello page, Flash (--fastcgi) vs nginx (fastcgi_pass, keepalive) in front of the same
# php-fpm (pm = static, CHILDREN workers, one pool per server, Unix sockets), set up as bench/php.sh does (server on
# CPU 0, php-fpm and the client on CPU 1). NOT a throughput benchmark: a fixed number of requests
# (bench/fixed-requests.py, C keep-alive connections), and what they cost:
#   1. CPU time per request of the server's event loop thread, of the whole server process (JIT and GC included)
#      and of the php-fpm pool's workers, from /proc/PID/task/*/schedstat (nanoseconds on CPU) over CPU_REQS
#      requests, after WARM requests of warm-up (CPU time, not a rate: still, a loaded machine inflates it);
#   2. system calls per request of the server's event loop thread alone (Flash: flash-loop-0, no -f: strace -f on a
#      thread takes in all of its process; nginx: its one process) and of
#      the pool's php-fpm workers, from `strace -c -f -p` over REQS requests (strace slows both: counts, not times).
#
# nginx with more clients than php-fpm has children stalls (its idle cached connections hold workers, requests wait in
# the listen backlog until fastcgi_read_timeout, 504): run it with CONNS <= CHILDREN; Flash queues the excess.
#
# usage: bench/php-syscalls.sh [REQS=2000] [CONNS=4] [CPU_REQS=20000]
# env:   SERVERS="flash-amped flash-sped nginx"  CHILDREN=4  FASTCGI_CONNS=4  WARM=5000  FLASH_JAR  FLASH_ARGS
set -euo pipefail
# shellcheck source=bench/bench-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
need nginx strace python3
FPM=${FPM:-/usr/sbin/php-fpm8.2}
[[ -x $FPM ]] || die "php-fpm not found at $FPM"
REQS=${1:-2000}; CONNS=${2:-4}; CPU_REQS=${3:-20000}
SERVERS=${SERVERS:-"flash-amped flash-sped nginx"}
CHILDREN=${CHILDREN:-4}; FASTCGI_CONNS=${FASTCGI_CONNS:-4}; WARM=${WARM:-5000}
CLIENT="$HERE/bench/fixed-requests.py"
ensure_jar

chmod 755 "$WORK"
mkdir -p "$WORK/www" "$WORK/tmp"
echo '<?php echo "hello";' > "$WORK/www/hello.php"
chmod -R a+rX "$WORK/www"
printf '[global]\nerror_log = %s\ndaemonize = no\n' "$WORK/fpm-error.log" > "$WORK/fpm.conf"
for s in $SERVERS; do
  cat >> "$WORK/fpm.conf" <<FPM
[$s]
listen = $WORK/fpm-$s.sock
listen.mode = 0666
listen.backlog = 4096
user = www-data
group = www-data
pm = static
pm.max_children = $CHILDREN
FPM
done
free_port NPORT
php_nginx_conf "$WORK/nginx.conf" "$NPORT" "$WORK/fpm-nginx.sock" 8 4096 " backlog=4096"

echo "# $BENCH_NAME: $REQS requests (strace), $CPU_REQS requests (CPU), $CONNS connections, php-fpm pm=static x $CHILDREN"
echo "commands:"
start php-fpm 1 "$FPM" -F -O -R -y "$WORK/fpm.conf"
for s in $SERVERS; do
  for _ in $(seq 100); do [[ -S $WORK/fpm-$s.sock ]] && break; sleep 0.1; done
  [[ -S $WORK/fpm-$s.sock ]] || die "php-fpm did not create $WORK/fpm-$s.sock"
done
declare -A PORT=()
for s in $SERVERS; do
  case $s in
    nginx) start nginx 0 nginx -p "$WORK" -c "$WORK/nginx.conf"; PORT[nginx]=$NPORT ;;
    flash-*)
      flash_cmd "$WORK/www" --port 0 --arch "${s#flash-}" --loops 1 --fastcgi ".php=unix:$WORK/fpm-$s.sock" \
        --fastcgi-connections "$FASTCGI_CONNS" --drain-timeout 1 ${FLASH_ARGS:-}
      start "$s" 0 "${FLASH_CMD[@]}"
      wait_log "$s" '^flash listening on '
      PORT[$s]=$(flash_port "$s") ;;
  esac
done
for s in $SERVERS; do wait_url "$s" "http://127.0.0.1:${PORT[$s]}/hello.php"; done
echo "  client: taskset -c 1 $CLIENT URL N $CONNS"

# pool_workers SERVER: the php-fpm workers of that server's pool.
pool_workers() { pgrep -P "${PID[php-fpm]}" -f "pool $1\$" || pgrep -P "${PID[php-fpm]}" -f "pool $1 "; }
# cpu_ns PID...: nanoseconds on CPU, all threads of these processes.
cpu_ns() { local p; for p in "$@"; do cat /proc/"$p"/task/*/schedstat 2>/dev/null; done | awk '{s += $1} END {printf "%.0f\n", s}'; }
# thread_ns TID: nanoseconds on CPU of one thread.
thread_ns() { awk '{printf "%.0f\n", $1}' /proc/*/task/"$1"/schedstat 2>/dev/null | head -1; }
# server_pids SERVER: every process of the server's session (the launcher's setsid may have forked).
server_pids() { pgrep -s "${PID[$1]}"; }
# loop_thread SERVER: the thread that does the server's network I/O.
loop_thread() {
  if [[ $1 == nginx ]]; then pgrep -s "${PID[nginx]}" -x nginx; return; fi
  local t p
  for t in /proc/"${PID[$1]}"/task/*; do
    [[ $(cat "$t/comm") == flash-loop-0 ]] && { basename "$t"; return; }
  done
  for p in $(server_pids "$1"); do
    for t in /proc/"$p"/task/*; do
      [[ $(cat "$t/comm") == flash-loop-0 ]] && { basename "$t"; return; }
    done
  done
  die "$1: no flash-loop-0 thread"
}
run_client() { taskset -c 1 python3 "$CLIENT" "http://127.0.0.1:${PORT[$1]}/hello.php" "$2" "$CONNS"; }

printf '\n%-12s %16s %16s %16s\n' server "loop us/req" "process us/req" "php-fpm us/req"
for s in $SERVERS; do
  run_client "$s" "$WARM" # warm-up (the JIT, the pools' connections)
  mapfile -t W < <(pool_workers "$s")
  mapfile -t P < <(server_pids "$s")
  lt=$(loop_thread "$s")
  l0=$(thread_ns "$lt"); a0=$(cpu_ns "${P[@]}"); f0=$(cpu_ns "${W[@]}")
  run_client "$s" "$CPU_REQS"
  l1=$(thread_ns "$lt"); a1=$(cpu_ns "${P[@]}"); f1=$(cpu_ns "${W[@]}")
  awk -v l=$((l1 - l0)) -v a=$((a1 - a0)) -v f=$((f1 - f0)) -v n="$CPU_REQS" -v s="$s" \
    'BEGIN {printf "%-12s %16.1f %16.1f %16.1f\n", s, l / n / 1000, a / n / 1000, f / n / 1000}'
done

for s in $SERVERS; do
  mapfile -t W < <(pool_workers "$s")
  lt=$(loop_thread "$s")
  strace -c -o "$WORK/strace-$s-server.txt" -p "$lt" 2>/dev/null & sp=$!
  args=(); for w in "${W[@]}"; do args+=(-p "$w"); done
  strace -c -f -o "$WORK/strace-$s-fpm.txt" "${args[@]}" 2>/dev/null & fp=$!
  sleep 1
  run_client "$s" "$REQS"
  sleep 0.5
  kill -INT "$sp" "$fp"; wait "$sp" "$fp" 2>/dev/null || true
  for side in server fpm; do
    echo
    echo "$s, $side ($( [[ $side == server ]] && echo "thread $lt" || echo "${#W[@]} workers")): calls per request over $REQS requests"
    awk -v n="$REQS" '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" {name = $NF; calls = $4;
        printf "  %-16s %6.2f\n", name, calls / n; t += calls}
        END {printf "  %-16s %6.2f\n", "total", t / n}' "$WORK/strace-$s-$side.txt"
  done
done
