#!/usr/bin/env bash
# Keep-alive throughput: Flash (--loops 1) vs nginx (1 worker, sendfile, tcp_nopush, open_file_cache,
# access_log off) vs lighttpd, one file, wrk -t1 -c50 --latency, servers pinned to CPU 0, wrk to CPU 1,
# runs interleaved A B C A B C ..., reports each run and the median per server. The CPU time each server got
# during a run (utime+stime delta from /proc/PID/stat, in % of one CPU) is printed to spot starved runs, and
# req/cpu-s (requests per CPU-second the server used) compares efficiency when a shared machine starves runs.
#
# usage: bench/throughput.sh [FILE_SIZE_BYTES=1024] [RUNS=3] [SECONDS=10]
# env:   FLASH_ARGS   extra `flash serve` flags (e.g. "--header-align 32")
#        JAVA_OPTS    JVM flags replacing the launcher's (see ./flash); SERVERS="flash nginx lighttpd"
#        CONNS=50     wrk connections
#        SERVERS may also name flash-log and nginx-log: the same servers logging every request in the combined
#                     format to a file in the work directory (Flash --access-log; nginx `access_log FILE combined`,
#                     unbuffered: a write(2) per line), so that a logging and a silent server run interleaved
#        NICE=-10     run servers and wrk at this nice level (on a shared machine: keeps other load from starving a run)
# needs: wrk, nginx, lighttpd, taskset; builds target/flash.jar via ./flash when needed. Ports 28480-28482.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SIZE=${1:-1024}; RUNS=${2:-3}; SECS=${3:-10}
SERVERS=${SERVERS:-"flash nginx lighttpd"}
CONNS=${CONNS:-50}
NICE=${NICE:-0}
PIN0=(nice -n "$NICE" taskset -c 0); PIN1=(nice -n "$NICE" taskset -c 1)
WORK=$(mktemp -d /tmp/flash-bench.XXXXXX)
mkdir -p "$WORK/www" "$WORK/tmp"
head -c "$SIZE" /dev/urandom > "$WORK/www/f.bin"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

cat > "$WORK/nginx.conf" <<NGX
worker_processes 1; daemon off; master_process off; pid $WORK/nginx.pid; error_log $WORK/nginx-error.log;
events { worker_connections 4096; }
http {
  sendfile on; tcp_nopush on; tcp_nodelay on; access_log off; keepalive_requests 1000000;
  open_file_cache max=1000 inactive=60s; open_file_cache_valid 60s; default_type application/octet-stream;
  client_body_temp_path $WORK/tmp; proxy_temp_path $WORK/tmp; fastcgi_temp_path $WORK/tmp;
  uwsgi_temp_path $WORK/tmp; scgi_temp_path $WORK/tmp;
  server { listen 127.0.0.1:28481; root $WORK/www; }
}
NGX
cat > "$WORK/lighttpd.conf" <<LTD
server.document-root = "$WORK/www"
server.port = 28482
server.bind = "127.0.0.1"
server.max-keep-alive-requests = 1000000
server.max-keep-alive-idle = 60
server.errorlog = "$WORK/lighttpd-error.log"
server.max-fds = 4096
server.network-backend = "sendfile"
mimetype.assign = ( "" => "application/octet-stream" )
LTD

sed -e "s|access_log off;|access_log $WORK/nginx-access.log combined;|" -e 's|28481|28484|' -e 's|nginx.pid|nginx-log.pid|' \
  "$WORK/nginx.conf" > "$WORK/nginx-log.conf"
