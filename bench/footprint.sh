#!/usr/bin/env bash
# Memory footprint, resident set only: Flash (ARCH, amped by default) beside nginx (1 worker) and lighttpd.
#   (a) idle connections: from a fresh, warmed-up server, open IDLE/2 keep-alive connections that each send one request
#       and read its response, then stay open; then IDLE/2 more that never send anything. RSS of the server's whole
#       process tree (sum of VmRSS in /proc/PID/status) before and after each half, divided by the connections the
#       server holds (its descriptors, counted in /proc/PID/fd, are waited for). For a JVM, also its live heap per
#       connection (jcmd GC.class_histogram before and after): the steady figure, where RSS also counts which heap
#       pages earlier garbage had already touched. The warm-up includes 2,000 idle connections, closed again.
#   (b) under load: a fresh server, then `wrk -c LOAD_CONNS -d LOAD_SECS` keep-alive on a 1 KiB file; RSS sampled every
#       0.1 s during the load (peak of the tree's sum), VmHWM (each process's own peak, summed) and RSS afterwards.
#       This is a memory measurement, not a throughput claim: wrk's figures are printed only to show the load ran.
# Usage: bench/footprint.sh [SERVERS...]        (default: flash nginx lighttpd)
# Env:   ARCH (amped)  IDLE (10000)  LOAD_CONNS (1000)  LOAD_SECS (5)  SKIP_IDLE=1 / SKIP_LOAD=1
#        FLASH (the launcher to run: ./flash; another checkout's ./flash measures that one)
#        FLASH_MEMORY_FLAGS / FLASH_JAVA_OPTS (passed on to the launcher: the JVM's memory flags, see ./flash)
#        FLASH_ARGS (more `flash serve` options)
# Servers on CPU 0, clients on CPU 1 (as bench/throughput.sh). Needs python3 (the idle client), wrk, nginx, lighttpd,
# and a descriptor limit above IDLE + 1000 (raised here to the hard limit).
set -euo pipefail
# shellcheck source=bench/bench-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
need python3 ss
ARCH=${ARCH:-amped}
IDLE=${IDLE:-10000}
LOAD_CONNS=${LOAD_CONNS:-1000}
LOAD_SECS=${LOAD_SECS:-5}
FLASH=${FLASH:-$HERE/flash}
SERVERS=("$@")
[[ ${#SERVERS[@]} -gt 0 ]] || SERVERS=(flash nginx lighttpd)

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
(( $(ulimit -n) >= IDLE + 1000 )) || die "ulimit -n is $(ulimit -n): IDLE=$IDLE needs $((IDLE + 1000)) (raise the hard limit, or lower IDLE)"
FDMAX=$(ulimit -n)

mkdir -p "$WORK/www"
head -c 1024 /dev/urandom > "$WORK/www/f.bin"
chmod 755 "$WORK" "$WORK/www"; chmod 644 "$WORK/www/f.bin"   # nginx's worker runs as nobody

# ---------------------------------------------------------------- servers
cat > "$WORK/nginx.conf" <<NGX
worker_processes 1; daemon off; pid $WORK/nginx.pid; error_log $WORK/nginx-error.log;
worker_rlimit_nofile $FDMAX;
events { worker_connections $((IDLE + 500)); }
http {
  sendfile on; tcp_nopush on; tcp_nodelay on; access_log off; keepalive_requests 1000000;
  keepalive_timeout 600s; client_header_timeout 600s;
  open_file_cache max=1000 inactive=60s; open_file_cache_valid 60s; default_type application/octet-stream;
  client_body_temp_path $WORK/tmp; proxy_temp_path $WORK/tmp; fastcgi_temp_path $WORK/tmp;
  uwsgi_temp_path $WORK/tmp; scgi_temp_path $WORK/tmp;
  server { listen 127.0.0.1:PORT backlog=1024; root $WORK/www; }
}
NGX
cat > "$WORK/lighttpd.conf" <<LTD
server.document-root = "$WORK/www"
server.port = PORT
server.bind = "127.0.0.1"
server.max-keep-alive-requests = 1000000
server.max-keep-alive-idle = 600
server.max-read-idle = 600
server.max-fds = $FDMAX
server.max-connections = $((IDLE + 500))
server.listen-backlog = 1024
server.errorlog = "$WORK/lighttpd-error.log"
server.network-backend = "sendfile"
mimetype.assign = ( "" => "application/octet-stream" )
LTD

# start_server NAME TAG: a fresh server; sets PORT_OF[TAG] and PID[TAG] (its session: every process it forks).
declare -A PORT_OF=()
start_server() {
  local name=$1 tag=$2 port
  free_port port
  PORT_OF[$tag]=$port
  case $name in
    flash)
      # shellcheck disable=SC2086
      start "$tag" 0 "$FLASH" serve "$WORK/www" --port "$port" --arch "$ARCH" --idle-timeout 600 \
        --max-connections $((IDLE + 500)) ${FLASH_ARGS:-}
      wait_url "$tag" "http://127.0.0.1:$port/f.bin" 180 ;;
    nginx)
      sed "s/PORT/$port/" "$WORK/nginx.conf" > "$WORK/$tag.conf"
      start "$tag" 0 nginx -c "$WORK/$tag.conf"
      wait_url "$tag" "http://127.0.0.1:$port/f.bin" ;;
    lighttpd)
      sed "s/PORT/$port/" "$WORK/lighttpd.conf" > "$WORK/$tag.conf"
      start "$tag" 0 lighttpd -D -f "$WORK/$tag.conf"
      wait_url "$tag" "http://127.0.0.1:$port/f.bin" ;;
    *) die "unknown server '$name' (flash, nginx, lighttpd)" ;;
  esac
}
stop_server() {
  local tag=$1 p
  for p in $(pgrep -s "${PID[$tag]}" 2>/dev/null); do kill -TERM "$p" 2>/dev/null || true; done
  for _ in $(seq 100); do pgrep -s "${PID[$tag]}" >/dev/null 2>&1 || return 0; sleep 0.1; done
  for p in $(pgrep -s "${PID[$tag]}" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
}

# Sums over the server's session (nginx: master and worker; their shared pages are counted twice, as RSS does).
rss_kib() { local t=0 p v; for p in $(pgrep -s "$1"); do v=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null); t=$((t + ${v:-0})); done; echo "$t"; }
hwm_kib() { local t=0 p v; for p in $(pgrep -s "$1"); do v=$(awk '/^VmHWM:/ {print $2}' "/proc/$p/status" 2>/dev/null); t=$((t + ${v:-0})); done; echo "$t"; }
fds() { local t=0 p; for p in $(pgrep -s "$1"); do t=$((t + $(find "/proc/$p/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l))); done; echo "$t"; }
established() { ss -Htn state established "( sport = :$1 )" 2>/dev/null | wc -l; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

# warm_up PORT: keep-alive requests and short connections, so the JIT, the caches and a young generation are warm
# before the baseline (what a first request costs is not what an idle connection costs).
warm_up() {
  launcher 1
  "${LAUNCH[@]}" wrk -t1 -c8 -d3s "http://127.0.0.1:$1/f.bin" >/dev/null 2>&1 || true
  "${LAUNCH[@]}" python3 -c 'import socket,sys
for _ in range(300):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); s.sendall(b"GET /f.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    while s.recv(65536): pass
    s.close()' "$1"
  # The idle path itself, once, on 1,000 connections of each kind, closed again: the first idle connections make the
  # JIT compile accept-to-idle code, whose compiler arenas came and went inside the measured halves (several MiB of
  # RSS up, then down: deltas of -940 to +2,300 B per connection in one run).
  printf 'served 1000\nsilent 1000\n' | "${LAUNCH[@]}" python3 "$WORK/idle.py" "$1" >/dev/null
  sleep 5   # the JIT's compilations of the warm-up end, and their arenas are freed
}

# The idle client: opens connections in two halves on command (a line on its stdin), holding all of them until EOF.
cat > "$WORK/idle.py" <<'PY'
import socket, sys, time
port = int(sys.argv[1]); req = b"GET /f.bin HTTP/1.1\r\nHost: x\r\n\r\n"
held = []
def connect():
    s = socket.create_connection(("127.0.0.1", port), timeout=30); held.append(s); return s
def read_response(s):
    data = b""
    while b"\r\n\r\n" not in data:
        c = s.recv(4096)
        if not c: raise SystemExit("EOF in a response head")
        data += c
    head, rest = data.split(b"\r\n\r\n", 1)
    if not head.startswith(b"HTTP/1.1 200"): raise SystemExit("not 200: %r" % head[:40])
    n = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0])
    while len(rest) < n:
        c = s.recv(65536)
        if not c: raise SystemExit("EOF in a body")
        rest += c
for line in sys.stdin:
    kind, n = line.split(); n = int(n)
    if kind == "served":   # in batches: connect and send 100, then read their responses
        for i in range(0, n, 100):
            batch = [connect() for _ in range(min(100, n - i))]
            for s in batch: s.sendall(req)
            for s in batch: read_response(s)
    else:   # in batches, with a pause for the server to take them off its listen backlog (an overflow costs SYN retries)
        for i in range(n):
            connect()
            if i % 200 == 199: time.sleep(0.05)
    print("open", len(held), flush=True)
PY

# await_fds TAG WANT: until the server holds WANT descriptors (its accepted connections), at most 60 s.
# The count stopping for 10 s also ends the wait (connections lost to a full listen backlog never arrive).
await_fds() {
  local n last=-1 same=0
  for _ in $(seq 300); do
    n=$(fds "${PID[$1]}")
    (( n >= $2 )) && return 0
    if (( n == last )); then (( ++same >= 50 )) && break; else same=0; last=$n; fi
    sleep 0.2
  done
  echo "  ($1 holds $n descriptors, expected $2)" >&2
}

# heap_bytes SESSION: live bytes on a JVM server's heap (jcmd's class histogram, which collects first), or "" when the
# server is not a JVM. The per-connection heap is the steady figure: RSS deltas also count heap pages touched before
# (or not) by earlier garbage, which moves a run's per-connection RSS by hundreds of bytes either way.
# Summed over every JVM of the session (mp: the parent and its workers); "" when a histogram fails (attach refused).
heap_bytes() {
  local p exe h total=0 jvms=0
  for p in $(pgrep -s "$1"); do
    exe=$(readlink -f "/proc/$p/exe" 2>/dev/null) || continue
    [[ "$exe" == */bin/java && -x "${exe%/java}/jcmd" ]] || continue
    h=$("${exe%/java}/jcmd" "$p" GC.class_histogram 2>/dev/null | awk '/^Total/ {print $3}') || true
    [[ -n "$h" ]] || { echo ""; return 0; }
    total=$((total + h)); jvms=$((jvms + 1))
  done
  (( jvms > 0 )) && echo "$total"
  return 0
}

RESULTS=()
idle_run() {
  local name=$1 tag="$1-idle" s port r0 r1 r2 f0 n1=$((IDLE / 2)) n2=$((IDLE - IDLE / 2))
  start_server "$name" "$tag"
  s=${PID[$tag]}; port=${PORT_OF[$tag]}
  warm_up "$port"
  local h0 h2; h0=$(heap_bytes "$s")
  r0=$(rss_kib "$s"); f0=$(fds "$s")
  launcher 1
  coproc IDLECLIENT { "${LAUNCH[@]}" python3 "$WORK/idle.py" "$port"; }
  echo "served $n1" >&"${IDLECLIENT[1]}"; read -r _ _ <&"${IDLECLIENT[0]}" || die "the idle client failed"
  await_fds "$tag" $((f0 + n1)); sleep 2
  r1=$(rss_kib "$s")
  local e1; e1=$(established "$port")
  echo "silent $n2" >&"${IDLECLIENT[1]}"; read -r _ _ <&"${IDLECLIENT[0]}" || die "the idle client failed"
  await_fds "$tag" $((f0 + IDLE)); sleep 2
  r2=$(rss_kib "$s")
  local e2 f2; e2=$(established "$port"); f2=$(fds "$s")
  h2=$(heap_bytes "$s")
  eval "exec ${IDLECLIENT[1]}>&-"
  wait "$IDLECLIENT_PID" 2>/dev/null || true
  stop_server "$tag"
  local line
  line=$(awk -v n="$name" -v r0="$r0" -v r1="$r1" -v r2="$r2" -v n1="$n1" -v n2="$n2" -v c="$((f2 - f0))" -v e="$e2" \
    'BEGIN {printf "%-9s %8.1f %8.1f %8.1f   %6d %6d   %6.0f %6.0f %6.0f", n, r0/1024, r1/1024, r2/1024, c, e,
            (r1-r0)*1024/n1, (r2-r1)*1024/n2, (r2-r0)*1024/(n1+n2)}')
  [[ -n "$h0" && -n "$h2" ]] && (( f2 > f0 )) && line+=$(awk -v a="$h0" -v b="$h2" -v c="$((f2 - f0))" 'BEGIN {printf "   heap %.0f B/conn", (b - a) / c}')
  RESULTS+=("idle  $line")
  echo "  $line  (established after the first half: $e1)"
}

load_run() {
  local name=$1 tag="$1-load" s port r0 peak=0 r hwm after conns=0 c
  start_server "$name" "$tag"
  s=${PID[$tag]}; port=${PORT_OF[$tag]}
  r0=$(rss_kib "$s"); local f0; f0=$(fds "$s")
  start_wrk "$tag" 1 -t1 -c"$LOAD_CONNS" -d"${LOAD_SECS}s" --timeout 10s "http://127.0.0.1:$port/f.bin"
  local w=$WRK_PID
  while kill -0 "$w" 2>/dev/null; do
    r=$(rss_kib "$s"); (( r > peak )) && peak=$r
    c=$(( $(fds "$s") - f0 )); (( c > conns )) && conns=$c   # connections held: the server's new descriptors
    sleep 0.1
  done
  wait "$w" || true
  hwm=$(hwm_kib "$s"); after=$(rss_kib "$s")
  local rps; rps=$(awk '/^Requests\/sec/ {printf "%.0f", $2}' "$WORK/$tag.wrk")
  stop_server "$tag"
  local line
  line=$(printf "%-9s %8s %8s %8s %8s   %6d   %s" "$name" "$(mib "$r0")" "$(mib "$peak")" "$(mib "$hwm")" "$(mib "$after")" \
    "$conns" "${rps:-?}")
  RESULTS+=("load  $line")
  echo "  $line"
}

echo "footprint: servers ${SERVERS[*]}, Flash arch $ARCH via $FLASH${FLASH_MEMORY_FLAGS+ (FLASH_MEMORY_FLAGS=$FLASH_MEMORY_FLAGS)}"
# The launcher's own choice for this machine (its functions since section 25; the plain assignment before that).
MEMFLAGS=$(bash -c 'source <(sed -n "/^machine_mib() {$/,/^}$/p;/^memory_flags() {$/,/^}$/p" "$1"); memory_flags "$(machine_mib)"' _ "$FLASH" 2>/dev/null \
  || sed -n 's/^DEFAULT_MEMORY_FLAGS="\(.*\)"$/\1/p' "$FLASH" 2>/dev/null || true)
echo "  launcher's JVM memory flags: ${FLASH_MEMORY_FLAGS-${MEMFLAGS:-(none: the launcher before issue #11)}}${FLASH_JAVA_OPTS:+ $FLASH_JAVA_OPTS}"
if [[ -z "${SKIP_IDLE:-}" ]]; then
  echo "(a) $IDLE idle connections: half served once then idle, half silent"
  echo "  server      rss0     rss1     rss2    conns  estab   B/served B/silent B/conn  (MiB; B = RSS bytes per connection; heap: a JVM's live heap bytes per connection)"
  for n in "${SERVERS[@]}"; do idle_run "$n"; done
fi
if [[ -z "${SKIP_LOAD:-}" ]]; then
  echo "(b) wrk -t1 -c$LOAD_CONNS -d${LOAD_SECS}s on a 1 KiB file (memory only; req/s to show the load ran)"
  echo "  server      idle     peak    VmHWM    after    conns   req/s   (MiB)"
  for n in "${SERVERS[@]}"; do load_run "$n"; done
fi
