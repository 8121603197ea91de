#!/usr/bin/env bash
# System calls of a Flash server (every thread) over N rounds of one small (2,000 B, held in memory) and one
# mid-size (300 KB) file, ROUND_S seconds apart (longer than --revalidate-ms's 1 s, so that stat mode re-translates
# every request), for --revalidate watch and stat. Counts, not timing: safe on a busy machine.
# usage: bench/revalidate-strace.sh [N=20] [ROUND_S=1.1]      needs: strace, curl; FLASH_JAR (default target/flash.jar)
set -u
N=${1:-20}; ROUND=${2:-1.1}
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAR=${FLASH_JAR:-$HERE/target/flash.jar}
JAVA=${JAVA:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
mkdir -p "$W/www"; head -c 2000 /dev/urandom > "$W/www/small.html"; head -c 300000 /dev/urandom > "$W/www/big.bin"
for MODE in watch stat; do
  "$JAVA" --enable-native-access=ALL-UNNAMED -jar "$JAR" serve "$W/www" --port 0 --loops 1 --revalidate "$MODE" > "$W/$MODE.log" 2>&1 &
  PID=$!
  for _ in $(seq 100); do grep -q listening "$W/$MODE.log" && break; sleep 0.2; done
  PORT=$(sed -n 's/.*127.0.0.1:\([0-9]*\)\/.*/\1/p' "$W/$MODE.log" | head -1)
  curl -s -o /dev/null "http://127.0.0.1:$PORT/small.html"; curl -s -o /dev/null "http://127.0.0.1:$PORT/big.bin"
  sleep 1.5
  ARGS=(); for t in /proc/$PID/task/*; do ARGS+=(-p "${t##*/}"); done
  strace -f -c -o "$W/strace-$MODE.txt" "${ARGS[@]}" 2>/dev/null & SPID=$!
  sleep 1
  for _ in $(seq "$N"); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/small.html"; curl -s -o /dev/null "http://127.0.0.1:$PORT/big.bin"
    sleep "$ROUND"
  done
  kill -INT $SPID; wait $SPID 2>/dev/null
  kill $PID; wait $PID 2>/dev/null
  echo "== --revalidate $MODE: $N rounds x (small.html + big.bin), ${ROUND} s apart; file-related calls"
  grep -E "statx|newfstatat|fstat|lstat|openat|readlink|close|pread|read |mmap|munmap|mincore|inotify|total" "$W/strace-$MODE.txt"
done
