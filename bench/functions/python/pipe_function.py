#!/usr/bin/env python3
"""Benchmark function, pipe-only: no HTTP code at all, only sdk/python (standard library).

GET answers a small fixed JSON body. A path ending in /cached is marked cacheable
(Cache-Control: public, max-age=3600); every other answer says no-store, so that a gateway
with its cache switched on globally still reaches the function for the warm cases.
POST streams the request body back unchanged (the large-payload mode checks every byte).
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "sdk", "python"))

import local_lambdas  # noqa: E402

BODY = b'{"ok":true,"runtime":"python","transport":"pipe"}'
NO_STORE = {"content-type": "application/json", "cache-control": "no-store"}
CACHEABLE = {"content-type": "application/json", "cache-control": "public, max-age=3600"}


def handler(request):
    if request.method == "POST":
        return local_lambdas.Response(
            200,
            {"content-type": "application/octet-stream", "cache-control": "no-store"},
            request.stream(),
        )
    headers = CACHEABLE if request.path.endswith("/cached") else NO_STORE
    return local_lambdas.Response(200, headers, BODY)


if __name__ == "__main__":
    local_lambdas.serve(handler)
