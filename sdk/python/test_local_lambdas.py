"""Tests for local_lambdas.py: a fake gateway on a real Unix socket talks to the SDK running a
small handler script in a real child process. The fake gateway speaks protocol 1.1 (version 2) or
1.0 (version 1) and checks every response body frame against the request's window.

Run from the repository root: python3 -m unittest discover -s sdk/python -v
"""

import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

SDK_DIR = os.path.dirname(os.path.abspath(__file__))
HEADER = struct.Struct(">IBBI")
HELLO, WELCOME, REQUEST_HEAD, REQUEST_BODY = 0x01, 0x02, 0x10, 0x11
RESPONSE_HEAD, RESPONSE_BODY, RESET, CREDIT = 0x20, 0x21, 0x30, 0x31
END = 0x01
TIMEOUT = 15
WINDOW = 65536  # the smallest window the spec allows: small bodies exercise flow control

HANDLER = r'''
import signal, sys, threading, time
sys.path.insert(0, %(sdk)r)
import local_lambdas
from local_lambdas import Response

together = threading.Barrier(4, timeout=10)
state = {"closed": 0, "body_resets": 0, "yielded": 0, "holding": 0, "returned": 0}
release = threading.Event()
# With concurrency 1 the only way to release a held handler is from outside: a signal.
signal.signal(signal.SIGUSR1, lambda signum, frame: release.set())

def pieces(size, piece=16384):
    try:
        sent = 0
        while sent < size:
            n = min(piece, size - sent)
            state["yielded"] += n
            yield b"y" * n
            sent += n
    finally:
        state["closed"] += 1

def forever():
    try:
        while True:
            yield b"x" * 1000
            threading.Event().wait(0.01)
    finally:
        state["closed"] += 1

def late_failure():
    yield b"a"
    raise ValueError("late")

def handler(req):
    if req.path == "/hello":
        return Response(200, {"content-type": "text/plain"}, b"hello")
    if req.path == "/json":
        return {"method": req.method, "path": req.path, "query": req.query, "target": req.target,
                "agent": req.header("User-Agent"), "headers": req.headers}
    if req.path == "/echo":
        return Response(200, [("content-type", "application/octet-stream")], req.stream())
    if req.path == "/echo-all":
        return req.body()
    if req.path == "/read":
        first = req.read(3)
        return 201, [("x-n", "1"), ("x-n", "2")], first + b"|" + req.read()
    if req.path == "/stream":
        return Response(200, {"content-type": "text/plain"}, ("part %%d\n" %% i for i in range(5)))
    if req.path == "/forever":
        return Response(200, {}, forever())
    if req.path == "/wait-body":
        try:
            req.body()
        except local_lambdas.RequestReset:
            state["body_resets"] += 1
            raise
    if req.path == "/status":
        return dict(state)
    if req.path == "/boom":
        raise ValueError("boom")
    if req.path == "/boom-late":
        return Response(200, {}, late_failure())
    if req.path == "/together":
        together.wait()
        return req.query + ":" + req.body().decode()
    if req.path == "/block":
        threading.Event().wait()
    if req.path == "/deadline":
        return {"deadline": req.deadline, "now": time.monotonic(), "remaining": req.remaining_ms()}
    if req.path == "/big":
        return b"x" * int(req.query)
    if req.path == "/big-stream":
        return Response(200, {}, pieces(int(req.query)))
    if req.path == "/hold":
        state["holding"] += 1
        release.wait()
        state["returned"] += 1
        return "late"
    if req.path == "/hold-read":
        release.wait()
        return str(len(req.body()))
    if req.path == "/release":
        release.set()
        return "released"
    return Response(404, {}, "no such path")

local_lambdas.serve(handler)
'''


def str16(text):
    data = text.encode()
    return struct.pack(">H", len(data)) + data


def request_head(method, target, headers=()):
    out = str16(method) + struct.pack(">I", len(target.encode())) + target.encode()
    out += struct.pack(">H", len(headers))
    for name, value in headers:
        out += str16(name) + struct.pack(">I", len(value.encode())) + value.encode()
    return out


def parse_response_head(payload):
    status, count = struct.unpack_from(">HH", payload)
    pos, headers = 4, []
    for _ in range(count):
        (n,) = struct.unpack_from(">H", payload, pos)
        name = payload[pos + 2:pos + 2 + n].decode()
        pos += 2 + n
        (n,) = struct.unpack_from(">I", payload, pos)
        headers.append((name, payload[pos + 4:pos + 4 + n].decode()))
        pos += 4 + n
    return status, headers


class Reply:
    def __init__(self):
        self.status, self.headers, self.body, self.reset, self.body_frames = None, [], b"", None, 0

    def header(self, name):
        return next((v for k, v in self.headers if k == name), None)


