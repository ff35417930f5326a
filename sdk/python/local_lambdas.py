"""Write a local-lambdas *pipe* function in Python (standard library only, Python 3.8+).

Usage::

    import local_lambdas

    def handler(request):
        name = request.query or "world"
        return local_lambdas.Response(200, {"content-type": "text/plain"}, "hello " + name)

    local_lambdas.serve(handler)

The gateway starts this program with PIPE_ADDRESS set; ``serve`` connects to it, says HELLO and
answers requests until the gateway goes away, then exits the process (status 0). The wire
protocol is specified in docs/protocol.md.

The handler gets a ``Request``: ``method``, ``path``, ``query`` (text after "?" or None),
``target`` (path and query), ``headers`` (list of (name, value), names lower-case),
``header(name)``, and the body as ``body()`` (all bytes), ``stream()`` (iterator of chunks) or
``read(n)`` (file-like). The body arrives while the handler reads it; what it leaves unread is
discarded.

It may return a ``Response(status, headers, body)`` (headers a dict or a list of pairs; body
bytes, str, None or an iterable of bytes/str chunks, which is streamed), a tuple
``(status, headers, body)``, bytes (application/octet-stream), str (text/plain), a dict or list
(JSON) or None (204). An exception becomes a 500 (traceback on stderr), or aborts the response
if its head was already sent.

When the gateway allows several requests in flight (WELCOME's concurrency), handlers run on that
many threads at once. If the gateway cancels a request, reading its body raises ``RequestReset``
and whatever the handler still returns or yields for it is dropped.

SIGTERM lets in-flight requests finish, then exits 0.
"""

import collections
import json
import os
import signal
import socket
import struct
import sys
import threading
import time
import traceback

__all__ = ["Request", "Response", "RequestReset", "serve"]

SDK_NAME = "python/1.0"
VERSION = 1
HELLO, WELCOME, REQUEST_HEAD, REQUEST_BODY = 0x01, 0x02, 0x10, 0x11
RESPONSE_HEAD, RESPONSE_BODY, RESET = 0x20, 0x21, 0x30
END_STREAM = 0x01
KNOWN_TYPES = {HELLO, WELCOME, REQUEST_HEAD, REQUEST_BODY, RESPONSE_HEAD, RESPONSE_BODY, RESET}
HEADER = struct.Struct(">IBBI")
MAX_PAYLOAD = 1 << 20
CHUNK = 64 * 1024
# Request body bytes buffered per request before the reader stops reading the socket, so that a
# slow handler slows the gateway down instead of filling memory.
BUFFER_LIMIT = 1 << 20
# How long handlers may go on after the gateway has gone away before the process exits anyway.
EXIT_GRACE = 0.5
SKIPPED_HEADERS = {"content-length", "transfer-encoding"}


class RequestReset(Exception):
    """The gateway cancelled this request (client gone or timed out); stop working on it."""


class ProtocolError(Exception):
    pass


class Response:
    def __init__(self, status=200, headers=None, body=b""):
        self.status = status
        self.headers = headers
        self.body = body


class _Body:
    """Request body chunks handed from the reader thread to the handler thread."""

    def __init__(self, ended):
        self.cond = threading.Condition()
        self.chunks = collections.deque()
        self.buffered = 0
        self.ended = ended
        self.cancelled = False
        self.discarding = False

    def feed(self, data, end):
        with self.cond:
            while self.buffered >= BUFFER_LIMIT and not (self.cancelled or self.discarding):
                self.cond.wait()
            if data and not self.discarding:
                self.chunks.append(data)
                self.buffered += len(data)
            self.ended = self.ended or end
            self.cond.notify_all()

    def take(self):
        """The next chunk, b"" at the end of the body."""
        with self.cond:
            while not (self.chunks or self.ended or self.cancelled):
                self.cond.wait()
            if self.cancelled:
                raise RequestReset()
            if not self.chunks:
                return b""
            data = self.chunks.popleft()
            self.buffered -= len(data)
            self.cond.notify_all()
            return data

    def cancel(self):
        with self.cond:
            self.cancelled = True
            self.cond.notify_all()

    def discard(self):
        with self.cond:
            self.discarding = True
            self.chunks.clear()
            self.cond.notify_all()


