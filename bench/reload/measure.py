"""Driver of bench/reload/run.sh: saves new code, then polls until the new code answers."""
import os
import shutil
import statistics
import sys
import time
import urllib.request

APP = """import os, sys
sys.path.insert(0, os.environ["SDK_PYTHON"])
import local_lambdas
VERSION = "%s"
def handler(request):
    return {"version": VERSION, "pid": os.getpid()}
if __name__ == "__main__":
    local_lambdas.serve(handler)
"""


def write_python(directory, version):
    tmp = os.path.join(directory, ".app.py.tmp")
    with open(tmp, "w") as f:
        f.write(APP % version)
    os.replace(tmp, os.path.join(directory, "app.py"))  # as editors save: write, then rename


def replace_jar(work, version):
    tmp = os.path.join(work, "java", "app.jar.tmp")
    shutil.copyfile(os.path.join(work, "jars", "hello-%s.jar" % version), tmp)
    os.replace(tmp, os.path.join(work, "java", "app.jar"))


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode()
    except Exception as e:  # noqa: BLE001 - any failure is reported
        return 0, str(e)


def wait_for(url, marker, deadline_s=60):
    start = time.monotonic()
    while time.monotonic() - start < deadline_s:
        status, body = get(url)
        if status == 200 and marker in body:
            return
        time.sleep(0.002)
    raise SystemExit("timed out waiting for %s at %s" % (marker, url))


def measure(base, work, runs):
    wait_for(base + "/py", '"v0"')
    wait_for(base + "/java", '"v0"')
    for name, save in (("python", lambda v: write_python(os.path.join(work, "py"), v)),
                       ("java", lambda v: replace_jar(work, v))):
        path = base + ("/py" if name == "python" else "/java")
        times = []
        for i in range(1, runs + 1):
            v = "v%d" % i
            t0 = time.monotonic()
            if os.environ.get("TRACE"):
                print("save %s %s at %s" % (name, v, time.strftime("%H:%M:%S") + ("%.3f" % (time.time() % 1))[1:]), file=sys.stderr)
            save(v)
            wait_for(path, '"%s"' % v)
            times.append((time.monotonic() - t0) * 1000)
            time.sleep(0.5)  # let the old instance drain before the next save
        times.sort()
        print("%-6s runs=%d p50=%.0f ms max=%.0f ms min=%.0f ms all=%s" % (
            name, runs, statistics.median(times), times[-1], times[0],
            " ".join("%.0f" % t for t in times)))


if __name__ == "__main__":
    if sys.argv[1] == "write-python":
        write_python(sys.argv[2], sys.argv[3])
    else:
        measure(sys.argv[2], sys.argv[3], int(sys.argv[4]))
