#!/usr/bin/env bash
# Isolation of static traffic from a slow upstream: static 1 KiB keep-alive throughput and p99 of Flash, for each
# architecture, alone and while SLOW_CONNS (64) other keep-alive connections wait on Flash's proxy route to an
# upstream that answers each request DELAY_MS (50) ms later (bench/SlowBackend.java: a virtual thread per connection
# that sleeps without blocking anything). The goal: a slow upstream costs amped and sped's static clients no more
# than 10% of their throughput and p99.
#
# Flash (every arch in ARCHS, all started up front, each with --proxy /slow/=http://127.0.0.1:SLOW/) on CPU 0; the
# slow backend, the static wrk (-t1 -cCONNS) and the slow wrk (-t1 -cSLOW_CONNS) on CPU 1. For each run, for each
# arch, three measurements back to back:
#   alone    the static wrk only;
#   control  the slow wrk drives the slow backend DIRECTLY (not through Flash) while the static wrk runs: the same
#            load on CPU 1 as "loaded", none on Flash (CONTROL=0 skips it);
#   loaded   the slow wrk goes through Flash's proxy route while the static wrk runs.
# (the slow wrk starts 1.5 s before the static one, which runs SECONDS, and ends after it.) Rows per measurement,
# then per arch the medians and the medians of the per-run ratios loaded/alone (the goal's figure) and
# loaded/control. The static wrk shares CPU 1 with the slow side (slow-cpu1%: its backend and wrk), and wrk is
# close to its ceiling (~60-80k small req/s on this machine): part of a loaded/alone drop can be the load
# generator's; loaded/control removes that part. slow-req/s should be near SLOW_CONNS * 1000 / DELAY_MS (1280) and
# slow-p50 near DELAY_MS.
#
# Thread- and process-per-connection archs hold a thread (mt, default 64) or a process (mp, default 32, each closing
# after 100 requests) per connection: 64 slow connections can hold them all, and the static clients then wait in the
# listen backlog. That is the architecture's behaviour, reported as such ("no static response"); ARGS_mt="--threads
# 256" shows the cost of more threads instead.
#
# PIPELINE=N (default 1: off) makes the static wrk pipeline N requests per connection (a wrk Lua script). wrk's cost
# per request then drops several-fold, so Flash's CPU 0, not the load generator on CPU 1, bounds the static
# throughput: loaded/alone then measures what the slow upstream costs Flash itself. Without it, a loop that is not
# saturated (cpu% well under 100) means the figure is the load generator's: the slow wrk's writes to Flash wake a
# thread on the other CPU, which costs CPU 1 several times what its writes to the backend next to it cost (strace
# -c of the slow wrk: write 34 us per call through Flash, 8 us direct).
#
# SLOW=php (default proxy) puts the slow connections on a PHP script instead (the CGI/FastCGI issue's isolation
# figure): `<?php usleep(DELAY_MS * 1000); echo "slow";` on php-fpm (pm=static, CHILDREN children, a pool and a Unix
# socket per arch, on CPU 1), reached through --fastcgi .php=unix:SOCK --fastcgi-connections CHILDREN; the 64 slow
# connections saturate the pool and the rest wait in Flash's FastCGI queue. Expect slow-req/s near CHILDREN * 1000 /
# DELAY_MS. The control there sends the slow wrk through an nginx pinned to CPU 1 (1 worker, fastcgi_keep_conn, a
# pool of its own with the same CHILDREN): CPU 1 carries the same slow wrk and php-fpm work as "loaded" (plus
# nginx's, about 1% of a CPU at ~160 req/s), and Flash carries none of it. nginx's CPU is not in slow-cpu1%.
#
# STATIC=cold (default hot) makes the static clients fetch random files of a data set kept out of the page cache
# (COLD_FILES files of COLD_KB KiB on the disk under /var/tmp, their pages dropped with POSIX_FADV_DONTNEED before
# each measurement and, unless EVICT_MS=0, every EVICT_MS during it by an evictor on CPU 1, which costs that CPU a
# little in every mode alike), where AMPED's helpers should beat SPED's blocking loop. Cold runs cannot be pipelined.
#
# usage: bench/isolation.sh [RUNS=3] [SECONDS=10]
# env:   ARCHS="amped sped mt vt mp"  CONNS=50  SLOW_CONNS=64  DELAY_MS=50  UPSTREAM_KEEPALIVE=64  CONTROL=1  WARMUP=5
#        PIPELINE=1  SLOW=proxy|php  CHILDREN=8 (php)  STATIC=hot|cold  COLD_FILES=20000  COLD_KB=16  EVICT_MS=1000
#        ARGS_amped="--loops 1" ARGS_sped="--loops 1" ARGS_mt="" ARGS_vt="" ARGS_mp=""   per-arch `flash serve` flags
#        FLASH_ARGS (extra flags for every arch)  JAVA_OPTS (extra JVM flags for Flash)
#        NICE (default -20 as root, else 0)  NOISE_PCT=10  KEEP=1 (keep the work directory)  FLASH_JAR
# needs: wrk, curl, taskset, setsid, a JDK 25; builds target/flash.jar when it is missing or older than the sources.
set -euo pipefail
# shellcheck source=bench/bench-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
RUNS=${1:-3}; SECS=${2:-10}
[[ "$RUNS" =~ ^[1-9][0-9]*$ && "$SECS" =~ ^[1-9][0-9]*$ ]] || die "usage: bench/isolation.sh [RUNS] [SECONDS]"
ARCHS=${ARCHS:-"amped sped mt vt mp"}
CONNS=${CONNS:-50}; SLOW_CONNS=${SLOW_CONNS:-64}; DELAY_MS=${DELAY_MS:-50}; UPSTREAM_KEEPALIVE=${UPSTREAM_KEEPALIVE:-64}
CONTROL=${CONTROL:-1}; WARMUP=${WARMUP:-5}; PIPELINE=${PIPELINE:-1}
[[ "$PIPELINE" =~ ^[1-9][0-9]*$ ]] || die "PIPELINE must be a number of requests (1: no pipelining), not '$PIPELINE'"
SLOW_LEAD=1.5   # seconds the slow connections run before the static measurement starts
SLOW=${SLOW:-proxy}; STATIC=${STATIC:-hot}; CHILDREN=${CHILDREN:-8}
COLD_FILES=${COLD_FILES:-20000}; COLD_KB=${COLD_KB:-16}; EVICT_MS=${EVICT_MS:-1000}
case $SLOW in
  proxy) SLOW_PATH=/slow/x ;;
  php) SLOW_PATH=/slow.php
       FPM=${FPM:-/usr/sbin/php-fpm8.2}; [[ -x $FPM ]] || die "php-fpm not found at $FPM (apt-get install php8.2-fpm, or set FPM)" ;;
  *) die "SLOW must be proxy or php, not '$SLOW'" ;;
