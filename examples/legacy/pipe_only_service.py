#!/usr/bin/env python3
"""A pipe-mode child service written for the original local_lambdas.

It listens on the Unix socket named by PIPE_ADDRESS. For every connection it reads until the
bytes received parse as JSON (the proxy does not half-close), answers one JSON response and
closes the connection.

Request:  {"method": "GET", "uri": "/pipe/test", "headers": [["host", "..."]], "body": "<base64>"}
Response: {"status": 200, "headers": {"Content-Type": "..."}, "body": "<base64>"}

The answer echoes the method, the uri, the query (local-lambdas adds it as a separate field
when the request has one) and the request body. Two paths show how broken answers are treated:
a uri ending in /broken/base64 answers a body that is not base64 (the client gets an empty
body), one ending in /broken/json answers text that is not JSON (the client gets 502).
"""
import base64
import json
import os
import socket


def handle(request):
    uri = request.get("uri", "")
    if uri.endswith("/broken/base64"):
        return json.dumps({"status": 200, "body": "*** not base64 ***"}).encode()
    if uri.endswith("/broken/json"):
        return b'{"status": 200, "body": '
    echo = {
        "service": "pipe_only_service",
        "method": request.get("method"),
        "uri": uri,
        "query": request.get("query"),
        "headers": request.get("headers", []),
        "body": request.get("body", ""),
    }
    return json.dumps({
        "status": 200,
        "headers": {"Content-Type": "application/json", "X-Service": "pipe_only_service"},
        "body": base64.b64encode(json.dumps(echo).encode()).decode(),
    }).encode()


def read_request(conn):
    data = b""
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            return None  # the peer closed before a whole request arrived
        data += chunk
        try:
            return json.loads(data)
        except ValueError:
            continue


def main():
    address = os.environ["PIPE_ADDRESS"]
    if os.path.exists(address):
        os.unlink(address)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(address)
    server.listen(16)
    while True:
        conn, _ = server.accept()
        with conn:
            request = read_request(conn)
            if request is not None:
                conn.sendall(handle(request))


if __name__ == "__main__":
    main()
