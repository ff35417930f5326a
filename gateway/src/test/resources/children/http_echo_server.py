"""A keep-alive HTTP/1.1 test server for HttpTransportTest (python stdlib only).

Listens on HTTP_SOCKET (a Unix socket) when set, else on HTTP_ADDRESS (host:port).
Paths:
  /echo...        echoes the request body; X-Method, X-Target and X-Seen-* headers describe the request
  /connections    the number of connections accepted so far, as text
  /chunked        a chunked response of three chunks
  /close          answers with Connection: close
  /then-close     answers normally (keep-alive) and then closes the connection unannounced
  /slow           never answers
  /hop            a response carrying hop-by-hop fields that a proxy must remove
  /bad-cr         a header value containing a bare CR
  /bad-name       a header with a space in its name
  /stream?bytes=N N bytes (byte i is i % 251) with Content-Length, written in 64 KiB pieces
  /stall          reads nothing until /unstall is requested (on another connection), then reads
                  the whole body and answers with its length
  /unstall        lets /stall go on
Echo answers carry X-Client-Port, the gateway's end of the connection (TCP only).
"""
import os
import socket
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

connections = 0
lock = threading.Lock()
unstalled = threading.Event()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        global connections
        with lock:
            connections += 1
        super().setup()

    def log_message(self, format, *args):
        pass

    def address_string(self):
        return "child"

    def do_GET(self):
        self.handle_any()

    def do_POST(self):
        self.handle_any()

    def do_PUT(self):
        self.handle_any()

    def do_HEAD(self):
        self.handle_any()

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(body)
                body += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def raw(self, data):
        self.wfile.write(data)
        self.wfile.flush()
        self.close_connection = True

    def handle_any(self):
        path = self.path.split("?")[0]
        if path == "/stall":
            unstalled.wait()
            self.simple(200, str(len(self.read_body())).encode())
            return
        body = self.read_body()
        if path == "/connections":
            self.simple(200, str(connections).encode())
        elif path == "/chunked":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"first,", b"second,", b"third"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\nX-Trailer: ignored\r\n\r\n")
        elif path == "/close":
            self.send_response(200)
            self.send_header("Content-Length", "6")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"closed")
            self.close_connection = True
        elif path == "/then-close":
            self.simple(200, b"bye")
            self.close_connection = True
        elif path == "/slow":
            threading.Event().wait()
        elif path == "/stream":
            query = self.path.partition("?")[2]
            total = int(dict(p.split("=") for p in query.split("&"))["bytes"])
            pattern = bytes(i % 251 for i in range(65536 + 251))
            self.send_response(200)
            self.send_header("Content-Length", str(total))
            self.end_headers()
            sent = total if self.command == "HEAD" else 0
            while sent < total:
                offset = sent % 251
                n = min(65536, total - sent)
                self.wfile.write(pattern[offset:offset + n])
                sent += n
        elif path == "/unstall":
            unstalled.set()
            self.simple(200, b"ok")
        elif path == "/hop":
            self.send_response(200)
            self.send_header("Connection", "keep-alive, X-Private")
            self.send_header("X-Private", "secret")
            self.send_header("Keep-Alive", "timeout=5")
            self.send_header("X-Public", "visible")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
        elif path == "/bad-cr":
            self.raw(b"HTTP/1.1 200 OK\r\nX-Bad: a\rb\r\nContent-Length: 0\r\n\r\n")
        elif path == "/bad-name":
            self.raw(b"HTTP/1.1 200 OK\r\nBad Name: x\r\nContent-Length: 0\r\n\r\n")
        else:
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("X-Method", self.command)
            self.send_header("X-Target", self.path)
            if isinstance(self.client_address, tuple):
                self.send_header("X-Client-Port", str(self.client_address[1]))
            for name in ("X-Forwarded-For", "Host", "Content-Length", "Transfer-Encoding"):
                self.send_header("X-Seen-" + name, self.headers.get(name, "-"))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

    def simple(self, status, data):
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class UnixServer(ThreadingHTTPServer):
    address_family = socket.AF_UNIX

    def server_bind(self):
        socketserver.TCPServer.server_bind(self)
        self.server_name = "localhost"
        self.server_port = 0


def main():
    path = os.environ.get("HTTP_SOCKET")
    if path:
        server = UnixServer(path, Handler)
    else:
        host, port = os.environ["HTTP_ADDRESS"].rsplit(":", 1)
        server = ThreadingHTTPServer((host, int(port)), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