esac
case $STATIC in
  hot) STATIC_PATH=/f.bin ;;
  cold) STATIC_PATH="/cold/ (random)"; need python3
        ((PIPELINE == 1)) || die "STATIC=cold cannot be pipelined (PIPELINE=$PIPELINE)" ;;
  *) die "STATIC must be hot or cold, not '$STATIC'" ;;
esac
MODES="alone loaded"; [[ "$CONTROL" == 1 ]] && MODES="alone control loaded"
[[ "$WARMUP" =~ ^[1-9][0-9]*$ ]] || die "WARMUP must be a number of seconds, not '$WARMUP'"
ensure_jar

mkdir -p "$WORK/www"
head -c 1024 /dev/urandom > "$WORK/www/f.bin"
STATIC_SCRIPT=()
STATIC_ROOT="$WORK/www"
if [[ $STATIC == cold ]]; then
  # On the disk, not in /tmp: the data must be read from a device for "cold" to mean anything.
  COLD=$(mktemp -d /var/tmp/flash-cold.XXXXXX)
  STATIC_ROOT="$COLD/www"; mkdir -p "$STATIC_ROOT"
  ln "$WORK/www/f.bin" "$STATIC_ROOT/f.bin" 2>/dev/null || cp "$WORK/www/f.bin" "$STATIC_ROOT/f.bin"
  make_cold_set "$STATIC_ROOT/cold"
  STATIC_SCRIPT=(-s "$WORK/cold.lua")
  CLEANUP_DIRS+=("$COLD")
fi
if ((PIPELINE > 1)); then
  cat > "$WORK/pipeline.lua" <<LUA
-- $PIPELINE requests per write; wrk sends the next batch once every response of this one arrived.
init = function(args)
  local r = {}
  for i = 1, $PIPELINE do r[i] = wrk.format(nil) end
  req = table.concat(r)
end
request = function() return req end
LUA
  STATIC_SCRIPT=(-s "$WORK/pipeline.lua")
fi

