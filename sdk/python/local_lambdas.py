"""Write a local-lambdas *pipe* function in Python (standard library only, Python 3.8+).

Usage::

    import local_lambdas

    def handler(request):
        name = request.query or "world"
        return local_lambdas.Response(200, {"content-type": "text/plain"}, "hello " + name)

    local_lambdas.serve(handler)

The gateway starts this program with PIPE_ADDRESS set; ``serve`` connects to it, says HELLO and
answers requests until the gateway goes away, then exits the process (status 0). The wire
protocol is specified in docs/protocol.md; this SDK speaks versions 1.0 and 1.1 and uses whichever
the gateway chooses.

The handler gets a ``Request``: ``method``, ``path``, ``query`` (text after "?" or None),
``target`` (path and query), ``headers`` (list of (name, value), names lower-case),
``header(name)``, and the body as ``body()`` (all bytes), ``stream()`` (iterator of chunks) or
``read(n)`` (file-like). The body arrives while the handler reads it; what it leaves unread is
discarded.

Deadline: ``request.deadline`` is the time (on the ``time.monotonic()`` clock) after which the
gateway gives up on the request and answers 504 itself, and ``request.remaining_ms()`` the whole
milliseconds left until then (0 once it has passed). Both are None when the request has no
deadline, which is always the case with a protocol 1.0 gateway.

It may return a ``Response(status, headers, body)`` (headers a dict or a list of pairs; body
bytes, str, None or an iterable of bytes/str chunks, which is streamed), a tuple
``(status, headers, body)``, bytes (application/octet-stream), str (text/plain), a dict or list
(JSON) or None (204). An exception becomes a 500 (traceback on stderr), or aborts the response
if its head was already sent.

Cancellation: if the gateway cancels a request (the client went away or it timed out), reading
its body raises ``RequestReset``, a streamed body's iterator is closed (a generator sees
GeneratorExit at its ``yield``) and whatever the handler still returns for it is dropped. Under
protocol 1.1 the SDK tells the gateway when the handler has returned, so the gateway sends this
instance no new request in its place before then; a handler that ignores the cancellation keeps
its slot busy, so stop early. With concurrency 1 the handler's own thread reads the socket, so it
meets the cancellation when it next reads its body or its streamed body is advanced; a handler
that only computes finishes, and the gateway drops its answer. The same happens to every running
request when the gateway goes away.

Flow control (protocol 1.1): each request may have one window of body bytes (WELCOME's window,
256 KiB from local-lambdas) buffered; the SDK grants the gateway more as the handler reads, so a
handler that reads slowly slows only its own request. A streamed response waits (the iterator is
not advanced) while the gateway has not granted room for more, i.e. while the client reads slowly.

Concurrency: when the gateway allows several requests in flight (WELCOME's concurrency), handlers
run on that many threads at once. With 1 (the default) the handler runs on the thread that reads
the socket, one request after another; a second thread only watches for the gateway going away.

Shared memory (docs/protocol.md section 8): when the gateway offers it (LOCAL_LAMBDAS_CAPABILITIES)
the SDK maps the instance's segment with ``mmap`` and large bodies travel through it instead of the
socket; handlers see no difference. A request piece is copied out of its slot when the handler
takes it; a response piece of at least the gateway's threshold is copied into a free slot.

SIGTERM lets in-flight requests finish, then exits 0.

AWS Lambda: when AWS_LAMBDA_RUNTIME_API is set instead of PIPE_ADDRESS (on AWS Lambda as a custom
runtime, or under local-lambdas with protocol "lambda"), ``serve`` speaks the Lambda Runtime API:
each API Gateway event (HTTP API 2.0 or REST API 1.0) becomes a ``Request``, the handler's answer
an API Gateway proxy response, and an exception a Lambda error. ``request.deadline`` is the
invocation's deadline. The body is read whole (Lambda delivers it whole); a streamed answer is
gathered before it is sent. Any other event reaches the handler as a POST to "/" with the event as
its body.
"""

import collections
import json
import mmap
import os
import re
import select
import signal
import socket
import struct
import sys
import threading
import time
import traceback

__all__ = ["Request", "Response", "RequestReset", "serve"]

SDK_NAME = "python/1.1"
MIN_VERSION, MAX_VERSION = 1, 2
HELLO, WELCOME, REQUEST_HEAD, REQUEST_BODY = 0x01, 0x02, 0x10, 0x11
RESPONSE_HEAD, RESPONSE_BODY, RESET, CREDIT = 0x20, 0x21, 0x30, 0x31
END_STREAM = 0x01
TYPES = {1: {HELLO, WELCOME, REQUEST_HEAD, REQUEST_BODY, RESPONSE_HEAD, RESPONSE_BODY, RESET}}
TYPES[2] = TYPES[1] | {CREDIT}
# Shared-memory bodies (docs/protocol.md section 8), only when WELCOME accepted CAP_SHM.
SHM_ATTACH, SHM_BODY, SHM_RELEASE = 0x40, 0x41, 0x42
CAP_SHM = 0x1
SHM_MAGIC, SHM_LAYOUT = 0x4C4C534D, 1
SHM_HEADER = struct.Struct(">IIIIHH")
SLOT_REF = struct.Struct(">HHII")      # SHM_BODY: slot, zero, generation, length
SLOT_RELEASE = struct.Struct(">HHI")   # SHM_RELEASE: slot, zero, generation
HEADER = struct.Struct(">IBBI")
U16, U32 = struct.Struct(">H"), struct.Struct(">I")
MAX_PAYLOAD = 1 << 20
MIN_WINDOW, MAX_WINDOW = 1 << 16, (1 << 31) - 1
CHUNK = 64 * 1024
# Socket reads go into a buffer this large: one recv_into usually brings several frames.
READ_BUFFER = 256 * 1024
# Version 1 only: request body bytes buffered per request before the reader stops reading the
# socket, so that a slow handler slows the gateway down instead of filling memory. (Version 2
# bounds each request by its window instead and never stops the reader.)
BUFFER_LIMIT = 1 << 20
# How long handlers may go on after the gateway has gone away before the process exits anyway.
EXIT_GRACE = 0.5
SKIPPED_HEADERS = {"content-length", "transfer-encoding"}
_BAD_NAME = re.compile("[ \t\r\n:\0]").search
_BAD_VALUE = re.compile("[\r\n\0]").search
_BAD_BYTES_VALUE = re.compile(b"[\r\n\0]").search
# Reports the gateway hanging up even while no thread reads the socket (Linux); elsewhere the
# SDK notices when the running handler next reads its body or sends.
POLLRDHUP = getattr(select, "POLLRDHUP", 0)


