#!/usr/bin/env python3
"""A pipe function that answers every request with a JSON greeting.

It echoes the request's path and query and the GREETING environment variable (default "hello"),
which a manifest can set per function. Run it under local-lambdas with protocol "pipe"; started by
hand (without PIPE_ADDRESS) it explains that and exits with status 2.
"""

import os
import sys

# The SDK is one file in sdk/python; find it relative to this file so any working directory works.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "sdk", "python"))

import local_lambdas  # noqa: E402  (after the path tweak above)

GREETING = os.environ.get("GREETING", "hello")


def handler(request):
    # A dict is sent as JSON with content-type application/json and status 200.
    return {
        "greeting": GREETING,
        "method": request.method,
        "path": request.path,
        "query": request.query,
        "pid": os.getpid(),
    }


if __name__ == "__main__":
    local_lambdas.serve(handler)