class Request:
    def __init__(self, stream_id, method, target, headers, body):
        self.id = stream_id
        self.method = method
        self.target = target
        self.path, sep, query = target.partition("?")
        self.query = query if sep else None
        self.headers = headers
        self._body = body
        self._pending = b""
        self._all = None

    def header(self, name):
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def read(self, n=-1):
        """Up to n bytes of the body (all that is left if n < 0); b"" at the end."""
        parts, size = [self._pending], len(self._pending)
        while n < 0 or size < n:
            chunk = self._body.take()
            if not chunk:
                break
            parts.append(chunk)
            size += len(chunk)
        data = b"".join(parts)
        if n < 0:
            self._pending = b""
            return data
        self._pending = data[n:]
        return data[:n]

    def body(self):
        """The whole body as bytes (read once, then remembered)."""
        if self._all is None:
            self._all = self.read()
        return self._all

    def stream(self):
        """Iterate over the body in chunks as they arrive."""
        if self._pending:
            data, self._pending = self._pending, b""
            yield data
        while True:
            chunk = self._body.take()
            if not chunk:
                return
            yield chunk

    __iter__ = stream


# -- encoding -------------------------------------------------------------------------------------

def _text(value):
    return value.encode("utf-8", "surrogateescape") if isinstance(value, str) else bytes(value)


def _str16(value):
    data = _text(value)
    return struct.pack(">H", len(data)) + data


def _encode_headers(pairs):
    out = [struct.pack(">H", len(pairs))]
    for name, value in pairs:
        data = _text(value)
        out.append(_str16(name) + struct.pack(">I", len(data)) + data)
    return b"".join(out)


class _Cursor:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, fmt):
        values = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return values[0]

    def text(self, size_fmt):
        size = self.take(size_fmt)
        if self.pos + size > len(self.data):
            raise ProtocolError("string runs past the end of the frame")
        self.pos += size
        return self.data[self.pos - size:self.pos].decode("utf-8", "surrogateescape")


def _decode_request_head(payload):
    try:
        cursor = _Cursor(payload)
        method, target = cursor.text(">H"), cursor.text(">I")
        headers = [(cursor.text(">H"), cursor.text(">I")) for _ in range(cursor.take(">H"))]
        return method, target, headers
    except struct.error as e:
        raise ProtocolError("malformed REQUEST_HEAD: %s" % e)


def _header_pairs(headers):
    items = headers.items() if isinstance(headers, dict) else (headers or [])
    pairs = []
    for name, value in items:
        name = str(name).lower()
        value = value if isinstance(value, (bytes, bytearray)) else str(value)
        if not name or any(c in name for c in " \t\r\n:\0") or any(c in _text(value) for c in b"\r\n\0"):
            raise ValueError("invalid response header %r: %r" % (name, value))
        if name not in SKIPPED_HEADERS:
            pairs.append((name, value))
    return pairs


def _normalize(result):
    """(status, header pairs, bytes or iterable of chunks) from whatever the handler returned."""
    if isinstance(result, Response):
        status, headers, body = result.status, result.headers, result.body
    elif isinstance(result, tuple) and len(result) in (2, 3):
        status, headers, body = (result[0], None, result[1]) if len(result) == 2 else result
    else:
        status, headers, body = (204 if result is None else 200), None, result
    if not isinstance(status, int) or not (100 < status <= 599) or status == 101:
        raise ValueError("invalid response status %r" % (status,))
    pairs = _header_pairs(headers)
    content_type = None
    if isinstance(body, (dict, list)):
        body, content_type = json.dumps(body).encode(), "application/json"
    elif isinstance(body, str):
        body, content_type = body.encode(), "text/plain; charset=utf-8"
    elif isinstance(body, (bytes, bytearray, memoryview)):
        body, content_type = bytes(body), "application/octet-stream"
    elif body is None:
        body = b""
    else:
        content_type = "application/octet-stream"
    if content_type and not any(name == "content-type" for name, _ in pairs):
        pairs.append(("content-type", content_type))
    return status, pairs, body


# -- connection -----------------------------------------------------------------------------------