class RequestReset(Exception):
    """The gateway cancelled this request (client gone or timed out); stop working on it."""


class ProtocolError(Exception):
    pass


class Response:
    def __init__(self, status=200, headers=None, body=b""):
        self.status = status
        self.headers = headers
        self.body = body


class Request:
    def __init__(self, exchange, method, target, headers, deadline):
        self.id = exchange.id
        self.method = method
        self.target = target
        self.path, sep, query = target.partition("?")
        self.query = query if sep else None
        self.headers = headers
        # time.monotonic() value after which the gateway answers 504 by itself; None: no deadline.
        self.deadline = deadline
        self._exchange = exchange
        self._pending = b""
        self._all = None

    def remaining_ms(self):
        """Whole milliseconds until the deadline (0 once passed), or None without a deadline."""
        if self.deadline is None:
            return None
        return max(0, int((self.deadline - time.monotonic()) * 1000))

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
            chunk = self._exchange.take()
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
        """Iterate over the body in chunks (bytes) as they arrive."""
        if self._pending:
            data, self._pending = self._pending, b""
            yield data
        while True:
            chunk = self._exchange.take()
            if not chunk:
                return
            yield chunk

    __iter__ = stream


# -- encoding -------------------------------------------------------------------------------------

def _text(value):
    return value.encode("utf-8", "surrogateescape") if isinstance(value, str) else bytes(value)


def _str16(value):
    data = _text(value)
    return U16.pack(len(data)) + data


def _encode_head(status, pairs):
    """The RESPONSE_HEAD payload."""
    out = [struct.pack(">HH", status, len(pairs))]
    for name, value in pairs:
        name, value = _text(name), _text(value)
        out += (U16.pack(len(name)), name, U32.pack(len(value)), value)
    return b"".join(out)


class _Cursor:
    def __init__(self, data, what):
        self.data, self.pos, self.what = data, 0, what

    def take(self, fmt):
        if self.pos + fmt.size > len(self.data):
            raise ProtocolError("%s is truncated" % self.what)
        (value,) = fmt.unpack_from(self.data, self.pos)
        self.pos += fmt.size
        return value

    def text(self, size_fmt):
        size = self.take(size_fmt)
        if self.pos + size > len(self.data):
            raise ProtocolError("string runs past the end of %s" % self.what)
        self.pos += size
        return self.data[self.pos - size:self.pos].decode("utf-8", "surrogateescape")

    def end(self):
        if self.pos != len(self.data):
            raise ProtocolError("%d unexpected bytes after the %s fields" % (len(self.data) - self.pos, self.what))


def _decode_request_head(payload, version, u16=U16.unpack_from, u32=U32.unpack_from):
    """(method, target, headers, deadline_ms); deadline_ms is 0 (none) in version 1.
    Written out flat: this runs for every request."""
    try:
        size = len(payload)
        start = 2
        end = start + u16(payload, 0)[0]
        method = payload[start:end].decode("utf-8", "surrogateescape")
        start = end + 4
        end = start + u32(payload, end)[0]
        target = payload[start:end].decode("utf-8", "surrogateescape")
        headers = []
        pos = end + 2
        for _ in range(u16(payload, end)[0]):
            end = pos + 2 + u16(payload, pos)[0]
            name = payload[pos + 2:end].decode("utf-8", "surrogateescape")
            pos = end + 4 + u32(payload, end)[0]
            headers.append((name, payload[end + 4:pos].decode("utf-8", "surrogateescape")))
        if pos > size:
            raise struct.error("a string runs past the end")
        return method, target, headers, u32(payload, pos)[0] if version >= 2 else 0
    except struct.error as e:
        raise ProtocolError("malformed REQUEST_HEAD: %s" % e)


def _header_pairs(headers):
    items = headers.items() if isinstance(headers, dict) else (headers or [])
    pairs = []
    for name, value in items:
        name = str(name).lower()
        if isinstance(value, (bytes, bytearray)):
            bad_value = _BAD_BYTES_VALUE(value)
        else:
            value = str(value)
            bad_value = _BAD_VALUE(value)
        if not name or _BAD_NAME(name) or bad_value:
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


# -- one request ----------------------------------------------------------------------------------

