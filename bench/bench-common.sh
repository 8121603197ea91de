# Shared by bench/proxy.sh and bench/isolation.sh (sourced, not run). Conventions as bench/throughput.sh: servers
# under test on CPU 0, backends and wrk on CPU 1, every process started with `setsid nice -n NICE taskset -c CPU`
# (NICE defaults to -20 when root, else 0; with scheduler autogroups on, the new session's autogroup gets NICE too,
# see launcher), ports chosen free, every process (and its children: each is started in a session of its own)
# stopped on exit, also on Ctrl-C.
#
# Noise detection, per measurement, from tick counters (USER_HZ): the server's own CPU time (cpu%, of one CPU, over
# the run); "oth0%" = CPU 0's user+nice+system time minus that of our processes there (the server); "oth1%" = CPU
# 1's minus that of ours there (backends, wrk); "steal%" = steal time of both CPUs. NOISY marks a measurement where
# another process took CPU time it needed (see noise_cols). Interrupt and softirq time are not counted in oth*, so
# loopback networking does not show up as foreign load (softirq work deferred to ksoftirqd does).

[[ -n "${BASH_VERSION:-}" ]] || { echo "bench-common.sh needs bash" >&2; exit 2; }
BENCH_NAME=$(basename "$0")
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HZ=$(getconf CLK_TCK)
NOISE_PCT=${NOISE_PCT:-10}
if [[ $(id -u) -eq 0 ]]; then NICE=${NICE:--20}; else NICE=${NICE:-0}; fi

die() { echo "$BENCH_NAME: $*" >&2; exit 2; }

# need TOOL...: a clear error naming the package when a tool is missing.
need() {
  local t pkg
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 && continue
    case $t in taskset|setsid) pkg=util-linux ;; numfmt|nice) pkg=coreutils ;; pgrep) pkg=procps ;; h2load) pkg=nghttp2-client ;; *) pkg=$t ;; esac
    die "'$t' is not installed (apt-get install -y $pkg)"
  done
}
need taskset setsid nice wrk curl pgrep awk numfmt
taskset -c 1 true 2>/dev/null || die "needs at least 2 CPUs (server on CPU 0, load generator on CPU 1); taskset -c 1 failed"
if [[ "$NICE" -lt 0 && $(id -u) -ne 0 ]]; then die "NICE=$NICE needs root"; fi