class _Exchange:
    def __init__(self, conn, request):
        self.conn = conn
        self.request = request
        self.reset = False
        self.head_sent = False

    def send(self, frame_type, flags, payload):
        if not self.reset:
            self.conn.send(frame_type, flags, self.request.id, payload)

    def respond(self, result):
        status, pairs, body = _normalize(result)
        head = struct.pack(">H", status) + _encode_headers(pairs)
        if isinstance(body, bytes):
            self.head_sent = True
            self.send(RESPONSE_HEAD, 0 if body else END_STREAM, head)
            for start in range(0, len(body), self.conn.chunk):
                last = start + self.conn.chunk >= len(body)
                self.send(RESPONSE_BODY, END_STREAM if last else 0, body[start:start + self.conn.chunk])
            return
        self.head_sent = True
        self.send(RESPONSE_HEAD, 0, head)
        try:
            for piece in body:
                if self.reset:
                    return
                piece = _text(piece)
                for start in range(0, len(piece), self.conn.chunk):
                    self.send(RESPONSE_BODY, 0, piece[start:start + self.conn.chunk])
            self.send(RESPONSE_BODY, END_STREAM, b"")
        finally:
            if hasattr(body, "close"):
                body.close()


class _Connection:
    def __init__(self, sock, handler):
        self.sock = sock
        self.rfile = sock.makefile("rb")
        self.handler = handler
        self.write_lock = threading.Lock()
        self.lock = threading.Lock()  # guards the fields below
        self.exchanges = {}
        self.queue = collections.deque()
        self.work = threading.Condition(self.lock)
        self.workers = 0
        self.idle_workers = 0
        self.in_flight = 0
        self.closed = False
        self.terminating = False
        self.failed = False
        self.wake = threading.Event()
        self.max_payload = MAX_PAYLOAD
        self.chunk = CHUNK
        self.concurrency = 1

    def send(self, frame_type, flags, stream_id, payload=b""):
        with self.write_lock:
            self.sock.sendall(HEADER.pack(len(payload), frame_type, flags, stream_id) + payload)

    def read_frame(self):
        """(type, flags, stream, payload), or None at end of file."""
        header = self.rfile.read(HEADER.size)
        if len(header) < HEADER.size:
            return None
        length, frame_type, flags, stream_id = HEADER.unpack(header)
        if length > self.max_payload:
            raise ProtocolError("frame of %d bytes exceeds max payload %d" % (length, self.max_payload))
        if frame_type not in KNOWN_TYPES or flags & ~END_STREAM:
            raise ProtocolError("bad frame type 0x%02x or flags 0x%02x" % (frame_type, flags))
        payload = self.rfile.read(length)
        if len(payload) < length:
            return None
        return frame_type, flags, stream_id, payload

    def handshake(self):
        self.send(HELLO, 0, 0, struct.pack(">HHI", VERSION, VERSION, os.getpid()) + _str16(SDK_NAME))
        frame = self.read_frame()
        if frame is None:
            raise ProtocolError("the gateway closed the connection before WELCOME")
        frame_type, _, _, payload = frame
        if frame_type == RESET:
            raise ProtocolError("the gateway refused us: " + payload.decode("utf-8", "replace"))
        if frame_type != WELCOME:
            raise ProtocolError("expected WELCOME, got frame type 0x%02x" % frame_type)
        version, concurrency, max_payload = struct.unpack_from(">HHI", payload)
        if version != VERSION:
            raise ProtocolError("gateway chose unsupported protocol version %d" % version)
        self.concurrency = max(1, concurrency)
        self.max_payload = max_payload
        self.chunk = max(1, min(CHUNK, max_payload))

    def read_loop(self):
        try:
            while True:
                frame = self.read_frame()
                if frame is None:
                    break
                self.dispatch(*frame)
        except (OSError, ValueError):
            pass  # the socket broke: the same as the gateway going away
        except ProtocolError as e:
            sys.stderr.write("local_lambdas: protocol error: %s\n" % e)
            self.failed = True
        with self.lock:
            self.closed = True
            for exchange in self.exchanges.values():
                exchange.reset = True
                exchange.request._body.cancel()
        self.wake.set()

    def dispatch(self, frame_type, flags, stream_id, payload):
        end = bool(flags & END_STREAM)
        if frame_type == REQUEST_HEAD:
            method, target, headers = _decode_request_head(payload)
            exchange = _Exchange(self, Request(stream_id, method, target, headers, _Body(end)))
            with self.lock:
                if stream_id == 0 or stream_id in self.exchanges:
                    raise ProtocolError("REQUEST_HEAD for stream %d that is 0 or in use" % stream_id)
                refuse = self.terminating
                if not refuse:
                    self.exchanges[stream_id] = exchange
                    self.in_flight += 1
                    self.queue.append(exchange)
                    if len(self.queue) > self.idle_workers and self.workers < self.concurrency:
                        self.workers += 1
                        threading.Thread(target=self.work_loop, name="local-lambdas-worker", daemon=True).start()
                    self.work.notify()
            if refuse:  # after SIGTERM: its body frames, if any, are ignored as for an unknown id
                exchange.respond((503, {"content-type": "text/plain"}, "shutting down\n"))
        elif frame_type == REQUEST_BODY:
            with self.lock:
                exchange = self.exchanges.get(stream_id)
            # A request we already finished (or that was reset) may still get body frames.
            if exchange is not None:
                exchange.request._body.feed(payload, end)
        elif frame_type == RESET and stream_id != 0:
            with self.lock:
                exchange = self.exchanges.pop(stream_id, None)
            if exchange is not None:
                exchange.reset = True
                exchange.request._body.cancel()
        else:
            raise ProtocolError("unexpected frame type 0x%02x on stream %d" % (frame_type, stream_id))

    def work_loop(self):
        while True:
            with self.lock:
                self.idle_workers += 1
                while not self.queue:
                    self.work.wait()
                self.idle_workers -= 1
                exchange = self.queue.popleft()
            self.run(exchange)

    def run(self, exchange):
        try:
            exchange.respond(self.handler(exchange.request))
        except RequestReset:
            pass
        except OSError:
            pass  # the connection is gone; read_loop notices and ends the process
        except BaseException as e:
            if not exchange.reset:
                traceback.print_exc()
                self.fail(exchange, e)
        finally:
            self.finished(exchange)
            with self.lock:
                self.in_flight -= 1
            self.wake.set()

    def fail(self, exchange, error):
        try:
            if exchange.head_sent:
                exchange.send(RESET, 0, ("handler raised %s" % type(error).__name__).encode())
            else:
                text = "500 Internal Server Error: handler raised %s\n" % type(error).__name__
                exchange.respond((500, {"content-type": "text/plain; charset=utf-8"}, text))
        except OSError:
            pass

    def finished(self, exchange):
        exchange.request._body.discard()
        with self.lock:
            if self.exchanges.get(exchange.request.id) is exchange:
                del self.exchanges[exchange.request.id]

    def idle(self):
        with self.lock:
            return self.in_flight == 0