class _Exchange:
    """One request: its body coming in, its response going out, and which final frame it gets.

    The reader thread feeds body chunks, CREDIT and RESET in; the handler's thread takes chunks
    and sends. Every field below except head_sent is guarded by cond, which all requests of the
    connection share (few threads wait on it; it saves a Condition per request). In the inline
    mode (one thread reads and runs the handler) whoever would wait reads the next frame instead.
    """

    def __init__(self, conn, stream_id, ended):
        self.conn = conn
        self.id = stream_id
        self.request = None
        self.cond = conn.state
        self.chunks = collections.deque()
        self.buffered = 0
        self.ended = ended          # the request body's END_STREAM arrived
        self.started = False        # a handler took the request
        self.reset = False          # cancelled by the gateway, or the connection is gone
        self.final = False          # the final frame went out (or a RESET ack is on its way)
        self.discarding = False     # the handler finished: body frames still arriving are dropped
        self.send_window = conn.window
        self.recv_window = conn.window
        self.unacked = 0            # body bytes the handler consumed that were not credited yet
        self.slot = None            # (slot, generation) of our last piece in shared memory
        self.head_sent = False      # handler's thread only

    # reader side

    def feed(self, data, end):
        with self.cond:
            if self.conn.version >= 2:
                if len(data) > self.recv_window:
                    raise ProtocolError("REQUEST_BODY of %d bytes on stream %d exceeds its window of %d"
                                        % (len(data), self.id, self.recv_window))
                self.recv_window -= len(data)
            else:
                while (self.buffered >= BUFFER_LIMIT and not (self.reset or self.discarding)
                       and not self.conn.inline):
                    self.cond.wait()
            if data and not (self.discarding or self.reset):
                self.chunks.append(data)
                self.buffered += len(data)
            self.ended = self.ended or end
            self.cond.notify_all()

    def feed_slot(self, slot, length, end):
        """An SHM_BODY: the piece stays in the gateway's slot until the handler takes it."""
        with self.cond:
            keep = not (self.discarding or self.reset)
            if keep:
                self.chunks.append((slot, length))
            self.ended = self.ended or end
            self.cond.notify_all()
        if not keep:
            self.conn.release_slot(slot)

    def _drop_chunks(self):
        """Under cond: empties the queue; returns the gateway slots to give back (after the lock)."""
        slots = [c[0] for c in self.chunks if isinstance(c, tuple)]
        self.chunks.clear()
        self.buffered = 0
        return slots

    def credit(self, increment):
        with self.cond:
            if self.send_window + increment > MAX_WINDOW:
                raise ProtocolError("CREDIT grows the window of stream %d past 2^31-1" % self.id)
            self.send_window += increment
            self.cond.notify_all()

    def cancel(self):
        """The gateway's RESET. True if it must be acknowledged at once (no handler has it)."""
        with self.cond:
            if self.final:
                return False  # it crossed our final frame: ignored
            self.reset = True
            slots = self._drop_chunks()
            self.cond.notify_all()
            ack = not (self.started or self.conn.version < 2)
            if ack:
                self.final = True
        for slot in slots:
            self.conn.release_slot(slot)
        return ack

    def abandon(self):
        """The connection is gone: wake whoever waits; nothing can be sent any more."""
        with self.cond:
            self.reset = True
            self.cond.notify_all()

    # handler side

    def take(self):
        """The next body chunk, b"" at the end of the body; sends CREDIT as the body is consumed,
        or gives a shared-memory slot back once its piece is copied out."""
        released = None
        while True:
            with self.cond:
                if self.reset:
                    raise RequestReset()
                if self.chunks:
                    data = self.chunks.popleft()
                    increment = 0
                    if isinstance(data, tuple):  # a piece in a slot: copied out, then released
                        released, length = data
                        data = self.conn.shm.read(released, length)
                        break
                    self.buffered -= len(data)
                    if self.conn.version >= 2 and not (self.ended or self.final):
                        self.unacked += len(data)
                        if self.unacked >= self.conn.window // 2:
                            # Widened before the CREDIT leaves, so frames it allows always fit.
                            increment, self.unacked = self.unacked, 0
                            self.recv_window += increment
                    else:
                        self.cond.notify_all()  # a version 1 reader may wait for room
                    break
                if self.ended or self.discarding:  # (read after the handler finished: nothing more)
                    return b""
                if not self.conn.inline:
                    self.cond.wait()
                    continue
            self.conn.pump_for(self)
        if released is not None:
            self.conn.release_slot(released)
        if increment:
            self.conn.write([(CREDIT, 0, U32.pack(increment))], self.id)
        return data

    def allow(self, wanted, wait):
        """How many of wanted body bytes the response window lets out now (0 if none and not wait)."""
        if self.conn.version < 2:
            return wanted
        while True:
            with self.cond:
                if self.reset:
                    raise RequestReset()
                if self.send_window:
                    allowed = min(wanted, self.send_window)
                    self.send_window -= allowed
                    return allowed
                if not wait:
                    return 0
                if not self.conn.inline:
                    self.cond.wait()
                    continue
            self.conn.pump_for(self)

    def await_release(self):
        """Waits until the gateway released this request's slot (one in flight per request)."""
        shm = self.conn.shm
        while True:
            with self.cond:
                # Released once the slot's generation moved on (it may be in use again already).
                if self.slot is None or shm.gen[self.slot[0] - shm.first_child] != self.slot[1]:
                    self.slot = None
                    return
                if self.reset:
                    raise RequestReset()
                if not self.conn.inline:
                    self.cond.wait()
                    continue
            self.conn.pump_for(self)

    def emit(self, frames, final):
        """Sends frames of this request in one write, unless it was cancelled meanwhile."""
        with self.cond:
            if self.reset:
                for frame_type, _, payload in frames:
                    if frame_type == SHM_BODY:  # never rung: the slot is ours again
                        self.conn.shm.unfill(SLOT_REF.unpack(payload)[0])
                raise RequestReset()
            if final:
                self.final = True
        if final:
            self.conn.forget(self)  # the gateway may reuse the id as soon as the frame arrives
        self.conn.write(frames, self.id)

    def send(self, head, data, end):
        """The head (unless None), then data as RESPONSE_BODY frames of at most one chunk and what
        the window allows, waiting for CREDIT when it is exhausted; END_STREAM on the last frame."""
        frames = []
        size = len(data)
        if head is None and self.conn.inline:
            self.conn.pump_ready(self)  # notice a RESET or CREDIT that came meanwhile
        if head is not None:
            self.head_sent = True
            frames.append((RESPONSE_HEAD, END_STREAM if end and not size else 0, head))
        elif end and not size:
            frames.append((RESPONSE_BODY, END_STREAM, b""))  # costs no window
        view, pos = memoryview(data), 0
        shm = self.conn.shm
        while pos < size:
            if shm is not None and size - pos >= shm.threshold:
                if self.slot is not None:
                    if frames:  # the doorbell must be out before its release can come
                        self.emit(frames, False)
                        frames = []
                    self.await_release()
                with self.cond:
                    slot = shm.acquire()
                if slot is not None:  # else no slot is free: this piece goes in frames
                    n = min(shm.slot_size, size - pos)
                    generation = shm.fill(slot, view[pos:pos + n])
                    self.slot = (slot, generation)
                    last = end and pos + n == size
                    frames.append((SHM_BODY, END_STREAM if last else 0, SLOT_REF.pack(slot, 0, generation, n)))
                    pos += n
                    continue
            n = self.allow(min(self.conn.chunk, size - pos), wait=not frames)
            if not n:  # what is queued must reach the gateway before it can grant more
                self.emit(frames, False)
                frames = []
                continue
            last = end and pos + n == size
            frames.append((RESPONSE_BODY, END_STREAM if last else 0, view[pos:pos + n]))
            pos += n
        if frames:
            self.emit(frames, end)

    def respond(self, result):
        status, pairs, body = _normalize(result)
        head = _encode_head(status, pairs)
        if isinstance(body, bytes):
            self.send(head, body, True)
            return
        try:
            self.send(head, b"", False)
            for piece in body:
                self.send(None, _text(piece), False)
            self.send(None, b"", True)
        finally:
            if hasattr(body, "close"):
                body.close()

    def finish(self):
        """The handler is done: drop the rest of the body; acknowledge a RESET (version 2)."""
        with self.cond:
            self.discarding = True
            slots = self._drop_chunks()
            self.cond.notify_all()
            ack = self.reset and not self.final and self.conn.version >= 2
            self.final = True
        for slot in slots:
            self.conn.release_slot(slot)
        self.conn.forget(self)
        if ack:
            try:
                self.conn.write([(RESET, 0, b"cancelled")], self.id)
            except RequestReset:
                pass