declare -A PORT=([flash]=28480 [nginx]=28481 [lighttpd]=28482 [flash-log]=28483 [nginx-log]=28484) SPID=()
for s in $SERVERS; do
  case $s in
    flash-log)
      # shellcheck disable=SC2086
      "${PIN0[@]}" "$HERE/flash" serve "$WORK/www" --port 28483 --loops 1 --access-log "$WORK/flash-access.log" \
        ${FLASH_ARGS:-} >"$WORK/flash-log.log" 2>&1 & ;;
    nginx-log) "${PIN0[@]}" nginx -c "$WORK/nginx-log.conf" >"$WORK/nginx-log.log" 2>&1 & ;;
    flash)
      if [[ -n "${JAVA_OPTS:-}" ]]; then
        "$HERE/flash" help >/dev/null 2>&1 || true   # builds the jar if needed
        # shellcheck disable=SC2086
        "${PIN0[@]}" /usr/lib/jvm/temurin-25-jdk-amd64/bin/java --enable-native-access=ALL-UNNAMED $JAVA_OPTS \
          -jar "$HERE/target/flash.jar" serve "$WORK/www" --port 28480 --loops 1 ${FLASH_ARGS:-} >"$WORK/flash.log" 2>&1 &
      else
        # shellcheck disable=SC2086
        "${PIN0[@]}" "$HERE/flash" serve "$WORK/www" --port 28480 --loops 1 ${FLASH_ARGS:-} >"$WORK/flash.log" 2>&1 &
      fi ;;
    nginx) "${PIN0[@]}" nginx -c "$WORK/nginx.conf" >"$WORK/nginx.log" 2>&1 & ;;
    lighttpd) "${PIN0[@]}" lighttpd -D -f "$WORK/lighttpd.conf" >"$WORK/lighttpd.log" 2>&1 & ;;
  esac
  SPID[$s]=$!; PIDS+=("$!")
done
for s in $SERVERS; do
  for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:${PORT[$s]}/f.bin" && break; sleep 0.2; done
  curl -sf -o /dev/null "http://127.0.0.1:${PORT[$s]}/f.bin" || { echo "$s did not come up" >&2; cat "$WORK/$s.log" >&2; exit 1; }
  # warm-up (JIT for Flash; page cache and open_file_cache for all)
  "${PIN1[@]}" wrk -t1 -c"$CONNS" -d3s "http://127.0.0.1:${PORT[$s]}/f.bin" >/dev/null
done

cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
declare -A RES=() EFF=()
printf '%-9s %3s %10s %8s %8s %8s %7s %12s\n' server run req/s p50 p99 MB/s cpu% req/cpu-s
for r in $(seq "$RUNS"); do
  for s in $SERVERS; do
    t0=$(cpu_ticks "${SPID[$s]}")
    out=$("${PIN1[@]}" wrk -t1 -c"$CONNS" -d"${SECS}s" --timeout 30s --latency "http://127.0.0.1:${PORT[$s]}/f.bin")
    t1=$(cpu_ticks "${SPID[$s]}")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1=="50%" {print $2}' <<<"$out"); p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    tr=$(awk '/Transfer\/sec/ {v=$2; if (v ~ /GB/) v*=1024; else if (v ~ /KB/) v/=1024; else v+=0; print v}' <<<"$out")
    cpu=$(( (t1 - t0) * 100 / HZ / SECS ))
    errs=$(grep -E 'Non-2xx|Socket errors' <<<"$out" | tr '\n' ' ' || true)
    eff=$(awk -v r="$rps" -v t=$((t1 - t0)) -v hz="$HZ" -v d="$SECS" 'BEGIN {printf "%d", (t > 0 ? r * d * hz / t : 0)}')
    printf '%-9s %3d %10.0f %8s %8s %8.1f %6d%% %12s %s\n' "$s" "$r" "$rps" "$p50" "$p99" "$tr" "$cpu" "$eff" "$errs"
    RES[$s]="${RES[$s]:-} $rps"; EFF[$s]="${EFF[$s]:-} $eff"
  done
done
median() { sort -g | awk '{v[NR]=$1} END {printf "%10.0f  (%.0f-%.0f)", v[int((NR+1)/2)], v[1], v[NR]}'; }
echo "medians (min-max): req/s | requests per server CPU-second"
for s in $SERVERS; do
  # shellcheck disable=SC2086
  printf '  %-9s %s | %s\n' "$s" "$(printf '%s\n' ${RES[$s]} | median)" "$(printf '%s\n' ${EFF[$s]} | median)"
done