machine_note
if [[ $SLOW == php ]]; then expect=$((CHILDREN * 1000 / DELAY_MS)); slow_what="php-fpm x $CHILDREN sleeping ${DELAY_MS} ms"
else expect=$((SLOW_CONNS * 1000 / DELAY_MS)); slow_what="upstream delay ${DELAY_MS} ms"; fi
static_what="$STATIC_PATH (1 KiB, pipeline depth $PIPELINE)"
[[ $STATIC == cold ]] && static_what="random /cold/fN.bin of $COLD_FILES x $COLD_KB KiB, evicted every $EVICT_MS ms"
echo "# $BENCH_NAME: archs $ARCHS, $RUNS run(s) x ${SECS}s; static wrk -t1 -c$CONNS $static_what;" \
  "slow wrk -t1 -c$SLOW_CONNS $SLOW_PATH -> $slow_what (expect ~$expect req/s)"
echo "commands:"
SPORT=0
if [[ $SLOW == php ]]; then
  chmod 755 "$WORK"; mkdir -p "$WORK/www"
  echo "<?php usleep($DELAY_MS * 1000); echo \"slow\";" > "$WORK/www/slow.php"
  [[ $STATIC == cold ]] && cp "$WORK/www/slow.php" "$STATIC_ROOT/slow.php" && chmod 755 "$COLD" "$STATIC_ROOT"
  chmod -R a+rX "$WORK/www"
  printf '[global]\nerror_log = %s\ndaemonize = no\n' "$WORK/fpm-error.log" > "$WORK/fpm.conf"
  POOLS=$ARCHS; [[ $CONTROL == 1 ]] && POOLS+=" control"
  for a in $POOLS; do
    printf '[%s]\nlisten = %s\nlisten.mode = 0666\nlisten.backlog = 4096\nuser = www-data\ngroup = www-data\npm = static\npm.max_children = %s\n' \
      "$a" "$WORK/fpm-$a.sock" "$CHILDREN" >> "$WORK/fpm.conf"
  done
  start php-fpm 1 "$FPM" -F -O -R -y "$WORK/fpm.conf"
  for a in $POOLS; do
    for _ in $(seq 100); do [[ -S $WORK/fpm-$a.sock ]] && break; sleep 0.1; done
    [[ -S $WORK/fpm-$a.sock ]] || die "php-fpm did not create $WORK/fpm-$a.sock: $(cat "$WORK/php-fpm.log")"
  done
  if [[ $CONTROL == 1 ]]; then
    need nginx
    free_port SPORT
    php_nginx_conf "$WORK/nginx-control.conf" "$SPORT" "$WORK/fpm-control.sock" "$CHILDREN" 1024
    start nginx-control 1 nginx -p "$WORK" -c "$WORK/nginx-control.conf"
    wait_url nginx-control "http://127.0.0.1:$SPORT$SLOW_PATH"
  fi
else
  start slow-backend 1 "$JAVA" -XX:+UseSerialGC -Xmx128m "$HERE/bench/SlowBackend.java" 0 "$DELAY_MS" 64
  wait_log slow-backend '^slow backend listening on ' 120
  SPORT=$(sed -n 's/^slow backend listening on 127.0.0.1:\([0-9]*\) .*/\1/p' "$WORK/slow-backend.log")
fi
SLOW_SIDE=slow-backend; [[ $SLOW == php ]] && SLOW_SIDE=php-fpm
declare -A PORT=()
for a in $ARCHS; do
  case $a in amped|sped) def="--loops 1" ;; mt|vt|mp) def="" ;; *) die "unknown arch '$a' (amped sped mt vt mp)" ;; esac
  v="ARGS_$a"; args=${!v-$def}
  # shellcheck disable=SC2086
  if [[ $SLOW == php ]]; then
    slow_args=(--fastcgi ".php=unix:$WORK/fpm-$a.sock" --fastcgi-connections "$CHILDREN")
  else
    slow_args=(--proxy "/slow/=http://127.0.0.1:$SPORT/" --upstream-keepalive "$UPSTREAM_KEEPALIVE")
  fi
  flash_cmd "$STATIC_ROOT" --port 0 --arch "$a" $args "${slow_args[@]}" --drain-timeout 1 ${FLASH_ARGS:-}
  start "$a" 0 "${FLASH_CMD[@]}"
done
for a in $ARCHS; do
  wait_log "$a" '^flash listening on ' 300
  PORT[$a]=$(flash_port "$a")
  wait_url "$a" "http://127.0.0.1:${PORT[$a]}/f.bin"
  wait_url "$a" "http://127.0.0.1:${PORT[$a]}$SLOW_PATH"
