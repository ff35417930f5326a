"""A pipe child that speaks the protocol by hand, so it can break it on cue (the SDKs refuse to).

The last path segment of each request is the cue:
  ok          200 "ok"
  badheader   a header value with CR LF in it
  badname     a header name with a space
  badstatus   status 42
  garbage     random bytes instead of a frame
  oversized   a frame header announcing 2 GiB
  twohead     two RESPONSE_HEAD frames
  reset       RESET with a reason
  midbody     RESPONSE_HEAD and 4 KiB of body without END_STREAM, then exit(3)
  hang        never answer and stop reading; with RAW_ON_TERM=record:FILE a SIGTERM writes FILE and
              exits, with RAW_ON_TERM=ignore SIGTERM is ignored (only SIGKILL ends the process)
"""
import os
import signal
import socket
import struct
import sys
import time

on_term = os.environ.get("RAW_ON_TERM", "")
if on_term == "ignore":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
elif on_term.startswith("record:"):
    def record_term(signum, frame):
        with open(on_term[len("record:"):], "w") as f:
            f.write(str(os.getpid()))
        os._exit(0)

    signal.signal(signal.SIGTERM, record_term)

H = struct.Struct(">IBBI")
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.connect(os.environ["PIPE_ADDRESS"])


def send(t, flags, sid, payload=b""):
    sock.sendall(H.pack(len(payload), t, flags, sid) + payload)


def recv_exact(n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            sys.exit(0)
        buf += chunk
    return buf


def s16(b):
    return struct.pack(">H", len(b)) + b


def s32(b):
    return struct.pack(">I", len(b)) + b


def head(status, headers):
    out = struct.pack(">HH", status, len(headers))
    for n, v in headers:
        out += s16(n) + s32(v)
    return out


send(0x01, 0, 0, struct.pack(">HHI", 1, 1, os.getpid()) + s16(b"raw/1"))
length, t, flags, sid = H.unpack(recv_exact(10))
recv_exact(length)
while True:
    length, t, flags, sid = H.unpack(recv_exact(10))
    payload = recv_exact(length)
    if t != 0x10:
        continue
    mlen = struct.unpack(">H", payload[:2])[0]
    tlen = struct.unpack(">I", payload[2 + mlen:6 + mlen])[0]
    target = payload[6 + mlen:6 + mlen + tlen].decode()
    while not flags & 1:
        length, t, flags, _ = H.unpack(recv_exact(10))
        recv_exact(length)
    cue = target.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
    if cue == "badheader":
        send(0x20, 0, sid, head(200, [(b"x-evil", b"a\r\nset-cookie: pwned=1")]))
    elif cue == "badname":
        send(0x20, 0, sid, head(200, [(b"bad name", b"x")]))
    elif cue == "badstatus":
        send(0x20, 0, sid, head(42, []))
    elif cue == "garbage":
        sock.sendall(os.urandom(64))
    elif cue == "oversized":
        sock.sendall(H.pack(0x7FFFFFFF, 0x21, 0, sid))
    elif cue == "twohead":
        send(0x20, 0, sid, head(200, []))
        send(0x20, 1, sid, head(200, []))
    elif cue == "midbody":
        send(0x20, 0, sid, head(200, [(b"content-type", b"application/octet-stream")]))
        send(0x21, 0, sid, b"x" * 4096)
        os._exit(3)
    elif cue == "hang":
        while True:
            time.sleep(3600)
    elif cue == "reset":
        send(0x30, 0, sid, b"handler gave up")
        continue
    else:
        send(0x20, 0, sid, head(200, [(b"content-type", b"text/plain")]))
        send(0x21, 1, sid, b"ok")
        continue
    # After a broken answer, keep the connection open until the gateway closes it.
    try:
        while sock.recv(65536):
            pass
    except OSError:
        pass
    sys.exit(0)
