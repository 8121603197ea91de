#!/usr/bin/env bash
# HTTPS throughput: Flash (amped and sped, --loops 1) against nginx (1 worker, ssl_protocols TLSv1.3, session tickets
# on), both with the SAME ECDSA P-256 certificate made here, on CPU 0; the client on CPU 1. Loads:
#   1k    a 1 KiB file, keep-alive (encryption of small responses, the per-request path)
#   1m    a 1 MiB file, keep-alive (bound by encryption: no sendfile under TLS without kernel TLS)
#   hs    the 1 KiB file with `Connection: close` (set by a Lua script: wrk drops `-H Connection:close`): the server
#         closes after every response, so wrk opens a new connection and a TLS 1.3 handshake per request. wrk's
#         OpenSSL RESUMES sessions (PSK from a ticket): the check below counts them with nginx's $ssl_session_reused
#         (1,565 resumed, 16 full in 1 s), so these are resumed handshakes
#   full  a FULL TLS 1.3 handshake (certificate, ECDSA signature, ECDHE) per request: HS_CONNS parallel
#         `openssl s_time -new -www /f1k.bin` (each a new connection, no session offered, HTTP/1.0 so the server
#         closes). h2load --h1 is no use here: nghttp2 1.52 resumes every reconnection (4 full, 95,530 resumed in a
#         test against nginx) and with Connection: close does not stop at -D. Checked before measuring: a 1 s run
#         against a second nginx server (same process, same certificate, an access log of $ssl_session_reused) must
#         log no reused session and one request per connection. The client, not the server, decides whether to
#         offer a ticket, so the same clients make full handshakes against Flash too
#   cold  random files of a COLD data set (COLD_FILES files of COLD_KB KiB under the document root, on the disk),
#         keep-alive, their pages dropped with POSIX_FADV_DONTNEED before each run and every EVICT_MS during it (an
#         evictor on CPU 1): disk reads under TLS, where amped's helpers should beat sped's blocking loop; the
#         summary adds amped / sped
# Servers are measured interleaved (flash-amped flash-sped nginx, flash-amped ...), RUNS times per load; each row is
# printed, then medians per server: req/s, p99, the server's requests per CPU-second, and Flash/nginx.
#
# usage: bench/tls.sh [LOADS="1k 1m hs"] [RUNS=3] [SECONDS=10]      (also: full, cold)
# env:   SERVERS="flash-amped flash-sped nginx"  CONNS=50 (keep-alive loads)  HS_CONNS=16 (hs and full)
#        COLD_FILES=20000  COLD_KB=16  EVICT_MS=1000 (cold; 0: evict only before each run)
#        (a server flash-ARCH-ENGINE, e.g. flash-amped-jdk, runs Flash with --tls-engine ENGINE: jdk or openssl)
#        WARMUP=5  FLASH_ARGS  JAVA_OPTS  NICE  NOISE_PCT  KEEP=1  FLASH_JAR   (as bench/proxy.sh)
# needs: wrk (built with OpenSSL), nginx, openssl, curl, taskset, setsid; python3 (cold).
set -euo pipefail
# shellcheck source=bench/bench-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
need nginx openssl
LOADS=${1:-"1k 1m hs"}; RUNS=${2:-3}; SECS=${3:-10}
SERVERS=${SERVERS:-"flash-amped flash-sped nginx"}
CONNS=${CONNS:-50}; HS_CONNS=${HS_CONNS:-16}; WARMUP=${WARMUP:-5}
COLD_FILES=${COLD_FILES:-20000}; COLD_KB=${COLD_KB:-16}; EVICT_MS=${EVICT_MS:-1000}
[[ "$RUNS" =~ ^[1-9][0-9]*$ && "$SECS" =~ ^[1-9][0-9]*$ ]] || die "usage: bench/tls.sh [LOADS] [RUNS] [SECONDS]"
for l in $LOADS; do [[ $l =~ ^(1k|1m|hs|full|cold)$ ]] || die "unknown load '$l' (1k, 1m, hs, full, cold)"; done
has_load() { [[ " $LOADS " == *" $1 "* ]]; }
has_load cold && need python3
for s in $SERVERS; do
  [[ $s == nginx || $s =~ ^flash-(amped|sped|mt|vt|mp)(-(jdk|openssl))?$ ]] || die "unknown server '$s' (nginx, flash-ARCH, flash-ARCH-ENGINE)"
done
ensure_jar

