#!/usr/bin/env bash
# Reverse-proxy throughput: Flash's --proxy (amped and sped, --loops 1) against nginx's proxy_pass (1 worker,
# `upstream { keepalive 64; }`, proxy_http_version 1.1, Connection ""), both on CPU 0 in front of the SAME nginx
# backend (1 worker, sendfile, tcp_nopush, open_file_cache, on CPU 1), and the backend alone as a reference.
# wrk -t1 -cCONNS keep-alive --latency on CPU 1 (so wrk shares CPU 1 with the backend in every row). Servers are
# measured interleaved (backend flash-amped flash-sped nginx, backend flash-amped ...), RUNS times per file size;
# each row is printed, then medians per server: req/s, p99, the server's requests per CPU-second, and Flash/nginx.
#
# usage: bench/proxy.sh [SIZES="1k 1m"] [RUNS=3] [SECONDS=10]
#        SIZES: file sizes in bytes, K/M suffixes allowed, separated by spaces or commas ("1024,1048576", "1k 64k 1m")
# env:   SERVERS="backend flash-amped flash-sped nginx"  (flash-ARCH for any architecture: flash-mt, flash-vt ...)
#        PREFIX=/        route prefix: Flash --proxy PREFIX=http://127.0.0.1:BACKEND/, nginx `location PREFIX {
#                        proxy_pass http://backend/; }`; wrk asks for PREFIX + fSIZE.bin either way
#        CONNS=50  WARMUP=5 (seconds of wrk per server and size before measuring: JIT warm-up)
#        UPSTREAM_KEEPALIVE=64 (Flash --upstream-keepalive, per loop; nginx's `keepalive 64` is per worker)
#        FLASH_ARGS      extra `flash serve` flags for every Flash (after --loops 1, so they can override it)
#        JAVA_OPTS       extra JVM flags (after ./flash's --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC)
#        NGINX_PROXY_OPTS extra directives in the nginx proxy's location (e.g. "proxy_buffering off;" or
#                        "proxy_max_temp_file_size 0;"); by default nginx buffers as it ships, and the number of
#                        responses it spilled to a temporary file is shown per row (tmpf)
#        NICE (default -20 as root, else 0)  NOISE_PCT=10  KEEP=1 (keep the work directory)  FLASH_JAR
# needs: wrk, nginx, curl, taskset, setsid; builds target/flash.jar when it is missing or older than the sources.
set -euo pipefail
# shellcheck source=bench/bench-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
need nginx
SIZES_ARG=${1:-"1k 1m"}; RUNS=${2:-3}; SECS=${3:-10}
SERVERS=${SERVERS:-"backend flash-amped flash-sped nginx"}
PREFIX=${PREFIX:-/}; CONNS=${CONNS:-50}; UPSTREAM_KEEPALIVE=${UPSTREAM_KEEPALIVE:-64}; WARMUP=${WARMUP:-5}
[[ "$PREFIX" == /* && "$PREFIX" == */ ]] || die "PREFIX must start and end with '/', not '$PREFIX'"
[[ "$RUNS" =~ ^[1-9][0-9]*$ && "$SECS" =~ ^[1-9][0-9]*$ ]] || die "usage: bench/proxy.sh [SIZES] [RUNS] [SECONDS]"
[[ "$WARMUP" =~ ^[1-9][0-9]*$ ]] || die "WARMUP must be a number of seconds, not '$WARMUP'"
for s in $SERVERS; do
  [[ $s == backend || $s == nginx || $s =~ ^flash-(amped|sped|mt|vt|mp)$ ]] || die "unknown server '$s' (backend, nginx, flash-ARCH)"
