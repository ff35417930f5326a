#!/usr/bin/env python3
"""Renders bench/shm.sh's runs: markdown tables (report.md) and a throughput-by-size chart
(sweep.svg) from each run's results.json. Nothing is typed in.

    python3 bench/shm_report.py OUT_DIR
"""

import glob
import json
import os
import sys

LABELS = {"pipe-python": "pipe shm, Python", "pipe-frames-python": "pipe frames, Python",
          "pipe-java": "pipe shm, Java", "pipe-frames-java": "pipe frames, Java",
          "http-python": "HTTP mode, Python", "http-java": "HTTP mode, Java"}
ORDER = list(LABELS)


def load(out):
    runs = {}
    for path in glob.glob(os.path.join(out, "*", "results.json")):
        with open(path) as f:
            data = json.load(f)
        for p in data.get("payload", []):
            runs[(p["concurrency"], p["payload_bytes"], p["target"])] = p
    return runs


def size_name(n):
    return "%d MiB" % (n >> 20) if n >= 1 << 20 else "%d KiB" % (n >> 10)


def table(runs, concurrency, size):
    rows = [(t, runs.get((concurrency, size, t))) for t in ORDER]
    rows = [(t, p) for t, p in rows if p]
    if not rows:
        return ""
    ref = {r: runs.get((concurrency, size, "pipe-frames-" + r)) for r in ("python", "java")}
    http = {r: runs.get((concurrency, size, "http-" + r)) for r in ("python", "java")}
    out = ["%s at %d concurrent:" % (size_name(size), concurrency), "",
           "| target | req/s | vs frames | vs HTTP | p50 ms | p90 ms | p99 ms | errors | gateway CPU us/req | vs frames |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for t, p in rows:
        runtime = p["runtime"]
        f, h = ref.get(runtime), http.get(runtime)
        ratio = lambda a, b: "%.2fx" % (a / b) if b else ""
        cpu = p["gateway"]["cpu_us_per_request"]
        out.append("| %s | %.0f | %s | %s | %.2f | %.2f | %.2f | %d | %.0f | %s |" % (
            LABELS[t], p["throughput_rps"],
            ratio(p["throughput_rps"], f["throughput_rps"]) if f else "",
            ratio(p["throughput_rps"], h["throughput_rps"]) if h else "",
            p["latency_ms"]["p50"], p["latency_ms"]["p90"], p["latency_ms"]["p99"], p["errors"],
            cpu, ratio(cpu, f["gateway"]["cpu_us_per_request"]) if f else ""))
    return "\n".join(out) + "\n"


def chart(runs, path):
    sizes = sorted({s for (c, s, _) in runs if c == 1})
    series = [t for t in ("pipe-python", "pipe-frames-python", "pipe-java", "pipe-frames-java")
              if any((1, s, t) in runs for s in sizes)]
    if not sizes or not series:
        return
    w, h, left, bottom = 720, 360, 70, 50
    top = max(runs[(1, s, t)]["verified_mib_per_s"] for s in sizes for t in series if (1, s, t) in runs)
    colors = {"pipe-python": "#1f77b4", "pipe-frames-python": "#9ecae1",
              "pipe-java": "#d62728", "pipe-frames-java": "#fcae91"}
    x = lambda i: left + i * (w - left - 20) / max(1, len(sizes) - 1)
    y = lambda v: h - bottom - v / top * (h - bottom - 20)
    svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">' % (w, h),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="14">verified MiB/s at one connection (echo), by body size</text>' % left]
    for i, s in enumerate(sizes):
        svg.append('<text x="%.0f" y="%d" text-anchor="middle">%s</text>' % (x(i), h - bottom + 18, size_name(s)))
    for k in range(5):
        v = top * k / 4
        svg.append('<text x="%d" y="%.0f" text-anchor="end">%.0f</text>' % (left - 6, y(v) + 4, v))
        svg.append('<line x1="%d" x2="%d" y1="%.0f" y2="%.0f" stroke="#eee"/>' % (left, w - 20, y(v), y(v)))
    for n, t in enumerate(series):
        pts = [(x(i), y(runs[(1, s, t)]["verified_mib_per_s"])) for i, s in enumerate(sizes) if (1, s, t) in runs]
        svg.append('<polyline fill="none" stroke-width="2" stroke="%s" points="%s"/>' % (
            colors[t], " ".join("%.0f,%.0f" % p for p in pts)))
        svg.append('<text x="%d" y="%d" fill="%s">%s</text>' % (left + 10, 34 + 14 * n, colors[t], LABELS[t]))
    svg.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(svg) + "\n")


def main(out):
    runs = load(out)
    parts = [table(runs, 50, 256 << 10), table(runs, 1, 256 << 10)]
    for size in sorted({s for (c, s, _) in runs if c == 1}):
        if size != 256 << 10:
            parts.append(table(runs, 1, size))
    text = "\n".join(p for p in parts if p)
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write(text)
    chart(runs, os.path.join(out, "sweep.svg"))
    print(text)


if __name__ == "__main__":
    main(sys.argv[1])