mkdir -p "$WORK/www"
head -c 1024 /dev/urandom > "$WORK/www/f1k.bin"
head -c 1048576 /dev/urandom > "$WORK/www/f1m.bin"
if has_load cold; then
  # $WORK is under /tmp, on the disk here (not a tmpfs: check `df /tmp`), so dropped pages are read from the device.
  make_cold_set "$WORK/www/cold"
fi
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -keyout "$WORK/site.key" \
  -out "$WORK/site.crt" -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
free_port NPORT; free_port VPORT
echo 'wrk.headers["Connection"] = "close"' > "$WORK/close.lua"
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
  # Only for the resumption check before measuring (hs, full): whether each connection resumed a session.
  log_format sess '\$ssl_session_reused \$ssl_protocol \$connection_requests';
  server {
    listen 127.0.0.1:$VPORT ssl backlog=4096; root $WORK/www; access_log $WORK/nginx-sess.log sess;
    ssl_certificate $WORK/site.crt; ssl_certificate_key $WORK/site.key;
  }
}
NGX

machine_note
echo "# $BENCH_NAME: loads $LOADS, $RUNS run(s) x ${SECS}s, wrk -t1 -c$CONNS (hs: -c$HS_CONNS, Connection: close by close.lua; full: $HS_CONNS x openssl s_time -new; cold: $COLD_FILES x $COLD_KB KiB, evicted every $EVICT_MS ms), TLS 1.3, ECDSA P-256, servers: $SERVERS"
echo "commands:"
declare -A PORT=()
for s in $SERVERS; do
  case $s in
    nginx)
      start nginx 0 nginx -p "$WORK" -c "$WORK/nginx.conf"
      PORT[nginx]=$NPORT ;;
    flash-*)
      # shellcheck disable=SC2086
      arch=${s#flash-}; engine=()
      if [[ $arch == *-* ]]; then engine=(--tls-engine "${arch#*-}"); arch=${arch%%-*}; fi
      flash_cmd "$WORK/www" --port 0 --arch "$arch" --loops 1 --tls-cert "$WORK/site.crt" --tls-key "$WORK/site.key" \
        --tls-protocols TLSv1.3 --drain-timeout 1 "${engine[@]}" ${FLASH_ARGS:-}
      start "$s" 0 "${FLASH_CMD[@]}"
      wait_log "$s" '^flash listening on '
      PORT[$s]=$(sed -n 's/^flash listening on https:\/\/[^ ]*:\([0-9][0-9]*\)\/.*/\1/p' "$WORK/$s.log" | head -1) ;;
  esac
done
check_autogroups
echo "  nginx config ($WORK/nginx.conf):"; sed 's/^/    | /' "$WORK/nginx.conf"

url() { echo "https://127.0.0.1:${PORT[$1]}/f$2.bin"; }
file() { [[ $1 == 1m ]] && echo 1m || echo 1k; }
wrk_args() { # wrk_args LOAD -> connection and header flags (full uses run_stime)
  case $1 in
    # A Lua script, not `-H Connection:close`: wrk drops a -H header without a space after the colon (nginx's
    # $connection_requests showed 16 keep-alive connections serving thousands of requests each), and the words of
    # this function's output are split on spaces.
    hs) echo "-c$HS_CONNS -s $WORK/close.lua" ;;
    cold) echo "-c$CONNS -s $WORK/cold.lua" ;;
    *) echo "-c$CONNS" ;;
  esac
}
# run_stime TAG CPU SECONDS PORT: HS_CONNS `openssl s_time -new` in parallel, each a new connection and a full
# handshake per request; $WORK/TAG.wrk gets "s_time: CONNECTIONS connections in MS ms", the client's CPU ticks go
# to WRK_TICKS[TAG] (as run_wrk).
run_stime() {
  local tag=$1 cpu=$2
  export WRK_OUT="$WORK/$tag.wrk" ST_N=$HS_CONNS ST_D=$3 ST_PORT=$4 ST_CA="$WORK/site.crt"
  launcher "$cpu"
  # shellcheck disable=SC2016
  "${LAUNCH[@]}" sh -c 't0=$(date +%s%N); i=0
    while [ $i -lt "$ST_N" ]; do
      openssl s_time -connect "127.0.0.1:$ST_PORT" -new -time "$ST_D" -www /f1k.bin -CAfile "$ST_CA" > "$WRK_OUT.$i" 2>&1 &
      i=$((i + 1))
    done
    wait; t1=$(date +%s%N)
    c=$(cat "$WRK_OUT".[0-9]* | awk "/connections in .* real seconds/ {s += \$1} END {print s + 0}")
    echo "s_time: $c connections in $(( (t1 - t0) / 1000000 )) ms" > "$WRK_OUT"
    read -r st < /proc/$$/stat; echo "${st#*) }" > "$WRK_OUT.stat"' &
  local p=$!; SESSIONS+=("$p")
  finish_wrk "$tag" "$p"
}
# run_load TAG LOAD SERVER SECONDS [MORE-WRK-ARGS]: the client for that load.
run_load() {
  local tag=$1 l=$2 s=$3 d=$4; shift 4
  # shellcheck disable=SC2046
  if [[ $l == full ]]; then run_stime "$tag" 1 "$d" "${PORT[$s]}"
  elif [[ $l == cold ]]; then run_wrk "$tag" 1 -t1 $(wrk_args "$l") -d"${d}s" "$@" "https://127.0.0.1:${PORT[$s]}/"
  else run_wrk "$tag" 1 -t1 $(wrk_args "$l") -d"${d}s" "$@" "$(url "$s" "$(file "$l")")"; fi
}
st_rps() { awk '/^s_time:/ {printf "%.1f", ($5 > 0 ? $2 * 1000 / $5 : 0)}' "$1"; }
for s in $SERVERS; do
  for f in 1k 1m; do
    for _ in $(seq 300); do curl -sf -o /dev/null --max-time 2 --cacert "$WORK/site.crt" "$(url "$s" "$f")" && break; sleep 0.2; done
    got=$(curl -sf --cacert "$WORK/site.crt" --tlsv1.3 "$(url "$s" "$f")" | cksum); want=$(cksum < "$WORK/www/f$f.bin")
    [[ "$got" == "$want" ]] || die "$s returned a different body for f$f.bin"
  done
  if has_load cold; then
    got=$(curl -sf --cacert "$WORK/site.crt" "https://127.0.0.1:${PORT[$s]}/cold/f0.bin" | cksum); want=$(cksum < "$WORK/www/cold/f0.bin")
    [[ "$got" == "$want" ]] || die "$s returned a different body for cold/f0.bin"
  fi