# The JDK and the jar (built when missing or older than the sources; FLASH_JAR: use another jar as is).
find_java() {
  local h
  for h in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*; do
    [[ -n "$h" && -x "$h/bin/java" ]] || continue
    local v; v=$("$h/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
    if [[ "${v%%.*}" -ge 25 ]]; then echo "$h"; return 0; fi
  done
  return 1
}
JAVA_HOME=$(find_java) || die "no JDK 25 or newer found (set JAVA_HOME)"
export JAVA_HOME
JAVA="$JAVA_HOME/bin/java"
ensure_jar() {
  if [[ -n "${FLASH_JAR:-}" ]]; then
    [[ -f "$FLASH_JAR" ]] || die "FLASH_JAR=$FLASH_JAR does not exist"
    JAR=$FLASH_JAR; return
  fi
  JAR="$HERE/target/flash.jar"
  if [[ ! -f "$JAR" || -n "$(find "$HERE/src/main" "$HERE/pom.xml" -newer "$JAR" -print -quit 2>/dev/null)" ]]; then
    need mvn
    echo "building $JAR ..." >&2
    (cd "$HERE" && mvn -B -q -ntp -DskipTests package) >&2 || die "the build failed"
  fi
}
# The JVM flags of ./flash, plus JAVA_OPTS.
flash_cmd() { # flash_cmd ARGS... -> FLASH_CMD array
  # shellcheck disable=SC2206
  FLASH_CMD=("$JAVA" --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC ${JAVA_OPTS:-} -jar "$JAR" serve "$@")
}

WORK=$(mktemp -d /tmp/flash-bench.XXXXXX)
mkdir -p "$WORK/tmp"
SESSIONS=()
CLEANUP_DIRS=()   # more directories to remove on exit (unless KEEP)
cleanup() {
  local s p alive
  trap - EXIT INT TERM
  for s in "${SESSIONS[@]}"; do
    for p in $(pgrep -s "$s" 2>/dev/null); do kill -TERM "$p" 2>/dev/null || true; done
  done
  for _ in $(seq 50); do   # up to 5 s for everyone to drain and exit
    alive=0
    for s in "${SESSIONS[@]}"; do pgrep -s "$s" >/dev/null 2>&1 && alive=1; done
    [[ $alive == 0 ]] && break
    sleep 0.1
  done
  for s in "${SESSIONS[@]}"; do
    for p in $(pgrep -s "$s" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
  done
  wait 2>/dev/null || true
  if [[ -n "${KEEP:-}" ]]; then echo "work directory kept: $WORK ${CLEANUP_DIRS[*]}" >&2; else rm -rf "$WORK" "${CLEANUP_DIRS[@]}"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# free_port VAR: a free TCP port below the ephemeral range (so no outgoing connection holds it), not listened on, not
# handed out before.
USED_PORTS=" "
free_port() {
  local lo p
  lo=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  (( lo > 21000 )) || lo=32768
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % (lo - 20000)))
    [[ "$USED_PORTS" == *" $p "* ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then USED_PORTS+="$p "; printf -v "$1" '%s' "$p"; return 0; fi
  done
  die "found no free port"
}

# launcher CPU -> the launcher words for that CPU, in array LAUNCH.
# With scheduler autogroups on (/proc/sys/kernel/sched_autogroup_enabled = 1), every session is a group of its own
# with a fair share of the CPU against every other session, and a process's nice value only ranks it inside its
# group: `setsid nice -n -20` alone gains nothing against the other sessions on the machine. So the new session's
# group gets the same nice value (/proc/self/autogroup, written right after setsid, before exec).
AUTOGROUP=0
[[ "$NICE" != 0 && "$(cat /proc/sys/kernel/sched_autogroup_enabled 2>/dev/null)" == 1 ]] && AUTOGROUP=1
launcher() {
  LAUNCH=(setsid)
  [[ "$NICE" != 0 ]] && LAUNCH+=(nice -n "$NICE")
  LAUNCH+=(taskset -c "$1")
  if [[ $AUTOGROUP == 1 ]]; then LAUNCH+=(sh -c "echo $NICE > /proc/self/autogroup && exec \"\$@\"" sh); fi
}
# check_autogroups: once everything is up, warn about a started process whose autogroup did not get NICE.
check_autogroups() {
  [[ $AUTOGROUP == 1 ]] || return 0
  local n g
  for n in "${!PID[@]}"; do
    g=$(cat "/proc/${PID[$n]}/autogroup" 2>/dev/null) || continue
    [[ "$g" == *"nice $NICE" ]] || echo "$BENCH_NAME: warning: $n (pid ${PID[$n]}) runs in '$g', not at autogroup nice $NICE" >&2
  done
}
# quote WORD...: the words as one shell command line that can be pasted back.
quote() {
  local a out="" q="'"
  for a in "$@"; do
    if [[ "$a" =~ ^[A-Za-z0-9_./:=,+@%-]+$ ]]; then out+="$a "; else out+="'${a//$q/$q\\$q$q}' "; fi
  done
  echo "${out% }"
}

# start NAME CPU CMD...: starts CMD in a session of its own on CPU, output in $WORK/NAME.log; PID[NAME] = its pid
# (= its session id: every process it forks stays in that session and is counted and stopped with it).
declare -A PID=()
start() {
  local name=$1 cpu=$2; shift 2
  launcher "$cpu"
  echo "  $name: $(quote "${LAUNCH[@]}" "$@")"
  "${LAUNCH[@]}" "$@" >"$WORK/$name.log" 2>&1 &
  local p=$!
  PID[$name]=$p; SESSIONS+=("$p")
}
# wait_log NAME REGEX [SECONDS=60]: until the log matches, or die with the log when the process died or time ran out.
wait_log() {
  local name=$1 re=$2 t=${3:-60}
  for _ in $(seq $((t * 10))); do
    grep -qE "$re" "$WORK/$name.log" 2>/dev/null && return 0
    kill -0 "${PID[$name]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "$BENCH_NAME: $name did not come up; its log:" >&2; sed 's/^/    /' "$WORK/$name.log" >&2; exit 1
}
# wait_url NAME URL [SECONDS=60]: until URL answers 2xx.
wait_url() {
  local name=$1 url=$2 t=${3:-60}
  for _ in $(seq $((t * 5))); do
    curl -sf -o /dev/null --max-time 2 "$url" && return 0
    kill -0 "${PID[$name]}" 2>/dev/null || break
    sleep 0.2
  done
  echo "$BENCH_NAME: $name does not answer $url; its log:" >&2; sed 's/^/    /' "$WORK/$name.log" >&2; exit 1
}
flash_port() { sed -n 's/^flash listening on http:\/\/[^ ]*:\([0-9][0-9]*\)\/.*/\1/p' "$WORK/$1.log" | head -1; }

# CPU ticks (utime+stime) of every live process in a session.
session_ticks() {
  local t=0 p v
  for p in $(pgrep -s "$1" 2>/dev/null); do
    v=$(awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$p/stat" 2>/dev/null) || continue
    t=$((t + ${v:-0}))
  done
  echo "$t"
}
# thread_stats PID: per thread of PID, "tid name ticks involuntary-switches", sorted for join(1) under LC_ALL=C.
# Ticks are utime+stime counted after the ")" that closes the name: a JVM thread's name has spaces ("VM Thread",
# "C2 CompilerThread0"), which shift every field after it when the line is split from the start.
thread_stats() {
  local t
  for t in /proc/"$1"/task/*; do
    printf '%s %s %s %s\n' "${t##*/}" "$(tr ' ' _ < "$t/comm")" \
      "$(awk '{sub(/^.*\) /, ""); print $12 + $13}' "$t/stat")" "$(awk '/nonvoluntary/ {print $2}' "$t/status")"
  done | LC_ALL=C sort -k1,1
}
# "busy0 busy1 steal" ticks from /proc/stat (busy = user+nice+system).
cpu_stat() { awk '$1=="cpu0" {b0=$2+$3+$4; s+=$9} $1=="cpu1" {b1=$2+$3+$4; s+=$9} END {print b0, b1, s}' /proc/stat; }

# run_wrk TAG CPU WRK-ARGS...: runs wrk in the background in a session of its own (so a signal to this script is
# handled at once), waits; output in $WORK/TAG.wrk, its CPU ticks in WRK_TICKS[TAG]. The first command line of each
# kind (WRK_KIND, default TAG) is printed unless WRK_QUIET is set.
declare -A WRK_TICKS=() WRK_PRINTED=()
start_wrk() {
  local tag=$1 cpu=$2; shift 2
  export WRK_OUT="$WORK/$tag.wrk"
  launcher "$cpu"
  local kind=${WRK_KIND:-$tag}
  if [[ -z "${WRK_QUIET:-}" && -z "${WRK_PRINTED[$kind]:-}" ]]; then echo "  wrk ($kind): $(quote "${LAUNCH[@]}" wrk "$@")"; WRK_PRINTED[$kind]=1; fi
  # sh reports its children's CPU time (cutime+cstime of /proc/$$/stat) once wrk has been waited for.
  "${LAUNCH[@]}" sh -c 'wrk "$@" > "$WRK_OUT"; rc=$?; read -r st < /proc/$$/stat; echo "${st#*) }" > "$WRK_OUT.stat"; exit $rc' \
    wrk "$@" &
  WRK_PID=$!; SESSIONS+=("$WRK_PID")
}
finish_wrk() { # finish_wrk TAG PID
  local tag=$1 p=$2
  wait "$p" || { echo "$BENCH_NAME: wrk ($tag) failed:" >&2; cat "$WORK/$tag.wrk" >&2; exit 1; }
  WRK_TICKS[$tag]=$(awk '{print $14 + $15}' "$WORK/$tag.wrk.stat")
}
run_wrk() {
  start_wrk "$@"
  finish_wrk "$1" "$WRK_PID"
}

# wrk output parsing. Latencies are converted to ms; "-" when wrk completed no request.
wrk_requests() { awk '/ requests in / {print $1; f=1} END {if (!f) print 0}' "$1"; }
wrk_rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
wrk_pct() { # wrk_pct FILE 99
  [[ $(wrk_requests "$1") -gt 0 ]] || { echo -; return; }
  awk -v p="$2%" '$1==p {v=$2; u=v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
      m = (u=="us") ? v/1000 : (u=="ms") ? v : (u=="s") ? v*1000 : (u=="m") ? v*60000 : (u=="h") ? v*3600000 : v;
      printf "%.2f", m}' "$1"
}
wrk_mbs() { awk '/Transfer\/sec/ {v=$2; if (v ~ /GB/) v*=1024; else if (v ~ /KB/) v/=1024; else if (v ~ /MB/) v+=0; else v/=1048576; printf "%.1f", v}' "$1"; }
wrk_errors() { grep -E 'Non-2xx|Socket errors' "$1" | sed 's/^ *//' | tr '\n' ' ' || true; }

# Noise columns for a measurement: noise_begin at its start, noise_end at its end (also sets WALL_MS, the window's
# wall time: the bookkeeping around wrk makes it a little longer than SECONDS), then noise_cols CPU0_TICKS
# CPU1_TICKS (what our processes used on each CPU in the window) prints "oth0% oth1% steal%" over the window and sets
# NOISY to " NOISY" when steal passes NOISE_PCT, or when foreign load on a CPU passes NOISE_PCT while that CPU was
# full (ours + foreign >= 85%: the window is a little longer than the run): foreign load that only filled time our processes left idle took nothing from them
# (our processes run at nice NICE, their session's autogroup too). NOISE_CPUS (default "0 1") names the CPUs whose
# foreign load counts: a measurement that runs nothing of ours on CPU 0 (the backend alone) is not disturbed by
# what runs there.
noise_begin() { read -r NB0 NB1 NBS < <(cpu_stat); NT0=$(date +%s%N); }
noise_end() { read -r NE0 NE1 NES < <(cpu_stat); WALL_MS=$(( ($(date +%s%N) - NT0) / 1000000 )); (( WALL_MS > 0 )) || WALL_MS=1; }
# pct TICKS: TICKS as a percentage of one CPU over the window.
pct() { echo $(( $1 * 100000 / (HZ * WALL_MS) )); }
noise_cols() {
  local c0=$1 c1=$2 d=$((HZ * WALL_MS))
  local o0=$(( (NE0 - NB0 - c0) * 100000 / d )) o1=$(( (NE1 - NB1 - c1) * 100000 / d )) sp=$(( (NES - NBS) * 100000 / d ))
  local u0=$(( c0 * 100000 / d )) u1=$(( c1 * 100000 / d ))
  (( o0 < 0 )) && o0=0; (( o1 < 0 )) && o1=0
  local f0=0 f1=0
  [[ " ${NOISE_CPUS:-0 1} " == *" 0 "* ]] && (( u0 + o0 >= 85 )) && f0=$o0
  [[ " ${NOISE_CPUS:-0 1} " == *" 1 "* ]] && (( u1 + o1 >= 85 )) && f1=$o1
  NOISY=""
  if (( f0 > NOISE_PCT || f1 > NOISE_PCT || sp > NOISE_PCT )); then NOISY=" NOISY"; NOISY_RUNS=$((${NOISY_RUNS:-0} + 1)); fi
  printf '%5d %5d %6d' "$o0" "$o1" "$sp"
}

# median of numbers on stdin ("-" ignored), "-" when none; median_range also prints (min-max).
median() { { grep -v '^-$' || true; } | sort -g | awk '{v[NR]=$1} END {if (NR == 0) print "-"; else print v[int((NR+1)/2)]}'; }
median_range() { { grep -v '^-$' || true; } | sort -g | awk -v f="${1:-%.0f}" '{v[NR]=$1} END {if (NR == 0) print "-"; else printf f " (" f "-" f ")\n", v[int((NR+1)/2)], v[1], v[NR]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f", a / b}'; }

machine_note() {
  echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ)  $(uname -r)  $(nproc --all) CPUs  $("$JAVA" -version 2>&1 | head -1)  $(command -v nginx >/dev/null && nginx -v 2>&1 | sed 's/.*\//nginx /')  $(wrk -v 2>&1 | head -1 | awk '{print $1, $2}')"
  echo "# nice $NICE; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
}

# A cold data set for bench/tls.sh and bench/isolation.sh: COLD_FILES files of COLD_KB KiB of random bytes in DIR
# (served at /cold/), written back so that dropping their pages really drops them; $WORK/evict.py DIR MS drops them
# (MS=0: once, else every MS ms) and $WORK/cold.lua makes wrk ask for one at random.
make_cold_set() {
  local dir=$1
  mkdir -p "$dir"
  echo "creating $COLD_FILES x $COLD_KB KiB files in $dir ..." >&2
  python3 - "$dir" "$COLD_FILES" "$COLD_KB" <<'PY'
import os, sys
d, n, kb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(n):
    with open(os.path.join(d, "f%d.bin" % i), "wb") as f:
        f.write(os.urandom(kb * 1024))
os.sync()  # written back, so that dropping the pages really drops them
PY
  cat > "$WORK/evict.py" <<'PY'
import os, sys, time
d, period = sys.argv[1], int(sys.argv[2]) / 1000
names = [os.path.join(d, n) for n in os.listdir(d)]
while True:
    for p in names:
        fd = os.open(p, os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)
    if period == 0: break
    time.sleep(period)
PY
  cat > "$WORK/cold.lua" <<LUA
math.randomseed(os.time())
request = function() return wrk.format("GET", "/cold/f" .. math.random(0, $COLD_FILES - 1) .. ".bin") end
LUA
}
# php_nginx_conf FILE PORT SOCKET KEEPALIVE WORKER_CONNECTIONS [LISTEN_OPTIONS]: an nginx config (1 worker, in the
# foreground, no access log) that serves $WORK/www and passes *.php to php-fpm's Unix SOCKET as nginx's docs do
# (fastcgi.conf, fastcgi_keep_conn on, an upstream keepalive of KEEPALIVE connections).
php_nginx_conf() {
  local file=$1 port=$2 sock=$3 keepalive=$4 conns=$5 listen_opts=${6:-}
  mkdir -p "$WORK/tmp"
  cat > "$file" <<NGX
worker_processes 1; daemon off; master_process off; pid $WORK/nginx.pid; error_log $WORK/nginx-error.log warn;
events { worker_connections $conns; }
http {
  access_log off; keepalive_requests 1000000; keepalive_timeout 300s;
  client_body_temp_path $WORK/tmp; proxy_temp_path $WORK/tmp; fastcgi_temp_path $WORK/tmp;
  uwsgi_temp_path $WORK/tmp; scgi_temp_path $WORK/tmp;
  upstream php { server unix:$sock; keepalive $keepalive; }
  server {
    listen 127.0.0.1:$port$listen_opts; root $WORK/www;
    location ~ \.php\$ { include /etc/nginx/fastcgi.conf; fastcgi_pass php; fastcgi_keep_conn on; }
  }
}
NGX
}
