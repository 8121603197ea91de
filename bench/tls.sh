#!/usr/bin/env bash
# HTTPS throughput: Flash (amped and sped, --loops 1) against nginx (1 worker, ssl_protocols TLSv1.3, session tickets
# on), both with the SAME ECDSA P-256 certificate made here, on CPU 0; wrk -t1 on CPU 1. Three loads per server:
#   1k  a 1 KiB file, keep-alive (encryption of small responses, the per-request path)
#   1m  a 1 MiB file, keep-alive (bound by encryption: no sendfile under TLS without kernel TLS)
#   hs  the 1 KiB file with `Connection: close`: the server closes after every response, so wrk opens a new
#       connection and a TLS 1.3 handshake per request. CHECK before quoting: wrk's OpenSSL client may resume
#       sessions (PSK), which makes these cheaper than full handshakes; a first 2 s try gave ~30k/s for nginx on
#       this machine, far above the ~2.2k/s full handshakes the issue measured, so treat hs as resumed handshakes
#       unless shown otherwise (h2load or a Lua script that clears the session would tell)
# Servers are measured interleaved (flash-amped flash-sped nginx, flash-amped ...), RUNS times per load; each row is
# printed, then medians per server: req/s, p99, the server's requests per CPU-second, and Flash/nginx.
#
# usage: bench/tls.sh [LOADS="1k 1m hs"] [RUNS=3] [SECONDS=10]
# env:   SERVERS="flash-amped flash-sped nginx"  CONNS=50 (keep-alive loads)  HS_CONNS=16 (the handshake load)
#        WARMUP=5  FLASH_ARGS  JAVA_OPTS  NICE  NOISE_PCT  KEEP=1  FLASH_JAR   (as bench/proxy.sh)
# needs: wrk (built with OpenSSL), nginx, openssl, curl, taskset, setsid.
set -euo pipefail
# shellcheck source=bench/bench-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
need nginx openssl
LOADS=${1:-"1k 1m hs"}; RUNS=${2:-3}; SECS=${3:-10}
SERVERS=${SERVERS:-"flash-amped flash-sped nginx"}
CONNS=${CONNS:-50}; HS_CONNS=${HS_CONNS:-16}; WARMUP=${WARMUP:-5}
[[ "$RUNS" =~ ^[1-9][0-9]*$ && "$SECS" =~ ^[1-9][0-9]*$ ]] || die "usage: bench/tls.sh [LOADS] [RUNS] [SECONDS]"
for l in $LOADS; do [[ $l == 1k || $l == 1m || $l == hs ]] || die "unknown load '$l' (1k, 1m, hs)"; done
for s in $SERVERS; do [[ $s == nginx || $s =~ ^flash-(amped|sped|mt|vt|mp)$ ]] || die "unknown server '$s' (nginx, flash-ARCH)"; done
ensure_jar

mkdir -p "$WORK/www"
head -c 1024 /dev/urandom > "$WORK/www/f1k.bin"
head -c 1048576 /dev/urandom > "$WORK/www/f1m.bin"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -keyout "$WORK/site.key" \
  -out "$WORK/site.crt" -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
free_port NPORT
cat > "$WORK/nginx.conf" <<NGX
worker_processes 1; daemon off; master_process off; pid $WORK/nginx.pid; error_log $WORK/nginx-error.log;
events { worker_connections 4096; }
http {
  sendfile on; tcp_nopush on; tcp_nodelay on; access_log off; keepalive_requests 1000000; keepalive_timeout 300s;
  open_file_cache max=1000 inactive=60s; open_file_cache_valid 60s; default_type application/octet-stream;
  client_body_temp_path $WORK/tmp; proxy_temp_path $WORK/tmp; fastcgi_temp_path $WORK/tmp;
  uwsgi_temp_path $WORK/tmp; scgi_temp_path $WORK/tmp;
  ssl_protocols TLSv1.3; ssl_session_tickets on; ssl_session_cache shared:SSL:10m;
  server {
    listen 127.0.0.1:$NPORT ssl backlog=4096; root $WORK/www;
    ssl_certificate $WORK/site.crt; ssl_certificate_key $WORK/site.key;
  }
}
NGX

machine_note
echo "# $BENCH_NAME: loads $LOADS, $RUNS run(s) x ${SECS}s, wrk -t1 -c$CONNS (hs: -c$HS_CONNS, Connection: close), TLS 1.3, ECDSA P-256, servers: $SERVERS"
echo "commands:"
declare -A PORT=()
for s in $SERVERS; do
  case $s in
    nginx)
      start nginx 0 nginx -p "$WORK" -c "$WORK/nginx.conf"
      PORT[nginx]=$NPORT ;;
    flash-*)
      # shellcheck disable=SC2086
      flash_cmd "$WORK/www" --port 0 --arch "${s#flash-}" --loops 1 --tls-cert "$WORK/site.crt" --tls-key "$WORK/site.key" \
        --tls-protocols TLSv1.3 --drain-timeout 1 ${FLASH_ARGS:-}
      start "$s" 0 "${FLASH_CMD[@]}"
      wait_log "$s" '^flash listening on '
      PORT[$s]=$(sed -n 's/^flash listening on https:\/\/[^ ]*:\([0-9][0-9]*\)\/.*/\1/p' "$WORK/$s.log" | head -1) ;;
  esac