done

# Resumed or full? nginx logs $ssl_session_reused ("r" or ".") per request on its second server (VPORT); one second
# of each handshake load's client against it says what that client does (it offers a ticket or not, whatever the
# server), and $connection_requests = 1 that every request had a connection (and a handshake) of its own.
PORT[nginx-sess]=$VPORT
for l in hs full; do
  has_load $l || continue
  : > "$WORK/nginx-sess.log"
  WRK_QUIET=1 run_load "check-$l" "$l" nginx-sess 1
  awk -v l="$l" '{n++; if ($1 == "r") r++; if ($3 != 1) k++} END {printf "  handshake check (%s, 1 s against nginx, $ssl_session_reused): %d connections, %d resumed, %d full, %d with more than one request\n", l, n, r, n - r, k}' "$WORK/nginx-sess.log"
  if awk '$3 != 1 {bad=1} END {exit !bad}' "$WORK/nginx-sess.log"; then
    die "the $l load kept connections alive: it would not measure handshakes"
  fi
  if [[ $l == full ]] && awk '$1 == "r" {bad=1} END {exit !bad}' "$WORK/nginx-sess.log"; then
    die "the full load resumed sessions: it would not measure full handshakes"
  fi
  [[ -s "$WORK/nginx-sess.log" ]] || die "the $l check made no request (see $WORK/check-$l.wrk)"
done
launcher 1
echo "  measurement: $(quote "${LAUNCH[@]}" wrk -t1 -d"${SECS}s" --timeout 30s --latency) {-c$CONNS | -c$HS_CONNS -s $WORK/close.lua (Connection: close) | -c$CONNS -s $WORK/cold.lua} URL"
has_load full && echo "  measurement (full): $(quote "${LAUNCH[@]}" sh -c) '$HS_CONNS x openssl s_time -connect 127.0.0.1:PORT -new -time $SECS -www /f1k.bin -CAfile $WORK/site.crt &; wait'"
has_load cold && echo "  eviction (cold): python3 $WORK/evict.py $WORK/www/cold 0 before each run; $(quote "${LAUNCH[@]}" python3 "$WORK/evict.py" "$WORK/www/cold" "$EVICT_MS") during it"
export WRK_QUIET=1
echo "warming up ..."
for s in $SERVERS; do
  for l in $LOADS; do run_load "warm-$s-$l" "$l" "$s" "$WARMUP"; done
