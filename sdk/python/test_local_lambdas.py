"""Tests for local_lambdas.py: a fake gateway on a real Unix socket talks to the SDK running a
small handler script in a real child process.

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
import unittest

SDK_DIR = os.path.dirname(os.path.abspath(__file__))
HEADER = struct.Struct(">IBBI")
HELLO, WELCOME, REQUEST_HEAD, REQUEST_BODY = 0x01, 0x02, 0x10, 0x11
RESPONSE_HEAD, RESPONSE_BODY, RESET = 0x20, 0x21, 0x30
END = 0x01
TIMEOUT = 15

HANDLER = r'''
import sys, threading
sys.path.insert(0, %(sdk)r)
import local_lambdas
from local_lambdas import Response

together = threading.Barrier(4, timeout=10)
state = {"closed": 0, "body_resets": 0}

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
    """Listens like the gateway, starts the handler script with PIPE_ADDRESS and speaks v1."""

    def __init__(self, test, concurrency=1, welcome=True):
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
            env = dict(os.environ, PIPE_ADDRESS=self.address)
            self.proc = subprocess.Popen([sys.executable, script], env=env, stderr=err)
        test.addCleanup(self.stop)
        self.conn, _ = self.server.accept()
        self.conn.settimeout(TIMEOUT)
        self.rfile = self.conn.makefile("rb")
        self.write_lock = threading.Lock()
        self.others = []  # frames read for requests nobody was waiting for
        frame_type, _, stream, payload = self.read_frame()
        test.assertEqual((HELLO, 0), (frame_type, stream))
        self.hello = struct.unpack_from(">HHI", payload) + (payload[10:].decode(),)
        if welcome:
            self.send(WELCOME, 0, 0, struct.pack(">HHI", 1, concurrency, 1 << 20) + str16("test-fn"))

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
        header = self.rfile.read(HEADER.size)
        if len(header) < HEADER.size:
            raise EOFError("child closed the connection")
        length, frame_type, flags, stream = HEADER.unpack(header)
        return frame_type, flags, stream, self.rfile.read(length)

    def send_request(self, stream, method, target, headers=(), body=None, chunk=65536):
        self.send(REQUEST_HEAD, END if body is None else 0, stream, request_head(method, target, headers))
        if body is not None:
            for start in range(0, len(body), chunk):
                self.send(REQUEST_BODY, 0, stream, body[start:start + chunk])
            self.send(REQUEST_BODY, END, stream)

    def replies(self, streams):
        """Reads frames until every stream in streams ended (END_STREAM or RESET)."""
        replies = {s: Reply() for s in streams}
        open_streams = set(streams)
        while open_streams:
            frame_type, flags, stream, payload = self.read_frame()
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
    def test_helloCarriesVersionsPidAndSdkName(self):
        gw = FakeGateway(self)
        self.assertEqual((1, 1, gw.proc.pid), gw.hello[:3])
        self.assertTrue(gw.hello[3].startswith("python/"))

    def test_answersSimpleGet(self):
        gw = FakeGateway(self)
        reply = gw.request(1, "GET", "/hello")
        self.assertEqual((200, b"hello", "text/plain"), (reply.status, reply.body, reply.header("content-type")))

    def test_passesMethodTargetQueryAndHeadersAndEncodesDictsAsJson(self):
        gw = FakeGateway(self)
        headers = [("user-agent", "curl/8"), ("x-a", "1"), ("x-a", "2")]
        reply = gw.request(5, "DELETE", "/json?id=7&x=%20", headers)
        self.assertEqual("application/json", reply.header("content-type"))
        self.assertEqual({"method": "DELETE", "path": "/json", "query": "id=7&x=%20",
                          "target": "/json?id=7&x=%20", "agent": "curl/8",
                          "headers": [list(h) for h in headers]}, json.loads(reply.body))

    def test_echoesFiveMegabytePostByteExact(self):
        gw = FakeGateway(self)
        body = os.urandom(5 * 1024 * 1024 + 17)
        for path, chunk in (("/echo", 65536), ("/echo-all", 100000)):
            with self.subTest(path=path):
                reply = gw.request(1, "POST", path, body=body, chunk=chunk)
                self.assertEqual(200, reply.status)
                self.assertEqual(len(body), len(reply.body))
                self.assertTrue(reply.body == body)
                self.assertGreater(reply.body_frames, 80)  # chunks of at most 64 KiB

    def test_readsBodyLikeAFileAndAcceptsTuplesWithRepeatedHeaders(self):
        gw = FakeGateway(self)
        reply = gw.request(2, "POST", "/read", body=b"abcdefgh", chunk=2)
        self.assertEqual((201, b"abc|defgh"), (reply.status, reply.body))
        self.assertEqual([("x-n", "1"), ("x-n", "2")], [h for h in reply.headers if h[0] == "x-n"])

    def test_streamsGeneratorResponseInChunks(self):
        gw = FakeGateway(self)
        reply = gw.request(3, "GET", "/stream")
        self.assertEqual(200, reply.status)
        self.assertEqual(b"".join(b"part %d\n" % i for i in range(5)), reply.body)
        self.assertGreaterEqual(reply.body_frames, 5)

    def test_handlerExceptionBecomes500WithTracebackOnStderr(self):
        gw = FakeGateway(self)
        reply = gw.request(1, "GET", "/boom")
        self.assertEqual(500, reply.status)
        self.assertIn(b"ValueError", reply.body)
        self.assertEqual(200, gw.request(2, "GET", "/hello").status)  # and it keeps serving
        self.assertIn("Traceback", gw.stderr())
        self.assertIn("boom", gw.stderr())

    def test_exceptionAfterHeadResetsTheStream(self):
        gw = FakeGateway(self)
        reply = gw.request(1, "GET", "/boom-late")
        self.assertEqual((200, b"a"), (reply.status, reply.body))
        self.assertIn("ValueError", reply.reset)

    def test_unknownPathGets404(self):
        gw = FakeGateway(self)
        self.assertEqual(404, gw.request(9, "GET", "/nope").status)

    def test_servesFourInterleavedRequestsConcurrently(self):
        gw = FakeGateway(self, concurrency=4)
        ids = [11, 12, 13, 14]
        for i in ids:
            gw.send(REQUEST_HEAD, 0, i, request_head("POST", "/together?%d" % i))
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
        gw = FakeGateway(self)
        gw.send_request(1, "GET", "/forever")
        self.assertEqual(RESPONSE_HEAD, gw.read_frame()[0])
        self.assertEqual(RESPONSE_BODY, gw.read_frame()[0])
        gw.send(RESET, 0, 1, b"client gone")
        status = gw.request(2, "GET", "/status")  # concurrency 1: runs after stream 1 stopped
        self.assertEqual(1, json.loads(status.body)["closed"])

        gw.send(REQUEST_HEAD, 0, 3, request_head("POST", "/wait-body"))
        gw.send(REQUEST_BODY, 0, 3, b"some")
        gw.send(RESET, 0, 3, b"timeout")
        self.assertEqual(1, json.loads(gw.request(4, "GET", "/status").body)["body_resets"])

        del gw.others[:]
        self.assertEqual(200, gw.request(5, "GET", "/hello").status)
        self.assertEqual([], gw.others)  # nothing more for stream 1
        self.assertNotIn("Traceback", gw.stderr())

    def test_exitsZeroOnEofEvenWhileHandlerRuns(self):
        gw = FakeGateway(self)
        gw.send_request(1, "GET", "/block")
        gw.close()
        self.assertEqual(0, gw.proc.wait(timeout=TIMEOUT))

    def test_exitsZeroOnEofWhenIdle(self):
        gw = FakeGateway(self)
        gw.close()
        self.assertEqual(0, gw.proc.wait(timeout=TIMEOUT))

    def test_sigtermFinishesInFlightRequestThenExitsZero(self):
        gw = FakeGateway(self)
        gw.send(REQUEST_HEAD, 0, 1, request_head("POST", "/echo"))
        gw.send(REQUEST_BODY, 0, 1, b"first ")
        self.assertEqual(RESPONSE_HEAD, gw.read_frame()[0])  # the request is in flight
        self.assertEqual((RESPONSE_BODY, 0, 1, b"first "), gw.read_frame())
        gw.proc.send_signal(signal.SIGTERM)
        gw.send(REQUEST_BODY, END, 1, b"second")
        self.assertEqual((RESPONSE_BODY, 0, 1, b"second"), gw.read_frame())
        self.assertEqual((RESPONSE_BODY, END, 1, b""), gw.read_frame())
        self.assertEqual(0, gw.proc.wait(timeout=TIMEOUT))

    def test_versionRefusalEndsChildWithMessage(self):
        gw = FakeGateway(self, welcome=False)
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


if __name__ == "__main__":
    unittest.main()
