#!/usr/bin/env bash
# bench/bodypath-trace.sh WORKDIR ROUNDS SECONDS TARGET...
#
# Flash's body-path rules side by side with nginx and lighttpd, on the harness's NASA replay or on single files,
# with the server's CPU per response and what the kernel did on the server's core (docs/performance.md section 33).
#
#   WORKDIR  a `flash bench --experiments traces --workdir WORKDIR` directory: its docroot-traces/, lists/ and the
#            nginx and lighttpd configs in srv-traces/ are reused (the servers listen on the ports written there)
#   TARGET   "nasa" (the harness's path list, wrk's Lua script) or a file name under WORKDIR/docroot-traces
#            (created when it is named fNNNN.bin: NNNN random bytes)
#
# VARIANTS (environment): Flash variants as NAME=JVM_PROPERTIES, separated by ";", each started through ./flash with
# FLASH_JAVA_OPTS, on ports 18080, 18081, ... Default:
#   "default=;sendfile1m=-Dflash.sendfileMin=0 -Dflash.sendfileMax=1048576"
#
# Each round runs every server once per target, interleaved; servers on CPU 0, wrk -t1 -c50 on CPU 1. Per run:
# requests/s, the server's user + system CPU per response (its session's ticks), and, per response, CPU 0's local
# timer interrupts (the tick, plus hrtimers such as TCP's pacing timer) and the IPIs it sent (waking wrk on CPU 1);
# oth0%, oth1% and steal% are bench-common.sh's noise columns (other processes' share of each CPU; wrk's own time
# counts in oth1%, so only oth0% and steal% flag a disturbed run).
# Needs root (perf stat on tracepoints, nice -n -20), nginx, lighttpd, wrk and perf.
set -euo pipefail
source "$(dirname "$0")/bench-common.sh"
need nginx lighttpd perf ss

[[ $# -ge 4 ]] || die "usage: $BENCH_NAME WORKDIR ROUNDS SECONDS TARGET..."
TW=$1 ROUNDS=$2 SECS=$3; shift 3
[[ $ROUNDS =~ ^[1-9][0-9]*$ && $SECS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS and SECONDS must be positive integers"
for f in docroot-traces lists/pathlist.lua lists/nasa.txt srv-traces/nginx/nginx.conf srv-traces/lighttpd/lighttpd.conf; do
  [[ -e $TW/$f ]] || die "$TW/$f missing: run ./flash bench --experiments traces --workdir $TW first"
done
ROOT=$TW/docroot-traces
for t in "$@"; do
  [[ $t == nasa || -f $ROOT/$t ]] && continue
  if [[ $t =~ ^f([0-9]+)\.bin$ ]]; then head -c "${BASH_REMATCH[1]}" /dev/urandom >"$ROOT/$t"; continue; fi
  die "no file $ROOT/$t (and not named fNNNN.bin)"
done
ulimit -n 20000
VARIANTS=${VARIANTS:-"default=;sendfile1m=-Dflash.sendfileMin=0 -Dflash.sendfileMax=1048576"}

SERVERS=()   # "NAME PORT"
port=18080
IFS=';' read -ra VS <<<"$VARIANTS"
for v in "${VS[@]}"; do
  name=${v%%=*}
  start "$name" 0 env FLASH_JAVA_OPTS="${v#*=}" "$HERE/flash" serve "$ROOT" --port $port --bind 127.0.0.1
  SERVERS+=("$name $port")
  port=$((port + 1))
done
start nginx 0 nginx -c "$TW/srv-traces/nginx/nginx.conf"
start lighttpd 0 lighttpd -D -f "$TW/srv-traces/lighttpd/lighttpd.conf"
SERVERS+=("nginx $(awk '/listen/ {n = split($2, a, ":"); print a[n] + 0; exit}' "$TW/srv-traces/nginx/nginx.conf")"
          "lighttpd $(awk -F' *= *' '/server.port/ {print $2 + 0; exit}' "$TW/srv-traces/lighttpd/lighttpd.conf")")
first=$(head -1 "$TW/lists/nasa.txt")
for s in "${SERVERS[@]}"; do read -r n p <<<"$s"; wait_url "$n" "http://127.0.0.1:$p$first" 120; done
check_autogroups

wrk_args() { # TARGET PORT
  if [[ $1 == nasa ]]; then echo "-s $TW/lists/pathlist.lua http://127.0.0.1:$2 -- $TW/lists/nasa.txt"
  else echo "http://127.0.0.1:$2/$1"; fi
}
echo "warm-up: 10 s per server and target"
for t in "$@"; do for s in "${SERVERS[@]}"; do read -r n p <<<"$s"
  # shellcheck disable=SC2046
  taskset -c 1 wrk -t1 -c50 -d10s $(wrk_args "$t" "$p") >/dev/null
done; done

printf '%-10s %-13s %5s %9s %8s %7s %7s %5s %5s %6s\n' server target round req/s us/resp timers ipis oth0% oth1% steal%
for t in "$@"; do for r in $(seq "$ROUNDS"); do for s in "${SERVERS[@]}"; do
  read -r n p <<<"$s"
  c0=$(session_ticks "${PID[$n]}"); noise_begin
  # shellcheck disable=SC2046
  perf stat -C 0 -e irq_vectors:local_timer_entry,ipi:ipi_send_cpu -x, -o "$WORK/perf" -- \
    taskset -c 1 wrk -t1 -c50 -d"${SECS}s" $(wrk_args "$t" "$p") >"$WORK/wrk" 2>&1
  noise_end; c1=$(session_ticks "${PID[$n]}")
  rps=$(wrk_rps "$WORK/wrk")
  awk -v n="$n" -v t="$t" -v r="$r" -v rps="${rps:-0}" -v secs="$SECS" -v hz="$HZ" -v dc="$((c1 - c0))" \
      -v oth="$(noise_cols "$((c1 - c0))" 0)" '
    !/^#/ && NF { split($0, f, ","); if (f[3] ~ /local_timer/) tm = f[1]; else ipi = f[1] }
    END { resp = rps * secs; if (resp == 0) resp = 1
          printf "%-10s %-13s %5d %9.0f %8.2f %7.3f %7.3f %s\n", n, t, r, rps, dc * 1e6 / hz / resp, tm / resp, ipi / resp, oth }' \
    "$WORK/perf"
done; done; done