def _exit_now(status):
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(status)


def serve(handler):
    """Serve requests with handler(request) until the gateway goes away; never returns."""
    address = os.environ.get("PIPE_ADDRESS")
    if not address:
        sys.stderr.write("run me under local-lambdas; PIPE_ADDRESS is not set\n")
        sys.exit(2)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn = _Connection(sock, handler)
    if threading.current_thread() is threading.main_thread():
        # Installed before HELLO: once the gateway sees us ready, SIGTERM is graceful.
        def on_term(signum, frame):
            conn.terminating = True
        signal.signal(signal.SIGTERM, on_term)
    try:
        sock.connect(address)
        conn.handshake()
    except (OSError, ProtocolError, struct.error) as e:
        sys.stderr.write("local_lambdas: cannot connect to the gateway at %s: %s\n" % (address, e))
        sys.exit(1)
    threading.Thread(target=conn.read_loop, name="local-lambdas-reader", daemon=True).start()
    # Only flags are touched by the signal handler, so the main thread polls them.
    while not (conn.closed or (conn.terminating and conn.idle())):
        conn.wake.wait(0.1)
        conn.wake.clear()
    status = 1 if conn.failed else 0
    # When the gateway is gone nobody can receive answers: give handlers a moment, no more.
    deadline = time.monotonic() + EXIT_GRACE
    while conn.closed and not conn.idle():
        if time.monotonic() >= deadline:
            _exit_now(status)
        conn.wake.wait(0.05)
        conn.wake.clear()
    sock.close()
    sys.exit(status)