done
echo

declare -A RPS=() P99=() EFF=()
printf '%-5s %-19s %3s %9s %8s %8s %8s %5s %5s %5s %5s %6s %s\n' load server run req/s p50ms p99ms MB/s cpu% wrk% oth0% oth1% steal% notes
for l in $LOADS; do
  for r in $(seq "$RUNS"); do
    for s in $SERVERS; do
      tag="m-$s-$l-$r"
      evictor=
      if [[ $l == cold ]]; then
        python3 "$WORK/evict.py" "$WORK/www/cold" 0
        if ((EVICT_MS > 0)); then launcher 1; "${LAUNCH[@]}" python3 "$WORK/evict.py" "$WORK/www/cold" "$EVICT_MS" & evictor=$!; fi
      fi
      st0=$(session_ticks "${PID[$s]}")
      noise_begin
      run_load "$tag" "$l" "$s" "$SECS" --timeout 30s --latency
      noise_end
      st1=$(session_ticks "${PID[$s]}")
      if [[ -n $evictor ]]; then kill "$evictor" 2>/dev/null || true; wait "$evictor" 2>/dev/null || true; fi
      f="$WORK/$tag.wrk"
      if [[ $l == full ]]; then # s_time prints no latencies
        rps=$(st_rps "$f"); p50=-; p99=-; mbs=-; errs=""
      else
        rps=$(wrk_rps "$f"); p50=$(wrk_pct "$f" 50); p99=$(wrk_pct "$f" 99); mbs=$(wrk_mbs "$f"); errs=$(wrk_errors "$f")
      fi
      sticks=$((st1 - st0))
      eff=$(awk -v r="$rps" -v t="$sticks" -v hz="$HZ" -v d="$SECS" 'BEGIN {printf "%d", (t > 0 ? r * d * hz / t : 0)}')
      printf '%-5s %-19s %3d %9.0f %8s %8s %8s %5d %5d ' "$l" "$s" "$r" "$rps" "$p50" "$p99" "$mbs" \
        "$(pct "$sticks")" "$(pct "${WRK_TICKS[$tag]}")"
      noise_cols "$sticks" "${WRK_TICKS[$tag]}"
      printf ' %s\n' "${errs}${NOISY}"
      RPS[$s,$l]+="$rps "; P99[$s,$l]+="$p99 "; EFF[$s,$l]+="$eff "
    done
  done
done

echo
echo "medians over $RUNS run(s) (min-max); req/cpu-s = requests per CPU-second of that server; vs nginx = ratio of median req/s"
printf '%-5s %-19s %-28s %-26s %-24s %s\n' load server req/s p99ms req/cpu-s "vs nginx"
for l in $LOADS; do
  nmed=-; [[ " $SERVERS " == *" nginx "* ]] && nmed=$(printf '%s\n' ${RPS[nginx,$l]} | median)
  for s in $SERVERS; do
    # shellcheck disable=SC2086
    med=$(printf '%s\n' ${RPS[$s,$l]} | median)
    # shellcheck disable=SC2086
    printf '%-5s %-19s %-28s %-26s %-24s %s\n' "$l" "$s" "$(printf '%s\n' ${RPS[$s,$l]} | median_range)" \
      "$(printf '%s\n' ${P99[$s,$l]} | median_range %.2f)" "$(printf '%s\n' ${EFF[$s,$l]} | median_range)" "$(ratio "$med" "$nmed")"
  done
done
if has_load cold && [[ " $SERVERS " == *" flash-amped "* && " $SERVERS " == *" flash-sped "* ]]; then
  # shellcheck disable=SC2086
  echo "cold: flash-amped / flash-sped = $(ratio "$(printf '%s\n' ${RPS[flash-amped,cold]} | median)" "$(printf '%s\n' ${RPS[flash-sped,cold]} | median)")"
fi
has_load full && echo "full: req/s = full handshakes/s (s_time connections over the wall time of the batch); no latencies"
if [[ ${NOISY_RUNS:-0} -gt 0 ]]; then
  echo "WARNING: $NOISY_RUNS measurement(s) marked NOISY: another process or the hypervisor took more than $NOISE_PCT% of a CPU" \
    "during them (oth0/oth1/steal columns); rerun on a quiet machine before quoting these figures."
fi