class FakeGateway:
    """Listens like the gateway, starts the handler script with PIPE_ADDRESS and speaks version 2
    (or 1). It never sends more request body than the child credited, checks that the child never
    sends more response body than it credited (a cleanup fails the test otherwise) and grants
    response credit as it reads, unless auto_credit is off."""

    def __init__(self, test, concurrency=1, welcome=True, version=2, window=WINDOW, auto_credit=True,
                 env=None):
        self.dir = tempfile.mkdtemp(prefix="ll-test-")
        test.addCleanup(shutil.rmtree, self.dir, True)
        self.address = os.path.join(self.dir, "pipe.sock")
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        test.addCleanup(self.server.close)
        self.server.bind(self.address)
        self.server.listen(1)
        self.server.settimeout(TIMEOUT)
        script = os.path.join(self.dir, "handler.py")
        with open(script, "w") as f:
            f.write(HANDLER % {"sdk": SDK_DIR})
        self.stderr_path = os.path.join(self.dir, "stderr.txt")
        with open(self.stderr_path, "wb") as err:
            env = dict(os.environ, PIPE_ADDRESS=self.address, **(env or {}))
            self.proc = subprocess.Popen([sys.executable, script], env=env, stderr=err)
        test.addCleanup(self.stop)
        self.conn, _ = self.server.accept()
        self.conn.settimeout(TIMEOUT)
        self.rfile = self.conn.makefile("rb")
        self.write_lock = threading.Lock()
        self.others = []  # frames read for requests nobody was waiting for
        self.version, self.window, self.auto_credit = version, window, auto_credit
        self.flow = threading.Condition()
        self.request_window = {}   # stream -> request body bytes we may still send
        self.response_window = {}  # stream -> response body bytes the child may still send
        self.uncredited = {}       # stream -> response body bytes read but not credited yet
        self.credits = []          # (stream, increment) of every CREDIT from the child
        self.violations = []
        test.addCleanup(lambda: test.assertEqual([], self.violations))
        frame_type, _, stream, payload = self.read_frame()
        test.assertEqual((HELLO, 0), (frame_type, stream))
        self.hello_payload = payload
        self.hello = struct.unpack_from(">HHI", payload) + (payload[10:].decode(),)
        if welcome:
            self.send(WELCOME, 0, 0, self.welcome_payload(concurrency))

    def welcome_payload(self, concurrency):
        payload = struct.pack(">HHI", self.version, concurrency, 1 << 20) + str16("test-fn")
        return payload + (struct.pack(">II", self.window, 0) if self.version == 2 else b"")

    def close(self):
        self.rfile.close()  # the file holds the descriptor open too
        self.conn.close()

    def stop(self):
        self.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def stderr(self):
        with open(self.stderr_path) as f:
            return f.read()

    def send(self, frame_type, flags, stream, payload=b""):
        with self.write_lock:
            self.conn.sendall(HEADER.pack(len(payload), frame_type, flags, stream) + payload)

    def read_frame(self):
        """The next frame as it is on the wire."""
        header = self.rfile.read(HEADER.size)
        if len(header) < HEADER.size:
            raise EOFError("child closed the connection")
        length, frame_type, flags, stream = HEADER.unpack(header)
        return frame_type, flags, stream, self.rfile.read(length)

    def next_frame(self):
        """The next frame, after the flow-control bookkeeping a gateway does (version 2)."""
        frame = self.read_frame()
        frame_type, flags, stream, payload = frame
        if self.version != 2:
            return frame
        with self.flow:
            if frame_type == CREDIT:
                (increment,) = struct.unpack(">I", payload)
                if stream == 0 or increment == 0:
                    self.violations.append("CREDIT %d on stream %d" % (increment, stream))
                self.credits.append((stream, increment))
                if stream in self.request_window:
                    self.request_window[stream] += increment
                    self.flow.notify_all()
            elif frame_type == RESPONSE_BODY and stream in self.response_window:
                if len(payload) > self.response_window[stream]:
                    self.violations.append("stream %d sent %d bytes with a window of %d"
                                           % (stream, len(payload), self.response_window[stream]))
                self.response_window[stream] -= len(payload)
                self.uncredited[stream] += len(payload)
                if self.auto_credit and not flags & END and self.uncredited[stream] >= self.window // 2:
                    self.grant(stream, self.uncredited[stream])
        return frame

    def grant(self, stream, increment):
        """Sends CREDIT for stream's response."""
        with self.flow:
            self.response_window[stream] += increment
            self.uncredited[stream] = max(0, self.uncredited[stream] - increment)
        self.send(CREDIT, 0, stream, struct.pack(">I", increment))

    def open_stream(self, stream):
        with self.flow:
            self.request_window[stream] = self.window
            self.response_window[stream] = self.window
            self.uncredited[stream] = 0

    def send_head(self, stream, method, target, headers=(), end=True, deadline_ms=0):
        self.open_stream(stream)
        payload = request_head(method, target, headers)
        if self.version == 2:
            payload += struct.pack(">I", deadline_ms)
        self.send(REQUEST_HEAD, END if end else 0, stream, payload)

    def send_body(self, stream, body, end=False, chunk=65536):
        """Sends body in frames of at most chunk bytes and what the child credited (version 2),
        waiting for its CREDIT (another thread must be reading frames meanwhile)."""
        pos = 0
        while pos < len(body):
            n = min(chunk, len(body) - pos)
            if self.version == 2:
                with self.flow:
                    if not self.flow.wait_for(lambda: self.request_window[stream] > 0, TIMEOUT):
                        raise AssertionError("no CREDIT for stream %d" % stream)
                    n = min(n, self.request_window[stream])
                    self.request_window[stream] -= n
            last = end and pos + n == len(body)
            self.send(REQUEST_BODY, END if last else 0, stream, body[pos:pos + n])
            pos += n
        if end and not body:
            self.send(REQUEST_BODY, END, stream)

    def send_request(self, stream, method, target, headers=(), body=None, chunk=65536):
        self.send_head(stream, method, target, headers, end=body is None)
        if body is not None:
            self.send_body(stream, body, chunk=chunk)
            self.send(REQUEST_BODY, END, stream)

    def replies(self, streams):
        """Reads frames until every stream in streams ended (END_STREAM or RESET)."""
        replies = {s: Reply() for s in streams}
        open_streams = set(streams)
        while open_streams:
            frame_type, flags, stream, payload = self.next_frame()
            if frame_type == CREDIT:
                continue
            if stream not in open_streams:
                self.others.append((frame_type, stream))
                continue
            reply = replies[stream]
            if frame_type == RESPONSE_HEAD:
                reply.status, reply.headers = parse_response_head(payload)
            elif frame_type == RESPONSE_BODY:
                reply.body += payload
                reply.body_frames += 1
            elif frame_type == RESET:
                reply.reset = payload.decode()
            if flags & END or frame_type == RESET:
                open_streams.discard(stream)
        return replies

    def request(self, stream, method, target, headers=(), body=None, chunk=65536):
        sender = threading.Thread(target=self.send_request,
                                  args=(stream, method, target, headers, body, chunk))
        sender.start()  # send and receive at once, so that large echoes cannot deadlock
        try:
            return self.replies([stream])[stream]
        finally:
            sender.join()


