#!/usr/bin/env bash
# Time from "start" to the first request answered, per test harness (docs/testing.md): the harness
# starts the gateway on a free port, waits for its listening line, and GETs /python/hi (a cold
# Python function) from examples/testing/manifest.xml. Prints each run and the median (p50).
#   bench/harness/start-to-first-answer.sh [RUNS]
# LOCAL_LAMBDAS_COMMAND says how to run the gateway (default: ./local-lambdas, built first).
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-5}"
export LOCAL_LAMBDAS_COMMAND="${LOCAL_LAMBDAS_COMMAND:-$PWD/local-lambdas}"
export PYTHONPATH="$PWD/sdk/python"
manifest="$PWD/examples/testing/manifest.xml"
now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

declare -A all
java_bin="${JAVA_BIN:-java}"
for i in $(seq 1 "$runs"); do
  # Reference, in the same run (the machine is shared and noisy): a bare JVM start and exit.
  t0=$(now)
  "$java_bin" -XX:TieredStopAtLevel=1 -version >/dev/null 2>&1
  all[jvm-version]+="$(ms "$t0" "$(now)") "
  # exec: the command's first answer.
  t0=$(now)
  $LOCAL_LAMBDAS_COMMAND exec -q "$manifest" -- sh -c 'curl -fsS -o /dev/null "$LOCAL_LAMBDAS_URL/python/hi"; date +%s%N > /tmp/ll-t1' >/dev/null 2>&1
  all[exec]+="$(ms "$t0" "$(cat /tmp/ll-t1)") "
  # pytest's fixture code (local_lambdas_testing.Gateway), without pytest's own start-up.
  all[python]+="$(python3 -c '
import time, urllib.request, local_lambdas_testing as t, sys
t0 = time.monotonic_ns()
with t.Gateway(sys.argv[1]) as gw:
    urllib.request.urlopen(gw.url + "/python/hi").read()
    print((time.monotonic_ns() - t0) // 1000000)
' "$manifest" 2>/dev/null) "
  # node:test's helper (startGateway).
  all[node]+="$(node -e '
const { startGateway } = require("./sdk/node/testing.js");
(async () => {
  const t0 = process.hrtime.bigint();
  const gw = await startGateway(process.argv[1]);
  await (await fetch(gw.url + "/python/hi")).text();
  console.log(String((process.hrtime.bigint() - t0) / 1000000n));
  await gw.stop();
})();' "$manifest" 2>/dev/null) "
done
for h in jvm-version exec python node; do
  echo "$h: runs ${all[$h]}ms; p50 $(echo "${all[$h]}" | tr ' ' '\n' | grep . | median) ms"
done
