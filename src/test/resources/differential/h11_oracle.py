#!/usr/bin/python3
"""Differential oracle for flash.http.DifferentialH11Test: parses request byte strings with h11.

Input (stdin): one test case per line, the case's bytes in base64 (an empty line is an empty case).
Output (stdout): one JSON object per input line, in order:

  {"requests": [ {"method", "target", "version", "headers": [[name, value], ...],
                  "start", "head_end", "keep_alive", "body_len", "body_sha256", "complete", "msg_end"}, ... ],
   "end": "need_more" | "error" | "closed" | "paused",
   "error": message or null, "at": stream offset h11 had consumed when it stopped}

All offsets are into the case's bytes. "start" is where the request line begins, "head_end" is just past
the blank line ending the head, "msg_end" just past the body (or past the head when there is none) and
only present once h11 produced EndOfMessage ("complete"). Strings are the bytes decoded as ISO-8859-1;
header names are h11's (lower-cased), values as h11 normalised them.

Each case gets one h11.Connection(h11.SERVER). After every complete request the oracle answers with a
bodiless 404 (404 rather than 200 so that CONNECT and Upgrade requests never switch protocols) and calls
start_next_cycle(), so pipelined requests are parsed as h11 would parse them on a live connection. When
the request was not keep-alive (Connection: close, or HTTP/1.0, for which h11 never keeps a connection),
the case ends "closed": h11 would not read what follows. No EOF is ever signalled: all bytes have arrived
and the peer may still send more, as for Flash's parser, which answers NeedMore at the end of the input.

One deliberate departure from plain h11, kept here so that it stays visible: RFC 9112 section 2.2 says a
server SHOULD ignore at least one empty line (CRLF) received before a request-line, and Flash ignores any
number of them; h11 0.14 raises "no request line received" instead. Whenever a new request is due (at the
start, or after start_next_cycle) and the unread bytes begin with CRLF, the oracle drops those CRLF pairs
and carries on with a fresh Connection over the rest (a fresh server connection is in exactly the state
start_next_cycle leaves: both sides IDLE, nothing pending). Without this, every mutation that leaves an
extra CRLF between pipelined requests would end the comparison there.
"""
import base64
import hashlib
import json
import sys

import h11

# Flash's head limits: request line 8 KiB plus header section 16 KiB (HttpLimits.DEFAULTS).
MAX_INCOMPLETE_EVENT_SIZE = 16 * 1024 + 8 * 1024


def latin1(b):
    return bytes(b).decode("iso-8859-1")


def new_connection(data, offset):
    conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_INCOMPLETE_EVENT_SIZE)
    if offset < len(data):  # receive_data(b"") would mean EOF
        conn.receive_data(data[offset:])
    return conn


def run(data):
    requests = []
    out = {"requests": requests, "end": None, "error": None, "at": 0}
    conn = None
    current = None  # the request being read
    digest = None   # sha256 of its body so far

    def consumed():
        # Everything was handed to the connection, so what it still holds is the unread tail.
        return len(data) - len(conn.trailing_data[0])

    at_boundary = True
    while True:
        if at_boundary:
            # offset: where the next request line starts, after any empty lines (RFC 9112 2.2, see above)
            unread = offset = 0 if conn is None else consumed()
            while data.startswith(b"\r\n", offset):
                offset += 2
            if conn is None or offset != unread:
                conn = new_connection(data, offset)
            at_boundary = False
        try:
            event = conn.next_event()
        except h11.RemoteProtocolError as e:
            out["end"] = "error"
            out["error"] = str(e)
            out["at"] = consumed()
            return out
        if event is h11.NEED_DATA:
            out["end"] = "need_more"
            out["at"] = consumed()
            return out
        if event is h11.PAUSED:
            out["end"] = "paused"
            out["at"] = consumed()
            return out
        if isinstance(event, h11.ConnectionClosed):  # cannot happen: EOF is never signalled
            raise AssertionError("unexpected ConnectionClosed")
        if isinstance(event, h11.Request):
            digest = hashlib.sha256()
            current = {
                "method": latin1(event.method),
                "target": latin1(event.target),
                "version": latin1(event.http_version),
                "headers": [[latin1(n), latin1(v)] for n, v in event.headers],
                "start": offset,
                "head_end": consumed(),
                "keep_alive": None,
                "body_len": 0,
                "body_sha256": hashlib.sha256().hexdigest(),
                "complete": False,
                "msg_end": None,
            }
            requests.append(current)
        elif isinstance(event, h11.Data):
            current["body_len"] += len(event.data)
            digest.update(event.data)
            current["body_sha256"] = digest.hexdigest()
        elif isinstance(event, h11.EndOfMessage):
            current["complete"] = True
            current["msg_end"] = consumed()
            conn.send(h11.Response(status_code=404, headers=[("Content-Length", "0")]))
            conn.send(h11.EndOfMessage())
            if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
                current["keep_alive"] = True
                conn.start_next_cycle()
                at_boundary = True
            else:
                current["keep_alive"] = False
                out["end"] = "closed"
                out["at"] = consumed()
                return out


def main():
    for line in sys.stdin:
        line = line.strip()
        data = base64.b64decode(line) if line else b""
        try:
            result = run(data)
        except Exception as e:  # an h11 bug or an oracle bug: report it, do not hide it
            result = {"requests": [], "end": "crash", "error": "%s: %s" % (type(e).__name__, e), "at": 0}
        sys.stdout.write(json.dumps(result, separators=(",", ":")) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
