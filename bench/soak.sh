#!/usr/bin/env bash
# Soak: mixed keep-alive load (wrk), hostile clients (slowloris, resets, malformed requests, vanishing uploads and
# downloads) and file churn (rename deploys, deletes, symlink flips) against one architecture for N minutes; then
# prints requests served, errors, RSS, heap after GC and descriptors at start and end.
# Usage: bench/soak.sh [minutes=3] [arch=amped]      (needs wrk; builds target/flash.jar if missing)
# Env: FLASH_JAR (default target/flash.jar), MP_PROCESSES (mp worker count, default 32), WRK_CONNECTIONS (32),
#      SOAK_XMX (server heap limit, default 256m: without one ParallelGC grows the heap, and RSS, to its default max).
set -euo pipefail
MIN="${1:-3}"; ARCH="${2:-amped}"
HERE="$(cd "$(dirname "$0")/.." && pwd)"
JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"; JAVA="$JAVA_HOME/bin/java"
JAR="${FLASH_JAR:-$HERE/target/flash.jar}"   # FLASH_JAR: soak a copy while the tree is rebuilt
[[ -f "$JAR" ]] || (cd "$HERE" && mvn -B -q -ntp -DskipTests package)
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

EXTRA=(); [[ "$ARCH" == mp ]] && EXTRA=(--processes "${MP_PROCESSES:-32}")
"$JAVA" --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -Xmx"${SOAK_XMX:-256m}" -jar "$JAR" serve "$ROOT" --port 0 \
  --arch "$ARCH" --header-timeout 2 --write-timeout 5 --idle-timeout 15 --status-path /flash-status "${EXTRA[@]}" > "$OUT" 2>&1 &
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
-- status histogram: 200 and 404 (/missing.txt) are expected, anything else is an unexpected error
statuses = {}
response = function(status) statuses[status] = (statuses[status] or 0) + 1 end
local threads = {}
setup = function(t) table.insert(threads, t) end
done = function()
  local all = {}
  for _, t in ipairs(threads) do for s, n in pairs(t:get("statuses")) do all[s] = (all[s] or 0) + n end end
  local line = "statuses:"
  for s, n in pairs(all) do line = line .. " " .. s .. "=" .. n end
  print(line)
end
LUA
# a mid-run sample: growth from start to mid is caches filling; mid to end must be flat
( sleep $((SECS / 2)); echo "$(rss) $(heap) $(fds)" > "$OUT.mid" ) &
wrk -t1 -c"${WRK_CONNECTIONS:-32}" -d"${SECS}s" --timeout 10s -s "$OUT.lua" "http://127.0.0.1:$PORT/" > "$OUT.wrk" 2>&1 || true
wait "$HPID" || true; wait "$CPID" 2>/dev/null || true; CPID=
sleep 3   # let timed-out and lingering connections close
RSS1=$(rss); FD1=$(fds); HEAP1=$(heap)
REQ=$(awk '/requests in/{print $1}' "$OUT.wrk")
NON2XX=$(awk '/Non-2xx or 3xx/{print $NF}' "$OUT.wrk"); NON2XX=${NON2XX:-0}
SOCKERR=$(sed -n 's/.*Socket errors: \(.*\)/\1/p' "$OUT.wrk"); SOCKERR=${SOCKERR:-none}
SEVERE=$(grep -c SEVERE "$OUT" || true); WARNING=$(grep -c WARNING "$OUT" || true)
ALIVE=$(kill -0 "$SPID" 2>/dev/null && echo yes || echo NO)
# the server's own counters (under mp: those of whichever worker answers)
STATUS=$(curl -s -m 5 "http://127.0.0.1:$PORT/flash-status" || true)
sum() { awk -v m="$1" '$1 == m || index($1, m "{") == 1 {n += $2} END {print n + 0}' <<< "$STATUS"; }
echo "arch=$ARCH minutes=$MIN server_alive=$ALIVE severe_log_lines=$SEVERE warning_log_lines=$WARNING"
if [[ "$WARNING" -gt 0 ]]; then grep WARNING "$OUT" | sort | uniq -c | sort -rn | head -5; fi
echo "server: accepted=$(sum flash_connections_accepted_total) refused=$(sum flash_connections_refused_total)" \
  "timeouts=$(sum flash_timeouts_total) idle_closes=$(sum flash_idle_closes_total) bad_requests=$(sum flash_bad_requests_total) requests=$(sum flash_requests_total)"
STATUSES=$(sed -n 's/^statuses: *//p' "$OUT.wrk")
UNEXPECTED=$(tr ' ' '\n' <<< "$STATUSES" | awk -F= '$1 != 200 && $1 != 404 {n += $2} END {print n + 0}')
echo "wrk: requests=$REQ non2xx3xx=$NON2XX (expected: the 1/6 of requests for /missing.txt are 404) socket_errors=[$SOCKERR]"
echo "wrk statuses: $STATUSES | unexpected_statuses=$UNEXPECTED"
echo "$(cat "$OUT.hostile")"
read -r RSSM HEAPM FDM < "$OUT.mid" || true
echo "rss_kib start=$RSS0 mid=$RSSM end=$RSS1 | heap_after_gc_kib start=$HEAP0 mid=$HEAPM end=$HEAP1 | fds start=$FD0 mid=$FDM end=$FD1"
rm -f "$OUT.wrk" "$OUT.lua" "$OUT.hostile" "$OUT.mid"
