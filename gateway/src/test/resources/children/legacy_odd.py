"""A child written for the original local_lambdas that gives odd answers on cue.

It speaks the original's pipe mode when PIPE_ADDRESS is set (listen on that Unix socket, one
request per connection, answer and close) and its http mode when HTTP_ADDRESS is set (answer
every POST to "/" with the response JSON). The last segment of the request's "uri" picks the
answer from ANSWERS; every answer that has a "headers" object carries X-Pid, so a test can tell
whether the same process answered. Unknown cues answer 200 "pid <pid>".

Cues that are not a JSON answer at all: "not-json" (plain text), "truncated" (JSON cut short),
"http-500" (http mode: the server answers 500 to the POST itself).
"""
import base64
import json
import os
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PID = str(os.getpid())


def b64(text):
    return base64.b64encode(text.encode()).decode()


ANSWERS = {
    "status-string": {"status": "404", "headers": {"X-Pid": PID}, "body": b64("string status")},
    "status-zero": {"status": 0, "headers": {"X-Pid": PID}, "body": b64("zero")},
    "status-999": {"status": 999, "headers": {"X-Pid": PID}, "body": b64("nine nine nine")},
    "status-101": {"status": 101, "headers": {"X-Pid": PID}, "body": b64("informational")},
    "status-float": {"status": 404.0, "headers": {"X-Pid": PID}, "body": b64("float")},
    "status-negative": {"status": -1, "headers": {"X-Pid": PID}, "body": b64("negative")},
    "status-404": {"status": 404, "headers": {"X-Pid": PID}, "body": b64("not here")},
    "header-number": {"headers": {"X-Pid": PID, "X-Count": 5, "X-Flag": True}, "body": b64("n")},
    "header-list": {"headers": {"X-Pid": PID, "X-Many": ["a", "b"], "X-Mixed": ["a", 1]}},
    "headers-array": {"status": 201, "headers": [["X-Pid", PID]], "body": b64("array")},
    "header-bad-name": {"headers": {"X-Pid": PID, "Bad Name": "x"}, "body": b64("bad name")},
    "header-bad-value": {"headers": {"X-Pid": PID, "X-Split": "a\r\nSet-Cookie: x=1"}},
    "body-number": {"headers": {"X-Pid": PID}, "body": 12345},
    "body-not-base64": {"headers": {"X-Pid": PID}, "body": "*** not base64 ***"},
    "not-object": [1, 2, 3],
}


def answer(request):
    cue = request.get("uri", "").rstrip("/").rsplit("/", 1)[-1]
    if cue == "not-json":
        return b"Hello, I am not JSON"
    if cue == "truncated":
        return b'{"status": 200, "body": '
    reply = ANSWERS.get(cue, {"headers": {"X-Pid": PID}, "body": b64("pid " + PID)})
    return json.dumps(reply).encode()


def serve_pipe(address):
    if os.path.exists(address):
        os.unlink(address)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(address)
    server.listen(16)
    while True:
        conn, _ = server.accept()
        with conn:
            data = b""
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
                try:
                    request = json.loads(data)
                except ValueError:
                    continue
                conn.sendall(answer(request))
                break


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        request = json.loads(self.rfile.read(length))
        if request.get("uri", "").endswith("/http-500"):
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        reply = answer(request)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format, *args):
        pass


def main():
    if "PIPE_ADDRESS" in os.environ:
        serve_pipe(os.environ["PIPE_ADDRESS"])
    else:
        host, port = os.environ["HTTP_ADDRESS"].rsplit(":", 1)
        ThreadingHTTPServer((host, int(port)), Handler).serve_forever()


if __name__ == "__main__":
    main()
