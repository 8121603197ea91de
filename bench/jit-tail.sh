#!/usr/bin/env bash
# The tail at low concurrency against what the JVM is doing: a fresh `./flash serve` pinned to CPU 0, then RUNS
# consecutive `wrk -t1 -c10 -d5s --latency` runs on a 1 KiB file (client on CPU 1). Per run: req/s, p99, the CPU
# ticks (10 ms) each JVM thread used during it (from /proc/PID/task/*/stat: C1/C2 compiler threads, VM Thread for
# GC and safepoints, the loop), and how often the loop was preempted (involuntary context switches).
# Usage: bench/jit-tail.sh [RUNS=8]     env: FLASH_MEMORY_FLAGS / FLASH_JAVA_OPTS (passed to ./flash), CONNS=10
set -euo pipefail
# shellcheck source=bench/bench-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
need wrk curl taskset
RUNS=${1:-8}; CONNS=${CONNS:-10}
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "usage: bench/jit-tail.sh [RUNS]"
mkdir -p "$WORK/www"; head -c 1024 /dev/urandom > "$WORK/www/f.bin"
free_port PORT
echo "commands:"
start flash 0 "$HERE/flash" serve "$WORK/www" --port "$PORT"
wait_log flash '^flash listening on ' 300
pid=$(pgrep -s "${PID[flash]}" -f "java.*--port $PORT" | head -1)
[[ -n "$pid" ]] || die "no JVM found for the server: $(tail -3 "$WORK/flash.log")"
machine_note
echo "# jit-tail: $RUNS x wrk -t1 -c$CONNS -d5s on a fresh server; per run the CPU ticks (10 ms) of each busy thread"
for r in $(seq "$RUNS"); do
  thread_stats "$pid" > "$WORK/s0"
  out=$(nice -n "${NICE:--20}" taskset -c 1 wrk -t1 -c"$CONNS" -d5s --latency "http://127.0.0.1:$PORT/f.bin" \
    | awk '/Requests\/sec/ {r = $2} / 99%/ {p = $2} END {printf "%10s req/s  p99 %8s", r, p}')
  thread_stats "$pid" > "$WORK/s1"
  busy=$(LC_ALL=C join "$WORK/s0" "$WORK/s1" | awk '{d = $6 - $3; if (d > 0 || $2 ~ /^flash-loop/) printf "%s:%d ", $2, d;
    if ($2 ~ /^flash-loop/) printf "(preempted %d) ", $7 - $4}')
  echo "run $r: $out | $busy"
done
