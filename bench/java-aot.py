#!/usr/bin/env python3
"""A Java SDK function's start with and without the JDK's AOT cache, samples interleaved (so all
variants see the same load on a shared machine): wall time of one training run with a single
request (JVM start, SDK handshake, one GET through the handler, exit), which is a cold start without
the gateway. Run from bench/ after ./local-lambdas has built (it makes the cache):

  java-aot.py JAVA [ROUNDS]

Prints the wall time's median, p10 and p90 and the CPU time's median (user + system of the JVM,
steadier on a loaded machine) in ms per variant, and the ratios of medians to the first. Numbers are for
a report, never an assertion.
"""
import os
import statistics
import subprocess
import sys
import time

JAVA, ROUNDS = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 21
FLAGS = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]
JARS = "functions/java/target/local-lambdas-bench-functions.jar:../sdk-java/target/local-lambdas-sdk.jar"
VARIANTS = [
    ("classes directories, default CDS (before)", FLAGS + ["-Xshare:auto", "-cp", "functions/java/target/classes:../sdk-java/target/classes"]),
    ("jars, default CDS", FLAGS + ["-cp", JARS]),
    ("jars, AOT cache", FLAGS + ["-XX:AOTCache=functions/java/target/pipe-function.aot", "-cp", JARS]),
]
env = dict(os.environ, PIPE_ADDRESS="", LOCAL_LAMBDAS_TRAINING="1")
samples = {name: [] for name, _ in VARIANTS}
cpu = {name: [] for name, _ in VARIANTS}
for _ in range(ROUNDS):
    for name, args in VARIANTS:
        t0 = time.perf_counter()
        p = subprocess.Popen([JAVA] + args + ["benchfn.PipeFunction"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        samples[name].append((time.perf_counter() - t0) * 1000)
        cpu[name].append((usage.ru_utime + usage.ru_stime) * 1000)
with open("/proc/loadavg") as f:
    print("load average:", " ".join(f.read().split()[:3]))
base = statistics.median(samples[VARIANTS[0][0]])
cbase = statistics.median(cpu[VARIANTS[0][0]])
for name, _ in VARIANTS:
    s = sorted(samples[name])
    m = statistics.median(s)
    c = statistics.median(cpu[name])
    print("%-42s wall median %6.1f  p10 %6.1f  p90 %6.1f ms (%.2fx)   CPU median %6.1f ms (%.2fx)" % (
        name, m, s[len(s) // 10], s[(len(s) * 9) // 10], m / base, c, c / cbase))
