#!/usr/bin/env python3
"""Benchmark function, HTTP-only: its own web server (the standard library's http.server).

The same answers as pipe_function.py: GET a small fixed JSON body (no-store), POST echoes the
body. Listens at HTTP_ADDRESS (host:port) or 127.0.0.1:PORT, HTTP/1.1 keep-alive. Exits when its
parent (the gateway) goes away.
"""

import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BODY = b'{"ok":true,"runtime":"python","transport":"http"}'
CHUNK = 64 * 1024


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # http.server writes the head and the body in separate sends; with Nagle on, the body waits
    # for the peer's delayed ACK (about 40 ms on Linux) on every keep-alive request.
    disable_nagle_algorithm = True

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def do_POST(self):
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            body = self.read_chunked()
            self.head(len(body))
            self.wfile.write(body)
            return
        length = int(self.headers.get("content-length") or 0)
        self.head(length)
        while length > 0:
            data = self.rfile.read(min(CHUNK, length))
            if not data:
                break
            self.wfile.write(data)
            length -= len(data)

    def head(self, length):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(length))
        self.end_headers()

    def read_chunked(self):
        parts = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def log_message(self, format, *args):
        pass


class Server6(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def listen_address():
    address = os.environ.get("HTTP_ADDRESS")
    if address:
        host, _, port = address.rpartition(":")
        return host.strip("[]") or "127.0.0.1", int(port)
    if os.environ.get("PORT"):
        return "127.0.0.1", int(os.environ["PORT"])
    sys.stderr.write("run me under local-lambdas; neither HTTP_ADDRESS nor PORT is set\n")
    sys.exit(2)


def exit_when_orphaned():
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def main():
    host, port = listen_address()
    threading.Thread(target=exit_when_orphaned, name="parent-watch", daemon=True).start()
    server_class = Server6 if ":" in host else ThreadingHTTPServer
    server = server_class((host, port), Handler)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
