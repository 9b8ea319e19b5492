#!/usr/bin/env python3
"""A tiny fault-injecting HTTP proxy for the S3 tests.

    faultproxy.py LISTEN_PORT UPSTREAM_PORT MODE_FILE LOG_FILE

Every request is read in full from the client and handled according to the first word of
MODE_FILE (re-read for every request, so a test changes behaviour without a restart):

    pass          forward to 127.0.0.1:UPSTREAM_PORT, relay the answer
    500           answer 500 InternalError (an S3 error document)
    503slow       answer 503 SlowDown
    reset         close the connection with a TCP reset, no answer
    hang          never answer (keeps the connection open)
    fail N MODE2  the next N requests get MODE2 (500/reset/hang), then pass
    after N MODE2 the next N requests pass, then every one gets MODE2
    cut N         pass, but cut GET answers after N body bytes with a reset (once), then pass

One line per request goes to LOG_FILE: "METHOD PATH?QUERY -> action headers=NAMES
signed=NAMES": the names of the request headers and of the headers the signature covers,
never a header value (they carry signatures and session tokens). Connections are closed
after each answer.
"""
import socket
import struct
import sys
import threading
import time

listen_port, upstream_port = int(sys.argv[1]), int(sys.argv[2])
mode_file, log_file = sys.argv[3], sys.argv[4]
lock = threading.Lock()
state = {"remaining": None, "cut_done": False}


def log(line):
    with lock:
        with open(log_file, "a") as f:
            f.write(line + "\n")


def mode():
    try:
        with open(mode_file) as f:
            return f.read().split()
    except OSError:
        return ["pass"]


def decide():
    m = mode() or ["pass"]
    with lock:
        if state.get("mode") != m:  # a new mode starts with fresh counters
            state.update(mode=m, remaining=None, cut_done=False)
        if m[0] == "fail":
            if state["remaining"] is None:
                state["remaining"] = int(m[1])
            if state["remaining"] > 0:
                state["remaining"] -= 1
                return m[2], None
            return "pass", None
        if m[0] == "after":
            if state["remaining"] is None:
                state["remaining"] = int(m[1])
            if state["remaining"] > 0:
                state["remaining"] -= 1
                return "pass", None
            return m[2], None
        if m[0] == "cut":
            if state["cut_done"]:
                return "pass", None
            return "cut", int(m[1])
        return m[0], None


def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None, None
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(min(1 << 20, length - len(body)))
        if not chunk:
            return None, None
        body += chunk
    return head, body


def reset(conn):
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def answer(conn, status, code):
    body = ('<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code>'
            '<Message>injected by faultproxy</Message></Error>' % code).encode()
    reason = {500: "Internal Server Error", 503: "Slow Down"}[status]
    conn.sendall(b"HTTP/1.1 %d %s\r\nContent-Type: application/xml\r\nContent-Length: %d\r\n"
                 b"Connection: close\r\n\r\n" % (status, reason.encode(), len(body)) + body)
    conn.close()


def forward(conn, head, body, cut):
    lines = head.split(b"\r\n")
    kept = [l for l in lines[1:] if not l.lower().startswith(b"connection:")]
    up = socket.create_connection(("127.0.0.1", upstream_port))
    up.sendall(b"\r\n".join([lines[0]] + kept + [b"Connection: close"]) + b"\r\n\r\n" + body)
    resp = b""
    while True:
        chunk = up.recv(1 << 20)
        if not chunk:
            break
        resp += chunk
    up.close()
    if cut is not None and lines[0].startswith(b"GET ") and b"\r\n\r\n" in resp:
        rhead, rbody = resp.split(b"\r\n\r\n", 1)
        if len(rbody) > cut:
            with lock:
                state["cut_done"] = True
            conn.sendall(rhead + b"\r\n\r\n" + rbody[:cut])
            time.sleep(0.2)
            reset(conn)
            return "cut after %d bytes" % cut
    conn.sendall(resp)
    conn.close()
    return "passed"


def serve(conn):
    try:
        head, body = read_request(conn)
        if head is None:
            conn.close()
            return
        request_line = head.split(b"\r\n", 1)[0].decode(errors="replace")
        method, target = request_line.split(" ")[:2]
        names, signed = [], ""
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.decode(errors="replace").partition(":")
            names.append(name.strip().lower())
            if name.strip().lower() == "authorization" and "SignedHeaders=" in value:
                signed = value.split("SignedHeaders=", 1)[1].split(",", 1)[0]
        target += " headers=%s signed=%s" % (",".join(sorted(names)), signed)
        action, arg = decide()
        if action == "pass":
            result = forward(conn, head, body, None)
        elif action == "cut":
            result = forward(conn, head, body, arg)
        elif action == "500":
            answer(conn, 500, "InternalError")
            result = "500"
        elif action == "503slow":
            answer(conn, 503, "SlowDown")
            result = "503"
        elif action == "reset":
            reset(conn)
            result = "reset"
        elif action == "hang":
            log("%s %s -> hang" % (method, target))
            time.sleep(3600)
            return
        else:
            reset(conn)
            result = "reset (unknown mode)"
        log("%s %s -> %s" % (method, target, result))
    except OSError as e:
        log("connection error: %s" % e)


def main():
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", listen_port))
    srv.listen(64)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


main()
