#!/usr/bin/env bash
# Rolling restart behind HAProxy: a correctness check, not a benchmark (docs/deploy.md has the results).
#
# Starts 3 instances of a server on loopback ports behind Debian's HAProxy (2.6) with ONLY `retry-on conn-failure`
# (HAProxy's default: it retries a request whose connection could not be made, never one that was sent), puts
# `wrk -t2 -c32` load on HAProxy, and meanwhile restarts each instance in turn: SIGTERM, wait for it to exit, start it
# again, wait until HAProxy's health check sees it up, GAP seconds of steady load. Then it stops wrk and prints what the
# clients saw (wrk: requests, socket errors, non-2xx answers) and what HAProxy saw (its retries, redispatches, response
# and connection errors, 5xx). A request is lost when wrk counts an error or a non-2xx answer for it.
#
#   bench/rolling-restart.sh                         # Flash, --health-path /healthz --drain-delay 2
#   FLASH_ARGS= bench/rolling-restart.sh             # Flash, no health path, no drain delay
#   FLASH_JAR=/tmp/old.jar FLASH_ARGS= bench/rolling-restart.sh     # another build (one without --health-path)
#   SERVER=nginx bench/rolling-restart.sh            # 3 nginx instances, stopped with SIGQUIT (graceful)
#
# Environment: SERVER=flash|nginx; GAP (seconds of steady load after each restart, default 3); CONNS (default 32);
# FLASH_ARGS (extra serve options, default "--health-path /healthz --drain-delay 2"); CHECK (HAProxy's health-check
# path, default /healthz when FLASH_ARGS names --health-path, else /); RETRY_ON (default conn-failure); FLASH_JAR
# (default target/flash.jar, built when missing or stale); KEEP=1 keeps the work directory (logs, haproxy.cfg).
# Exit status: 0 when no request was lost, 1 when some were, 2 on a setup problem.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NAME=$(basename "$0")
SERVER=${SERVER:-flash}
GAP=${GAP:-3}
CONNS=${CONNS:-32}
RETRY_ON=${RETRY_ON:-conn-failure}
FLASH_ARGS=${FLASH_ARGS-"--health-path /healthz --drain-delay 2"}
if [[ -z "${CHECK:-}" ]]; then
  if [[ $SERVER == flash && "$FLASH_ARGS" == *--health-path* ]]; then CHECK=/healthz; else CHECK=/; fi
fi
N=3

die() { echo "$NAME: $*" >&2; exit 2; }
for t in haproxy wrk curl awk setsid pgrep; do
  command -v "$t" >/dev/null 2>&1 || [[ -x /usr/sbin/$t ]] || die "'$t' is not installed (apt-get install -y $t)"
done
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[[ $SERVER == flash || $SERVER == nginx ]] || die "SERVER must be flash or nginx, not '$SERVER'"
[[ $SERVER == nginx && ! -x $NGINX ]] && die "nginx is not installed (apt-get install -y nginx)"

if [[ $SERVER == flash ]]; then
  JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
  [[ -x $JAVA_HOME/bin/java ]] || die "no JDK at $JAVA_HOME (set JAVA_HOME to a JDK 25)"
  JAR=${FLASH_JAR:-$HERE/target/flash.jar}
  if [[ -z "${FLASH_JAR:-}" && ( ! -f $JAR || -n "$(find "$HERE/src/main" "$HERE/pom.xml" -newer "$JAR" -print -quit)" ) ]]; then
    echo "building $JAR ..." >&2
    (cd "$HERE" && JAVA_HOME=$JAVA_HOME mvn -B -q -ntp -DskipTests package) >&2 || die "the build failed"
  fi
  [[ -f $JAR ]] || die "FLASH_JAR=$JAR does not exist"
fi

WORK=$(mktemp -d /tmp/flash-rolling.XXXXXX)
SESSIONS=()
cleanup() {
  trap - EXIT INT TERM
  local s
  exec 3>&2 2>/dev/null # no "Killed" notices from bash for the processes stopped here
  for s in "${SESSIONS[@]}"; do for p in $(pgrep -s "$s"); do kill -KILL "$p" || true; done; done
  wait || true
  exec 2>&3
  if [[ -n "${KEEP:-}" ]]; then echo "work directory kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A free port below the ephemeral range, not handed out before.
USED=" "
free_port() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 12000))
    [[ "$USED" == *" $p "* ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then USED+="$p "; echo "$p"; return 0; fi
  done
  die "found no free port"
}

mkdir -p "$WORK/www"
head -c 1024 /dev/zero | tr '\0' 'x' > "$WORK/www/index.html"
chmod a+rx "$WORK" "$WORK/www"; chmod a+r "$WORK/www/index.html" # nginx's workers run as another user when root starts it
FRONT=$(free_port); STATS=$(free_port)
declare -a PORT PID
for i in $(seq 1 $N); do PORT[i]=$(free_port); done

# start_instance I: in a session of its own (so every process it forks is stopped with it), log in $WORK/sI.log.
start_instance() {
  local i=$1
  if [[ $SERVER == flash ]]; then
    # shellcheck disable=SC2086
    setsid "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -Xmx128m -jar "$JAR" serve "$WORK/www" \
      --port "${PORT[i]}" --loops 1 --helpers 2 $FLASH_ARGS >>"$WORK/s$i.log" 2>&1 &
  else
    cat >"$WORK/nginx$i.conf" <<EOF
worker_processes 1;
pid $WORK/nginx$i.pid;
error_log $WORK/s$i.error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $WORK/tmp$i; proxy_temp_path $WORK/tmp$i; fastcgi_temp_path $WORK/tmp$i;
  uwsgi_temp_path $WORK/tmp$i; scgi_temp_path $WORK/tmp$i;
  keepalive_requests 100000;
  server { listen 127.0.0.1:${PORT[i]}; root $WORK/www; }
}
EOF
    mkdir -p "$WORK/tmp$i"
    setsid "$NGINX" -e "$WORK/s$i.error.log" -c "$WORK/nginx$i.conf" -g 'daemon off;' >>"$WORK/s$i.log" 2>&1 &
  fi
  PID[i]=$!
  SESSIONS+=("${PID[i]}")
  for _ in $(seq 300); do
    curl -s -o /dev/null --max-time 1 "http://127.0.0.1:${PORT[i]}/index.html" && return 0
    kill -0 "${PID[i]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "$NAME: instance $i did not come up; its log:" >&2; sed 's/^/    /' "$WORK/s$i.log" >&2; exit 2
}