done
check_autogroups
launcher 1
echo "  static wrk: $(quote "${LAUNCH[@]}" wrk -t1 -c"$CONNS" -d"${SECS}s" --timeout 30s --latency "${STATIC_SCRIPT[@]}") http://127.0.0.1:PORT/f.bin"
echo "  slow wrk:   $(quote "${LAUNCH[@]}" wrk -t1 -c"$SLOW_CONNS" -d"$((SECS + 3))s" --timeout 30s --latency) http://127.0.0.1:PORT$SLOW_PATH" \
  "(control: $(if [[ $SLOW == php ]]; then echo "http://127.0.0.1:${SPORT:-none}$SLOW_PATH, nginx on CPU 1 in front of its own pool"; else echo "http://127.0.0.1:$SPORT/x, the slow backend itself"; fi))"
echo "  (PORT per arch:$(for a in $ARCHS; do printf ' %s=%s' "$a" "${PORT[$a]}"; done); warm-up per arch: $WARMUP s static, then $WARMUP s static and slow together)"
export WRK_QUIET=1
echo "warming up ..."
for a in $ARCHS; do
  run_wrk "warm-$a" 1 -t1 -c"$CONNS" -d"${WARMUP}s" "${STATIC_SCRIPT[@]}" "http://127.0.0.1:${PORT[$a]}/f.bin"
  # Then both at once, as "loaded" will: mixed traffic changes the JIT's type profiles (a second handler, a
  # streamed body) and C2 deoptimises and recompiles the shared path (Http1Connection.respond, Outgoing.writeTo,
  # StaticHandler.handle; seen with -XX:+PrintCompilation), up to a second of compiler time on CPU 0 that a first
  # loaded measurement would otherwise pay.
  start_wrk "warm-slow-$a" 1 -t1 -c"$SLOW_CONNS" -d"$((WARMUP + 3))s" --timeout 30s "http://127.0.0.1:${PORT[$a]}$SLOW_PATH"
  slow_pid=$WRK_PID
  sleep 1.5
  run_wrk "warm-mixed-$a" 1 -t1 -c"$CONNS" -d"${WARMUP}s" "${STATIC_SCRIPT[@]}" "http://127.0.0.1:${PORT[$a]}/f.bin"
  finish_wrk "warm-slow-$a" "$slow_pid"
done
echo

if [[ $STATIC == cold && $EVICT_MS -gt 0 ]]; then start evictor 1 python3 "$WORK/evict.py" "$STATIC_ROOT/cold" "$EVICT_MS"; fi
declare -A RPS=() P99=() RR=() PR=() CR=() CPR=() SRPS=()
printf '%-6s %3s %-7s %9s %8s %8s %5s %10s %8s %8s %10s %5s %5s %6s %s\n' \
  arch run mode req/s p50ms p99ms cpu% slow-req/s slow-p50 slow-p99 slow-cpu1% oth0% oth1% steal% notes
