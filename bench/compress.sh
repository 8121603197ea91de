#!/usr/bin/env bash
# On-the-fly compression throughput: a 64 KiB HTML page of real prose (the README and docs/, HTML-escaped into
# paragraphs) asked for with `Accept-Encoding: gzip`, from Flash with --compress (--loops 1; the gzip body is
# compressed once and then served from its cache) and from nginx with `gzip on; gzip_comp_level 6` (1 worker,
# sendfile, open_file_cache, access_log off; nginx compresses again for every response). Servers on CPU 0, wrk
# -t1 -cCONNS keep-alive --latency on CPU 1, measured interleaved (flash nginx flash nginx ...) RUNS times; each row
# is printed, then medians per server: req/s, p99, requests per server CPU-second, bytes per response, Flash/nginx.
#
# usage: bench/compress.sh [RUNS=5] [SECONDS=10]
# env:   SERVERS="flash nginx"   (flash-ARCH for another architecture: flash-sped, flash-mt ...)
#        AE=gzip           the Accept-Encoding wrk sends (e.g. "zstd" for Flash's zstd; nginx then sends identity)
#        LEVEL=6           gzip level of both (Flash --compress-level, nginx gzip_comp_level)
#        CONNS=50  WARMUP=5 (seconds of wrk per server before measuring: JIT warm-up and Flash's cache filled)
#        FLASH_ARGS        extra `flash serve` flags (after --loops 1 --compress, so they can override them)
#        JAVA_OPTS         extra JVM flags (after ./flash's --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC)
#        NICE (default -20 as root, else 0)  NOISE_PCT=10  KEEP=1 (keep the work directory)  FLASH_JAR
# needs: wrk, nginx, curl, gzip, taskset, setsid; builds target/flash.jar when it is missing or older than the sources.
set -euo pipefail
# shellcheck source=bench/bench-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
need nginx gzip cmp
RUNS=${1:-5}; SECS=${2:-10}
SERVERS=${SERVERS:-"flash nginx"}
AE=${AE:-gzip}; LEVEL=${LEVEL:-6}; CONNS=${CONNS:-50}; WARMUP=${WARMUP:-5}
[[ "$RUNS" =~ ^[1-9][0-9]*$ && "$SECS" =~ ^[1-9][0-9]*$ ]] || die "usage: bench/compress.sh [RUNS] [SECONDS]"
[[ "$WARMUP" =~ ^[1-9][0-9]*$ ]] || die "WARMUP must be a number of seconds, not '$WARMUP'"
[[ "$LEVEL" =~ ^[1-9]$ ]] || die "LEVEL must be 1 to 9, not '$LEVEL'"
for s in $SERVERS; do
  [[ $s == nginx || $s == flash || $s =~ ^flash-(amped|sped|mt|vt|mp)$ ]] || die "unknown server '$s' (flash, flash-ARCH, nginx)"
done
ensure_jar