# stop_instance I: the graceful stop (Flash: SIGTERM; nginx: SIGQUIT, as Debian's unit does), wait for the exit.
stop_instance() {
  local i=$1
  if [[ $SERVER == flash ]]; then kill -TERM "${PID[i]}"; else kill -QUIT "${PID[i]}"; fi
  for _ in $(seq 600); do kill -0 "${PID[i]}" 2>/dev/null || { wait "${PID[i]}" 2>/dev/null || true; return 0; }; sleep 0.05; done
  die "instance $i did not exit within 30 s of the stop signal"
}

# stat_field SERVER COLUMN: one column of HAProxy's CSV stats for a server (or BACKEND), by header name.
stat_field() {
  curl -s --max-time 2 "http://127.0.0.1:$STATS/stats;csv" | awk -F, -v sv="$1" -v col="$2" '
    NR == 1 { sub(/^# /, ""); for (c = 1; c <= NF; c++) idx[$c] = c; next }
    $1 == "be" && $2 == sv { print $(idx[col]); exit }'
}
wait_up() {
  for _ in $(seq 200); do [[ "$(stat_field "s$1" status)" == UP* ]] && return 0; sleep 0.05; done
  die "HAProxy did not see instance $1 up within 10 s"
}

for i in $(seq 1 $N); do start_instance "$i"; done

{
  cat <<EOF
global
    maxconn 4096
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    retries 3
    option redispatch
    retry-on $RETRY_ON
frontend fe
    bind 127.0.0.1:$FRONT
    default_backend be
frontend stats
    bind 127.0.0.1:$STATS
    stats enable
    stats uri /stats
backend be
    balance roundrobin
    option httpchk GET $CHECK
    http-check expect status 200
    default-server check inter 500ms fall 1 rise 1
EOF
  for i in $(seq 1 $N); do echo "    server s$i 127.0.0.1:${PORT[i]}"; done
} >"$WORK/haproxy.cfg"
"$HAPROXY" -c -q -f "$WORK/haproxy.cfg" || die "haproxy rejects $WORK/haproxy.cfg"
setsid "$HAPROXY" -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.log" 2>&1 &
SESSIONS+=("$!")
for i in $(seq 1 $N); do wait_up "$i"; done

echo "$SERVER x$N behind HAProxy $("$HAPROXY" -v | awk 'NR==1 {print $3}') (retry-on $RETRY_ON, check GET $CHECK every 500 ms)"
[[ $SERVER == flash ]] && echo "  flash options: ${FLASH_ARGS:-(none)}"
echo "  wrk -t2 -c$CONNS until the restarts are over; instances restarted one at a time from t=3 s, $GAP s apart"
# wrk runs until SIGINT (then it prints its summary as at the end of -d): the restarts take what JVM start-up takes.
setsid wrk -t2 -c"$CONNS" -d600s "http://127.0.0.1:$FRONT/index.html" >"$WORK/wrk.out" 2>&1 &
WRK=$!
SESSIONS+=("$WRK")
START=$(date +%s.%N)
sleep 3
for i in $(seq 1 $N); do
  t0=$(date +%s.%N)
  stop_instance "$i"
  t1=$(date +%s.%N)
  start_instance "$i"
  wait_up "$i"
  awk -v s="$START" -v a="$t0" -v b="$t1" -v c="$(date +%s.%N)" -v i="$i" \
    'BEGIN { printf "  t=%5.1f s: s%d stopped in %.1f s, up again %.1f s later\n", a - s, i, b - a, c - b }'
  sleep "$GAP"
done
kill -INT "$WRK"
wait "$WRK" || { echo "$NAME: wrk failed:" >&2; cat "$WORK/wrk.out" >&2; exit 2; }

requests=$(awk '/requests in/ {print $1}' "$WORK/wrk.out")
read -r econn eread ewrite etimeout < <(awk '/Socket errors/ {gsub(",", ""); print $4, $6, $8, $10}' "$WORK/wrk.out") || true
non2xx=$(awk '/Non-2xx/ {print $NF}' "$WORK/wrk.out")
econn=${econn:-0}; eread=${eread:-0}; ewrite=${ewrite:-0}; etimeout=${etimeout:-0}; non2xx=${non2xx:-0}
lost=$((econn + eread + ewrite + etimeout + non2xx))
echo
echo "wrk:     requests=$requests lost=$lost (connect=$econn read=$eread write=$ewrite timeout=$etimeout non-2xx=$non2xx)"
echo "haproxy: retries=$(stat_field BACKEND wretr) redispatches=$(stat_field BACKEND wredis)" \
  "response_errors=$(stat_field BACKEND eresp) connection_errors=$(stat_field BACKEND econ)" \
  "5xx=$(stat_field BACKEND hrsp_5xx)"
echo "RESULT server=$SERVER requests=$requests lost=$lost retries=$(stat_field BACKEND wretr)"
[[ $lost -eq 0 ]]