class LocalLambdasTest(unittest.TestCase):
    """The SDK's behaviour under protocol 1.1; LocalLambdasVersion1Test runs it all again under 1.0."""

    VERSION = 2

    def gateway(self, **options):
        return FakeGateway(self, version=self.VERSION, **options)

    def test_helloOffersVersionsOneToTwoWithPidAndSdkName(self):
        gw = self.gateway()
        self.assertEqual((1, 2, gw.proc.pid), gw.hello[:3])
        self.assertTrue(gw.hello[3].startswith("python/"))
        # No capabilities word: a 1.0 gateway refuses bytes after sdk (docs/protocol.md 7.1).
        self.assertEqual(10 + len(gw.hello[3]), len(gw.hello_payload))

    def test_answersSimpleGet(self):
        gw = self.gateway()
        reply = gw.request(1, "GET", "/hello")
        self.assertEqual((200, b"hello", "text/plain"), (reply.status, reply.body, reply.header("content-type")))

    def test_passesMethodTargetQueryAndHeadersAndEncodesDictsAsJson(self):
        gw = self.gateway()
        headers = [("user-agent", "curl/8"), ("x-a", "1"), ("x-a", "2")]
        reply = gw.request(5, "DELETE", "/json?id=7&x=%20", headers)
        self.assertEqual("application/json", reply.header("content-type"))
        self.assertEqual({"method": "DELETE", "path": "/json", "query": "id=7&x=%20",
                          "target": "/json?id=7&x=%20", "agent": "curl/8",
                          "headers": [list(h) for h in headers]}, json.loads(reply.body))

    def test_echoesFiveMegabytePostByteExact(self):
        gw = self.gateway()
        body = os.urandom(5 * 1024 * 1024 + 17)
        for path, chunk in (("/echo", 65536), ("/echo-all", 100000)):
            with self.subTest(path=path):
                reply = gw.request(1, "POST", path, body=body, chunk=chunk)
                self.assertEqual(200, reply.status)
                self.assertEqual(len(body), len(reply.body))
                self.assertTrue(reply.body == body)
                self.assertGreater(reply.body_frames, 80)  # chunks of at most 64 KiB

    def test_readsBodyLikeAFileAndAcceptsTuplesWithRepeatedHeaders(self):
        gw = self.gateway()
        reply = gw.request(2, "POST", "/read", body=b"abcdefgh", chunk=2)
        self.assertEqual((201, b"abc|defgh"), (reply.status, reply.body))
        self.assertEqual([("x-n", "1"), ("x-n", "2")], [h for h in reply.headers if h[0] == "x-n"])

    def test_streamsGeneratorResponseInChunks(self):
        gw = self.gateway()
        reply = gw.request(3, "GET", "/stream")
        self.assertEqual(200, reply.status)
        self.assertEqual(b"".join(b"part %d\n" % i for i in range(5)), reply.body)
        self.assertGreaterEqual(reply.body_frames, 5)

    def test_handlerExceptionBecomes500WithTracebackOnStderr(self):
        gw = self.gateway()
        reply = gw.request(1, "GET", "/boom")
        self.assertEqual(500, reply.status)
        self.assertIn(b"ValueError", reply.body)
        self.assertEqual(200, gw.request(2, "GET", "/hello").status)  # and it keeps serving
        self.assertIn("Traceback", gw.stderr())
        self.assertIn("boom", gw.stderr())

    def test_exceptionAfterHeadResetsTheStream(self):
        gw = self.gateway()
        reply = gw.request(1, "GET", "/boom-late")
        self.assertEqual((200, b"a"), (reply.status, reply.body))
        self.assertIn("ValueError", reply.reset)

    def test_unknownPathGets404(self):
        gw = self.gateway()
        self.assertEqual(404, gw.request(9, "GET", "/nope").status)

    def test_servesFourInterleavedRequestsConcurrently(self):
        gw = self.gateway(concurrency=4)
        ids = [11, 12, 13, 14]
        for i in ids:
            gw.send_head(i, "POST", "/together?%d" % i, end=False)
        for round_ in range(3):
            for i in ids:
                gw.send(REQUEST_BODY, 0, i, b"%d-%d;" % (i, round_))
        for i in ids:
            gw.send(REQUEST_BODY, END, i)
        replies = gw.replies(ids)
        for i in ids:
            self.assertEqual(200, replies[i].status, gw.stderr())
            self.assertEqual(b"%d:%d-0;%d-1;%d-2;" % (i, i, i, i), replies[i].body)

    def test_resetStopsStreamedResponseAndBodyReads(self):
        gw = self.gateway()
        gw.send_request(1, "GET", "/forever")
        self.assertEqual(RESPONSE_HEAD, gw.next_frame()[0])
        self.assertEqual(RESPONSE_BODY, gw.next_frame()[0])
        gw.send(RESET, 0, 1, b"client gone")
        status = gw.request(2, "GET", "/status")  # concurrency 1: runs after stream 1 stopped
        self.assertEqual(1, json.loads(status.body)["closed"])

        gw.send_head(3, "POST", "/wait-body", end=False)
        gw.send(REQUEST_BODY, 0, 3, b"some")
        gw.send(RESET, 0, 3, b"timeout")
        self.assertEqual(1, json.loads(gw.request(4, "GET", "/status").body)["body_resets"])

        del gw.others[:]
        self.assertEqual(200, gw.request(5, "GET", "/hello").status)
        self.assertEqual([], gw.others)  # nothing more for stream 1
        self.assertNotIn("Traceback", gw.stderr())

    def test_exitsZeroOnEofEvenWhileHandlerRuns(self):
        gw = self.gateway()
        gw.send_request(1, "GET", "/block")
        gw.close()
        self.assertEqual(0, gw.proc.wait(timeout=TIMEOUT))

    def test_exitsZeroOnEofWhenIdle(self):
        gw = self.gateway()
        gw.close()
        self.assertEqual(0, gw.proc.wait(timeout=TIMEOUT))

    def test_sigtermFinishesInFlightRequestThenExitsZero(self):
        gw = self.gateway()
        gw.send_head(1, "POST", "/echo", end=False)
        gw.send(REQUEST_BODY, 0, 1, b"first ")
        self.assertEqual(RESPONSE_HEAD, gw.next_frame()[0])  # the request is in flight
        self.assertEqual((RESPONSE_BODY, 0, 1, b"first "), gw.next_frame())
        gw.proc.send_signal(signal.SIGTERM)
        gw.send(REQUEST_BODY, END, 1, b"second")
        self.assertEqual((RESPONSE_BODY, 0, 1, b"second"), gw.next_frame())
        self.assertEqual((RESPONSE_BODY, END, 1, b""), gw.next_frame())
        self.assertEqual(0, gw.proc.wait(timeout=TIMEOUT))

    def test_versionRefusalEndsChildWithMessage(self):
        gw = self.gateway(welcome=False)
        gw.send(RESET, 0, 0, b"versions do not overlap")
        gw.close()
        self.assertEqual(1, gw.proc.wait(timeout=TIMEOUT))
        self.assertIn("versions do not overlap", gw.stderr())

    def test_missingPipeAddressExitsTwoWithMessage(self):
        env = {k: v for k, v in os.environ.items() if k != "PIPE_ADDRESS"}
        code = "import sys; sys.path.insert(0, %r); import local_lambdas; local_lambdas.serve(print)" % SDK_DIR
        done = subprocess.run([sys.executable, "-c", code], env=env, stderr=subprocess.PIPE,
                              timeout=TIMEOUT)
        self.assertEqual(2, done.returncode)
        self.assertIn(b"run me under local-lambdas; PIPE_ADDRESS is not set", done.stderr)


