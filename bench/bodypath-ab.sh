#!/usr/bin/env bash
# Loop-thread CPU per response of two body-path variants, interleaved: both servers run at once (amped, --loops 1),
# and each round sends N requests for the same hot file over one keep-alive curl connection to A, then to B, reading
# each server's flash-loop-0 CPU time (/proc/PID/task/TID/schedstat) around it. Interleaving keeps the machine's
# other load from favouring one variant. NOT a throughput benchmark (one connection, curl).
#
#   [WARM=4000] [ROUNDS=7] bench/bodypath-ab.sh SIZE N "A_JVM_PROPS" "B_JVM_PROPS"
#   e.g. bench/bodypath-ab.sh 262144 500 "-Dflash.sendfileMin=9223372036854775807" ""
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SIZE=${1:?size}; N=${2:?requests}; A=${3-}; B=${4-}
WARM=${WARM:-4000}; ROUNDS=${ROUNDS:-7}; ARCH=${ARCH:-amped}
JAVA="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
DIR=$(mktemp -d /tmp/bodypath-ab.XXXXXX)
head -c "$SIZE" /dev/urandom > "$DIR/f.bin"
declare -A PID TID PORT
for V in A B; do
  PORT[$V]=$((20000 + RANDOM % 20000))
  for ((i = 0; i < N; i++)); do printf 'url = "http://127.0.0.1:%d/f.bin"\noutput = "/dev/null"\n' "${PORT[$V]}"; done > "$DIR/$V.cfg"
  # shellcheck disable=SC2086
  "$JAVA" --enable-native-access=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED -XX:+UseParallelGC ${!V} \
    -jar "$HERE/target/flash.jar" serve "$DIR" --port "${PORT[$V]}" --loops 1 --arch "$ARCH" --revalidate-ms 600000 \
    >/dev/null 2>&1 &
  PID[$V]=$!
done
trap 'kill ${PID[A]} ${PID[B]} 2>/dev/null; rm -rf "$DIR"' EXIT
for V in A B; do
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:${PORT[$V]}/f.bin" && break; sleep 0.2; done
  for t in /proc/${PID[$V]}/task/*; do [[ "$(cat "$t/comm")" == flash-loop-0 ]] && TID[$V]=${t##*/}; done
done
for ((w = 0; w < WARM; w += N)); do curl -s --config "$DIR/A.cfg" >/dev/null; curl -s --config "$DIR/B.cfg" >/dev/null; done
declare -A ALL
for ((r = 0; r < ROUNDS; r++)); do
  for V in A B; do
    S="/proc/${PID[$V]}/task/${TID[$V]}/schedstat"
    c0=$(awk '{print $1}' "$S"); curl -s --config "$DIR/$V.cfg" >/dev/null; c1=$(awk '{print $1}' "$S")
    ALL[$V]="${ALL[$V]:-} $(awk -v a="$c0" -v b="$c1" -v n="$N" 'BEGIN { printf "%.1f", (b - a) / n / 1000 }')"
  done
done
for V in A B; do
  med=$(tr ' ' '\n' <<< "${ALL[$V]}" | grep . | sort -n | awk '{a[NR] = $1} END { print a[int((NR + 1) / 2)] }')
  echo "size=$SIZE arch=$ARCH $V=[${!V:-defaults}] loop cpu us/response:${ALL[$V]}  median $med"
done
