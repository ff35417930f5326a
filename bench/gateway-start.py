#!/usr/bin/env python3
"""The gateway's own start and memory (issue 14; docs/cold-starts.md, ADR 0013).

  gateway-start.py [--runs N] [--load-seconds S] [--idle-seconds S] [--json FILE] VARIANT...

A VARIANT is NAME=COMMAND: a shell command that starts the gateway serving the manifest named by
$MANIFEST on the address $BIND (the script sets both), e.g.

  'launcher=./local-lambdas serve $MANIFEST --bind $BIND -q'

For each variant, N times in turn (so every variant sees the same load on a shared machine):
exec to first answer (a GET of a path no function serves: the front door's 404, polled every
millisecond on a fresh connection), then the gateway's resident memory (VmRSS of the java process,
children not counted) 2 s after start; then once per variant: wrk for S seconds on a pipe
function (requests per second), the RSS at the end of the load, and the RSS after S' seconds idle.
Numbers are for a report, never an assertion.
"""

import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
HELLO = os.path.join(HERE, "core", "hello.py")


def manifest(work):
    path = os.path.join(work, "manifest.xml")
    with open(path, "w") as f:
        f.write("""<manifest version="1">
  <function>
    <id>hello</id>
    <executable>%s</executable>
    <arg>%s</arg>
    <route>/hello/*</route>
  </function>
</manifest>
""" % (sys.executable, HELLO))
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"GET /no-such-route HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            return s.recv(12).startswith(b"HTTP/1.1 ")
    except OSError:
        return False


def java_pid(root):
    """The gateway's JVM: root itself, or the java process under a launcher shell."""
    todo = [root]
    while todo:
        pid = todo.pop()
        try:
            with open("/proc/%d/comm" % pid) as f:
                if f.read().strip() == "java":
                    return pid
            with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
                todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return None


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            m = re.search(r"VmRSS:\s+(\d+) kB", f.read())
            return int(m.group(1)) if m else None
    except OSError:
        return None


def start(command, work):
    port = free_port()
    env = dict(os.environ, MANIFEST=manifest(work), BIND="127.0.0.1:%d" % port)
    t0 = time.perf_counter()
    p = subprocess.Popen(command, shell=True, env=env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    while not answers(port):
        if p.poll() is not None:
            sys.exit("gateway exited with %s: %s" % (p.returncode, command))
        if time.perf_counter() - t0 > 60:
            sys.exit("gateway did not answer within 60 s: " + command)
        time.sleep(0.001)
    return p, port, (time.perf_counter() - t0) * 1000


def stop(p):
    os.killpg(p.pid, 15)
    try:
        p.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, 9)
        p.wait()


def wrk(port, seconds):
    out = subprocess.run(["wrk", "-t2", "-c32", "-d%ds" % seconds, "http://127.0.0.1:%d/hello/x" % port],
                         capture_output=True, text=True).stdout
    m = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    return float(m.group(1)) if m else None


def main():
    args = sys.argv[1:]
    runs, load, idle, out = 5, 10, 30, None
    variants = []
    while args:
        a = args.pop(0)
        if a == "--runs":
            runs = int(args.pop(0))
        elif a == "--load-seconds":
            load = int(args.pop(0))
        elif a == "--idle-seconds":
            idle = int(args.pop(0))
        elif a == "--json":
            out = args.pop(0)
        else:
            name, _, command = a.partition("=")
            variants.append((name, command))
    if not variants:
        sys.exit(__doc__)
    results = {name: {"start_ms": [], "rss_idle_kib": []} for name, _ in variants}
    work = tempfile.mkdtemp(prefix="gw-start-")
    try:
        with open("/proc/loadavg") as f:
            print("load average before:", f.read().split()[:3])
        for r in range(runs):
            for name, command in variants:
                p, port, ms = start(command, work)
                time.sleep(2)
                results[name]["start_ms"].append(ms)
                results[name]["rss_idle_kib"].append(rss_kib(java_pid(p.pid)))
                stop(p)
        if load > 0:
            for name, command in variants:
                p, port, _ = start(command, work)
                pid = java_pid(p.pid)
                time.sleep(2)
                wrk(port, 2)  # the function's first start and the JIT's first pass
                rps = wrk(port, load)
                after_load = rss_kib(pid)
                time.sleep(idle)
                results[name].update(req_per_s=rps, rss_after_load_kib=after_load,
                                     rss_after_idle_kib=rss_kib(pid))
                stop(p)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    with open("/proc/loadavg") as f:
        print("load average after:", f.read().split()[:3])
    base = variants[0][0]
    for name, _ in variants:
        r = results[name]
        r["start_ms_median"] = statistics.median(r["start_ms"])
        r["rss_idle_mib_median"] = statistics.median(x for x in r["rss_idle_kib"] if x) / 1024
        line = "%-22s start %6.0f ms (min %4.0f)  idle %5.1f MiB" % (
            name, r["start_ms_median"], min(r["start_ms"]), r["rss_idle_mib_median"])
        if "req_per_s" in r and r["req_per_s"]:
            b = results[base].get("req_per_s") or r["req_per_s"]
            line += "  load %7.0f req/s (%.2fx)  after load %5.1f MiB  after %d s idle %5.1f MiB" % (
                r["req_per_s"], r["req_per_s"] / b, (r["rss_after_load_kib"] or 0) / 1024, idle,
                (r["rss_after_idle_kib"] or 0) / 1024)
        print(line)
    if out:
        with open(out, "w") as f:
            json.dump({"runs": runs, "load_seconds": load, "idle_seconds": idle,
                       "variants": [{"name": n, "command": c, **results[n]} for n, c in variants]},
                      f, indent=2)


if __name__ == "__main__":
    main()
