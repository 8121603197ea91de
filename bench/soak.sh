#!/usr/bin/env bash
# Soak: mixed keep-alive load (wrk), hostile clients (slowloris, resets, malformed requests, vanishing uploads and
# downloads) and file churn (rename deploys, deletes, symlink flips) against one architecture for N minutes; then
# prints requests served, errors, RSS, heap after GC and descriptors at start and end.
# Usage: bench/soak.sh [minutes=3] [arch=amped]      (needs wrk; builds target/flash.jar if missing)
set -euo pipefail
MIN="${1:-3}"; ARCH="${2:-amped}"
HERE="$(cd "$(dirname "$0")/.." && pwd)"
JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"; JAVA="$JAVA_HOME/bin/java"
[[ -f "$HERE/target/flash.jar" ]] || (cd "$HERE" && mvn -B -q -ntp -DskipTests package)
SECS=$((MIN * 60))
ROOT="$(mktemp -d)"; OUT="$(mktemp)"
cleanup() { [[ -n "${SPID:-}" ]] && kill "$SPID" 2>/dev/null; [[ -n "${CPID:-}" ]] && kill "$CPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$ROOT" "$OUT"; }
trap cleanup EXIT

mk() { # mk FILE LABELCHAR LENGTH: self-checking content "FLASH c len\n" + len bytes of c
  { printf 'FLASH %s %d\n' "$2" "$3"; head -c "$3" /dev/zero | tr '\0' "$2"; } > "$1"; }
head -c 1024 /dev/urandom > "$ROOT/small.txt"
head -c $((200 * 1024)) /dev/urandom > "$ROOT/mid.bin"
head -c $((8 << 20)) /dev/urandom > "$ROOT/big.bin"
mkdir -p "$ROOT/churn" "$ROOT/releases/v1" "$ROOT/releases/v2"
mk "$ROOT/churn/page.txt" a 5000; mk "$ROOT/releases/v1/page.txt" b 3000; mk "$ROOT/releases/v2/page.txt" c 90000
ln -s releases/v1 "$ROOT/current"

EXTRA=(); [[ "$ARCH" == mp ]] && EXTRA=(--processes 4)
"$JAVA" --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -jar "$HERE/target/flash.jar" serve "$ROOT" --port 0 \
  --arch "$ARCH" --header-timeout 2 --write-timeout 5 --idle-timeout 15 "${EXTRA[@]}" > "$OUT" 2>&1 &
SPID=$!
for _ in $(seq 100); do grep -q "flash listening" "$OUT" && break; sleep 0.1; done
PORT="$(sed -n 's/.*127.0.0.1:\([0-9]*\)\/.*/\1/p' "$OUT" | head -1)"
pids() { echo "$SPID"; pgrep -P "$SPID" || true; }
rss() { local t=0; for p in $(pids); do t=$((t + $(awk '/VmRSS/{print $2}' /proc/$p/status))); done; echo "$t"; }
fds() { local t=0; for p in $(pids); do t=$((t + $(ls /proc/$p/fd | wc -l))); done; echo "$t"; }
heap() { local t=0; for p in $(pids); do "$JAVA_HOME/bin/jcmd" "$p" GC.run >/dev/null 2>&1;
  t=$((t + $("$JAVA_HOME/bin/jcmd" "$p" GC.heap_info 2>/dev/null | sed -n 's/.*total [0-9]*K, used \([0-9]*\)K.*/\1/p' | head -2 | paste -sd+ | bc))); done; echo "$t"; }

curl -s "http://127.0.0.1:$PORT/small.txt" -o /dev/null   # warm
RSS0=$(rss); FD0=$(fds); HEAP0=$(heap)

# file churn: rename deploys, deletes, symlink flips, for the whole run
( i=0; end=$((SECONDS + SECS)); while (( SECONDS < end )); do
    i=$((i + 1)); c=$(printf "\\x$(printf %x $((100 + i % 20)))")
    mk "$ROOT/churn/.page.tmp" "$c" $((1000 + (i * 7919) % 150000)); mv -f "$ROOT/churn/.page.tmp" "$ROOT/churn/page.txt"
    (( i % 5 == 0 )) && rm -f "$ROOT/churn/page.txt"
    ln -sfn "releases/v$((1 + i % 2))" "$ROOT/current.next" && mv -Tf "$ROOT/current.next" "$ROOT/current"
    sleep 0.02
  done ) & CPID=$!

"$JAVA" "$HERE/bench/Hostile.java" "$PORT" "$SECS" > "$OUT.hostile" &
HPID=$!
cat > "$OUT.lua" <<'LUA'
local paths = {"/small.txt", "/small.txt", "/small.txt", "/mid.bin", "/big.bin", "/missing.txt"}
local i = 0
request = function() i = i + 1; return wrk.format("GET", paths[(i % #paths) + 1]) end
LUA
wrk -t1 -c32 -d"${SECS}s" --timeout 10s -s "$OUT.lua" "http://127.0.0.1:$PORT/" > "$OUT.wrk" 2>&1 || true
wait "$HPID" || true; wait "$CPID" 2>/dev/null || true; CPID=
sleep 3   # let timed-out and lingering connections close
RSS1=$(rss); FD1=$(fds); HEAP1=$(heap)
REQ=$(awk '/requests in/{print $1}' "$OUT.wrk")
NON2XX=$(awk '/Non-2xx or 3xx/{print $NF}' "$OUT.wrk"); NON2XX=${NON2XX:-0}
SOCKERR=$(sed -n 's/.*Socket errors: \(.*\)/\1/p' "$OUT.wrk"); SOCKERR=${SOCKERR:-none}
SEVERE=$(grep -c SEVERE "$OUT" || true); ALIVE=$(kill -0 "$SPID" 2>/dev/null && echo yes || echo NO)
echo "arch=$ARCH minutes=$MIN server_alive=$ALIVE severe_log_lines=$SEVERE"
echo "wrk: requests=$REQ non2xx3xx=$NON2XX (expected: the 1/6 of requests for /missing.txt are 404) socket_errors=[$SOCKERR]"
echo "$(cat "$OUT.hostile")"
echo "rss_kib start=$RSS0 end=$RSS1 | heap_after_gc_kib start=$HEAP0 end=$HEAP1 | fds start=$FD0 end=$FD1"
rm -f "$OUT.wrk" "$OUT.lua" "$OUT.hostile"
