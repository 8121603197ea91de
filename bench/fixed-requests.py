#!/usr/bin/env python3
"""Sends exactly N keep-alive GET requests over C connections (threads), one at a time per connection, and checks
each response is complete (Content-Length or chunked). Not a benchmark: a fixed request count, so that system
calls and CPU ticks counted meanwhile can be divided by N. usage: fixed-requests.py URL N C"""
import socket, sys, threading
from urllib.parse import urlsplit

def one_conn(host, port, path, n, errors):
    s = socket.create_connection((host, port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    req = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    buf = b""
    for _ in range(n):
        s.sendall(req)
        while True:
            end = buf.find(b"\r\n\r\n")
            if end >= 0:
                head = buf[:end].decode("latin-1").lower()
                body = buf[end + 4:]
                if "content-length:" in head:
                    cl = int(head.split("content-length:")[1].split("\r\n")[0])
                    if len(body) >= cl:
                        buf = body[cl:]
                        break
                elif "transfer-encoding: chunked" in head:
                    k = body.find(b"0\r\n\r\n")
                    if k >= 0 and (k == 0 or body[k - 2:k] == b"\r\n"):
                        buf = body[k + 5:]
                        break
                else:
                    errors.append("no framing: " + head)
                    return
            d = s.recv(65536)
            if not d:
                errors.append("closed")
                return
            buf += d
        if not head.startswith("http/1.1 200"):
            errors.append(head.split("\r\n")[0])
    s.close()

def main():
    url, n, c = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    u = urlsplit(url)
    errors = []
    per = [n // c + (1 if i < n % c else 0) for i in range(c)]
    ts = [threading.Thread(target=one_conn, args=(u.hostname, u.port, u.path, k, errors)) for k in per]
    for t in ts: t.start()
    for t in ts: t.join()
    if errors:
        print("errors:", len(errors), errors[:3], file=sys.stderr)
        sys.exit(1)

main()
