"""A pipe test child (Python SDK) that proves requests overlap inside one instance.

Each request waits until BARRIER_PARTIES requests (default 4) are inside the handler at once,
then all of them answer "together". If the barrier is not reached within BARRIER_TIMEOUT_MS
(default 20000) the waiting request answers "alone", and so does every later one: a gateway that
serialises requests gets "alone" instead of hanging. The answer is "together <pid>" or
"alone <pid>".
"""
import os
import sys
import threading

sys.path.insert(0, os.environ["SDK_PYTHON"])
import local_lambdas  # noqa: E402

barrier = threading.Barrier(
    int(os.environ.get("BARRIER_PARTIES", "4")), timeout=int(os.environ.get("BARRIER_TIMEOUT_MS", "20000")) / 1000
)


def handler(request):
    try:
        barrier.wait()
        word = "together"
    except threading.BrokenBarrierError:
        word = "alone"
    return "%s %d" % (word, os.getpid())


if __name__ == "__main__":
    local_lambdas.serve(handler)