class LocalLambdasVersion1Test(LocalLambdasTest):
    """Everything above against a gateway that chooses version 1: the SDK behaves as 1.0 did."""

    VERSION = 1


class Protocol11Test(unittest.TestCase):
    """The rules of docs/protocol.md section 7, one by one."""

    def test_version1WelcomeMeansNoDeadlineFieldAndNoCredit(self):
        gw = FakeGateway(self, version=1)
        deadline = json.loads(gw.request(1, "GET", "/deadline").body)  # a head without deadline_ms
        self.assertEqual((None, None), (deadline["deadline"], deadline["remaining"]))
        body = os.urandom(4 * WINDOW + 5)
        reply = gw.request(2, "POST", "/echo-all", body=body)
        self.assertTrue(reply.body == body)
        self.assertEqual([], [f for f in gw.others if f[0] == CREDIT])
        self.assertEqual([], gw.credits)

    def test_version1GatewaySendingCreditIsAProtocolError(self):
        gw = FakeGateway(self, version=1)
        gw.send(CREDIT, 0, 1, struct.pack(">I", 10))
        self.assertEqual(1, gw.proc.wait(timeout=TIMEOUT))
        self.assertIn("protocol error", gw.stderr())

    def test_deadlineIsExposedAsMonotonicTimeAndRemainingMilliseconds(self):
        gw = FakeGateway(self)
        gw.send_head(1, "GET", "/deadline", deadline_ms=5000)
        reply = gw.replies([1])[1]
        seen = json.loads(reply.body)
        self.assertGreater(seen["remaining"], 0)
        self.assertLessEqual(seen["remaining"], 5000)
        self.assertLessEqual(seen["deadline"] - seen["now"], 5.0)
        self.assertGreater(seen["deadline"] - seen["now"], 0)
        gw.send_head(2, "GET", "/deadline", deadline_ms=0)
        seen = json.loads(gw.replies([2])[2].body)
        self.assertEqual((None, None), (seen["deadline"], seen["remaining"]))

    def test_responseWaitsForCreditAndNeverExceedsTheWindow(self):
        for concurrency in (1, 2):  # inline mode, and threads
            with self.subTest(concurrency=concurrency):
                gw = FakeGateway(self, concurrency=concurrency, auto_credit=False)
                size = 3 * WINDOW + 100
                gw.send_head(1, "GET", "/big?%d" % size)
                received = self.read_body(gw, 1, WINDOW)  # exactly one window, then it must wait
                self.assertEqual(WINDOW, received)
                if concurrency > 1:
                    # The writer waits: another request is answered with no byte of stream 1 first.
                    self.assertEqual(b"hello", gw.request(2, "GET", "/hello").body)
                    self.assertEqual([], [f for f in gw.others if f[1] == 1])
                gw.grant(1, 1000)  # a little: exactly that much comes
                received += self.read_body(gw, 1, 1000)
                gw.grant(1, size)  # the rest
                reply = gw.replies([1])[1]
                self.assertEqual(size, received + len(reply.body))
                self.assertEqual([], gw.violations)
                gw.stop()

    def test_resetWakesAWriterWaitingForCreditAndIsAcknowledged(self):
        for concurrency in (1, 2):
            with self.subTest(concurrency=concurrency):
                gw = FakeGateway(self, concurrency=concurrency, auto_credit=False)
                gw.send_head(1, "GET", "/big-stream?%d" % (4 * WINDOW))
                self.read_body(gw, 1, WINDOW)
                gw.send(RESET, 0, 1, b"client gone")
                reply = gw.replies([1])[1]  # the acknowledgement, and nothing past the window
                self.assertIsNotNone(reply.reset)
                self.assertEqual(b"", reply.body)
                status = json.loads(gw.request(2, "GET", "/status").body)
                self.assertEqual(1, status["closed"])  # the generator was closed
                gw.stop()

    def test_requestBodyIsBufferedUpToTheWindowWithoutStallingOtherRequests(self):
        gw = FakeGateway(self, concurrency=3)
        gw.send_head(1, "POST", "/hold-read", end=False)
        gw.send_body(1, b"a" * WINDOW, chunk=WINDOW // 4)  # a whole window the handler does not read yet
        self.assertEqual(b"hello", gw.request(2, "GET", "/hello").body)  # the reader is not stuck
        self.assertEqual([], gw.credits)  # nothing consumed, nothing credited
        self.assertEqual(b"released", gw.request(3, "GET", "/release").body)
        # The handler now reads: CREDIT comes as it consumes, so the rest can be sent.
        sender = threading.Thread(target=gw.send_body, args=(1, b"b" * (2 * WINDOW), True))
        sender.start()
        reply = gw.replies([1])[1]
        sender.join()
        self.assertEqual(str(3 * WINDOW).encode(), reply.body)
        self.assertTrue(gw.credits)
        for stream, increment in gw.credits:
            self.assertEqual(1, stream)
            self.assertGreaterEqual(increment, WINDOW // 2)

    def test_largeBodiesFlowBothWaysWithCredit(self):
        for concurrency in (1, 4):
            with self.subTest(concurrency=concurrency):
                gw = FakeGateway(self, concurrency=concurrency)
                body = os.urandom(10 * WINDOW + 3)
                for path in ("/echo", "/echo-all"):
                    reply = gw.request(1, "POST", path, body=body, chunk=WINDOW // 3)
                    self.assertTrue(reply.body == body, path)
                self.assertGreater(len(gw.credits), 10)
                gw.stop()

    def test_resetIsAcknowledgedOnlyAfterTheHandlerReturns(self):
        gw = FakeGateway(self, concurrency=2)
        gw.send_head(1, "GET", "/hold")
        stream = 100
        while json.loads(gw.request(stream, "GET", "/status").body)["holding"] == 0:
            stream += 1  # (a RESET before the handler starts is acknowledged at once)
        gw.send(RESET, 0, 1, b"timeout")
        # Were RESET acknowledged before the handler returned, the acknowledgement would come
        # before this answer: the SDK reads RESET before it reads the next request.
        self.assertEqual(b"hello", gw.request(2, "GET", "/hello").body)
        self.assertEqual([], gw.others)
        self.assertEqual(0, json.loads(gw.request(3, "GET", "/status").body)["returned"])
        gw.request(4, "GET", "/release")
        reply = gw.replies([1])[1]
        self.assertEqual((None, b""), (reply.status, reply.body))  # its late answer is dropped
        self.assertIsNotNone(reply.reset)
        self.assertEqual(1, json.loads(gw.request(5, "GET", "/status").body)["returned"])

    def test_resetIsAcknowledgedAfterTheHandlerReturnsInline(self):
        # With concurrency 1 the handler's own thread reads the socket, when it reads its body or
        # streams: this one sees the RESET when, released, it reads its body.
        gw = FakeGateway(self)
        gw.send_head(1, "POST", "/hold-read", end=False)
        gw.send(RESET, 0, 1, b"timeout")
        gw.proc.send_signal(signal.SIGUSR1)  # releases the handler
        reply = gw.replies([1])[1]
        self.assertEqual((None, b""), (reply.status, reply.body))
        self.assertIsNotNone(reply.reset)
        self.assertEqual(200, gw.request(2, "GET", "/hello").status)
        self.assertEqual([], gw.others)

    def test_resetOfAQueuedRequestIsAcknowledgedAtOnce(self):
        # Three requests for two threads (more than the gateway would send): the third waits.
        gw = FakeGateway(self, concurrency=2)
        gw.send_head(1, "GET", "/hold")
        gw.send_head(2, "GET", "/hold")
        gw.send_head(3, "GET", "/hello")
        gw.send(RESET, 0, 3, b"queue timeout")
        reply = gw.replies([3])[3]  # while both handlers still hold
        self.assertEqual((None, b""), (reply.status, reply.body))
        self.assertIsNotNone(reply.reset)
        gw.proc.send_signal(signal.SIGUSR1)
        replies = gw.replies([1, 2])
        self.assertEqual([b"late", b"late"], [replies[1].body, replies[2].body])

    def test_resetCrossingTheFinalFrameIsNotAcknowledged(self):
        for concurrency in (1, 2):
            with self.subTest(concurrency=concurrency):
                gw = FakeGateway(self, concurrency=concurrency)
                self.assertEqual(200, gw.request(1, "GET", "/hello").status)
                gw.send(RESET, 0, 1, b"crossed")
                gw.send(RESET, 0, 77, b"never used")
                self.assertEqual(200, gw.request(2, "GET", "/hello").status)
                self.assertEqual([], gw.others)
                gw.stop()

    def test_resetWhileReadingTheBodyIsAcknowledgedOnce(self):
        gw = FakeGateway(self)
        gw.send_head(1, "POST", "/wait-body", end=False)
        gw.send_body(1, b"some")
        gw.send(RESET, 0, 1, b"timeout")
        reply = gw.replies([1])[1]
        self.assertIsNotNone(reply.reset)
        self.assertEqual(1, json.loads(gw.request(2, "GET", "/status").body)["body_resets"])
        self.assertEqual([], gw.others)  # one final frame for stream 1, no more
        self.assertNotIn("Traceback", gw.stderr())

    def test_protocolErrors(self):
        cases = {
            "credit of 0": lambda gw: gw.send(CREDIT, 0, 1, struct.pack(">I", 0)),
            "credit on stream 0": lambda gw: gw.send(CREDIT, 0, 0, struct.pack(">I", 5)),
            "credit of 5 bytes": lambda gw: gw.send(CREDIT, 0, 1, b"\0\0\0\1\0"),
            "window overflow": lambda gw: gw.send(CREDIT, 0, 1, struct.pack(">I", (1 << 31) - WINDOW)),
            "body beyond the window": lambda gw: gw.send(REQUEST_BODY, 0, 1, b"z" * (WINDOW + 1)),
        }
        for name, violate in cases.items():
            with self.subTest(name):
                gw = FakeGateway(self, concurrency=2)
                gw.send_head(1, "POST", "/hold-read", end=False)  # a request in flight
                violate(gw)
                self.assertEqual(1, gw.proc.wait(timeout=TIMEOUT))
                self.assertIn("protocol error", gw.stderr())
                gw.stop()

    def test_malformedWelcomeIsRefused(self):
        good = struct.pack(">HHI", 2, 1, 1 << 20) + str16("f")
        for name, payload in {"trailing bytes": good + struct.pack(">II", WINDOW, 0) + b"\0",
                              "window below 64 KiB": good + struct.pack(">II", WINDOW - 1, 0),
                              "capability not offered": good + struct.pack(">II", WINDOW, 1),
                              "window missing": good}.items():
            with self.subTest(name):
                gw = FakeGateway(self, welcome=False)
                gw.send(WELCOME, 0, 0, payload)
                self.assertEqual(1, gw.proc.wait(timeout=TIMEOUT))
                gw.stop()

    def test_connectionLossWakesAWriterWaitingForCredit(self):
        gw = FakeGateway(self, auto_credit=False)
        gw.send_head(1, "GET", "/big-stream?%d" % (4 * WINDOW))
        self.read_body(gw, 1, WINDOW)
        gw.close()
        self.assertEqual(0, gw.proc.wait(timeout=TIMEOUT))

    @staticmethod
    def read_body(gw, stream, size):
        """Reads stream's frames until size body bytes came; returns how many."""
        received = 0
        while received < size:
            frame_type, _, frame_stream, payload = gw.next_frame()
            if frame_stream == stream and frame_type == RESPONSE_BODY:
                received += len(payload)
        return received


LAMBDA_HANDLER = r'''
import sys
sys.path.insert(0, %(sdk)r)
import local_lambdas

def handler(request):
    if request.path == "/fail":
        raise ValueError("no such thing")
    return local_lambdas.Response(201, [("x-a", "1"), ("set-cookie", "c=1"), ("set-cookie", "d=2")],
                                  "%%s %%s %%s %%r" %% (request.method, request.target,
                                                      request.header("cookie"), request.body()))

local_lambdas.serve(handler)
'''


class FakeRuntimeApi:
    """A Lambda Runtime API that hands out the given events, one per /next, and records what the
    runtime posts back; after the last event /next is held until the test ends."""

    def __init__(self, events):
        import http.server
        self.events = list(events)
        self.posts = []
        self.done = threading.Event()
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                if not api.events:
                    api.done.set()
                    time.sleep(TIMEOUT)
                    return
                body = json.dumps(api.events.pop(0)).encode()
                self.send_response(200)
                self.send_header("Lambda-Runtime-Aws-Request-Id", "req-%d" % len(api.posts))
                self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 5000))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                data = self.rfile.read(int(self.headers["Content-Length"]))
                api.posts.append((self.path, json.loads(data)))
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def address(self):
        return "127.0.0.1:%d" % self.server.server_address[1]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class LambdaRuntimeApiTest(unittest.TestCase):
    """serve() under AWS_LAMBDA_RUNTIME_API: a valid Lambda custom runtime."""

    def test_api_gateway_events_become_requests_and_answers_proxy_responses(self):
        import base64
        events = [
            {"version": "2.0", "rawPath": "/hi", "rawQueryString": "a=1", "cookies": ["k=v"],
             "headers": {"host": "x"}, "requestContext": {"http": {"method": "POST"}},
             "body": base64.b64encode(b"\x00\x01").decode(), "isBase64Encoded": True},
            {"httpMethod": "PUT", "path": "/rest", "multiValueQueryStringParameters": {"q": ["1", "2"]},
             "multiValueHeaders": {"Cookie": ["z=1"]}, "body": "text", "isBase64Encoded": False},
            {"version": "2.0", "rawPath": "/fail", "rawQueryString": "", "headers": {},
             "requestContext": {"http": {"method": "GET"}}},
        ]
        api = FakeRuntimeApi(events)
        workdir = tempfile.mkdtemp()
        script = os.path.join(workdir, "handler.py")
        with open(script, "w") as f:
            f.write(LAMBDA_HANDLER % {"sdk": SDK_DIR})
        env = dict(os.environ, AWS_LAMBDA_RUNTIME_API=api.address())
        env.pop("PIPE_ADDRESS", None)
        child = subprocess.Popen([sys.executable, script], env=env, stderr=subprocess.DEVNULL)
        try:
            self.assertTrue(api.done.wait(TIMEOUT))
        finally:
            child.kill()
            child.wait()
            api.close()
            shutil.rmtree(workdir)
        (p1, r1), (p2, r2), (p3, r3) = api.posts
        self.assertEqual(p1, "/2018-06-01/runtime/invocation/req-0/response")
        self.assertEqual(r1["statusCode"], 201)
        self.assertEqual(r1["headers"], {"x-a": "1", "content-type": "text/plain; charset=utf-8"})
        self.assertEqual(r1["cookies"], ["c=1", "d=2"])
        self.assertEqual(base64.b64decode(r1["body"]), b"POST /hi?a=1 k=v b'\\x00\\x01'")
        self.assertEqual(r2["multiValueHeaders"]["set-cookie"], ["c=1", "d=2"])
        self.assertEqual(base64.b64decode(r2["body"]), b"PUT /rest?q=1&q=2 z=1 b'text'")
        self.assertEqual(p3, "/2018-06-01/runtime/invocation/req-2/error")
        self.assertEqual(r3["errorType"], "ValueError")
        self.assertEqual(r3["errorMessage"], "no such thing")


SHM_ATTACH, SHM_BODY, SHM_RELEASE = 0x40, 0x41, 0x42
SLOT = 65536
SLOT_REF = struct.Struct(">HHII")
SLOT_RELEASE = struct.Struct(">HHI")


@unittest.skipUnless(hasattr(os, "memfd_create"), "needs memfd (Linux)")
class SharedMemoryTest(unittest.TestCase):
    """Shared-memory bodies (docs/protocol.md section 8): the fake gateway makes a memfd segment of
    one 64 KiB slot per side and passes its /proc path, as the real one does."""

    def gateway(self, threshold=1000):
        import mmap
        gw = FakeGateway(self, welcome=False, env={"LOCAL_LAMBDAS_CAPABILITIES": "1"})
        self.assertEqual(struct.pack(">I", 1), gw.hello_payload[-4:], "HELLO offers SHM")
        fd = os.memfd_create("local-lambdas:test", os.MFD_ALLOW_SEALING)
        self.addCleanup(os.close, fd)
        os.ftruncate(fd, 4096 + 2 * SLOT)
        gw.mm = mmap.mmap(fd, 4096 + 2 * SLOT)
        struct.pack_into(">IIIIHH", gw.mm, 0, 0x4C4C534D, 1, 4096, SLOT, 1, 1)
        path = "/proc/%d/fd/%d" % (os.getpid(), fd)
        payload = struct.pack(">HHI", 2, 1, 1 << 20) + str16("test-fn") + struct.pack(">II", WINDOW, 1)
        gw.send(WELCOME, 0, 0, payload + str16(path) + struct.pack(">I", threshold))
        frame_type, _, stream, attach = gw.read_frame()
        self.assertEqual((SHM_ATTACH, 0, b"\0\0\0\0"), (frame_type, stream, attach))
        return gw

    @staticmethod
    def slot_bytes(gw, slot, length):
        start = 4096 + slot * SLOT
        return gw.mm[start:start + length]

    def test_withoutTheGatewaysWordTheHelloOffersNothing(self):
        gw = FakeGateway(self)
        self.assertEqual(8 + 2 + len(gw.hello[3].encode()), len(gw.hello_payload))

    def test_largeBodiesGoThroughSlotsBothWaysPieceByPiece(self):
        gw = self.gateway()
        body = os.urandom(SLOT + 40000)
        gw.open_stream(1)
        gw.send(REQUEST_HEAD, 0, 1, request_head("POST", "/echo-all", ()) + struct.pack(">I", 0))
        gw.mm[4096:4096 + SLOT] = body[:SLOT]
        gw.send(SHM_BODY, 0, 1, SLOT_REF.pack(0, 0, 0, SLOT))
        frame_type, _, stream, payload = gw.read_frame()
        self.assertEqual((SHM_RELEASE, 0, SLOT_RELEASE.pack(0, 0, 0)), (frame_type, stream, payload))
        rest = body[SLOT:]
        gw.mm[4096:4096 + len(rest)] = rest
        gw.send(SHM_BODY, END, 1, SLOT_REF.pack(0, 0, 1, len(rest)))
        got, generation, ended = b"", 0, False
        while not ended:
            frame_type, flags, stream, payload = gw.read_frame()
            if frame_type == SHM_RELEASE:
                self.assertEqual(SLOT_RELEASE.pack(0, 0, 1), payload)
                continue
            if frame_type == RESPONSE_HEAD:
                self.assertEqual(200, parse_response_head(payload)[0])
            elif frame_type == SHM_BODY:
                slot, zero, gen, length = SLOT_REF.unpack(payload)
                self.assertEqual((1, 0, generation), (slot, zero, gen))
                got += self.slot_bytes(gw, 1, length)
                gw.send(SHM_RELEASE, 0, 0, SLOT_RELEASE.pack(1, 0, generation))
                generation += 1
            elif frame_type == RESPONSE_BODY:
                got += payload
            ended = bool(flags & END)
        self.assertEqual(body, got)
        self.assertEqual(2, generation)

    def test_smallBodiesStayInFrames(self):
        gw = self.gateway(threshold=100000)
        reply = gw.request(1, "POST", "/echo-all", body=b"q" * 5000)
        self.assertEqual(b"q" * 5000, reply.body)

    def test_aDoorbellWithAWrongGenerationIsAProtocolError(self):
        gw = self.gateway()
        gw.open_stream(1)
        gw.send(REQUEST_HEAD, 0, 1, request_head("POST", "/echo-all", ()) + struct.pack(">I", 0))
        gw.send(SHM_BODY, END, 1, SLOT_REF.pack(0, 0, 3, 10))
        self.assertEqual(1, gw.proc.wait(timeout=TIMEOUT))
        self.assertIn("protocol error", gw.stderr())

    def test_aReleaseOfASlotNeverSentIsAProtocolError(self):
        gw = self.gateway()
        gw.send(SHM_RELEASE, 0, 0, SLOT_RELEASE.pack(1, 0, 0))
        self.assertEqual(1, gw.proc.wait(timeout=TIMEOUT))
        self.assertIn("protocol error", gw.stderr())

    def test_anUnmappableSegmentIsReportedAndFramesCarryOn(self):
        gw = FakeGateway(self, welcome=False, env={"LOCAL_LAMBDAS_CAPABILITIES": "1"})
        payload = struct.pack(">HHI", 2, 1, 1 << 20) + str16("test-fn") + struct.pack(">II", WINDOW, 1)
        gw.send(WELCOME, 0, 0, payload + str16("/nonexistent/segment") + struct.pack(">I", 1))
        frame_type, _, _, attach = gw.read_frame()
        self.assertEqual(SHM_ATTACH, frame_type)
        self.assertEqual(1, struct.unpack_from(">I", attach)[0])
        reply = gw.request(1, "POST", "/echo-all", body=b"z" * 100000)
        self.assertEqual(b"z" * 100000, reply.body)


if __name__ == "__main__":
    unittest.main()
