#!/usr/bin/env bash
# A correctness check, not a benchmark: N (10,000) half-open TLS handshakes against Flash over HTTPS, per
# architecture (amped and sped by default: one thread per connection would need 10,000 threads under mt/mp).
# Each half-open connection sends 4 bytes of a TLS record header (a ClientHello that never comes) and waits.
#   1. open N of them; once the server has accepted them all (its descriptors, ls /proc/PID/fd, rose by ~N),
#      another client must still be served (curl over HTTPS, the body compared) and the status page must count them;
#   2. close them from the client side: the server's descriptors must come back to the baseline (measured before);
#   3. open N again and leave them open: the handshake timeout (--header-timeout, HS_TIMEOUT seconds here) must reap
#      them, the server's descriptors come back to the baseline while the client still holds its ends, and every
#      client end sees the server's close (EOF or reset);
#   4. the server is still alive and serves.
# Prints one PASS/FAIL line per step and per architecture; exit status 1 when a step failed.
#
# usage: bench/tls-halfopen.sh [ARCHS="amped sped"]
# env:   HALFOPEN=10000  HS_TIMEOUT=30 (s: longer than opening N takes, or the first are reaped before the last are open)  MAXCONN=HALFOPEN+100 (--max-connections: the default, 10,000, would refuse
#        the other client while 10,000 half-open connections count against it)  FLASH_ARGS  JAVA_OPTS  KEEP=1
# needs: openssl, curl, python3; `ulimit -n` raised to HALFOPEN+1000 here (root, or a hard limit that allows it).
set -euo pipefail
# shellcheck source=bench/bench-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
need openssl python3
ARCHS=${1:-"amped sped"}
HALFOPEN=${HALFOPEN:-10000}; HS_TIMEOUT=${HS_TIMEOUT:-30}; MAXCONN=${MAXCONN:-$((HALFOPEN + 100))}
[[ "$HALFOPEN" =~ ^[1-9][0-9]*$ && "$HS_TIMEOUT" =~ ^[1-9][0-9]*$ ]] || die "HALFOPEN and HS_TIMEOUT must be positive integers"
for a in $ARCHS; do [[ $a =~ ^(amped|sped|mt|vt|mp)$ ]] || die "unknown architecture '$a'"; done
want_fds=$((HALFOPEN + 1000)) # per process: the client holds N, the server N (each its own limit)
if (( $(ulimit -n) < want_fds )); then ulimit -n "$want_fds" 2>/dev/null || die "ulimit -n $want_fds failed (now $(ulimit -n))"; fi
ensure_jar

mkdir -p "$WORK/www"
head -c 1024 /dev/urandom > "$WORK/www/f1k.bin"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -keyout "$WORK/site.key" \
  -out "$WORK/site.crt" -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null

cat > "$WORK/halfopen.py" <<'PY'
import os, socket, subprocess, sys, time

pid, port, n, timeout, crt, body = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
failed = []

def fds():
    return len(os.listdir("/proc/%d/fd" % pid))

def alive():
    return os.path.exists("/proc/%d" % pid)

def check(step, ok, detail):
    print("  %-4s %s: %s" % ("PASS" if ok else "FAIL", step, detail), flush=True)
    if not ok: failed.append(step)

def served():
    r = subprocess.run(["curl", "-sS", "--max-time", "20", "--cacert", crt, "https://127.0.0.1:%d/f1k.bin" % port],
                       capture_output=True)
    with open(body, "rb") as f: want = f.read()
    return r.returncode == 0 and r.stdout == want, "curl exit %d, %d bytes%s" % (
        r.returncode, len(r.stdout), (", " + r.stderr.decode().strip()) if r.stderr else "")

def status_open():
    r = subprocess.run(["curl", "-sS", "--max-time", "20", "--cacert", crt, "https://127.0.0.1:%d/status" % port],
                       capture_output=True, text=True)
    for line in r.stdout.splitlines():
        if line.startswith("flash_open_connections "): return int(float(line.split()[1]))
    return -1

def wait_for(cond, secs):
    end = time.time() + secs
    while time.time() < end:
        if cond(): return True
        time.sleep(0.2)
    return cond()

def open_half(k):
    socks, t0 = [], time.time()
    for _ in range(k):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        s.sendall(b"\x16\x03\x01\x02")  # 4 of a record header's 5 bytes: a handshake that never comes
        socks.append(s)
    return socks, time.time() - t0