done
SIZES=()
for s in ${SIZES_ARG//,/ }; do
  b=$(numfmt --from=iec "${s^^}" 2>/dev/null) || die "not a size: '$s'"
  SIZES+=("$b")
done
ensure_jar

mkdir -p "$WORK/www" "$WORK/flash-root"
for b in "${SIZES[@]}"; do head -c "$b" /dev/urandom > "$WORK/www/f$b.bin"; done
free_port BPORT; free_port NPORT

cat > "$WORK/backend.conf" <<NGX
worker_processes 1; daemon off; master_process off; pid $WORK/backend.pid; error_log $WORK/backend-error.log;
events { worker_connections 4096; }
http {
  sendfile on; tcp_nopush on; tcp_nodelay on; access_log off; keepalive_requests 1000000; keepalive_timeout 300s;
  open_file_cache max=1000 inactive=60s; open_file_cache_valid 60s; default_type application/octet-stream;
  client_body_temp_path $WORK/tmp; proxy_temp_path $WORK/tmp; fastcgi_temp_path $WORK/tmp;
  uwsgi_temp_path $WORK/tmp; scgi_temp_path $WORK/tmp;
  server { listen 127.0.0.1:$BPORT backlog=4096; root $WORK/www; }
}
NGX
# error_log at warn: nginx logs "an upstream response is buffered to a temporary file" at that level.
cat > "$WORK/nginx-proxy.conf" <<NGX
worker_processes 1; daemon off; master_process off; pid $WORK/nginx-proxy.pid; error_log $WORK/nginx-proxy-error.log warn;
events { worker_connections 4096; }
http {
  tcp_nodelay on; access_log off; keepalive_requests 1000000; keepalive_timeout 300s;
  client_body_temp_path $WORK/tmp; proxy_temp_path $WORK/tmp; fastcgi_temp_path $WORK/tmp;
  uwsgi_temp_path $WORK/tmp; scgi_temp_path $WORK/tmp;
  upstream backend { server 127.0.0.1:$BPORT; keepalive 64; }
  server {
    listen 127.0.0.1:$NPORT backlog=4096;
    location $PREFIX {
      proxy_pass http://backend/; proxy_http_version 1.1; proxy_set_header Connection ""; ${NGINX_PROXY_OPTS:-}
    }
  }
}
NGX

machine_note
echo "# $BENCH_NAME: sizes ${SIZES[*]} bytes, $RUNS run(s) x ${SECS}s, wrk -t1 -c$CONNS, prefix $PREFIX, servers: $SERVERS"
echo "commands:"
declare -A PORT=() TICKPID=()
start backend 1 nginx -p "$WORK" -c "$WORK/backend.conf"
PORT[backend]=$BPORT; TICKPID[backend]=${PID[backend]}
wait_url backend "http://127.0.0.1:$BPORT/f${SIZES[0]}.bin"
for s in $SERVERS; do
  case $s in
    backend) ;;
    nginx)
      start nginx 0 nginx -p "$WORK" -c "$WORK/nginx-proxy.conf"
      PORT[nginx]=$NPORT ;;
    flash-*)
      arch=${s#flash-}
      # shellcheck disable=SC2086
      flash_cmd "$WORK/flash-root" --port 0 --arch "$arch" --loops 1 --proxy "$PREFIX=http://127.0.0.1:$BPORT/" \
        --upstream-keepalive "$UPSTREAM_KEEPALIVE" --drain-timeout 1 ${FLASH_ARGS:-}
      start "$s" 0 "${FLASH_CMD[@]}"
      wait_log "$s" '^flash listening on '
      PORT[$s]=$(flash_port "$s") ;;
    *) die "unknown server '$s' (backend, nginx, flash-ARCH)" ;;
  esac
  TICKPID[$s]=${PID[$s]}
done
check_autogroups
echo "  nginx backend config ($WORK/backend.conf) and proxy config ($WORK/nginx-proxy.conf):"
sed 's/^/    | /' "$WORK/backend.conf" "$WORK/nginx-proxy.conf"

url() { # url SERVER SIZE
  if [[ $1 == backend ]]; then echo "http://127.0.0.1:${PORT[$1]}/f$2.bin"; else echo "http://127.0.0.1:${PORT[$1]}${PREFIX}f$2.bin"; fi
}
# Every path must return the backend's bytes, through every server, before anything is measured.
for s in $SERVERS; do
  for b in "${SIZES[@]}"; do
    wait_url "$s" "$(url "$s" "$b")"
    got=$(curl -sf "$(url "$s" "$b")" | cksum); want=$(cksum < "$WORK/www/f$b.bin")
    [[ "$got" == "$want" ]] || die "$s returned a different body for f$b.bin"
  done
done
launcher 1
echo "  warm-up, $WARMUP s per server and size: $(quote "${LAUNCH[@]}" wrk -t1 -c"$CONNS" -d"${WARMUP}s") URL"
echo "  measurement: $(quote "${LAUNCH[@]}" wrk -t1 -c"$CONNS" -d"${SECS}s" --timeout 30s --latency) URL"
for s in $SERVERS; do echo "    $s: URL = $(url "$s" "${SIZES[0]}")$( ((${#SIZES[@]} > 1)) && echo " (f<size>.bin for each size)")"; done
export WRK_QUIET=1
echo "warming up ..."
for s in $SERVERS; do
  for b in "${SIZES[@]}"; do run_wrk "warm-$s-$b" 1 -t1 -c"$CONNS" -d"${WARMUP}s" "$(url "$s" "$b")"; done
