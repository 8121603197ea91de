#!/usr/bin/env bash
# System calls and loop-thread CPU per response, for the body paths of docs/performance.md section 11.
# NOT a throughput benchmark: one curl process sends N requests for a hot file over ONE keep-alive connection,
# and we count what Flash's single event loop (flash-loop-0) does for them.
#
#   [WARM=6000] bench/bodypath.sh SIZE N VARIANT...   e.g.  bench/bodypath.sh 262144 400 mapped sendfile preadv2 nomore
#
# VARIANT is NAME or NAME:ARCH (default amped); NAME picks the JVM properties:
#   mapped    -Dflash.sendfileMin=MAX           mid-size bodies from mapped chunks (the rule before issue #11)
#   default   (none)                            the shipped rule (sendfile to 1 MiB on the loops, mapped above)
#   sendfile  -Dflash.sendfileMax=MAX           sendfile, head with MSG_MORE, residency by mincore on the handle's mapping
#   preadv2   ... -Dflash.residency=preadv2     sendfile, residency by the copying preadv2(RWF_NOWAIT) probe
#   nomore    ... -Dflash.headMore=false        sendfile, head by a plain write
#   blocking  -Dflash.sendfileBlocking=true     (mt/vt) sendfile on blocking sockets too
# Output, one line per variant: syscalls per response by name (strace -c on the loop thread, one run), then the loop
# thread's CPU per response in microseconds from /proc/PID/task/TID/schedstat (three more runs without strace).
# The server runs with --revalidate-ms 600000, so no revalidation (a helper trip) falls inside a run.
# For mt/vt (no loop thread) the counts are of the whole process (strace -f), and the CPU is the process's.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SIZE=${1:?size in bytes}; N=${2:?requests}; shift 2
JAVA="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
JAR="$HERE/target/flash.jar"
DIR=$(mktemp -d /tmp/bodypath.XXXXXX)
head -c "$SIZE" /dev/urandom > "$DIR/f.bin"
PORT=$((20000 + RANDOM % 20000))
WARM=${WARM:-6000}   # requests before counting
CFG="$DIR/curl.cfg"
for ((i = 0; i < N; i++)); do printf 'url = "http://127.0.0.1:%d/f.bin"\noutput = "/dev/null"\n' "$PORT"; done > "$CFG"

run_curl() { curl -s --config "$CFG" >/dev/null; }

for V in "$@"; do
  NAME=${V%%:*}; ARCH=amped; [[ "$V" == *:* ]] && ARCH=${V#*:}
  case "$NAME" in
    mapped) PROPS=(-Dflash.sendfileMin=9223372036854775807) ;;
    default) PROPS=() ;;
    sendfile) PROPS=(-Dflash.sendfileMax=9223372036854775807) ;;
    preadv2) PROPS=(-Dflash.sendfileMax=9223372036854775807 -Dflash.residency=preadv2) ;;
    nomore) PROPS=(-Dflash.sendfileMax=9223372036854775807 -Dflash.headMore=false) ;;
    blocking) PROPS=(-Dflash.sendfileBlocking=true) ;;
    *) echo "unknown variant $NAME" >&2; exit 2 ;;
  esac
  "$JAVA" --enable-native-access=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED -XX:+UseParallelGC \
    "${PROPS[@]}" -jar "$JAR" serve "$DIR" --port "$PORT" --loops 1 --threads 4 --arch "$ARCH" --revalidate-ms 600000 >/dev/null 2>&1 &
  PID=$!
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/f.bin" && break; sleep 0.2; done
  for ((w = 0; w < WARM; w += N)); do run_curl; done   # warm-up: JIT (C2 wants ~10k calls), page cache, path cache
  TID=""
  for t in /proc/$PID/task/*; do [[ "$(cat "$t/comm")" == flash-loop-0 ]] && TID=${t##*/}; done
  if [[ -n "$TID" ]]; then TRACE=(-p "$TID"); else TRACE=(-f -p "$PID"); fi
  OUT="$DIR/strace.$NAME.$ARCH"
  strace -c -q "${TRACE[@]}" -o "$OUT" & ST=$!
  sleep 1
  run_curl
  sleep 0.5
  kill -INT $ST; wait $ST 2>/dev/null || true
  COUNTS=$(awk -v n="$N" '$NF ~ /^[a-z_0-9]+$/ && $4 ~ /^[0-9]+$/ && $NF != "total" {
      c = $4; if ($5 ~ /^[0-9]+$/) err = $5; else err = 0;
      printf "%s %.2f%s  ", $NF, c / n, (err > 0 ? sprintf(" (%d err)", err) : "") }' "$OUT")
  CPU=""
  for _ in 1 2 3; do   # three runs without strace: the loop's CPU per response, each
    if [[ -n "$TID" ]]; then S="/proc/$PID/task/$TID/schedstat"; c0=$(awk '{print $1}' "$S"); else
      c0=$(awk '{print ($14+$15)*10000000}' "/proc/$PID/stat"); fi
    run_curl
    if [[ -n "$TID" ]]; then c1=$(awk '{print $1}' "$S"); else c1=$(awk '{print ($14+$15)*10000000}' "/proc/$PID/stat"); fi
    CPU="$CPU $(awk -v a="$c0" -v b="$c1" -v n="$N" 'BEGIN { printf "%.1f", (b - a) / n / 1000 }')"
  done
  SEGS=""
  if command -v nstat >/dev/null; then   # TCP segments sent per response, both ends (system-wide: a quiet machine)
    nstat -n; run_curl
    SEGS=$(nstat -z TcpOutSegs | awk -v n="$N" '$1 == "TcpOutSegs" { printf " | tcp segments/response %.2f", $2 / n }')
  fi
  echo "size=$SIZE arch=$ARCH variant=$NAME  per response: $COUNTS | cpu us/response:${CPU}${SEGS}"
  kill "$PID"; wait "$PID" 2>/dev/null || true
done
rm -rf "$DIR"
