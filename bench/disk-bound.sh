#!/usr/bin/env bash
# Disk-bound experiment (the AMPED issue's requirement): while "cold" clients fetch ~1 MiB files that are kept out
# of the page cache, "hot" clients fetch one small cached file. Under SPED the single event loop blocks inside
# sendfile on every page-cache miss, so the hot clients wait behind the disk; under AMPED the loop tests
# residency (preadv2 RWF_NOWAIT), hands misses to helper threads and keeps serving the hot file.
#
# Both client groups run at the same time (two wrk processes); the hot group's latency percentiles are reported
# for each architecture, with --loops 1 so the contrast is visible.
#
# Keeping the data cold: the files are flushed once (fsync) and then a background evictor drops their pages with
# posix_fadvise(POSIX_FADV_DONTNEED) every EVICT_MS; `fincore` before each run shows the data set is not resident.
# EVICT_MS=0: evict only before each run and rely on a data set larger than a run touches (each file is cold on
# its first fetch); this avoids the evictor dropping a chunk between a helper's read and the loop's sendfile.
#
# usage: bench/disk-bound.sh [FILES=400] [SECONDS=15]
# env:   ARCHS="sped amped"  COLD_CONNS=8  HOT_CONNS=4  EVICT_MS=200  FLASH_ARGS (extra serve flags)
# needs: wrk, python3, fincore (util-linux), taskset; builds target/flash.jar via ./flash when needed. Port 28490.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FILES=${1:-400}; SECS=${2:-15}
ARCHS=${ARCHS:-"sped amped"}; COLD_CONNS=${COLD_CONNS:-8}; HOT_CONNS=${HOT_CONNS:-4}; EVICT_MS=${EVICT_MS:-200}
PORT=28490
WORK=$(mktemp -d /var/tmp/flash-disk.XXXXXX)   # /var/tmp: a real disk, not tmpfs
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

mkdir -p "$WORK/www/cold"
head -c 1024 /dev/urandom > "$WORK/www/hot.bin"
echo "creating $FILES x 1 MiB cold files in $WORK ..." >&2
for i in $(seq 0 $((FILES - 1))); do head -c 1048576 /dev/urandom > "$WORK/www/cold/f$i.bin"; done
python3 - "$WORK/www/cold" <<'PY'
import os, sys
d = sys.argv[1]
for n in os.listdir(d):
    fd = os.open(os.path.join(d, n), os.O_RDONLY); os.fsync(fd); os.close(fd)
PY

# The evictor: drop the cold files' pages again and again, so the cold clients keep missing the page cache.
cat > "$WORK/evict.py" <<'PY'
import os, sys, time
d, period = sys.argv[1], int(sys.argv[2]) / 1000
names = [os.path.join(d, n) for n in os.listdir(d)]
once = len(sys.argv) > 3
while True:
    for p in names:
        fd = os.open(p, os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)
    if once: break
    time.sleep(period)
PY

cat > "$WORK/cold.lua" <<LUA
math.randomseed(os.time())
request = function() return wrk.format("GET", "/cold/f" .. math.random(0, $FILES - 1) .. ".bin") end
LUA

resident_kib() { fincore -b -n -o RES "$WORK"/www/cold/*.bin | awk '{s += $1} END {printf "%d", s / 1024}'; }

"$HERE/flash" help >/dev/null 2>&1 || true   # build the jar when needed
printf '%-6s %12s %10s %10s %10s %10s %12s %14s\n' arch hot-req/s hot-p50 hot-p90 hot-p99 hot-max cold-req/s resident-before
for arch in $ARCHS; do
  python3 "$WORK/evict.py" "$WORK/www/cold" 0 once
  before=$(resident_kib)
  taskset -c 0 "$HERE/flash" serve "$WORK/www" --port $PORT --arch "$arch" --loops 1 ${FLASH_ARGS:-} >"$WORK/flash-$arch.log" 2>&1 &
  spid=$!; PIDS+=("$spid")
  for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/hot.bin" && break; sleep 0.2; done
  taskset -c 1 wrk -t1 -c"$HOT_CONNS" -d3s "http://127.0.0.1:$PORT/hot.bin" >/dev/null   # JIT warm-up, hot only
  epid=""
  if [[ "$EVICT_MS" -gt 0 ]]; then python3 "$WORK/evict.py" "$WORK/www/cold" "$EVICT_MS" & epid=$!; PIDS+=("$epid"); fi
  taskset -c 1 wrk -t1 -c"$COLD_CONNS" -d"${SECS}s" --timeout 30s -s "$WORK/cold.lua" "http://127.0.0.1:$PORT/" >"$WORK/cold-$arch.txt" &
  cpid=$!
  taskset -c 1 wrk -t1 -c"$HOT_CONNS" -d"${SECS}s" --timeout 30s --latency "http://127.0.0.1:$PORT/hot.bin" >"$WORK/hot-$arch.txt"
  wait "$cpid"
  # shellcheck disable=SC2086
  kill $epid "$spid"; wait $epid "$spid" 2>/dev/null || true
  hot="$WORK/hot-$arch.txt"
  printf '%-6s %12s %10s %10s %10s %10s %12s %11s KiB\n' "$arch" \
    "$(awk '/Requests\/sec/ {print $2}' "$hot")" \
    "$(awk '$1=="50%" {print $2}' "$hot")" "$(awk '$1=="90%" {print $2}' "$hot")" "$(awk '$1=="99%" {print $2}' "$hot")" \
    "$(awk '$1=="Latency" {print $4}' "$hot")" \
    "$(awk '/Requests\/sec/ {print $2}' "$WORK/cold-$arch.txt")" "$before"
  [[ -n "${VERBOSE:-}" ]] && cat "$hot" "$WORK/cold-$arch.txt"
done
