#!/usr/bin/env python3
"""An HTTP-mode function: a plain web server that local-lambdas forwards requests to.

The gateway starts it with HTTP_ADDRESS=host:port (or PORT=port, then it listens on 127.0.0.1).
GET answers JSON {"mode": "http", "greeting": ..., "path": ..., "query": ...}, the greeting taken
from the GREETING environment variable (default "hello"), which a manifest can set per function;
POST echoes the request body back with its content-type. It speaks HTTP/1.1 keep-alive, so every
response carries Content-Length and the gateway can reuse its connections.

Standard library only. It exits when its parent (the gateway) dies, so it never lingers.
"""

import json
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

COPY_CHUNK = 64 * 1024
GREETING = os.environ.get("GREETING", "hello")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: requires a Content-Length on every response
    # http.server writes the head and the body separately; with Nagle's algorithm on, the body
    # then waits for the delayed ACK (~40 ms) on every keep-alive request.
    disable_nagle_algorithm = True

    def do_GET(self):
        url = urlsplit(self.path)
        body = json.dumps({"mode": "http", "greeting": GREETING, "path": url.path, "query": url.query or None})
        self.answer(200, "application/json", body.encode())

    def do_POST(self):
        content_type = self.headers.get("content-type", "application/octet-stream")
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            self.answer(200, content_type, self.read_chunked())
            return
        length = int(self.headers.get("content-length") or 0)
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        # Copy in chunks: a large body never sits in memory as a whole.
        while length > 0:
            data = self.rfile.read(min(COPY_CHUNK, length))
            if not data:
                break  # the client went away mid-body; the connection is done anyway
            self.wfile.write(data)
            length -= len(data)

    def refuse(self):
        self.close_connection = True  # its request body, if any, is left unread
        self.answer(405, "text/plain", b"only GET and POST\n", allow="GET, POST")

    do_HEAD = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = refuse

    def read_chunked(self):
        parts = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()  # the CRLF after each chunk

    def answer(self, status, content_type, body, allow=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if allow:
            self.send_header("Allow", allow)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format, *args):
        pass  # one line per request would only slow benchmarks down; the gateway logs requests


class Server(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5: a burst of connections (the gateway opens up to
    # <concurrency> of them at once) overflows it and the kernel resets the extra ones.
    request_queue_size = 128
    daemon_threads = True


class Server6(Server):
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
    # When the gateway dies we are re-parented (to init or a subreaper): leave then.
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def main():
    host, port = listen_address()
    threading.Thread(target=exit_when_orphaned, name="parent-watch", daemon=True).start()
    server_class = Server6 if ":" in host else Server
    server = server_class((host, port), Handler)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
