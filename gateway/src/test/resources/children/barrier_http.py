"""An http-mode test child (plain web server, no SDK) that proves requests overlap in one instance.

It listens at HTTP_ADDRESS. Each GET waits until BARRIER_PARTIES requests (default 4) are being
handled at once, then all of them answer "together"; if the barrier is not reached within
BARRIER_TIMEOUT_MS (default 20000) the waiting request answers "alone", and so does every later
one. The answer is "together <pid>" or "alone <pid>".
"""
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

barrier = threading.Barrier(
    int(os.environ.get("BARRIER_PARTIES", "4")), timeout=int(os.environ.get("BARRIER_TIMEOUT_MS", "20000")) / 1000
)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        try:
            barrier.wait()
            word = "together"
        except threading.BrokenBarrierError:
            word = "alone"
        body = ("%s %d" % (word, os.getpid())).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


class Server(ThreadingHTTPServer):
    request_queue_size = 128  # socketserver's backlog of 5 resets connections that come in a burst
    daemon_threads = True


def main():
    host, port = os.environ["HTTP_ADDRESS"].rsplit(":", 1)
    server = Server((host, int(port)), Handler)
    server.serve_forever()


if __name__ == "__main__":
    main()
