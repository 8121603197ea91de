#!/usr/bin/env bash
# PHP hello world (`<?php echo "hello";`) through Flash's --fastcgi (amped and sped, --loops 1) and through nginx
# (1 worker, `fastcgi_keep_conn on`, `upstream { keepalive 8; }`), both on CPU 0 in front of the SAME php-fpm pool
# (pm = static, 4 children, a Unix socket) on CPU 1 with wrk -t1 -cCONNS. Each server gets a pool of its own in
# that php-fpm (same settings, its own socket): a php-fpm child serves one connection at a time, so the idle
# keep-alive connections one server pools would otherwise hold the children another server needs. Servers are measured interleaved
# (flash-amped flash-sped nginx, then again), RUNS times; each row is printed, then medians per server: req/s,
# p50, p99, wrk's timeouts and errors, and the ratio to nginx. The issue's goal: >= 1.0x nginx's throughput with a
# p99 under 50 ms and no timeouts. Flash holds at most --fastcgi-connections (FASTCGI_CONNS, default 4: one per
# php-fpm child) and queues the rest of its clients inside the server; nginx opens a connection per client and lets
# them queue in php-fpm's listen backlog.
#
# usage: bench/php.sh [RUNS=3] [SECONDS=10]
# env:   SERVERS="flash-amped flash-sped nginx"  CONNS=50  CHILDREN=4  FASTCGI_CONNS=4  WARMUP=5
#        NICE (default -20 as root, else 0)  NOISE_PCT=10  KEEP=1 (keep the work directory)  FLASH_JAR
# needs: wrk, nginx, php-fpm8.2 (Debian's php8.2-fpm), curl, taskset, setsid; runs as root (php-fpm's workers run
# as www-data, -R lets the master run as root).
set -euo pipefail
# shellcheck source=bench/bench-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
need nginx
FPM=${FPM:-/usr/sbin/php-fpm8.2}
[[ -x $FPM ]] || die "php-fpm not found at $FPM (apt-get install php8.2-fpm, or set FPM)"
RUNS=${1:-3}; SECS=${2:-10}
[[ "$RUNS" =~ ^[1-9][0-9]*$ && "$SECS" =~ ^[1-9][0-9]*$ ]] || die "usage: bench/php.sh [RUNS] [SECONDS]"
SERVERS=${SERVERS:-"flash-amped flash-sped nginx"}
CONNS=${CONNS:-50}; CHILDREN=${CHILDREN:-4}; FASTCGI_CONNS=${FASTCGI_CONNS:-4}; WARMUP=${WARMUP:-5}
for s in $SERVERS; do
  [[ $s == nginx || $s =~ ^flash-(amped|sped|mt|vt|mp)$ ]] || die "unknown server '$s' (nginx, flash-ARCH)"
done
ensure_jar

# php-fpm's workers run as www-data: the document root must be reachable by them.
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
SOCK="$WORK/fpm-nginx.sock"
free_port NPORT
php_nginx_conf "$WORK/nginx.conf" "$NPORT" "$SOCK" 8 4096 " backlog=4096"

machine_note
echo "# $BENCH_NAME: $RUNS run(s) x ${SECS}s, wrk -t1 -c$CONNS /hello.php, php-fpm pm=static x $CHILDREN, servers: $SERVERS"
echo "commands:"
start php-fpm 1 "$FPM" -F -O -R -y "$WORK/fpm.conf"
for s in $SERVERS; do
  for _ in $(seq 100); do [[ -S $WORK/fpm-$s.sock ]] && break; sleep 0.1; done
  [[ -S $WORK/fpm-$s.sock ]] || die "php-fpm did not create $WORK/fpm-$s.sock: $(cat "$WORK/php-fpm.log")"