# -- shared memory --------------------------------------------------------------------------------

class _Shm:
    """The mapped segment and both sides' slot states (docs/protocol.md section 8.4). Slot numbers
    are the protocol's: the gateway's 0..G-1, ours G..G+C-1. Guarded by the connection's state
    condition; the bytes of a slot are touched only by whoever the frames say owns it."""

    def __init__(self, mm, threshold):
        magic, layout, data_offset, slot_size, gateway_slots, child_slots = SHM_HEADER.unpack_from(mm, 0)
        if magic != SHM_MAGIC or layout != SHM_LAYOUT:
            raise ValueError("segment magic 0x%x layout %d, expected 0x%x layout %d" % (magic, layout, SHM_MAGIC, SHM_LAYOUT))
        if data_offset % 4096 or slot_size % 4096 or slot_size < MIN_WINDOW or not gateway_slots or not child_slots:
            raise ValueError("segment header offset %d slot_size %d slots %d+%d" % (data_offset, slot_size, gateway_slots, child_slots))
        if len(mm) != data_offset + (gateway_slots + child_slots) * slot_size:
            raise ValueError("segment of %d bytes does not match its header" % len(mm))
        self.mm = mm
        self.threshold = max(1, threshold)
        self.data_offset, self.slot_size = data_offset, slot_size
        self.first_child = gateway_slots
        self.held = [False] * gateway_slots   # the gateway's slots we have not released
        self.gateway_gen = [0] * gateway_slots
        self.sent = [False] * child_slots     # our slots the gateway has not released
        self.gen = [0] * child_slots
        self.pieces_in = self.pieces_out = 0  # for tests and curiosity

    def read(self, slot, length):
        start = self.data_offset + slot * self.slot_size
        self.pieces_in += 1
        return self.mm[start:start + length]

    def arrived(self, slot, zero, generation, length):
        """Checks an SHM_BODY against the gateway slot's state; it is held from now on."""
        if slot >= self.first_child or zero:
            raise ProtocolError("SHM_BODY names slot %d (zero field %d), not one of the gateway's" % (slot, zero))
        if self.held[slot] or generation != self.gateway_gen[slot]:
            raise ProtocolError("SHM_BODY for slot %d generation %d: held %s, expected generation %d"
                                % (slot, generation, self.held[slot], self.gateway_gen[slot]))
        if not 0 < length <= self.slot_size:
            raise ProtocolError("SHM_BODY length %d outside 1..%d" % (length, self.slot_size))
        self.held[slot] = True

    def give_back(self, slot):
        """A held gateway slot is read: the generation to name in SHM_RELEASE."""
        generation = self.gateway_gen[slot]
        self.held[slot] = False
        self.gateway_gen[slot] = (generation + 1) & 0xFFFFFFFF
        return generation

    def acquire(self):
        """One of our free slots, marked sent (its doorbell follows), or None."""
        for i, busy in enumerate(self.sent):
            if not busy:
                self.sent[i] = True
                return self.first_child + i
        return None

    def fill(self, slot, data):
        start = self.data_offset + slot * self.slot_size
        self.mm[start:start + len(data)] = data
        self.pieces_out += 1
        return self.gen[slot - self.first_child]

    def unfill(self, slot):
        self.sent[slot - self.first_child] = False

    def released(self, slot, zero, generation):
        """Checks an SHM_RELEASE against our slot's state; it is free from now on."""
        i = slot - self.first_child
        if not 0 <= i < len(self.sent) or zero:
            raise ProtocolError("SHM_RELEASE names slot %d (zero field %d), not one of ours" % (slot, zero))
        if not self.sent[i] or generation != self.gen[i]:
            raise ProtocolError("SHM_RELEASE for slot %d generation %d: sent %s, at generation %d"
                                % (slot, generation, self.sent[i], self.gen[i]))
        self.sent[i] = False
        self.gen[i] = (generation + 1) & 0xFFFFFFFF


