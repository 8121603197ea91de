#!/usr/bin/env bash
# Startup time: from launching `./flash serve --port 0 www/` (jar already built) to the first successful response
# (curl polling every ~5 ms once the listening line names the port). Variants run interleaved A B A B ...; prints
# each run and the median per variant, in milliseconds: wall time, and the CPU time the launcher and its JVM had
# used by then (utime+stime+cutime+cstime of the process, which execs java: steadier on a shared machine).
#
# usage: bench/startup.sh [RUNS=5] [VARIANT...]
#   VARIANT is LABEL or LABEL:ENV=VALUE[,ENV=VALUE...], the environment ./flash runs with, e.g.
#     bench/startup.sh 5 aot:FLASH_AOT=1 no-aot:FLASH_AOT=0      (the launcher's AOT cache on and off)
#   LAUNCHER=PATH in a variant runs that script instead of ./flash (e.g. an older launcher copied beside it).
#   default: one variant, "launcher", ./flash as it is.
# needs: curl. Not a load test: one request per run.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS=${1:-5}; shift || true
VARIANTS=("$@"); ((${#VARIANTS[@]})) || VARIANTS=(launcher)
WORK=$(mktemp -d /tmp/flash-startup.XXXXXX)
PID=
cleanup() { [[ -n "$PID" ]] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT


now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# one_run LABEL ENVSPEC: sets MS to the milliseconds to the first 200, CPU to the CPU milliseconds used by then
one_run() {
  local envs=() log="$WORK/$1.log" t0 port= i e launcher="$HERE/flash"
  [[ -n "$2" ]] && IFS=, read -ra envs <<<"$2"
  for e in "${envs[@]}"; do [[ "$e" == LAUNCHER=* ]] && launcher="${e#LAUNCHER=}"; done
  t0=$(now_ms)
  env "${envs[@]}" "$launcher" serve --port 0 "$HERE/www/" >"$log" 2>&1 &
  PID=$!
  for ((i = 0; i < 6000; i++)); do   # 30 s at most
    if [[ -z "$port" ]]; then
      port=$(sed -n 's|^flash listening on http://[^ ]*:\([0-9]*\)/.*|\1|p' "$log")
    fi
    if [[ -n "$port" ]] && curl -sf -o /dev/null "http://127.0.0.1:$port/"; then
      MS=$(( $(now_ms) - t0 ))
      local st; read -ra st <"/proc/$PID/stat"   # fields 14-17 (from 1), in clock ticks
      CPU=$(( (st[13] + st[14] + st[15] + st[16]) * 1000 / $(getconf CLK_TCK) ))
      kill "$PID"; wait "$PID" 2>/dev/null || true; PID=
      return 0
    fi
    kill -0 "$PID" 2>/dev/null || { echo "startup: $1 exited:" >&2; cat "$log" >&2; return 1; }
    sleep 0.005
  done
  echo "startup: $1 gave no response in 30 s" >&2; cat "$log" >&2; return 1
}

# One untimed run per variant first: builds the jar and the launcher's AOT cache when needed, warms the page cache.
for v in "${VARIANTS[@]}"; do
  spec=; [[ "$v" == *:* ]] && spec=${v#*:}
  one_run warmup "$spec"
done

declare -A times cpus
for ((r = 1; r <= RUNS; r++)); do
  for v in "${VARIANTS[@]}"; do
    label=${v%%:*}; spec=; [[ "$v" == *:* ]] && spec=${v#*:}
    one_run "$label" "$spec"
    times[$label]+="$MS "; cpus[$label]+="$CPU "
    printf 'run %d %-12s %5d ms  cpu %5d ms\n' "$r" "$label" "$MS" "$CPU"
  done
done
median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for v in "${VARIANTS[@]}"; do
  label=${v%%:*}
  printf 'median %-9s %5d ms  cpu %5d ms  (of %d runs)\n' "$label" "$(median "${times[$label]}")" \
    "$(median "${cpus[$label]}")" "$RUNS"
done
