#!/usr/bin/env python3
"""The official Java runtime interface client's own start: from spawn to its first GET /next, with
no gateway (a stub Runtime API that only waits for that request). Prints the median over N runs in
milliseconds. Usage: ric-start.py N JAVA CLASSPATH HANDLER
"""
import os
import socket
import statistics
import subprocess
import sys
import time

n, java, classpath, handler = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
times = []
for _ in range(n):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    env = dict(os.environ, AWS_LAMBDA_RUNTIME_API="127.0.0.1:%d" % server.getsockname()[1],
               _HANDLER=handler, AWS_LAMBDA_FUNCTION_NAME="bench", AWS_LAMBDA_FUNCTION_MEMORY_SIZE="128",
               AWS_LAMBDA_FUNCTION_VERSION="$LATEST")
    start = time.monotonic()
    child = subprocess.Popen(
        [java, "-XX:+UseSerialGC", "-Xshare:auto",
         "--enable-native-access=ALL-UNNAMED", "-cp", classpath,
         "com.amazonaws.services.lambda.runtime.api.client.AWSLambda", handler],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    conn, _ = server.accept()
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(4096)
    times.append((time.monotonic() - start) * 1000)
    assert data.startswith(b"GET /2018-06-01/runtime/invocation/next"), data[:80]
    child.kill()
    child.wait()
    conn.close()
    server.close()
print("%.1f" % statistics.median(times))
