#!/usr/bin/env python3
"""The bench function of bench/functions/python/pipe_function.py for sdk/bench/SdkBench.java: GET
answers a small JSON body, POST streams the body back. LOCAL_LAMBDAS_SDK names the directory of
the local_lambdas.py to use (default: this repository's), so that two versions can be compared."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get("LOCAL_LAMBDAS_SDK") or os.path.join(HERE, "..", "python"))

import local_lambdas  # noqa: E402

BODY = b'{"ok":true,"runtime":"python","transport":"pipe"}'
HEADERS = {"content-type": "application/json", "cache-control": "no-store"}
ECHO_HEADERS = {"content-type": "application/octet-stream", "cache-control": "no-store"}


def handler(request):
    if request.method == "POST":
        return local_lambdas.Response(200, ECHO_HEADERS, request.stream())
    return local_lambdas.Response(200, HEADERS, BODY)


local_lambdas.serve(handler)
