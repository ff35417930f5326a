#!/bin/sh
# Shared-memory bodies (ADR 0011) against frames and HTTP mode, all in one script so that the
# ratios come from one sitting: seed 003's shape (256 KiB at 50 concurrent), 256 KiB at one
# connection, and a size sweep at one connection for the pipe functions (shared memory and its
# frames twin, Python and Java). Every byte of every response is verified by the bench.
#   bench/shm.sh [OUT_DIR]      DURATION=20s to change each run's length (default 10s)
set -eu
cd "$(dirname "$0")/.."
OUT=${1:-bench-results/shm-$(date +%Y%m%d-%H%M%S)}
DUR=${DURATION:-10s}
mkdir -p "$OUT"
run() { name=$1; shift; ./local-lambdas bench --no-progress --duration "$DUR" --out "$OUT/$name" "$@"; }
run c50-256k --payload 256k --concurrency 50
run c1-256k --payload 256k --concurrency 1
for size in 4k 16k 64k 1m 4m; do
  run "c1-$size" --payload "$size" --concurrency 1 --targets pipe-python,pipe-java
done
python3 bench/shm_report.py "$OUT"