served()                      # warm: the first TLS handshake, classes loaded, caches filled
time.sleep(1)
base = fds()
print("  baseline: %d descriptors open in the server (pid %d)" % (base, pid), flush=True)

# 1. N half-open, another client served meanwhile
socks, took = open_half(n)
accepted = wait_for(lambda: fds() >= base + n, 60)
peak = fds()
check("accept %d half-open" % n, accepted, "opened in %.1f s; server descriptors %d -> %d" % (took, base, peak))
ok, detail = served()
check("another client served meanwhile", ok, detail)
o = status_open()
check("status page counts them", o >= n, "flash_open_connections %d" % o)

# 2. client closes: back to the baseline
for s in socks: s.close()
t0 = time.time()
back = wait_for(lambda: fds() <= base, 60)
check("closed by the client: descriptors back to baseline", back,
      "%d (baseline %d) after %.1f s" % (fds(), base, time.time() - t0))

# 3. left open: the handshake timeout reaps them
socks, took = open_half(n)
wait_for(lambda: fds() >= base + n, 60)
peak = fds()
t0 = time.time()
reaped = wait_for(lambda: fds() <= base, timeout + 60)
check("left open: reaped by the handshake timeout (%d s)" % timeout, reaped,
      "server descriptors %d -> %d (baseline %d) %.1f s after all were accepted, the client still holding its %d"
      % (peak, fds(), base, time.time() - t0, len(socks)))
eof, end = 0, time.time() + 60
for s in socks:
    s.settimeout(max(0.01, min(2, end - time.time())))
    try:
        while s.recv(4096): pass  # an alert first, perhaps; then the end
        eof += 1
    except (ConnectionResetError, BrokenPipeError):
        eof += 1
    except (socket.timeout, OSError):
        pass
check("every client end saw the server's close", eof == n, "%d of %d" % (eof, n))
for s in socks: s.close()

# 4. still alive and serving
ok, detail = served()
check("server alive and serving after", alive() and ok, detail)
time.sleep(1)
check("descriptors at the end", fds() <= base, "%d (baseline %d)" % (fds(), base))
sys.exit(1 if failed else 0)
PY

machine_note
echo "# $BENCH_NAME: $HALFOPEN half-open TLS handshakes per architecture ($ARCHS), --header-timeout $HS_TIMEOUT, --max-connections $MAXCONN, ulimit -n $(ulimit -n)"
status=0
for a in $ARCHS; do
  # shellcheck disable=SC2086
  flash_cmd "$WORK/www" --port 0 --arch "$a" --tls-cert "$WORK/site.crt" --tls-key "$WORK/site.key" \
    --header-timeout "$HS_TIMEOUT" --max-connections "$MAXCONN" --status-path /status --drain-timeout 1 ${FLASH_ARGS:-}
  start "flash-$a" 0 "${FLASH_CMD[@]}"
  wait_log "flash-$a" '^flash listening on '
  port=$(sed -n 's/^flash listening on https:\/\/[^ ]*:\([0-9][0-9]*\)\/.*/\1/p' "$WORK/flash-$a.log" | head -1)
  jpid=
  for p in $(pgrep -s "${PID[flash-$a]}"); do [[ "$(cat "/proc/$p/comm" 2>/dev/null)" == java ]] && jpid=$p; done
  [[ -n $jpid ]] || die "no java process in flash-$a's session"
  echo "flash-$a (port $port, pid $jpid):"
  grep -m1 "TLS by" "$WORK/flash-$a.log" | sed 's/^/  server: /' || true
  python3 "$WORK/halfopen.py" "$jpid" "$port" "$HALFOPEN" "$HS_TIMEOUT" "$WORK/site.crt" "$WORK/www/f1k.bin" || status=1
  if grep -qiE 'exception|error' "$WORK/flash-$a.log"; then
    echo "  server log has errors:"; grep -iE 'exception|error' "$WORK/flash-$a.log" | head -5 | sed 's/^/    /'
  fi
  kill -TERM "$jpid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$jpid" 2>/dev/null || break; sleep 0.1; done
done
[[ $status == 0 ]] && echo "all steps passed" || echo "SOME STEPS FAILED"
exit $status