# The page: the project's own prose, escaped and cut into paragraphs, exactly 64 KiB. Real text compresses as a real
# site does (about 3:1 with gzip -6); repeated or random bytes would flatter or defeat the compressor.
mkdir -p "$WORK/www"
PAGE="$WORK/www/page.html"
{
  printf '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Flash</title></head><body>\n'
  for _ in 1 2 3 4 5 6 7 8; do cat "$HERE/README.md" "$HERE"/docs/*.md; done | head -c 200000 | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' \
    | awk 'BEGIN {RS=""} {gsub(/\n/, " "); print "<p>" $0 "</p>"}'
} | head -c $((65536 - 15)) > "$PAGE" || true
printf '</body></html>\n' >> "$PAGE"
[[ $(stat -c %s "$PAGE") == 65536 ]] || die "the page is $(stat -c %s "$PAGE") bytes, not 65536"
GZ6=$(gzip -c -"$LEVEL" "$PAGE" | wc -c)

free_port NPORT
cat > "$WORK/nginx.conf" <<NGX
worker_processes 1; daemon off; master_process off; pid $WORK/nginx.pid; error_log $WORK/nginx-error.log;
events { worker_connections 4096; }
http {
  sendfile on; tcp_nopush on; tcp_nodelay on; access_log off; keepalive_requests 1000000; keepalive_timeout 300s;
  open_file_cache max=1000 inactive=60s; open_file_cache_valid 60s;
  types { text/html html; text/css css; application/javascript js; } default_type application/octet-stream;
  gzip on; gzip_comp_level $LEVEL; gzip_vary on; gzip_min_length 1024;
  gzip_types text/css application/javascript application/json image/svg+xml;  # text/html is always on the list
  client_body_temp_path $WORK/tmp; proxy_temp_path $WORK/tmp; fastcgi_temp_path $WORK/tmp;
  uwsgi_temp_path $WORK/tmp; scgi_temp_path $WORK/tmp;
  server { listen 127.0.0.1:$NPORT backlog=4096; root $WORK/www; }
}
NGX

machine_note
echo "# $BENCH_NAME: 64 KiB page (gzip -$LEVEL: $GZ6 bytes), $RUNS run(s) x ${SECS}s, wrk -t1 -c$CONNS, Accept-Encoding: $AE, servers: $SERVERS"
echo "commands:"
declare -A PORT=()
for s in $SERVERS; do
  case $s in
    nginx)
      start nginx 0 nginx -p "$WORK" -c "$WORK/nginx.conf"
      PORT[nginx]=$NPORT ;;
    flash*)
      arch=amped; [[ $s == flash-* ]] && arch=${s#flash-}
      # shellcheck disable=SC2086
      flash_cmd "$WORK/www" --port 0 --arch "$arch" --loops 1 --compress --compress-level "$LEVEL" --drain-timeout 1 \
        ${FLASH_ARGS:-}
      start "$s" 0 "${FLASH_CMD[@]}"
      wait_log "$s" '^flash listening on '
      PORT[$s]=$(flash_port "$s") ;;
  esac
done
check_autogroups
echo "  nginx config ($WORK/nginx.conf):"
sed 's/^/    | /' "$WORK/nginx.conf"

URLPATH=/page.html
url() { echo "http://127.0.0.1:${PORT[$1]}$URLPATH"; }
# Every server must send the page, compressed as asked, decoding to the same bytes, before anything is measured;
# its response size (head + body) is printed per server.
declare -A RESP=()
for s in $SERVERS; do
  wait_url "$s" "$(url "$s")"
  curl -sf -H "Accept-Encoding: $AE" -D "$WORK/$s.head" -o "$WORK/$s.body" "$(url "$s")" || die "$s did not answer"
  enc=$(awk -F': *' 'tolower($1)=="content-encoding" {gsub(/\r/, "", $2); print $2}' "$WORK/$s.head")
  case $enc in
    gzip) gzip -dc < "$WORK/$s.body" | cmp -s - "$PAGE" || die "$s: the gzip body does not decode to the page" ;;
    zstd) need zstd; zstd -dc < "$WORK/$s.body" | cmp -s - "$PAGE" || die "$s: the zstd body does not decode to the page" ;;
    "") cmp -s "$WORK/$s.body" "$PAGE" || die "$s: the body is not the page" ;;
    *) die "$s answered with Content-Encoding '$enc'" ;;
  esac
  RESP[$s]=$(( $(stat -c %s "$WORK/$s.head") + $(stat -c %s "$WORK/$s.body") ))
  echo "    $s: Content-Encoding ${enc:-none}, response ${RESP[$s]} bytes ($(stat -c %s "$WORK/$s.body") body)"
done
launcher 1
WRK_ARGS=(-t1 -c"$CONNS" -H "Accept-Encoding: $AE")
echo "  warm-up, $WARMUP s per server: $(quote "${LAUNCH[@]}" wrk "${WRK_ARGS[@]}" -d"${WARMUP}s") URL"
echo "  measurement: $(quote "${LAUNCH[@]}" wrk "${WRK_ARGS[@]}" -d"${SECS}s" --timeout 30s --latency) URL"
for s in $SERVERS; do echo "    $s: URL = $(url "$s")"; done
export WRK_QUIET=1
echo "warming up ..."
for s in $SERVERS; do run_wrk "warm-$s" 1 "${WRK_ARGS[@]}" -d"${WARMUP}s" "$(url "$s")"; done
echo

# wrk_bytes FILE: bytes read (heads and bodies), from "N requests in T, X read".
wrk_bytes() {
  awk '/ requests in / {v=$(NF-1); n=v; sub(/[A-Za-z]+$/, "", n); u=v; sub(/^[0-9.]+/, "", u);
       m = (u=="KB") ? 1024 : (u=="MB") ? 1048576 : (u=="GB") ? 1073741824 : 1; printf "%.0f", n * m}' "$1"
}
declare -A RPS=() P99=() EFF=() BPR=()
printf '%-12s %3s %9s %8s %8s %8s %9s %5s %5s %5s %5s %6s %s\n' \
  server run req/s p50ms p99ms MB/s B/resp cpu% wrk% oth0% oth1% steal% notes
for r in $(seq "$RUNS"); do
  for s in $SERVERS; do
    tag="m-$s-$r"
    st0=$(session_ticks "${PID[$s]}")
    noise_begin
    run_wrk "$tag" 1 "${WRK_ARGS[@]}" -d"${SECS}s" --timeout 30s --latency "$(url "$s")"
    noise_end
    st1=$(session_ticks "${PID[$s]}")
    f="$WORK/$tag.wrk"
    rps=$(wrk_rps "$f"); p99=$(wrk_pct "$f" 99); n=$(wrk_requests "$f")
    sticks=$((st1 - st0))
    eff=$(awk -v r="$rps" -v t="$sticks" -v hz="$HZ" -v d="$SECS" 'BEGIN {printf "%d", (t > 0 ? r * d * hz / t : 0)}')
    bpr=$(awk -v b="$(wrk_bytes "$f")" -v n="$n" 'BEGIN {printf "%d", (n > 0 ? b / n : 0)}')
    printf '%-12s %3d %9.0f %8s %8s %8s %9s %5d %5d ' "$s" "$r" "$rps" "$(wrk_pct "$f" 50)" "$p99" "$(wrk_mbs "$f")" "$bpr" \
      "$(pct "$sticks")" "$(pct "${WRK_TICKS[$tag]}")"
    noise_cols "$sticks" "${WRK_TICKS[$tag]}"
    printf ' %s\n' "$(wrk_errors "$f")${NOISY}"
    RPS[$s]+="$rps "; P99[$s]+="$p99 "; EFF[$s]+="$eff "; BPR[$s]+="$bpr "
  done
done

echo
echo "medians over $RUNS run(s) (min-max); req/cpu-s = requests per CPU-second of that server; B/resp = bytes read by wrk"
echo "per response (head and body, from wrk's total; curl's exact count is above); vs nginx = ratio of median req/s"
printf '%-12s %-28s %-26s %-24s %-10s %s\n' server req/s p99ms req/cpu-s B/resp "vs nginx"
nmed=-; [[ " $SERVERS " == *" nginx "* ]] && nmed=$(printf '%s\n' ${RPS[nginx]} | median)
for s in $SERVERS; do
  # shellcheck disable=SC2086
  med=$(printf '%s\n' ${RPS[$s]} | median)
  # shellcheck disable=SC2086
  printf '%-12s %-28s %-26s %-24s %-10s %s\n' "$s" "$(printf '%s\n' ${RPS[$s]} | median_range)" \
    "$(printf '%s\n' ${P99[$s]} | median_range %.2f)" "$(printf '%s\n' ${EFF[$s]} | median_range)" \
    "$(printf '%s\n' ${BPR[$s]} | median)" "$(ratio "$med" "$nmed")"
done
if [[ ${NOISY_RUNS:-0} -gt 0 ]]; then
  echo "WARNING: $NOISY_RUNS measurement(s) marked NOISY: another process or the hypervisor took more than $NOISE_PCT% of a CPU" \
    "during them (oth0/oth1/steal columns); rerun on a quiet machine before quoting these figures."
fi
