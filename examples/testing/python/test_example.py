"""An example pytest suite against a real gateway: the session fixture local_lambdas (from
sdk/python/local_lambdas_testing.py) starts it once. Run:

    PYTHONPATH=sdk/python python3 -m pytest -p local_lambdas_testing \
        --local-lambdas-manifest examples/testing/manifest.xml examples/testing/python
"""
import json
import urllib.request


def get(url):
    with urllib.request.urlopen(url, timeout=60) as r:
        return r.status, json.loads(r.read())


def test_python_function_reads_its_env_file(local_lambdas):
    status, body = get(local_lambdas.url + "/python/hi")
    assert status == 200
    assert body["greeting"] == "hello from an env file"


def test_node_function_answers(local_lambdas):
    status, body = get(local_lambdas.url + "/node/hi?x=1")
    assert status == 200
    assert body["path"] == "/node/hi"
