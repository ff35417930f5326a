#!/usr/bin/env python3
"""Cold-start measurements for bench/core/run.sh (standard library only).

  coldstart.py requests URL N      N sequential GETs on one keep-alive connection; prints the
                                   median, p10 and p90 request-to-response time in ms
  coldstart.py hello N CMD...      N times: listen on a fresh Unix socket, spawn CMD with
                                   PIPE_ADDRESS set, wait for its HELLO frame; prints the median,
                                   p10 and p90 spawn-to-HELLO time in ms (the child's own
                                   start-to-ready time, with no gateway involved)
  coldstart.py pair URL N CMD...   alternates the two above, one sample of each in turn, so that
                                   both see the same load on a shared machine; prints
                                   "request: m p10 p90", "hello: m p10 p90" and
                                   "overhead: m p10 p90" (per pair, request minus hello)

Output is one line "median p10 p90" in milliseconds (three labelled lines for pair).
"""

import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse


def quantiles(samples):
    s = sorted(samples)

    def at(q):
        return s[min(len(s) - 1, int(q * len(s)))]

    return statistics.median(s), at(0.1), at(0.9)


class Client:
    """One keep-alive connection; time() is one request's request-to-response time in ms."""

    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        self.path = u.path or "/"

    def time(self):
        t0 = time.perf_counter()
        self.conn.request("GET", self.path)
        r = self.conn.getresponse()
        body = r.read()
        t1 = time.perf_counter()
        if r.status != 200:
            sys.exit("unexpected status %d: %r" % (r.status, body[:200]))
        return (t1 - t0) * 1000


def requests(url, n):
    client = Client(url)
    return [client.time() for _ in range(n)]


def read_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("child closed the connection before its HELLO")
        data += chunk
    return data


def hello_once(directory, cmd):
    """Spawns cmd with PIPE_ADDRESS and returns the ms until its HELLO frame has arrived."""
    path = os.path.join(directory, "child.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    env = dict(os.environ, PIPE_ADDRESS=path)
    try:
        t0 = time.perf_counter()
        child = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        conn, _ = server.accept()
        header = read_exactly(conn, 10)
        read_exactly(conn, int.from_bytes(header[0:4], "big"))
        t1 = time.perf_counter()
        conn.close()  # the SDK sees the end of the connection before WELCOME and exits
        child.wait(timeout=30)
        return (t1 - t0) * 1000
    finally:
        server.close()
        os.unlink(path)


def hellos(n, cmd):
    with tempfile.TemporaryDirectory() as d:
        return [hello_once(d, cmd) for _ in range(n)]


def pair(url, n, cmd):
    client = Client(url)
    reqs, hello = [], []
    with tempfile.TemporaryDirectory() as d:
        for _ in range(n):
            reqs.append(client.time())
            hello.append(hello_once(d, cmd))
    over = [r - h for r, h in zip(reqs, hello)]
    for name, samples in (("request", reqs), ("hello", hello), ("overhead", over)):
        print("%s: %.2f %.2f %.2f" % ((name,) + quantiles(samples)))


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "requests":
        samples = requests(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) >= 5 and sys.argv[1] == "pair":
        pair(sys.argv[2], int(sys.argv[3]), sys.argv[4:])
        return
    elif len(sys.argv) >= 4 and sys.argv[1] == "hello":
        samples = hellos(int(sys.argv[2]), sys.argv[3:])
    else:
        sys.exit(__doc__)
    print("%.2f %.2f %.2f" % quantiles(samples))


if __name__ == "__main__":
    main()
