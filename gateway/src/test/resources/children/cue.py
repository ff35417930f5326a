"""A scriptable test child (pipe protocol, through the Python SDK). The last path segment is the cue.

Start-up cues come from the environment:
  CUE_START=fail      write to stderr and exit 1 before connecting
  CUE_START=never     never connect (start-up timeout)
  CUE_PIDS_DIR=DIR    create DIR/<pid> at start, so tests can count processes
  CUE_LOG=FILE        append "<pid> <method> <cue>" to FILE for every request the handler gets
                      (postcrash: after reading the body), so tests can count side effects
Request cues (last path segment):
  hello  (default)    200 JSON {pid, count, path, query}
  echo                echo the request body, streamed
  crash               exit(3) without answering (stderr first)
  kill                SIGKILL itself
  hang                never answer
  sleep?ms=N          answer after N ms
  flood?mb=N          write N MB to stdout, then answer
  env?name=X          answer the value of environment variable X
  headers             answer the request headers as JSON
  badheader           answer with a header value containing CR LF
  badstatus           answer with status 42
  big?mb=N            stream an N MB body of a repeating pattern
  sha256              hash the streamed request body
  postcrash           read the whole request body, log it, then exit(3) without answering
  (any)?cc=&vary=&etag=&status=  set those response fields / status (cache tests)
"""
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.environ["SDK_PYTHON"])
import local_lambdas  # noqa: E402

start = os.environ.get("CUE_START", "")
pids = os.environ.get("CUE_PIDS_DIR")
if pids:
    open(os.path.join(pids, str(os.getpid())), "w").close()
if start == "fail":
    sys.stderr.write("cue: refusing to start (CUE_START=fail)\n")
    sys.stderr.flush()
    sys.exit(1)
if start == "never":
    time.sleep(3600)

count = 0
log = os.environ.get("CUE_LOG")


def record(request, cue):
    if log:
        with open(log, "a") as f:
            f.write("%d %s %s\n" % (os.getpid(), request.method, cue))


def params(query):
    out = {}
    for part in (query or "").split("&"):
        if "=" in part:
            k, v = part.split("=", 1)
            out[k] = v
    return out


def handler(request):
    global count
    count += 1
    cue = request.path.rstrip("/").rsplit("/", 1)[-1]
    q = params(request.query)
    if cue == "postcrash":
        for _ in request.stream():
            pass
        record(request, cue)
        sys.stderr.write("cue: exiting after reading the request (exit 3)\n")
        sys.stderr.flush()
        os._exit(3)
    record(request, cue)
    if cue == "echo":
        return local_lambdas.Response(200, {"content-type": "application/octet-stream"}, request.stream())
    if cue == "sha256":
        import hashlib
        h = hashlib.sha256()
        for chunk in request.stream():
            h.update(chunk)
        return {"sha256": h.hexdigest()}
    if cue == "crash":
        sys.stderr.write("cue: crashing on request (exit 3)\n")
        sys.stderr.flush()
        os._exit(3)
    if cue == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if cue == "hang":
        time.sleep(3600)
    if cue == "sleep":
        time.sleep(int(q.get("ms", "100")) / 1000.0)
    if cue == "flood":
        line = b"x" * 1023 + b"\n"
        for _ in range(int(q.get("mb", "10")) * 1024):
            sys.stdout.buffer.write(line)
        sys.stdout.flush()
    if cue == "env":
        return {"value": os.environ.get(q.get("name", ""))}
    if cue == "headers":
        return {"headers": request.headers}
    if cue == "badheader":
        return local_lambdas.Response(200, [("x-evil", "a\r\nset-cookie: pwned=1")], b"nope")
    if cue == "badstatus":
        return local_lambdas.Response(42, {}, b"nope")
    if cue == "big":
        mb = int(q.get("mb", "1"))
        block = bytes(range(256)) * 256  # 64 KiB

        def gen():
            for _ in range(mb * 16):
                yield block

        return local_lambdas.Response(200, {"content-type": "application/octet-stream"}, gen())
    # Response fields on cue, for cache tests: ?cc=max-age%3D10&vary=x-lang&etag=v1&status=404
    fields = []
    from urllib.parse import unquote
    for name, field in (("cc", "cache-control"), ("vary", "vary"), ("etag", "etag"), ("expires", "expires")):
        if name in q:
            fields.append((field, unquote(q[name])))
    fields.append(("content-type", "application/json"))
    body = json.dumps({"pid": os.getpid(), "count": count, "path": request.path, "query": request.query,
                       "lang": request.header("x-lang")})
    return local_lambdas.Response(int(q.get("status", "200")), fields, body)


local_lambdas.serve(handler)