done
echo

tmpfiles() { grep -c 'buffered to a temporary file' "$WORK/nginx-proxy-error.log" 2>/dev/null || true; }
declare -A RPS=() P99=() EFF=()
printf '%-8s %-12s %3s %9s %8s %8s %8s %5s %5s %5s %5s %5s %6s %5s %s\n' \
  size server run req/s p50ms p99ms MB/s cpu% be% wrk% oth0% oth1% steal% tmpf notes
for b in "${SIZES[@]}"; do
  for r in $(seq "$RUNS"); do
    for s in $SERVERS; do
      tag="m-$s-$b-$r"
      bt0=$(session_ticks "${PID[backend]}"); st0=$(session_ticks "${TICKPID[$s]}"); tf0=$(tmpfiles)
      noise_begin
      run_wrk "$tag" 1 -t1 -c"$CONNS" -d"${SECS}s" --timeout 30s --latency "$(url "$s" "$b")"
      noise_end
      bt1=$(session_ticks "${PID[backend]}"); st1=$(session_ticks "${TICKPID[$s]}"); tf1=$(tmpfiles)
      f="$WORK/$tag.wrk"
      rps=$(wrk_rps "$f"); p99=$(wrk_pct "$f" 99)
      sticks=$((st1 - st0)); bticks=$((bt1 - bt0))
      if [[ $s == backend ]]; then
        c0=0; c1=$((bticks + WRK_TICKS[$tag]))   # nothing of ours on CPU 0
      else
        c0=$sticks; c1=$((bticks + WRK_TICKS[$tag]))
      fi
      cpu=$(pct "$sticks")
      eff=$(awk -v r="$rps" -v t="$sticks" -v hz="$HZ" -v d="$SECS" 'BEGIN {printf "%d", (t > 0 ? r * d * hz / t : 0)}')
      tmpf=-; [[ $s == nginx ]] && tmpf=$((tf1 - tf0))
      printf '%-8s %-12s %3d %9.0f %8s %8s %8s %5d %5d %5d ' "$b" "$s" "$r" "$rps" "$(wrk_pct "$f" 50)" "$p99" "$(wrk_mbs "$f")" "$cpu" \
        "$(pct "$bticks")" "$(pct "${WRK_TICKS[$tag]}")"
      if [[ $s == backend ]]; then NOISE_CPUS=1 noise_cols "$c0" "$c1"; else noise_cols "$c0" "$c1"; fi
      printf ' %5s %s\n' "$tmpf" "$(wrk_errors "$f")${NOISY}"
      RPS[$s,$b]+="$rps "; P99[$s,$b]+="$p99 "; EFF[$s,$b]+="$eff "
    done
  done
done

echo
echo "medians over $RUNS run(s) (min-max); req/cpu-s = requests per CPU-second of that server (for backend: of the backend"
echo "alone, which shares CPU 1 with wrk); vs nginx = ratio of median req/s to the nginx proxy's"
printf '%-8s %-12s %-28s %-26s %-24s %s\n' size server req/s p99ms req/cpu-s "vs nginx"
for b in "${SIZES[@]}"; do
  nmed=-; [[ " $SERVERS " == *" nginx "* ]] && nmed=$(printf '%s\n' ${RPS[nginx,$b]} | median)
  for s in $SERVERS; do
    # shellcheck disable=SC2086
    med=$(printf '%s\n' ${RPS[$s,$b]} | median)
    vs=-; [[ $s == flash-* || $s == nginx ]] && vs=$(ratio "$med" "$nmed")
    # shellcheck disable=SC2086
    printf '%-8s %-12s %-28s %-26s %-24s %s\n' "$b" "$s" "$(printf '%s\n' ${RPS[$s,$b]} | median_range)" \
      "$(printf '%s\n' ${P99[$s,$b]} | median_range %.2f)" "$(printf '%s\n' ${EFF[$s,$b]} | median_range)" "$vs"
  done
done
if [[ ${NOISY_RUNS:-0} -gt 0 ]]; then
  echo "WARNING: $NOISY_RUNS measurement(s) marked NOISY: another process or the hypervisor took more than $NOISE_PCT% of a CPU" \
    "during them (oth0/oth1/steal columns); rerun on a quiet machine before quoting these figures."
fi
