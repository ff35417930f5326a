#!/usr/bin/env python3
"""The smallest Python pipe function: answers every request with "hello\\n" (no JSON)."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "sdk", "python"))

import local_lambdas  # noqa: E402

HELLO = local_lambdas.Response(200, [("content-type", "text/plain")], b"hello\n")


def handler(request):
    return HELLO


if __name__ == "__main__":
    local_lambdas.serve(handler)
