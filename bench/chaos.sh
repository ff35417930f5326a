#!/usr/bin/env bash
# The long chaos run: load at 32 keep-alive connections over three functions (two pipe, one http)
# while a child is killed with SIGKILL every 2 s, for 60 s (CI runs 10 s with a kill every second).
# It is ChaosTest with other parameters: every request must be answered (200, or 502/503 with a
# problem+json body), and every function must answer 200 afterwards.
#
#   bench/chaos.sh [SECONDS] [KILL_EVERY_MILLIS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
kill_every="${2:-2000}"
connections="${3:-32}"
status=0
mvn -q -B -Dstyle.color=never -pl gateway test -Dtest=ChaosTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dchaos.seconds="$seconds" -Dchaos.killEveryMillis="$kill_every" -Dchaos.connections="$connections" \
  >/tmp/chaos-mvn.log 2>&1 || status=$?
cat gateway/target/chaos-summary.txt 2>/dev/null || true
if [ "$status" -ne 0 ]; then
  grep -a -A30 'FAILURE\|without an answer' gateway/target/surefire-reports/*ChaosTest.txt | head -60
fi
exit "$status"