for r in $(seq "$RUNS"); do
  for a in $ARCHS; do
    declare -A this_rps=() this_p99=()
    for mode in $MODES; do
      tag="$a-$r-$mode"
      slow_pid=""
      if [[ $mode != alone ]]; then
        slow_url="http://127.0.0.1:${PORT[$a]}$SLOW_PATH"
        if [[ $mode == control ]]; then slow_url="http://127.0.0.1:$SPORT/x"; [[ $SLOW == php ]] && slow_url="http://127.0.0.1:$SPORT$SLOW_PATH"; fi
        start_wrk "slow-$tag" 1 -t1 -c"$SLOW_CONNS" -d"$((SECS + 3))s" --timeout 30s --latency "$slow_url"
        slow_pid=$WRK_PID
        sleep "$SLOW_LEAD"
        kill -0 "$slow_pid" 2>/dev/null || die "the slow wrk ended early: $(cat "$WORK/slow-$tag.wrk")"
      fi
      [[ $STATIC == cold ]] && python3 "$WORK/evict.py" "$STATIC_ROOT/cold" 0
      st0=$(session_ticks "${PID[$a]}"); bt0=$(session_ticks "${PID[$SLOW_SIDE]}")
      sw0=0; [[ -n $slow_pid ]] && sw0=$(session_ticks "$slow_pid")
      noise_begin
      run_wrk "$tag" 1 -t1 -c"$CONNS" -d"${SECS}s" --timeout 30s --latency "${STATIC_SCRIPT[@]}" "http://127.0.0.1:${PORT[$a]}/f.bin"
      noise_end
      st1=$(session_ticks "${PID[$a]}"); bt1=$(session_ticks "${PID[$SLOW_SIDE]}")
      sw1=0; [[ -n $slow_pid ]] && sw1=$(session_ticks "$slow_pid")
      slow_ticks=$((bt1 - bt0 + sw1 - sw0))
      f="$WORK/$tag.wrk"
      rps=$(wrk_rps "$f"); p99=$(wrk_pct "$f" 99)
      sticks=$((st1 - st0))
      printf '%-6s %3d %-7s %9.0f %8s %8s %5d ' "$a" "$r" "$mode" "$rps" "$(wrk_pct "$f" 50)" "$p99" "$(pct "$sticks")"
      serr=""
      if [[ -n $slow_pid ]]; then
        finish_wrk "slow-$tag" "$slow_pid"
        sf="$WORK/slow-$tag.wrk"
        printf '%10.0f %8s %8s %10d ' "$(wrk_rps "$sf")" "$(wrk_pct "$sf" 50)" "$(wrk_pct "$sf" 99)" "$(pct "$slow_ticks")"
        [[ $mode == loaded ]] && SRPS[$a]+="$(wrk_rps "$sf") "
        serr=$(wrk_errors "$sf"); [[ -n $serr ]] && serr="slow: $serr"
      else
        printf '%10s %8s %8s %10s ' - - - -
      fi
      noise_cols "$sticks" $((WRK_TICKS[$tag] + slow_ticks))
      note="$(wrk_errors "$f")$serr"
      [[ $(wrk_requests "$f") -eq 0 ]] && note+="no static response (every thread/process held by slow connections?) "
      printf ' %s\n' "$note${NOISY}"
      RPS[$a,$mode]+="$rps "; P99[$a,$mode]+="$p99 "
      this_rps[$mode]=$rps; this_p99[$mode]=$p99
    done
    RR[$a]+="$(ratio "${this_rps[loaded]}" "${this_rps[alone]}") "; PR[$a]+="$(ratio "${this_p99[loaded]}" "${this_p99[alone]}") "
    if [[ $CONTROL == 1 ]]; then
      CR[$a]+="$(ratio "${this_rps[loaded]}" "${this_rps[control]}") "; CPR[$a]+="$(ratio "${this_p99[loaded]}" "${this_p99[control]}") "
    fi
    unset this_rps this_p99
  done
done

echo
echo "per arch: medians over $RUNS run(s) (min-max); l/a = loaded/alone, l/c = loaded/control: medians of each run's ratio"
printf '%-6s %-22s %-22s %-6s %-6s %-26s %-26s %-6s %-6s %-10s %s\n' \
  arch alone-req/s loaded-req/s l/a l/c alone-p99ms loaded-p99ms l/a l/c slow-req/s "within 10%"
for a in $ARCHS; do
  # shellcheck disable=SC2086
  rr=$(printf '%s\n' ${RR[$a]} | median); pr=$(printf '%s\n' ${PR[$a]} | median)
  # shellcheck disable=SC2086
  cr=$(printf '%s\n' ${CR[$a]:-} | median); cpr=$(printf '%s\n' ${CPR[$a]:-} | median)
  ok=$(awk -v t="$rr" -v p="$pr" 'BEGIN {if (t == "-" || p == "-") print "no"; else print (t >= 0.90 && p <= 1.10) ? "yes" : "no"}')
  # shellcheck disable=SC2086
  printf '%-6s %-22s %-22s %-6s %-6s %-26s %-26s %-6s %-6s %-10s %s\n' "$a" \
    "$(printf '%s\n' ${RPS[$a,alone]} | median_range)" "$(printf '%s\n' ${RPS[$a,loaded]} | median_range)" "$rr" "$cr" \
    "$(printf '%s\n' ${P99[$a,alone]} | median_range %.2f)" "$(printf '%s\n' ${P99[$a,loaded]} | median_range %.2f)" "$pr" "$cpr" \
    "$(printf '%s\n' ${SRPS[$a]} | median)" "$ok"
done
echo "(within 10%: loaded throughput >= 0.90 x alone and loaded p99 <= 1.10 x alone; the goal is yes for amped and sped)"
if [[ ${NOISY_RUNS:-0} -gt 0 ]]; then
  echo "WARNING: $NOISY_RUNS measurement(s) marked NOISY: another process or the hypervisor took more than $NOISE_PCT% of a CPU" \
    "during them (oth0/oth1/steal columns); rerun on a quiet machine before quoting these figures."
fi
