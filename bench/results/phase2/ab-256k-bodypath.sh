#!/usr/bin/env bash
# Interleaved A/B at 256 KiB: A = mapped chunks (-Dflash.sendfileMin=max), B = sendfile (default). Server CPU 0, wrk CPU 1.
set -u
J=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java; JAR=/work/main/target/flash.jar
W=$(mktemp -d); mkdir -p $W/www; head -c 262144 /dev/urandom > $W/www/f.bin
L="-XX:+UseSerialGC -Xms24m -Xmn16m -Xmx1g -XX:+UseCompactObjectHeaders"
for i in 1 2 3 4; do for m in mapped sendfile; do
  X=""; [[ $m == mapped ]] && X="-Dflash.sendfileMin=9223372036854775807"
  setsid nice -n -20 taskset -c 0 $J --enable-native-access=ALL-UNNAMED $L $X -jar $JAR serve $W/www --port 28490 --loops 1 > $W/log 2>&1 &
  P=$!; for k in $(seq 50); do curl -sf -o /dev/null http://127.0.0.1:28490/f.bin && break; sleep 0.2; done
  nice -n -20 taskset -c 1 wrk -t1 -c50 -d3s http://127.0.0.1:28490/f.bin >/dev/null
  t0=$(awk '{print $14+$15}' /proc/$P/stat)
  r=$(nice -n -20 taskset -c 1 wrk -t1 -c50 -d10s http://127.0.0.1:28490/f.bin | awk '/Requests\/sec/{print $2}')
  t1=$(awk '{print $14+$15}' /proc/$P/stat)
  echo "$i $m req/s=$r cpu%=$(( (t1-t0) * 100 / 100 / 10 )) req/cpu-s=$(python3 -c "print(round($r*10/(($t1-$t0)/100)))")"
  kill $P; wait $P 2>/dev/null
done; done
rm -rf $W