done
declare -A PORT=() TICKPID=()
for s in $SERVERS; do
  case $s in
    nginx)
      start nginx 0 nginx -p "$WORK" -c "$WORK/nginx.conf"
      PORT[nginx]=$NPORT ;;
    flash-*)
      arch=${s#flash-}
      flash_cmd "$WORK/www" --port 0 --arch "$arch" --loops 1 --fastcgi ".php=unix:$WORK/fpm-$s.sock" \
        --fastcgi-connections "$FASTCGI_CONNS" --drain-timeout 1 ${FLASH_ARGS:-}
      start "$s" 0 "${FLASH_CMD[@]}"
      wait_log "$s" '^flash listening on '
      PORT[$s]=$(flash_port "$s") ;;
  esac
  TICKPID[$s]=${PID[$s]}
done
check_autogroups
for s in $SERVERS; do
  wait_url "$s" "http://127.0.0.1:${PORT[$s]}/hello.php"
  got=$(curl -sf "http://127.0.0.1:${PORT[$s]}/hello.php")
  [[ $got == hello ]] || die "$s answered '$got' for /hello.php, not 'hello'"
done
launcher 1
echo "  measurement: $(quote "${LAUNCH[@]}" wrk -t1 -c"$CONNS" -d"${SECS}s" --timeout 5s --latency) http://127.0.0.1:PORT/hello.php"
echo "    (PORT:$(for s in $SERVERS; do printf ' %s=%s' "$s" "${PORT[$s]}"; done); warm-up $WARMUP s each)"
export WRK_QUIET=1
for s in $SERVERS; do run_wrk "warm-$s" 1 -t1 -c"$CONNS" -d"${WARMUP}s" --timeout 5s "http://127.0.0.1:${PORT[$s]}/hello.php"; done

wrk_timeouts() { awk '/Socket errors/ {for (i = 1; i <= NF; i++) if ($i == "timeout") {print $(i+1) + 0; f=1}} END {if (!f) print 0}' "$1"; }
declare -A RPS=() P99=() TMO=()
printf '%-12s %3s %9s %8s %9s %5s %5s %8s %5s %5s %6s %s\n' server run req/s p50ms p99ms cpu% fpm% timeouts oth0% oth1% steal% notes
for r in $(seq "$RUNS"); do
  for s in $SERVERS; do
    tag="m-$s-$r"
    ft0=$(session_ticks "${PID[php-fpm]}"); st0=$(session_ticks "${TICKPID[$s]}")
    noise_begin
    run_wrk "$tag" 1 -t1 -c"$CONNS" -d"${SECS}s" --timeout 5s --latency "http://127.0.0.1:${PORT[$s]}/hello.php"
    noise_end
    ft1=$(session_ticks "${PID[php-fpm]}"); st1=$(session_ticks "${TICKPID[$s]}")
    f="$WORK/$tag.wrk"
    rps=$(wrk_rps "$f"); p99=$(wrk_pct "$f" 99); tmo=$(wrk_timeouts "$f")
    printf '%-12s %3d %9.0f %8s %9s %5d %5d %8s ' "$s" "$r" "$rps" "$(wrk_pct "$f" 50)" "$p99" "$(pct $((st1 - st0)))" \
      "$(pct $((ft1 - ft0)))" "$tmo"
    noise_cols $((st1 - st0)) $((ft1 - ft0 + WRK_TICKS[$tag]))
    printf ' %s\n' "$(wrk_errors "$f")${NOISY}"
    RPS[$s]+="$rps "; P99[$s]+="$p99 "; TMO[$s]+="$tmo "
  done
done
echo
echo "medians over $RUNS run(s) (min-max); vs nginx = ratio of median req/s"
printf '%-12s %-28s %-30s %-10s %s\n' server req/s p99ms timeouts "vs nginx"
nmed=-; [[ " $SERVERS " == *" nginx "* ]] && nmed=$(printf '%s\n' ${RPS[nginx]} | median)
for s in $SERVERS; do
  med=$(printf '%s\n' ${RPS[$s]} | median)
  # shellcheck disable=SC2086
  printf '%-12s %-28s %-30s %-10s %s\n' "$s" "$(printf '%s\n' ${RPS[$s]} | median_range)" \
    "$(printf '%s\n' ${P99[$s]} | median_range %.2f)" "$(printf '%s\n' ${TMO[$s]} | median)" "$(ratio "$med" "$nmed")"
done
if [[ ${NOISY_RUNS:-0} -gt 0 ]]; then
  echo "WARNING: $NOISY_RUNS measurement(s) marked NOISY: another process took more than $NOISE_PCT% of a CPU during them."
fi
