#!/usr/bin/env python3
"""Cold starts through two gateways side by side: one starting children with posix_spawn (the
default), one the JDK's way (-Dlocallambdas.spawn=jdk), and the child started alone (spawn to
HELLO, no gateway). Run by bench/spawn.sh, which passes the gateway's class path:

  spawn-cold.py CLASSPATH JAVA N

Each round takes one sample of each of the three in turn, so all see the same load. The function
is bench/core/hello.py with max_requests_per_instance 1, so every request starts an instance.
Prints median / p10 / p90 in ms, and per round the gateway's overhead (request minus the child
alone). Numbers are for a report, never an assertion.
"""

import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "core"))
import coldstart  # noqa: E402

HELLO = os.path.join(HERE, "core", "hello.py")


def start_gateway(java, cp, work, name, extra):
    manifest = os.path.join(work, name + ".xml")
    with open(manifest, "w") as f:
        f.write("""<manifest version="1">
  <function>
    <id>cold</id>
    <executable>%s</executable>
    <arg>%s</arg>
    <route>/cold/*</route>
    <max_instances>1</max_instances>
    <max_requests_per_instance>1</max_requests_per_instance>
  </function>
</manifest>
""" % (sys.executable, HELLO))
    log = open(os.path.join(work, name + ".log"), "w+")
    p = subprocess.Popen([java, "-XX:+UseParallelGC", "-XX:UserThreadWaitAttemptsAtExit=0",
                          "--enable-native-access=ALL-UNNAMED"] + extra +
                         ["-cp", cp, "dev.locallambdas.cli.Main", "serve", manifest, "--bind", "127.0.0.1:0"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)
    while True:
        log.seek(0)
        m = re.search(r"on http://([0-9.]+):(\d+)", log.read())
        if m:
            return p, "http://%s:%s/cold/" % (m.group(1), m.group(2))
        if p.poll() is not None:
            log.seek(0)
            sys.exit("gateway %s exited:\n%s" % (name, log.read()))
        time.sleep(0.05)


def main():
    cp, java, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with tempfile.TemporaryDirectory() as work:
        posix, posix_url = start_gateway(java, cp, work, "posix", [])
        jdk, jdk_url = start_gateway(java, cp, work, "jdk", ["-Dlocallambdas.spawn=jdk"])
        try:
            a, b = coldstart.Client(posix_url), coldstart.Client(jdk_url)
            for _ in range(3):  # warm the gateways' own code paths
                a.time(), b.time()
            samples = {"via gateway, posix_spawn": [], "via gateway, JDK": [], "child alone": []}
            with tempfile.TemporaryDirectory() as d:
                for _ in range(n):
                    samples["via gateway, posix_spawn"].append(a.time())
                    samples["via gateway, JDK"].append(b.time())
                    samples["child alone"].append(coldstart.hello_once(d, [sys.executable, HELLO]))
            alone = samples["child alone"]
            samples["overhead, posix_spawn"] = [r - h for r, h in zip(samples["via gateway, posix_spawn"], alone)]
            samples["overhead, JDK"] = [r - h for r, h in zip(samples["via gateway, JDK"], alone)]
            print("%-28s %8s %8s %8s" % ("Python SDK cold start (ms)", "median", "p10", "p90"))
            for name, s in samples.items():
                print("%-28s %8.2f %8.2f %8.2f" % ((name,) + coldstart.quantiles(s)))
        finally:
            for p in (posix, jdk):
                p.terminate()
                p.wait(timeout=60)


if __name__ == "__main__":
    main()
