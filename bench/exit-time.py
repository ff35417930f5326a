#!/usr/bin/env python3
"""How long the gateway takes to exit after Ctrl-C (standard library only).

  python3 bench/exit-time.py [RUNS]        (default 5 runs per case; builds via ./local-lambdas)

Each run starts the gateway on the demo manifest as a shell starts a job (a process group of its
own, SIGINT at its default), optionally calls some functions so that children are running, waits a
second, then sends SIGINT to the whole process group, as a terminal's Ctrl-C does. It reports, in
milliseconds, the median and range of:

  exit      SIGINT to the process's exit (what the user waits for)
  stopped   SIGINT to the log line "stopped" (the gateway's own shutdown: drain, stop children)
  after     "stopped" to the exit (the JVM's own exit)

with the launcher's JVM options, and with them minus -XX:UserThreadWaitAttemptsAtExit=0 (the JVM
default: up to 300 ms waiting for threads that are in native code, such as the JDK's I/O poller).
Timings are for a report, never an assertion.
"""

import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLAG = "-XX:UserThreadWaitAttemptsAtExit=0"


def find_java():
    """$JAVA, else a JDK 25+ under $JAVA_HOME or /usr/lib/jvm (as the launcher looks)."""
    if os.environ.get("JAVA"):
        return os.environ["JAVA"]
    homes = [os.environ["JAVA_HOME"]] if os.environ.get("JAVA_HOME") else []
    if os.path.isdir("/usr/lib/jvm"):
        homes += sorted(os.path.join("/usr/lib/jvm", d) for d in os.listdir("/usr/lib/jvm"))
    for home in homes:
        java = os.path.join(home, "bin", "java")
        if os.access(java, os.X_OK):
            out = subprocess.run([java, "-XshowSettings:properties", "-version"], capture_output=True,
                                 text=True).stderr
            m = re.search(r"java\.specification\.version = (\d+)", out)
            if m and int(m.group(1)) >= 25:
                return java
    raise SystemExit("no JDK 25 found: set JAVA to its bin/java")


def launcher_command():
    """The java command ./local-lambdas runs (after making it build what is missing)."""
    subprocess.run([os.path.join(ROOT, "local-lambdas"), "--version"], check=True,
                   stdout=subprocess.DEVNULL)
    text = open(os.path.join(ROOT, "local-lambdas")).read()
    opts = re.search(r"^JVM_OPTS=\((.*)\)$", text, re.M).group(1).split()
    java = find_java()
    cp = "%s/gateway/target/classes:%s/gateway/target/lib/*" % (ROOT, ROOT)
    return java, opts, cp


def run_once(java, opts, cp, paths):
    log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
    cmd = [java] + opts + ["-cp", cp, "dev.locallambdas.cli.Main", "serve",
                           os.path.join(ROOT, "examples/manifest.xml"), "--bind", "127.0.0.1:0"]
    p = subprocess.Popen(cmd, stderr=log, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                         cwd=ROOT, preexec_fn=lambda: (signal.signal(signal.SIGINT, signal.SIG_DFL),
                                                       os.setpgid(0, 0)))
    try:
        while True:
            log.seek(0)
            m = re.search(r"on http://([0-9.]+):(\d+)", log.read())
            if m:
                break
            if p.poll() is not None:
                raise SystemExit("the gateway exited:\n" + open(log.name).read())
            time.sleep(0.02)
        for path in paths:
            urllib.request.urlopen("http://%s:%s%s" % (m.group(1), m.group(2), path), timeout=60).read()
        time.sleep(1)
        sent = time.time()
        os.killpg(p.pid, signal.SIGINT)
        p.wait(timeout=120)
        exited = time.time()
        log.seek(0)
        text = log.read()
        stopped = re.search(r"^(\d\d):(\d\d):(\d\d\.\d\d\d) INFO  server    stopped\b", text, re.M)
        if not stopped:
            raise SystemExit("no 'stopped' line:\n" + text)
        day = datetime.fromtimestamp(sent)
        at = day.replace(hour=int(stopped.group(1)), minute=int(stopped.group(2)),
                         second=0, microsecond=0).timestamp() + float(stopped.group(3))
        return (exited - sent) * 1000, (at - sent) * 1000, (exited - at) * 1000
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.unlink(log.name)


def summary(values):
    return "%6.0f (%4.0f-%4.0f)" % (statistics.median(values), min(values), max(values))


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    java, opts, cp = launcher_command()
    without = [o for o in opts if o != FLAG]
    cases = [("idle, no child started", []),
             ("after /python/hi, /node/hi, /http/hi", ["/python/hi", "/node/hi", "/http/hi"])]
    print("%-40s %-22s %-20s %-20s %-20s" % ("case", "JVM options", "exit ms", "stopped ms", "after ms"))
    for name, paths in cases:
        for label, o in (("launcher's", opts), ("without " + FLAG.split("=")[0][4:], without)):
            samples = [run_once(java, o, cp, paths) for _ in range(runs)]
            print("%-40s %-22s %-20s %-20s %-20s" % (name, label, summary([s[0] for s in samples]),
                                                     summary([s[1] for s in samples]),
                                                     summary([s[2] for s in samples])))


if __name__ == "__main__":
    main()
