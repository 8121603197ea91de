#!/usr/bin/env bash
# CGI throughput: requests/s for a trivial shell CGI script (`#!/bin/sh`, a Content-Type line and "hello"), through
# Flash's --cgi (every arch in ARCHS, --loops 1 for amped/sped) and through lighttpd's mod_cgi (Debian's lighttpd,
# one process), side by side: servers on CPU 0, wrk -t1 -cCONNS on CPU 1. Each request forks and execs the script;
# the script's processes run wherever the parent's CPU mask lets them (the server's: CPU 0), so this measures the
# server's fork/exec/pipe path plus the shell's start-up, the same for both. Interleaved (every server once, then
# again), RUNS times; rows per measurement, then medians and the ratio to lighttpd.
#
# usage: bench/cgi.sh [RUNS=3] [SECONDS=10]
# env:   ARCHS="amped sped"  CONNS=16  WARMUP=3  NICE (default -20 as root)  NOISE_PCT=10  KEEP=1  FLASH_JAR
#        FLASH_ARGS (extra flags for every Flash)  LIGHTTPD=1 (0: Flash only)
# needs: wrk, curl, taskset, setsid, lighttpd (apt-get install lighttpd) unless LIGHTTPD=0.
set -euo pipefail
# shellcheck source=bench/bench-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
RUNS=${1:-3}; SECS=${2:-10}
[[ "$RUNS" =~ ^[1-9][0-9]*$ && "$SECS" =~ ^[1-9][0-9]*$ ]] || die "usage: bench/cgi.sh [RUNS] [SECONDS]"
ARCHS=${ARCHS:-"amped sped"}; CONNS=${CONNS:-16}; WARMUP=${WARMUP:-3}; LIGHTTPD=${LIGHTTPD:-1}
LIGHTTPD_BIN=${LIGHTTPD_BIN:-/usr/sbin/lighttpd}
SERVERS=""
for a in $ARCHS; do
  case $a in amped|sped|mt|vt|mp) SERVERS+="flash-$a " ;; *) die "unknown arch '$a' (amped sped mt vt mp)" ;; esac
done
if [[ $LIGHTTPD == 1 ]]; then
  [[ -x $LIGHTTPD_BIN ]] || die "lighttpd not found at $LIGHTTPD_BIN (apt-get install lighttpd, or LIGHTTPD=0)"
  SERVERS+="lighttpd"
fi
ensure_jar

mkdir -p "$WORK/www" "$WORK/cgi-bin"
echo hello > "$WORK/www/index.html"
cat > "$WORK/cgi-bin/hello.sh" <<'SH'
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\nhello\n'
SH
chmod 755 "$WORK/cgi-bin/hello.sh"
free_port LPORT
cat > "$WORK/lighttpd.conf" <<CONF
server.document-root = "$WORK/www"
server.port = $LPORT
server.bind = "127.0.0.1"
server.errorlog = "$WORK/lighttpd-error.log"
server.max-connections = 4096
server.max-keep-alive-requests = 1000000
server.modules = ("mod_alias", "mod_cgi")
alias.url = ("/cgi-bin/" => "$WORK/cgi-bin/")
\$HTTP["url"] =~ "^/cgi-bin/" { cgi.assign = ("" => "") }
CONF

machine_note
echo "# $BENCH_NAME: $RUNS run(s) x ${SECS}s, wrk -t1 -c$CONNS /cgi-bin/hello.sh (a shell CGI printing 'hello'), servers: $SERVERS"
echo "commands:"
declare -A PORT=()
for s in $SERVERS; do
  case $s in
    lighttpd)
      start lighttpd 0 "$LIGHTTPD_BIN" -D -f "$WORK/lighttpd.conf"
      PORT[lighttpd]=$LPORT ;;
    flash-*)
      a=${s#flash-}; extra=(); [[ $a == amped || $a == sped ]] && extra=(--loops 1)
      flash_cmd "$WORK/www" --port 0 --arch "$a" "${extra[@]}" --cgi "/cgi-bin=$WORK/cgi-bin" --drain-timeout 1 ${FLASH_ARGS:-}
      start "$s" 0 "${FLASH_CMD[@]}"
      wait_log "$s" '^flash listening on '
      PORT[$s]=$(flash_port "$s") ;;
  esac
done
check_autogroups
for s in $SERVERS; do
  wait_url "$s" "http://127.0.0.1:${PORT[$s]}/cgi-bin/hello.sh"
  got=$(curl -sf "http://127.0.0.1:${PORT[$s]}/cgi-bin/hello.sh")
  [[ $got == hello ]] || die "$s answered '$got' for /cgi-bin/hello.sh, not 'hello'"
done
launcher 1
echo "  measurement: $(quote "${LAUNCH[@]}" wrk -t1 -c"$CONNS" -d"${SECS}s" --timeout 10s --latency) http://127.0.0.1:PORT/cgi-bin/hello.sh"
echo "    (PORT:$(for s in $SERVERS; do printf ' %s=%s' "$s" "${PORT[$s]}"; done); warm-up $WARMUP s each)"
export WRK_QUIET=1
for s in $SERVERS; do run_wrk "warm-$s" 1 -t1 -c"$CONNS" -d"${WARMUP}s" --timeout 10s "http://127.0.0.1:${PORT[$s]}/cgi-bin/hello.sh"; done

declare -A RPS=() P99=()
printf '%-14s %3s %9s %8s %9s %5s %5s %5s %6s %s\n' server run req/s p50ms p99ms cpu0% oth0% oth1% steal% notes
for r in $(seq "$RUNS"); do
  for s in $SERVERS; do
    tag="m-$s-$r"
    noise_begin
    run_wrk "$tag" 1 -t1 -c"$CONNS" -d"${SECS}s" --timeout 10s --latency "http://127.0.0.1:${PORT[$s]}/cgi-bin/hello.sh"
    noise_end
    f="$WORK/$tag.wrk"
    rps=$(wrk_rps "$f"); p99=$(wrk_pct "$f" 99)
    # The scripts are short-lived children: CPU 0's whole busy time is the server's side of the work.
    busy0=$(( (NE0 - NB0) * 100000 / (HZ * WALL_MS) ))
    printf '%-14s %3d %9.0f %8s %9s %5d ' "$s" "$r" "$rps" "$(wrk_pct "$f" 50)" "$p99" "$busy0"
    noise_cols $((NE0 - NB0)) "${WRK_TICKS[$tag]}"
    printf ' %s\n' "$(wrk_errors "$f")${NOISY}"
    RPS[$s]+="$rps "; P99[$s]+="$p99 "
  done
done
echo
echo "medians over $RUNS run(s) (min-max); vs lighttpd = ratio of median req/s"
printf '%-14s %-28s %-30s %s\n' server req/s p99ms "vs lighttpd"
lmed=-; [[ " $SERVERS " == *" lighttpd "* ]] && lmed=$(printf '%s\n' ${RPS[lighttpd]} | median)
for s in $SERVERS; do
  med=$(printf '%s\n' ${RPS[$s]} | median)
  # shellcheck disable=SC2086
  printf '%-14s %-28s %-30s %s\n' "$s" "$(printf '%s\n' ${RPS[$s]} | median_range)" \
    "$(printf '%s\n' ${P99[$s]} | median_range %.2f)" "$(ratio "$med" "$lmed")"
done
if [[ ${NOISY_RUNS:-0} -gt 0 ]]; then
  echo "WARNING: $NOISY_RUNS measurement(s) marked NOISY: another process took more than $NOISE_PCT% of a CPU during them."
fi
