"""An http-mode test child (plain web server, no SDK) that fails on cue, for the fault tests.

It listens at HTTP_ADDRESS. Every request it reads is appended to FAULT_LOG (if set) as a line
"<pid> <method> <cue> <body bytes>", so a test can count side effects. The last path segment is
the cue:
  hello        200 "hello <pid>"
  postcrash    read the whole request body, log it, then exit(3) without answering
  midbody      200 with Content-Length: 100000, send 4096 bytes, then exit(3)
  unlisten     answer 200 "unlisten <pid>" with Connection: close, then stop listening while the
               process lives on: the next connection is refused (the request is never delivered)
"""
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG = os.environ.get("FAULT_LOG")
log_lock = threading.Lock()


def record(method, cue, n):
    if LOG:
        with log_lock, open(LOG, "a") as f:
            f.write("%d %s %s %d\n" % (os.getpid(), method, cue, n))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        cue = self.path.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
        record(self.command, cue, len(body))
        if cue == "postcrash":
            sys.stderr.write("faults_http: exiting after reading the request\n")
            sys.stderr.flush()
            os._exit(3)
        if cue == "midbody":
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"x" * 4096)
            self.wfile.flush()
            os._exit(3)
        text = ("%s %d" % (cue, os.getpid())).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(text)))
        if cue == "unlisten":
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(text)
        self.wfile.flush()
        if cue == "unlisten":
            threading.Thread(target=unlisten, daemon=True).start()

    do_GET = handle_any
    do_POST = handle_any
    do_PUT = handle_any

    def log_message(self, format, *args):
        pass


class Server(ThreadingHTTPServer):
    request_queue_size = 128
    daemon_threads = True


server = None
stopped = threading.Event()


def unlisten():
    server.shutdown()
    server.server_close()
    record("-", "unlistened", 0)
    stopped.set()


def main():
    global server
    host, port = os.environ["HTTP_ADDRESS"].rsplit(":", 1)
    server = Server((host, int(port)), Handler)
    server.serve_forever()
    # Stopped listening on cue: live on (until the gateway stops us) so connections are refused
    # by a process that is still there.
    stopped.wait()
    threading.Event().wait()


if __name__ == "__main__":
    main()