done
check_autogroups
echo "  nginx config ($WORK/nginx.conf):"; sed 's/^/    | /' "$WORK/nginx.conf"

url() { echo "https://127.0.0.1:${PORT[$1]}/f$2.bin"; }
file() { [[ $1 == 1m ]] && echo 1m || echo 1k; }
wrk_args() { # wrk_args LOAD -> connection and header flags
  if [[ $1 == hs ]]; then echo "-c$HS_CONNS -H Connection:close"; else echo "-c$CONNS"; fi
}
for s in $SERVERS; do
  for f in 1k 1m; do
    for _ in $(seq 300); do curl -sf -o /dev/null --max-time 2 --cacert "$WORK/site.crt" "$(url "$s" "$f")" && break; sleep 0.2; done
    got=$(curl -sf --cacert "$WORK/site.crt" --tlsv1.3 "$(url "$s" "$f")" | cksum); want=$(cksum < "$WORK/www/f$f.bin")
    [[ "$got" == "$want" ]] || die "$s returned a different body for f$f.bin"
  done
done
launcher 1
echo "  measurement: $(quote "${LAUNCH[@]}" wrk -t1 -d"${SECS}s" --timeout 30s --latency) {-c$CONNS | -c$HS_CONNS -H Connection:close} URL"
export WRK_QUIET=1
echo "warming up ..."
for s in $SERVERS; do
  # shellcheck disable=SC2046
  for l in $LOADS; do run_wrk "warm-$s-$l" 1 -t1 $(wrk_args "$l") -d"${WARMUP}s" "$(url "$s" "$(file "$l")")"; done
done
echo

declare -A RPS=() P99=() EFF=()
printf '%-5s %-12s %3s %9s %8s %8s %8s %5s %5s %5s %5s %6s %s\n' load server run req/s p50ms p99ms MB/s cpu% wrk% oth0% oth1% steal% notes
for l in $LOADS; do
  for r in $(seq "$RUNS"); do
    for s in $SERVERS; do
      tag="m-$s-$l-$r"
      st0=$(session_ticks "${PID[$s]}")
      noise_begin
      # shellcheck disable=SC2046
      run_wrk "$tag" 1 -t1 $(wrk_args "$l") -d"${SECS}s" --timeout 30s --latency "$(url "$s" "$(file "$l")")"
      noise_end
      st1=$(session_ticks "${PID[$s]}")
      f="$WORK/$tag.wrk"
      rps=$(wrk_rps "$f"); p99=$(wrk_pct "$f" 99); sticks=$((st1 - st0))
      eff=$(awk -v r="$rps" -v t="$sticks" -v hz="$HZ" -v d="$SECS" 'BEGIN {printf "%d", (t > 0 ? r * d * hz / t : 0)}')
      printf '%-5s %-12s %3d %9.0f %8s %8s %8s %5d %5d ' "$l" "$s" "$r" "$rps" "$(wrk_pct "$f" 50)" "$p99" "$(wrk_mbs "$f")" \
        "$(pct "$sticks")" "$(pct "${WRK_TICKS[$tag]}")"
      noise_cols "$sticks" "${WRK_TICKS[$tag]}"
      printf ' %s\n' "$(wrk_errors "$f")${NOISY}"
      RPS[$s,$l]+="$rps "; P99[$s,$l]+="$p99 "; EFF[$s,$l]+="$eff "
    done
  done
done

echo
echo "medians over $RUNS run(s) (min-max); req/cpu-s = requests per CPU-second of that server; vs nginx = ratio of median req/s"
printf '%-5s %-12s %-28s %-26s %-24s %s\n' load server req/s p99ms req/cpu-s "vs nginx"
for l in $LOADS; do
  nmed=-; [[ " $SERVERS " == *" nginx "* ]] && nmed=$(printf '%s\n' ${RPS[nginx,$l]} | median)
  for s in $SERVERS; do
    # shellcheck disable=SC2086
    med=$(printf '%s\n' ${RPS[$s,$l]} | median)
    # shellcheck disable=SC2086
    printf '%-5s %-12s %-28s %-26s %-24s %s\n' "$l" "$s" "$(printf '%s\n' ${RPS[$s,$l]} | median_range)" \
      "$(printf '%s\n' ${P99[$s,$l]} | median_range %.2f)" "$(printf '%s\n' ${EFF[$s,$l]} | median_range)" "$(ratio "$med" "$nmed")"
  done
done
if [[ ${NOISY_RUNS:-0} -gt 0 ]]; then
  echo "WARNING: $NOISY_RUNS measurement(s) marked NOISY: another process or the hypervisor took more than $NOISE_PCT% of a CPU" \
    "during them (oth0/oth1/steal columns); rerun on a quiet machine before quoting these figures."
fi
