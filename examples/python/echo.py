#!/usr/bin/env python3
"""A pipe function that sends the request body straight back, for payloads of any size.

The body is never held in memory as a whole: request.stream() yields chunks as the gateway
delivers them, and a Response whose body is an iterator is streamed out chunk by chunk while the
rest of the request is still arriving. The request's content-type, if any, is kept.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "sdk", "python"))

import local_lambdas  # noqa: E402


def handler(request):
    content_type = request.header("content-type") or "application/octet-stream"
    return local_lambdas.Response(200, {"content-type": content_type}, request.stream())


if __name__ == "__main__":
    local_lambdas.serve(handler)
