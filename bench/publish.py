#!/usr/bin/env python3
"""Regenerates the published run in docs/benchmarks.md from measured output, so that no number on
that page is typed in by hand.

    ./local-lambdas bench --suite --no-progress --out docs/benchmarks/run
    bench/compare.sh --duration 10 > docs/benchmarks/compare.txt
    python3 bench/publish.py docs/benchmarks/run docs/benchmarks/compare.txt

It replaces what stands between the <!-- published:begin --> and <!-- published:end --> markers:
the suite's report.md (headings moved one level down), the charts, compare.sh's output verbatim,
and the targets table, whose figures are read from compare.sh's ratio lines.
"""
import pathlib
import re
import sys

run_dir = pathlib.Path(sys.argv[1])
compare = pathlib.Path(sys.argv[2]).read_text()
doc_path = pathlib.Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
doc = doc_path.read_text()

report = (run_dir / "report.md").read_text().splitlines()
report = [l for l in report if not l.startswith("# ")]
report = ["#" + l if l.startswith("#") else l for l in report]
charts = sorted(p.name for p in run_dir.glob("*.png"))
rel = run_dir.resolve().relative_to(doc_path.parent.resolve())


def ratio_line(prefix):
    for line in compare.splitlines():
        if line.startswith(prefix):
            return line[len(prefix):].strip()
    return "not measured"


def cold_rows():
    rows = []
    in_cold = False
    for line in compare.splitlines():
        if line.startswith("program "):
            in_cold = True
            continue
        if in_cold:
            parts = line.split()
            if len(parts) == 6 and parts[0] != "/bin/true":
                rows.append(f"{parts[0]} {float(parts[4]):+.1f} ms")
            elif not parts or line.startswith("gateway cold"):
                break
    return ", ".join(rows) if rows else "not measured"


cached = ratio_line("cached vs nginx return 200:")
pipe = ratio_line("warm Java pipe vs nginx proxy:")
m = re.search(r"throughput ([\d.]+)x", cached)
cached_tp = float(m.group(1)) if m else None
m = re.search(r"p50 at c1 ([\d.]+)x", cached)
cached_p50 = float(m.group(1)) if m else None
m = re.search(r"throughput ([\d.]+)x", pipe)
pipe_tp = float(m.group(1)) if m else None
m = re.search(r"p50 at c1 ([\d.]+)x", pipe)
pipe_p50 = float(m.group(1)) if m else None


def status(value, ok):
    return "not measured" if value is None else ("met" if ok(value) else "missed")


targets = [
    "| target | source | measured (compare.sh, this run) | status |",
    "|---|---|---|---|",
    f"| cached response ≥ 0.9x nginx `return 200` throughput at wrk -c64 | issue 3 | {cached_tp}x | {status(cached_tp, lambda v: v >= 0.9)} |",
    f"| cached response p50 at 1 connection ≤ 1.1x nginx's | issue 3 | {cached_p50}x | {status(cached_p50, lambda v: v <= 1.1)} |",
    f"| warm pipe call to a minimal Java SDK function ≥ 1.0x the throughput of nginx → nginx over a Unix socket | issue 2 | {pipe_tp}x | {status(pipe_tp, lambda v: v >= 1.0)} |",
    f"| the same, p50 at 1 connection ≤ 1.0x nginx proxy's | issue 2 | {pipe_p50}x | {status(pipe_p50, lambda v: v <= 1.0)} |",
    f"| cold-start overhead within 2 ms of the child's own start-to-ready | issue 2 | {cold_rows()} | see the cold-start table: p50 over 10-20 starts on a shared machine |",
]

body = "\n".join(
    report
    + ["", "### Charts", ""]
    + [f"![{c}]({rel}/{c})\n" for c in charts]
    + ["", "### Side by side with nginx (`bench/compare.sh`, verbatim)", "", "```", compare.rstrip(), "```", "",
       "### Targets (issues 2 and 3) and where local-lambdas stands", ""]
    + targets
)
begin, end = "<!-- published:begin -->", "<!-- published:end -->"
if begin not in doc or end not in doc:
    sys.exit("docs/benchmarks.md has no published:begin/end markers")
head, rest = doc.split(begin, 1)
_, tail = rest.split(end, 1)
doc_path.write_text(head + begin + "\n" + body + "\n" + end + tail)
print("docs/benchmarks.md: published run regenerated from", run_dir, "and", sys.argv[2])
