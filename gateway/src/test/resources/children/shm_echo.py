"""A pipe test child (Python SDK) for shared-memory bodies.

POST (any path)      echo the whole request body (one response piece: a slot when it is large)
POST .../stream      echo the body as it streams in
GET  .../stats       JSON {"mapped": bool, "in": slot pieces received, "out": slot pieces sent}
"""

import json
import os
import sys

sys.path.insert(0, os.environ["SDK_PYTHON"])

import local_lambdas  # noqa: E402


def stats(request):
    shm = request._exchange.conn.shm
    if shm is None:
        return {"mapped": False, "in": 0, "out": 0}
    return {"mapped": True, "in": shm.pieces_in, "out": shm.pieces_out}


def handler(request):
    if request.method == "POST":
        if request.path.endswith("/stream"):
            return local_lambdas.Response(200, {"content-type": "application/octet-stream"}, request.stream())
        return local_lambdas.Response(200, {"content-type": "application/octet-stream"}, request.body())
    return stats(request)


local_lambdas.serve(handler)
