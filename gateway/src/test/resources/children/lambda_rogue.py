"""A hand-written Lambda runtime that misbehaves on cue (?mode=...), for LambdaRuntimeApiTest.

It records the Runtime API's answers to its misdeeds and reports them in the body of its next
ordinary answer (mode=ok), as "previous".
"""
import http.client
import json
import os
import sys

HOST, PORT = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
BASE = "/2018-06-01/runtime/"
ENV_NAMES = [
    "AWS_LAMBDA_RUNTIME_API", "_HANDLER", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_REGION", "AWS_DEFAULT_REGION", "LAMBDA_TASK_ROOT", "TZ", "AWS_LAMBDA_INITIALIZATION_TYPE",
]
conn = http.client.HTTPConnection(HOST, int(PORT))


def call(method, path, body=None, headers=None):
    conn.request(method, BASE + path, body=body, headers=headers or {})
    r = conn.getresponse()
    data = r.read()
    return r.status, data, {k.lower(): v for k, v in r.getheaders()}


previous = {}
while True:
    status, event, headers = call("GET", "invocation/next")
    rid = headers["lambda-runtime-aws-request-id"]
    ev = json.loads(event)
    mode = (ev.get("queryStringParameters") or {}).get("mode", "ok")
    if mode == "ok":
        report = {
            "headers": {k: v for k, v in headers.items() if k.startswith("lambda-runtime-")},
            "env": {k: os.environ.get(k) for k in ENV_NAMES},
            "event": ev,
            "previous": previous,
        }
        result = {"statusCode": 200, "headers": {"content-type": "application/json"},
                  "body": json.dumps(report)}
        previous = {"response": call("POST", "invocation/%s/response" % rid, json.dumps(result))[0]}
        previous["second"] = list(call("POST", "invocation/%s/response" % rid, "{}")[:2])
        previous["unknown"] = list(call("POST", "invocation/not-a-request/response", "{}")[:2])
        previous["second"][1] = json.loads(previous["second"][1])
        previous["unknown"][1] = json.loads(previous["unknown"][1])
    elif mode == "big":
        status, body, _ = call("POST", "invocation/%s/response" % rid, b"x" * (7 * 1024 * 1024))
        previous = {"big": [status, json.loads(body)]}
    elif mode == "error":
        status, body, _ = call(
            "POST", "invocation/%s/error" % rid,
            json.dumps({"errorMessage": "rogue failure", "errorType": "RogueError", "stackTrace": []}),
            {"Lambda-Runtime-Function-Error-Type": "RogueError",
             "Lambda-Runtime-Function-XRay-Error-Cause": "c" * (40 * 1024)})
        previous = {"error": status}
    elif mode == "notjson":
        previous = {"notjson": call("POST", "invocation/%s/response" % rid, b"not json")[0]}
    elif mode == "exit":
        sys.stderr.write("rogue runtime exits mid-invocation\n")
        sys.stderr.flush()
        os._exit(3)
    # mode == "silent": never answers; the deadline passes
