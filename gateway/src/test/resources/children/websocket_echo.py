"""A minimal RFC 6455 WebSocket echo server for WebSocketTest (python stdlib only).

Listens on HTTP_SOCKET (a Unix socket) when set, else on HTTP_ADDRESS (host:port).
  GET /ws with Upgrade: websocket  -> 101, then every text or binary message comes back as it was
                                      sent; a message "big N" is answered with N bytes of 'x' (a
                                      server push larger than any socket buffer); a close is
                                      answered with a close.
  GET /ws/headers (upgrade)        -> 101, then one text message: the request head as received.
  anything else                    -> 200 "plain" (no upgrade), Connection: close.
"""
import base64
import hashlib
import os
import socket
import socketserver
import struct

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def read_head(rfile):
    lines = []
    while True:
        line = rfile.readline(65536)
        if not line:
            return None
        if line in (b"\r\n", b"\n"):
            return lines
        lines.append(line.decode("latin-1").rstrip("\r\n"))


def read_exact(rfile, n):
    data = rfile.read(n)
    if data is None or len(data) < n:
        raise EOFError
    return data


def read_frame(rfile):
    b0, b1 = read_exact(rfile, 2)
    opcode = b0 & 0x0F
    masked = b1 & 0x80
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack(">H", read_exact(rfile, 2))[0]
    elif n == 127:
        n = struct.unpack(">Q", read_exact(rfile, 8))[0]
    mask = read_exact(rfile, 4) if masked else b"\0\0\0\0"
    payload = bytearray(read_exact(rfile, n))
    for i in range(n):
        payload[i] ^= mask[i % 4]
    return b0 & 0x80, opcode, bytes(payload)


def frame(opcode, payload):
    n = len(payload)
    if n < 126:
        head = struct.pack(">BB", 0x80 | opcode, n)
    elif n < 65536:
        head = struct.pack(">BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack(">BBQ", 0x80 | opcode, 127, n)
    return head + payload


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        head = read_head(self.rfile)
        if not head:
            return
        fields = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        target = head[0].split(" ")[1]
        if fields.get("upgrade", "").lower() != "websocket" or "sec-websocket-key" not in fields:
            body = b"plain"
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\n" + body)
            return
        accept = base64.b64encode(hashlib.sha1(fields["sec-websocket-key"].encode() + GUID).digest())
        self.wfile.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                         b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")
        self.wfile.flush()
        if target.startswith("/ws/headers"):
            self.wfile.write(frame(1, "\n".join(head).encode("latin-1")))
            self.wfile.flush()
        message, message_opcode = b"", 0
        try:
            while True:
                fin, opcode, payload = read_frame(self.rfile)
                if opcode == 8:
                    self.wfile.write(frame(8, payload[:2]))
                    self.wfile.flush()
                    return
                if opcode == 9:
                    self.wfile.write(frame(10, payload))
                    self.wfile.flush()
                    continue
                if opcode in (1, 2):
                    message, message_opcode = payload, opcode
                elif opcode == 0:
                    message += payload
                if not fin:
                    continue
                if message_opcode == 1 and message.startswith(b"big "):
                    self.wfile.write(frame(2, b"x" * int(message[4:])))
                else:
                    self.wfile.write(frame(message_opcode, message))
                self.wfile.flush()
        except (EOFError, ConnectionError):
            return


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


if os.environ.get("HTTP_SOCKET"):
    server = UnixServer(os.environ["HTTP_SOCKET"], Handler)
else:
    host, _, port = os.environ.get("HTTP_ADDRESS", "127.0.0.1:8080").rpartition(":")
    server = Server((host, int(port)), Handler)
server.serve_forever()