def _map_segment(path, threshold):
    fd = os.open(path, os.O_RDWR | getattr(os, "O_CLOEXEC", 0))
    try:
        size = os.fstat(fd).st_size
        mm = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    finally:
        os.close(fd)
    try:
        return _Shm(mm, threshold)
    except ValueError:
        mm.close()
        raise


def _offered_capabilities():
    """What we may offer in HELLO: only bits the gateway said it can accept (section 8.1)."""
    try:
        return int(os.environ.get("LOCAL_LAMBDAS_CAPABILITIES", "0") or "0", 16) & CAP_SHM
    except ValueError:
        return 0


# -- connection -----------------------------------------------------------------------------------

class _Connection:
    def __init__(self, sock, handler):
        self.sock = sock
        self.handler = handler
        self.write_lock = threading.Lock()
        self.lock = threading.Lock()  # guards exchanges, queue and the counters below
        self.state = threading.Condition(threading.Lock())  # guards the exchanges' own state
        self.exchanges = {}
        self.queue = collections.deque()
        self.work = threading.Condition(self.lock)
        self.workers = 0
        self.idle_workers = 0
        self.in_flight = 0
        self.closed = False
        self.terminating = False
        self.failed = False
        self.version = 1
        self.window = 0
        self.max_payload = MAX_PAYLOAD
        self.chunk = CHUNK
        self.concurrency = 1
        self.inline = True
        self.types = TYPES[1]
        self.shm = None
        self.buf = memoryview(bytearray(READ_BUFFER))
        self.spare = memoryview(bytearray(READ_BUFFER))
        self.start = self.end = 0  # the unread bytes are buf[start:end]
        self.wake_r, self.wake_w = os.pipe()

    # -- frames

    def write(self, frames, stream_id):
        """Writes (type, flags, payload) frames in one system call, headers and payloads as they
        are (no concatenation). A broken connection cancels the request: RequestReset."""
        buffers = []
        for frame_type, flags, payload in frames:
            buffers.append(HEADER.pack(len(payload), frame_type, flags, stream_id))
            if payload:
                buffers.append(payload)
        try:
            with self.write_lock:
                sent = self.sock.sendmsg(buffers)
                total = sum(len(b) for b in buffers)
                if sent < total:  # only after a signal; rare enough to flatten the rest
                    self.sock.sendall(b"".join(bytes(b) for b in buffers)[sent:])
        except OSError:
            self.close_down(False)
            raise RequestReset()

    def fill(self, need):
        """Reads until buf[start:] holds need bytes; False at end of file."""
        while self.end - self.start < need:
            if self.start + need > len(self.buf):
                # Too little room after start: move the unread bytes to the front of the spare
                # buffer (one larger than READ_BUFFER for a frame that needs it).
                if need > len(self.spare):
                    self.spare = memoryview(bytearray(need))
                unread = self.end - self.start
                self.spare[:unread] = self.buf[self.start:self.end]
                self.buf, self.spare = self.spare, self.buf
                self.start, self.end = 0, unread
            got = self.sock.recv_into(self.buf[self.end:])
            if not got:
                return False
            self.end += got
        return True

    def read_frame(self):
        """(type, flags, stream, payload), or None at end of file."""
        if not self.fill(HEADER.size):
            return None
        length, frame_type, flags, stream_id = HEADER.unpack_from(self.buf, self.start)
        if length > self.max_payload:
            raise ProtocolError("frame of %d bytes exceeds max payload %d" % (length, self.max_payload))
        if frame_type not in self.types or flags & ~END_STREAM:
            raise ProtocolError("bad frame type 0x%02x or flags 0x%02x" % (frame_type, flags))
        if not self.fill(HEADER.size + length):
            return None
        begin = self.start + HEADER.size
        payload = self.buf[begin:begin + length].tobytes()
        self.start = begin + length
        if self.start == self.end:
            self.start = self.end = 0  # empty: the next read starts at the front, no moving
        return frame_type, flags, stream_id, payload

    def handshake(self):
        offered = _offered_capabilities()
        hello = struct.pack(">HHI", MIN_VERSION, MAX_VERSION, os.getpid()) + _str16(SDK_NAME)
        if offered:
            hello += U32.pack(offered)
        self.write([(HELLO, 0, hello)], 0)
        frame = self.read_frame()
        if frame is None:
            raise ProtocolError("the gateway closed the connection before WELCOME")
        frame_type, _, _, payload = frame
        if frame_type == RESET:
            raise ProtocolError("the gateway refused us: " + payload.decode("utf-8", "replace"))
        if frame_type != WELCOME:
            raise ProtocolError("expected WELCOME, got frame type 0x%02x" % frame_type)
        welcome = _Cursor(payload, "WELCOME")
        version, concurrency, max_payload = welcome.take(U16), welcome.take(U16), welcome.take(U32)
        welcome.text(U16)  # the function id
        segment = None
        if version == 2:
            window, capabilities = welcome.take(U32), welcome.take(U32)
            if capabilities & ~offered:
                raise ProtocolError("WELCOME accepted capabilities 0x%x we did not offer" % capabilities)
            if capabilities & CAP_SHM:
                segment, threshold = welcome.text(U16), welcome.take(U32)
            welcome.end()
            if not MIN_WINDOW <= window <= MAX_WINDOW:
                raise ProtocolError("WELCOME window %d is outside %d..%d" % (window, MIN_WINDOW, MAX_WINDOW))
            self.window = window
        elif version != 1:
            raise ProtocolError("gateway chose unsupported protocol version %d" % version)
        self.version = version
        self.types = TYPES[version]
        self.concurrency = max(1, concurrency)
        self.inline = self.concurrency == 1
        self.max_payload = max_payload
        self.chunk = max(1, min(CHUNK, max_payload))
        if segment is not None:
            # Mapped before any other frame is read; SHM_ATTACH is our first frame after HELLO.
            try:
                self.shm = _map_segment(segment, threshold)
                self.types = TYPES[2] | {SHM_BODY, SHM_RELEASE}
                attach = U32.pack(0)
            except (OSError, ValueError, struct.error) as e:
                sys.stderr.write("local_lambdas: shared memory unavailable, using frames: %s\n" % e)
                attach = U32.pack(1) + str(e).encode("utf-8", "replace")[:512]
            self.write([(SHM_ATTACH, 0, attach)], 0)

    # -- reading

    def read_loop(self):
        """The reader thread. In the inline mode it also runs the handlers."""
        while not self.closed:
            self.pump()
            while self.inline and self.queue and not self.closed:
                self.run(self.queue.popleft())
        self.wake()

    def pump_for(self, exchange):
        """Inline mode, instead of waiting: reads and handles the next frame, which may be what
        the exchange waits for (body, CREDIT, RESET or the end of the connection)."""
        if self.closed:
            exchange.abandon()  # e.g. a request refused after SIGTERM: never registered
            return
        self.pump()

    def pump_ready(self, exchange):
        """Inline mode, while a response streams: handles the frames that have arrived, without
        waiting for more (one non-blocking read when no whole frame is buffered)."""
        if not self.closed and not self.frame_ready() and self.end < len(self.buf):
            if self.version < 2 and exchange.buffered >= BUFFER_LIMIT:
                return  # version 1: leave the rest in the socket, as the threaded reader would
            try:
                got = self.sock.recv_into(self.buf[self.end:], 0, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            except OSError:
                got = 0
            if not got:
                self.close_down(False)
                return
            self.end += got
        while not self.closed and self.frame_ready():
            self.pump()

    def frame_ready(self):
        """Whether a whole frame is buffered."""
        unread = self.end - self.start
        return unread >= HEADER.size and unread >= HEADER.size + U32.unpack_from(self.buf, self.start)[0]

    def pump(self):
        """Reads and handles one frame; a broken connection or protocol error closes it."""
        try:
            frame = self.read_frame()
            if frame is None:
                self.close_down(False)
            else:
                self.dispatch(*frame)
        except (OSError, ValueError, RequestReset):
            self.close_down(False)  # the socket broke: the same as the gateway going away
        except ProtocolError as e:
            sys.stderr.write("local_lambdas: protocol error: %s\n" % e)
            self.close_down(True)

    def dispatch(self, frame_type, flags, stream_id, payload):
        if frame_type == REQUEST_HEAD:
            self.start_request(stream_id, bool(flags & END_STREAM), payload)
        elif frame_type == REQUEST_BODY:
            exchange = self.exchanges.get(stream_id)
            # A request we already finished (or that was reset) may still get body frames.
            if exchange is not None:
                exchange.feed(payload, bool(flags & END_STREAM))
        elif frame_type == CREDIT:
            if stream_id == 0 or len(payload) != 4:
                raise ProtocolError("CREDIT on stream 0 or with a payload of %d bytes" % len(payload))
            (increment,) = U32.unpack(payload)
            if not 0 < increment <= MAX_WINDOW:
                raise ProtocolError("CREDIT increment %d on stream %d" % (increment, stream_id))
            exchange = self.exchanges.get(stream_id)
            if exchange is not None:  # otherwise it crossed the end of the request
                exchange.credit(increment)
        elif frame_type == SHM_BODY:
            if stream_id == 0 or len(payload) != SLOT_REF.size:
                raise ProtocolError("SHM_BODY on stream %d with a payload of %d bytes" % (stream_id, len(payload)))
            slot, zero, generation, length = SLOT_REF.unpack(payload)
            with self.state:
                self.shm.arrived(slot, zero, generation, length)
            exchange = self.exchanges.get(stream_id)
            if exchange is None:  # late: given back at once
                self.release_slot(slot)
            else:
                exchange.feed_slot(slot, length, bool(flags & END_STREAM))
        elif frame_type == SHM_RELEASE:
            if stream_id != 0 or len(payload) != SLOT_RELEASE.size:
                raise ProtocolError("SHM_RELEASE on stream %d with a payload of %d bytes" % (stream_id, len(payload)))
            with self.state:
                self.shm.released(*SLOT_RELEASE.unpack(payload))
                self.state.notify_all()
        elif frame_type == RESET and stream_id != 0:
            with self.lock:
                exchange = self.exchanges.pop(stream_id, None)
            if exchange is not None and exchange.cancel():
                with self.lock:
                    if exchange in self.queue:
                        self.queue.remove(exchange)
                        self.in_flight -= 1
                self.write([(RESET, 0, b"cancelled before it started")], stream_id)
        else:
            raise ProtocolError("unexpected frame type 0x%02x on stream %d" % (frame_type, stream_id))

    def start_request(self, stream_id, end, payload):
        method, target, headers, deadline_ms = _decode_request_head(payload, self.version)
        exchange = _Exchange(self, stream_id, end)
        deadline = time.monotonic() + deadline_ms / 1000.0 if deadline_ms else None
        exchange.request = Request(exchange, method, target, headers, deadline)
        with self.lock:
            if stream_id == 0 or stream_id in self.exchanges:
                raise ProtocolError("REQUEST_HEAD for stream %d that is 0 or in use" % stream_id)
            refuse = self.terminating
            if not refuse:
                self.exchanges[stream_id] = exchange
                self.in_flight += 1
                # Inline, read_loop runs it once the frame is handled (never nested in a running
                # handler that is reading frames; with version 1 a new request may come while a
                # reset one still runs).
                self.queue.append(exchange)
                if not self.inline:
                    if len(self.queue) > self.idle_workers and self.workers < self.concurrency:
                        self.workers += 1
                        threading.Thread(target=self.work_loop, name="local-lambdas-worker", daemon=True).start()
                    self.work.notify()
        if refuse:  # after SIGTERM: its body frames, if any, are ignored as for an unknown id
            try:
                exchange.respond((503, {"content-type": "text/plain"}, "shutting down\n"))
            except RequestReset:
                pass

    def release_slot(self, slot):
        """Gives a gateway slot back (SHM_RELEASE) once its piece was read or dropped."""
        with self.state:
            generation = self.shm.give_back(slot)
        if not self.closed:
            try:
                self.write([(SHM_RELEASE, 0, SLOT_RELEASE.pack(slot, 0, generation))], 0)
            except RequestReset:
                pass  # the connection is gone, and the segment's state with it

    def close_down(self, failed):
        """The connection is gone (or unusable): every open request is cancelled."""
        with self.lock:
            if self.closed:
                return
            self.closed = True
            self.failed = failed
            open_exchanges = list(self.exchanges.values()) + list(self.queue)
            self.exchanges.clear()
        for exchange in open_exchanges:
            exchange.abandon()
        self.wake()

    # -- running handlers

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
        with exchange.cond:
            cancelled = exchange.reset  # then it was acknowledged already (version 2)
            exchange.started = True
        try:
            if not cancelled:
                exchange.respond(self.handler(exchange.request))
        except RequestReset:
            pass
        except BaseException as e:
            if not exchange.reset:
                traceback.print_exc()
                self.fail(exchange, e)
        finally:
            exchange.finish()
            with self.lock:
                self.in_flight -= 1
                idle = self.in_flight == 0
            if idle and self.terminating:
                self.wake()

    def fail(self, exchange, error):
        try:
            if exchange.head_sent:
                reason = ("handler raised %s" % type(error).__name__).encode()
                exchange.emit([(RESET, 0, reason)], True)
            else:
                text = "500 Internal Server Error: handler raised %s\n" % type(error).__name__
                exchange.respond((500, {"content-type": "text/plain; charset=utf-8"}, text))
        except RequestReset:
            pass

    def forget(self, exchange):
        with self.lock:
            if self.exchanges.get(exchange.id) is exchange:
                del self.exchanges[exchange.id]

    def idle(self):
        with self.lock:
            return self.in_flight == 0

    def wake(self):
        """Wakes the main thread (safe in a signal handler: one byte to a pipe)."""
        try:
            os.write(self.wake_w, b"!")
        except OSError:
            pass


def _exit_now(status):
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(status)


class _WholeBody:
    """A request body that is all there already (a Lambda event), read as the pipe's is."""

    def __init__(self, request_id, data):
        self.id = request_id
        self._data = data

    def take(self):
        data, self._data = self._data, b""
        return data


def _lambda_request(request_id, event, deadline):
    """(payload format "2.0", "1.0" or None, Request) for an event: an API Gateway event's
    request, or for any other event a POST to "/" with the event as its body."""
    import base64
    from urllib.parse import urlencode
    if isinstance(event, dict) and event.get("version") == "2.0" and "rawPath" in event:
        method = event.get("requestContext", {}).get("http", {}).get("method", "GET")
        target = event["rawPath"] + ("?" + event["rawQueryString"] if event.get("rawQueryString") else "")
        headers = [(k.lower(), v) for k, v in (event.get("headers") or {}).items()]
        if event.get("cookies"):
            headers.append(("cookie", "; ".join(event["cookies"])))
        kind = "2.0"
    elif isinstance(event, dict) and "httpMethod" in event:
        method = event["httpMethod"]
        query = event.get("multiValueQueryStringParameters") or {}
        target = event.get("path") or "/"
        if query:
            target += "?" + urlencode([(k, v) for k, vs in query.items() for v in vs])
        multi = event.get("multiValueHeaders") or {k: [v] for k, v in (event.get("headers") or {}).items()}
        headers = [(k.lower(), v) for k, vs in multi.items() for v in vs]
        kind = "1.0"
    else:
        return None, Request(_WholeBody(request_id, json.dumps(event).encode()), "POST", "/",
                             [("content-type", "application/json")], deadline)
    body = event.get("body") or ""
    data = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode("utf-8")
    return kind, Request(_WholeBody(request_id, data), method, target, headers, deadline)


def _lambda_result(kind, code, pairs, body):
    """The handler's answer as API Gateway's proxy response of that payload format: 2.0 has
    no multi-value headers (repeats are joined, Set-Cookie goes to cookies), 1.0 has them. For
    an event that was not an HTTP request the body itself is the result."""
    import base64
    if kind is None:
        return body
    result = {"statusCode": code, "isBase64Encoded": True,
              "body": base64.b64encode(body).decode("ascii")}
    if kind == "2.0":
        headers, cookies = {}, []
        for name, value in pairs:
            if name == "set-cookie":
                cookies.append(value)
            else:
                headers[name] = headers[name] + "," + value if name in headers else value
        result["headers"] = headers
        if cookies:
            result["cookies"] = cookies
    else:
        result["multiValueHeaders"] = {}
        for name, value in pairs:
            result["multiValueHeaders"].setdefault(name, []).append(value)
    return json.dumps(result).encode()


def _serve_lambda(handler, api):
    """The Lambda Runtime API loop (a custom runtime): one invocation at a time, forever."""
    import http.client
    host, _, port = api.rpartition(":")
    conn = http.client.HTTPConnection(host, int(port))

    def call(method, path, body=None, headers=None):
        conn.request(method, "/2018-06-01/runtime/" + path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read(), response

    while True:
        status, data, response = call("GET", "invocation/next")
        if status != 200:
            sys.stderr.write("local_lambdas: the Runtime API answered %d to /next\n" % status)
            sys.exit(1)
        request_id = response.getheader("Lambda-Runtime-Aws-Request-Id")
        deadline_ms = response.getheader("Lambda-Runtime-Deadline-Ms")
        deadline = None
        if deadline_ms:
            deadline = time.monotonic() + int(deadline_ms) / 1000.0 - time.time()
        try:
            kind, request = _lambda_request(request_id, json.loads(data), deadline)
            code, pairs, body = _normalize(handler(request))
            if not isinstance(body, bytes):
                body = b"".join(_text(chunk) for chunk in body)
            result = _lambda_result(kind, code, pairs, body)
            call("POST", "invocation/%s/response" % request_id, result)
        except Exception as e:  # the handler failed: report it as Lambda does
            traceback.print_exc()
            error = {"errorMessage": str(e), "errorType": type(e).__name__,
                     "stackTrace": traceback.format_exc().splitlines()}
            call("POST", "invocation/%s/error" % request_id, json.dumps(error).encode(),
                 {"Lambda-Runtime-Function-Error-Type": "Unhandled"})


def serve(handler):
    """Serve requests with handler(request) until the gateway goes away; never returns."""
    address = os.environ.get("PIPE_ADDRESS")
    if not address and os.environ.get("AWS_LAMBDA_RUNTIME_API"):
        _serve_lambda(handler, os.environ["AWS_LAMBDA_RUNTIME_API"])
    if not address:
        sys.stderr.write("run me under local-lambdas; PIPE_ADDRESS is not set\n")
        sys.exit(2)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn = _Connection(sock, handler)
    if threading.current_thread() is threading.main_thread():
        # Installed before HELLO: once the gateway sees us ready, SIGTERM is graceful.
        def on_term(signum, frame):
            conn.terminating = True
            conn.wake()
        signal.signal(signal.SIGTERM, on_term)
    try:
        sock.connect(address)
        conn.handshake()
    except (OSError, ProtocolError, RequestReset) as e:
        sys.stderr.write("local_lambdas: cannot connect to the gateway at %s: %s\n" % (address, e))
        sys.exit(1)
    threading.Thread(target=conn.read_loop, name="local-lambdas-reader", daemon=True).start()
    # This thread watches: for the gateway hanging up (even while a handler runs without reading
    # the socket), for SIGTERM (only flags are touched in the signal handler) and for the end.
    watch = select.poll()
    watch.register(sock, POLLRDHUP)
    watch.register(conn.wake_r, select.POLLIN)
    while not (conn.closed or (conn.terminating and conn.idle())):
        for fd, events in watch.poll(1000):
            if fd == conn.wake_r:
                os.read(conn.wake_r, 512)
            elif events & (POLLRDHUP | select.POLLHUP | select.POLLERR):
                conn.close_down(False)
    status = 1 if conn.failed else 0
    # When the gateway is gone nobody can receive answers: give handlers a moment, no more.
    deadline = time.monotonic() + EXIT_GRACE
    while conn.closed and not conn.idle():
        if time.monotonic() >= deadline:
            _exit_now(status)
        time.sleep(0.01)
    sock.close()
    sys.exit(status)
