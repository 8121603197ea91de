#!/usr/bin/env bash
# Can nginx use kernel TLS on this machine? A check, not a benchmark (docs/tls.md quotes its output).
# nginx (1 worker, debug log) with `ssl_conf_command Options KTLS;` and `sendfile on;` serves a 1 MiB file over
# TLS 1.3 to curl, under strace. Kernel TLS needs OpenSSL to attach the kernel's "tls" upper-layer protocol to the
# connection (setsockopt(SOL_TCP, TCP_ULP, "tls")) and then hand it the keys (setsockopt(SOL_TLS, TLS_TX, ...)).
# Shows: what the kernel offers (tcp_available_ulp), every setsockopt nginx's process made for TCP_ULP / SOL_TLS
# and its result, nginx's debug lines about kTLS and SSL_sendfile, and whether the body arrived whole.
# usage: bench/nginx-ktls.sh     needs: nginx (built --with-debug, as Debian's), openssl, curl, strace
set -euo pipefail
for t in nginx openssl curl strace; do command -v "$t" >/dev/null || { echo "nginx-ktls.sh: '$t' is not installed" >&2; exit 2; }; done
W=$(mktemp -d /tmp/nginx-tlscheck.XXXXXX)
NPID=
trap '[[ -n $NPID ]] && kill "$(cat "$W/nginx.pid" 2>/dev/null)" "$NPID" 2>/dev/null; wait 2>/dev/null; [[ -n "${KEEP:-}" ]] && echo "kept $W" >&2 || rm -rf "$W"' EXIT
mkdir -p "$W/www" "$W/tmp"
head -c 1048576 /dev/urandom > "$W/www/f1m.bin"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -keyout "$W/site.key" \
  -out "$W/site.crt" -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
PORT=$((20000 + RANDOM % 10000))
cat > "$W/nginx.conf" <<NGX
worker_processes 1; daemon off; master_process off; pid $W/nginx.pid; error_log $W/error.log debug;
events { worker_connections 64; }
http {
  sendfile on; access_log off; default_type application/octet-stream;
  client_body_temp_path $W/tmp; proxy_temp_path $W/tmp; fastcgi_temp_path $W/tmp; uwsgi_temp_path $W/tmp; scgi_temp_path $W/tmp;
  server {
    listen 127.0.0.1:$PORT ssl; root $W/www;
    ssl_protocols TLSv1.3; ssl_certificate $W/site.crt; ssl_certificate_key $W/site.key;
    ssl_conf_command Options KTLS;
  }
}
NGX
echo "## $(uname -r); $(nginx -v 2>&1); $(openssl version)"
echo "## cat /proc/sys/net/ipv4/tcp_available_ulp"
cat /proc/sys/net/ipv4/tcp_available_ulp
echo "## nginx config ($W/nginx.conf)"; sed 's/^/    /' "$W/nginx.conf"
echo "## strace -f -e trace=setsockopt -o $W/strace.txt nginx -p $W -c $W/nginx.conf"
strace -f -e trace=setsockopt -o "$W/strace.txt" nginx -p "$W" -c "$W/nginx.conf" &
NPID=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
echo "## curl --cacert site.crt --tlsv1.3 -o got.bin -w ... https://127.0.0.1:$PORT/f1m.bin"
curl -sS --cacert "$W/site.crt" --tlsv1.3 -o "$W/got.bin" -w '    HTTP %{http_code}, %{size_download} bytes, %{ssl_verify_result} verify\n' \
  "https://127.0.0.1:$PORT/f1m.bin"
if cmp -s "$W/got.bin" "$W/www/f1m.bin"; then echo "    body identical to the file"; else echo "    BODY DIFFERS"; fi
kill "$(cat "$W/nginx.pid")" 2>/dev/null; wait "$NPID" 2>/dev/null || true; NPID= # strace ignores SIGTERM: stop nginx
echo "## grep -E 'TCP_ULP|SOL_TLS|0x11a|, 282,' strace.txt   (every setsockopt about kernel TLS; SOL_TLS = 282)"
grep -E 'TCP_ULP|SOL_TLS|0x11a|, 282,' "$W/strace.txt" | sed 's/^/    /' || echo "    (none)"
echo "## grep -ciE 'setsockopt' strace.txt: $(grep -ci setsockopt "$W/strace.txt") setsockopt calls in all"
echo "## grep -iE 'ktls|SSL_sendfile' error.log"
grep -iE 'ktls|SSL_sendfile' "$W/error.log" | sed -E 's/^[0-9\/]+ [0-9:]+ //' | sort | uniq -c | sed 's/^/    /' || echo "    (none)"
echo "## grep -E 'SSL_write|writev' error.log | head -3   (what sent the body instead; $(grep -c "SSL_write: 16384" "$W/error.log") x SSL_write: 16384)"
grep -E 'SSL_write|ssl write|writev' "$W/error.log" | sed -E 's/^[0-9\/]+ [0-9:]+ //' | head -3 | sed 's/^/    /' || true
