#!/bin/bash
# recheck-ab.sh: two Flash builds and lighttpd on a site larger than the caches (20,000 files of 16-32 KiB, page cache
# warm), interleaved A B lighttpd, R rounds of S seconds; servers on CPU 0, wrk on CPU 1. Made for the in-place
# recheck of docs/performance.md section 19: use S above 60 so that every window covers the entries' 60 s bound
# (--revalidate-watched-ms), when the old build translated every entry again.
#
#   A_DIR=/path/to/old/checkout B_DIR=/path/to/new/checkout R=2 S=65 bench/recheck-ab.sh
#
# Env: A_DIR, B_DIR (checkouts with a built target/flash.jar; ./flash runs them), FLASH_A, FLASH_B (extra serve
# options), R, S, WARM (seconds of warm-up per server), SITE (the site's directory, made if missing). Run as root,
# on a quiet machine, one benchmark at a time.
set -euo pipefail
R=${R:-3}; S=${S:-8}; WARM=${WARM:-20}
A_DIR=${A_DIR:?checkout of build A}; B_DIR=${B_DIR:?checkout of build B}
SITE=${SITE:-/tmp/flash-recheck-site}
WORK=$(mktemp -d /tmp/recheck-ab.XXXXXX)
for t in wrk lighttpd taskset; do command -v $t >/dev/null || { echo "recheck-ab.sh: $t is not installed" >&2; exit 2; }; done

if [[ ! -f $SITE/d39/f19999.bin ]]; then
  echo "making $SITE: 20,000 files of 16-32 KiB in 40 directories" >&2
  python3 - "$SITE" <<'EOF'
import os, random, sys
root = sys.argv[1]
rnd = random.Random(1)
for i in range(20000):
    d = os.path.join(root, "d%02d" % (i // 500))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%05d.bin" % i), "wb") as f:
        f.write(os.urandom(rnd.randint(16 * 1024, 32 * 1024)))
EOF
fi
cat "$SITE"/*/* > /dev/null # warm page cache
cat > "$WORK/rand.lua" <<'EOF'
math.randomseed(os.time())
request = function()
  local i = math.random(0, 19999)
  return wrk.format("GET", string.format("/d%02d/f%05d.bin", math.floor(i / 500), i))
end
EOF
cat > "$WORK/lighttpd.conf" <<EOF
server.document-root = "$SITE"
server.bind = "127.0.0.1"
server.port = 18502
server.pid-file = "$WORK/lighttpd.pid"
server.errorlog = "$WORK/lighttpd-error.log"
server.max-keep-alive-requests = 100000
server.max-fds = 32768
server.event-handler = "linux-sysepoll"
server.network-backend = "sendfile"
mimetype.assign = ( "" => "application/octet-stream" )
EOF

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT
serve() { # dir port extra-options
  (cd "$1" && exec setsid nice -n -20 taskset -c 0 ./flash serve "$SITE" --port "$2" --loops 1 --status-path /status $3) \
    > "$WORK/flash-$2.log" 2>&1 &
  pids+=($!)
}
serve "$A_DIR" 18501 "${FLASH_A:-}"
serve "$B_DIR" 18503 "${FLASH_B:-}"
setsid nice -n -20 taskset -c 0 lighttpd -D -f "$WORK/lighttpd.conf" > "$WORK/lighttpd.log" 2>&1 &
pids+=($!)
for port in 18501 18503 18502; do
  for i in $(seq 240); do curl -s -o /dev/null "http://127.0.0.1:$port/d00/f00000.bin" && break; sleep 0.5; done
done
for port in 18501 18503 18502; do taskset -c 1 wrk -t1 -c50 -d${WARM}s -s "$WORK/rand.lua" "http://127.0.0.1:$port/" > /dev/null; done
for r in $(seq "$R"); do
  for port in 18501 18503 18502; do
    head -2 /proc/stat | tail -1 > "$WORK/s0"
    x=$(nice -n -20 taskset -c 1 wrk -t1 -c50 -d${S}s --latency -s "$WORK/rand.lua" "http://127.0.0.1:$port/" \
      | awk '/Requests\/sec/ {r=$2} / 99%/ {p=$2} END {printf "%s p99=%s", r, p}')
    head -2 /proc/stat | tail -1 > "$WORK/s1"
    echo "round $r port $port $x $(paste "$WORK/s0" "$WORK/s1" | awk -v s="$S" '{printf "cpu0 busy%% %d steal %d", 100-($16-$5)*100/(s*100), $20-$9}')"
  done
done
for port in 18501 18503; do
  echo "$port: $(curl -s "http://127.0.0.1:$port/status" | grep -E '^flash_(revalidations_total\{by="stat"|helper_tasks_total|rechecks_total)' | tr '\n' ' ')"
done
echo "ports: 18501 = A ($A_DIR), 18503 = B ($B_DIR), 18502 = lighttpd"
