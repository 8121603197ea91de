#!/usr/bin/env bash
# The tail at 10 connections, Flash against nginx, interleaved (A B A B), on a cached 1 KiB file. Two loads per round:
#   closed: wrk -t1 -c10 as fast as it goes (the harness's point: Flash is then bound by wrk at about 100k req/s,
#           nginx by its core at about 60k, so the two are not at the same rate);
#   paced:  the same connections, each waiting DELAY_MS after every response (wrk's Lua delay()), so both servers
#           answer the same rate (about 8k req/s at 1 ms) and the tail is the server's, not the client's queue.
# Per run: req/s, p50/p90/p99/p99.9 and the maximum (wrk's own histogram, from a Lua done()), the server's CPU ticks
# and involuntary context switches (its threads; Flash's JIT and VM threads apart), and what other processes used of
# CPU 0 (oth0%, see bench-common.sh). Medians per server and load at the end.
# Usage: bench/tail.sh [ROUNDS=8] [SECONDS=10]
#   env: LOADS="closed paced", DELAY_MS=1, WARMUP=40 (s of closed-loop warm-up per server before the rounds),
#        FLASH_ARGS (more `flash serve` options), FLASH_MEMORY_FLAGS / FLASH_JIT_FLAGS (passed to ./flash),
#        SCHED_DIR (record each run's scheduling on CPU 0 with `perf sched record` into SCHED_DIR/LOAD-SERVER-ROUND.data,
#        to see what ran on the server's core while a request waited: `perf sched timehist -i FILE -C 0`)
set -euo pipefail
# shellcheck source=bench/bench-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
need nginx
if [[ -n "${SCHED_DIR:-}" ]]; then need perf; mkdir -p "$SCHED_DIR"; fi
ROUNDS=${1:-8}; SECS=${2:-10}; LOADS=${LOADS:-closed paced}; DELAY_MS=${DELAY_MS:-1}; WARMUP=${WARMUP:-40}
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ && "$SECS" =~ ^[1-9][0-9]*$ ]] || die "usage: bench/tail.sh [ROUNDS] [SECONDS]"
[[ "$WARMUP" =~ ^[1-9][0-9]*$ ]] || die "WARMUP must be a whole number of seconds"
[[ $# -le 2 ]] || die "usage: bench/tail.sh [ROUNDS] [SECONDS]"
[[ "$DELAY_MS" =~ ^[1-9][0-9]*$ ]] || die "DELAY_MS must be a whole number of milliseconds (wrk's delay())"
for l in $LOADS; do [[ $l == closed || $l == paced ]] || die "LOADS: '$l' is neither closed nor paced"; done

mkdir -p "$WORK/www"; head -c 1024 /dev/urandom > "$WORK/www/f.bin"
cat > "$WORK/pct.lua" <<'LUA'
done = function(summary, latency, requests)
  io.write(string.format("PCT %d %d %d %d %d\n", latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max))
end
LUA
{ echo "delay = function() return $DELAY_MS end"; cat "$WORK/pct.lua"; } > "$WORK/paced.lua"

free_port FPORT; free_port NPORT
cat > "$WORK/nginx.conf" <<NGX
daemon off; master_process off; worker_processes 1; pid $WORK/nginx.pid; error_log $WORK/nginx-error.log warn;
events { worker_connections 4096; use epoll; }
http {
  access_log off; default_type application/octet-stream; sendfile on; tcp_nopush on; tcp_nodelay on;
  keepalive_requests 10000000; keepalive_timeout 300s;
  open_file_cache max=1000 inactive=120s; open_file_cache_valid 120s; client_body_temp_path $WORK/tmp;
  server { listen 127.0.0.1:$NPORT backlog=4096; root $WORK/www; }
}
NGX
echo "commands:"
# shellcheck disable=SC2086
start flash 0 "$HERE/flash" serve "$WORK/www" --port "$FPORT" ${FLASH_ARGS:-}
start nginx 0 nginx -p "$WORK" -c "$WORK/nginx.conf"
wait_log flash '^flash listening on ' 300
wait_url nginx "http://127.0.0.1:$NPORT/f.bin"
check_autogroups
jvm=$(pgrep -s "${PID[flash]}" -f "java.*--port $FPORT" | head -1)
[[ -n "$jvm" ]] || die "no JVM found for the server: $(tail -3 "$WORK/flash.log")"
machine_note
declare -A URL=([flash]="http://127.0.0.1:$FPORT/f.bin" [nginx]="http://127.0.0.1:$NPORT/f.bin")
declare -A PROC=([flash]=$jvm [nginx]=${PID[nginx]})

# sums OLD NEW (two thread_stats) -> "ticks preempted jit vm": all threads' ticks and involuntary switches, the compilers' and VM
# thread's ticks.
sums() {
  LC_ALL=C join -a2 -e0 -o 0,2.2,1.3,1.4,2.2,2.3,2.4 "$1" "$2" | awk '{d = $6 - $3; t += d; p += $7 - $4} $2 ~ /Compiler/ {j += d} $2 == "VM_Thread" {v += d}
    END {printf "%d %d %d %d", t, p, j, v}'
}

for s in flash nginx; do
  echo "warm-up: $s, ${WARMUP}s of wrk -t1 -c10" >&2
  WRK_QUIET=1 run_wrk "warm-$s" 1 -t1 -c10 -d"${WARMUP}s" "${URL[$s]}"
done
printf '%-6s %-6s %5s %9s %7s %7s %7s %8s %8s %6s %6s %4s %4s %5s %5s %6s\n' load server round req/s \
  p50us p90us p99us p99.9us maxus ticks preemp jit vm oth0% oth1% steal%
for r in $(seq "$ROUNDS"); do
  for load in $LOADS; do
    for s in flash nginx; do
      script=$WORK/pct.lua; [[ $load == paced ]] && script=$WORK/paced.lua
      thread_stats "${PROC[$s]}" > "$WORK/t0"; t0=$(session_ticks "${PID[$s]}")
      noise_begin
      rec=""
      if [[ -n "${SCHED_DIR:-}" ]]; then
        taskset -c 1 perf sched record -q -C 0 -o "$SCHED_DIR/$load-$s-$r.data" -- sleep "$SECS" >/dev/null 2>&1 & rec=$!
      fi
      WRK_KIND=$load run_wrk "$load-$s-$r" 1 -t1 -c10 -d"${SECS}s" -s "$script" "${URL[$s]}"
      if [[ -n "$rec" ]]; then wait "$rec" || die "perf sched record failed (run it as root; see perf's own message by hand)"; fi
      noise_end
      thread_stats "${PROC[$s]}" > "$WORK/t1"; t1=$(session_ticks "${PID[$s]}")
      read -r p50 p90 p99 p999 mx < <(awk '/^PCT / {print $2, $3, $4, $5, $6}' "$WORK/$load-$s-$r.wrk")
      printf '%-6s %-6s %5d %9.0f %7d %7d %7d %8d %8d %6s %6s %4s %4s ' "$load" "$s" "$r" \
        "$(wrk_rps "$WORK/$load-$s-$r.wrk")" "$p50" "$p90" "$p99" "$p999" "$mx" $(sums "$WORK/t0" "$WORK/t1")
      noise_cols $((t1 - t0)) "${WRK_TICKS[$load-$s-$r]}"; echo "$NOISY $(wrk_errors "$WORK/$load-$s-$r.wrk")"
    done
  done
done | tee "$WORK/rows"
echo
echo "medians (range) over $ROUNDS rounds:"
for load in $LOADS; do
  for s in flash nginx; do
    rows() { awk -v l="$load" -v s="$s" -v c="$1" '$1 == l && $2 == s {print $c}' "$WORK/rows"; }
    echo "  $load $s: req/s $(rows 4 | median_range), p50 $(rows 5 | median_range) us, p99 $(rows 7 | median_range) us, p99.9 $(rows 8 | median_range) us"
  done
  echo "  $load: rounds where Flash's p99 <= nginx's: $(awk -v l="$load" '$1 == l && $2 == "flash" {f[$3] = $7}
    $1 == l && $2 == "nginx" {n[$3] = $7} END {for (r in f) {t++; if (f[r] <= n[r]) k++} printf "%d of %d", k, t}' "$WORK/rows")"
done
