#!/usr/bin/env python3
"""An http-mode child service written for the original local_lambdas.

It runs an HTTP server at HTTP_ADDRESS (host:port). The proxy POSTs every request to "/" as
JSON and expects the response JSON as the body of a 200 answer.

Request:  {"method": "GET", "uri": "/http/test", "headers": [["host", "..."]], "body": "<base64>"}
Response: {"status": 200, "headers": {"Content-Type": "..."}, "body": "<base64>"}

The answer echoes the method, the uri, the query (local-lambdas adds it as a separate field
when the request has one) and the request body. A uri ending in /broken/base64 answers a body
that is not base64 (the client gets an empty body), one ending in /broken/json answers text that
is not JSON (the client gets 502).
"""
import base64
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def handle(request):
    uri = request.get("uri", "")
    if uri.endswith("/broken/base64"):
        return json.dumps({"status": 200, "body": "*** not base64 ***"}).encode()
    if uri.endswith("/broken/json"):
        return b'{"status": 200, "body": '
    echo = {
        "service": "http_only_service",
        "method": request.get("method"),
        "uri": uri,
        "query": request.get("query"),
        "headers": request.get("headers", []),
        "body": request.get("body", ""),
    }
    return json.dumps({
        "status": 200,
        "headers": {"Content-Type": "application/json", "X-Service": "http_only_service"},
        "body": base64.b64encode(json.dumps(echo).encode()).decode(),
    }).encode()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        request = json.loads(self.rfile.read(length))
        answer = handle(request)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format, *args):
        pass


def main():
    host, port = os.environ["HTTP_ADDRESS"].rsplit(":", 1)
    ThreadingHTTPServer((host, int(port)), Handler).serve_forever()


if __name__ == "__main__":
    main()
