#!/usr/bin/env bash
# Where a child's launch time goes (docs/decisions/0006-process-isolation.md).
#
#   bench/spawn.sh [SAMPLES] [COLD_PAIRS]       (defaults 300 and 30)
#
# 1. hyperfine: /bin/true started directly, and through each wrapper a child is started through
#    (util-linux setsid, setpriv --pdeathsig KILL, both), with the medians' ratios to /bin/true.
# 2. SpawnBenchMain (gateway test classes): the gateway's own launch path, start() to the exit
#    observed, next to the JDK starting the program directly; the cases take turns, so that all of
#    them see the same load.
# 3. spawn-cold.py: cold requests of a Python SDK function through two gateways (posix_spawn, and
#    the JDK's way with -Dlocallambdas.spawn=jdk) next to the child started alone.
# Numbers are for a report, never an assertion.
# Needs: hyperfine, python3, Maven and a JDK 25.
set -euo pipefail
cd "$(dirname "$0")/.."
samples="${1:-300}"
cold_pairs="${2:-30}"
command -v hyperfine >/dev/null || { echo "spawn.sh: hyperfine is missing (apt-get install -y hyperfine)" >&2; exit 3; }

echo "load: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
json="$(mktemp)"
hyperfine -N -w 50 -r "$samples" --export-json "$json" \
  'true' 'setsid true' 'setpriv --pdeathsig KILL -- true' 'setsid setpriv --pdeathsig KILL -- true' >/dev/null
python3 - "$json" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
base = results[0]["median"]
print("%-45s %9s %9s %7s" % ("exec chain (hyperfine -N)", "p50 us", "min us", "ratio"))
for r in results:
    print("%-45s %9.0f %9.0f %7.2f" % (r["command"], r["median"] * 1e6, r["min"] * 1e6, r["median"] / base))
PY
rm -f "$json"

mvn -q -B -pl gateway -am test-compile -DskipTests
cp="$(mktemp)"
mvn -q -B -pl gateway dependency:build-classpath -Dmdep.outputFile="$cp" >/dev/null
jdk25() {
  local d
  for d in "${JAVA_HOME:-}" /usr/lib/jvm/*; do
    [ -n "$d" ] && [ -x "$d/bin/java" ] || continue
    if "$d/bin/java" -XshowSettings:properties -version 2>&1 | grep -Eq 'java\.specification\.version = (2[5-9]|[3-9][0-9])'; then
      echo "$d/bin/java"
      return 0
    fi
  done
  return 1
}
java_bin="${JAVA:-$(jdk25)}" || { echo "spawn.sh: no JDK 25+ under \$JAVA_HOME or /usr/lib/jvm; set JAVA" >&2; exit 3; }
"$java_bin" -XX:+UseParallelGC --enable-native-access=ALL-UNNAMED \
  -cp "gateway/target/test-classes:gateway/target/classes:$(cat "$cp")" \
  dev.locallambdas.process.SpawnBenchMain "$samples"
echo
python3 bench/spawn-cold.py "gateway/target/classes:$(cat "$cp")" "$java_bin" "$cold_pairs"
rm -f "$cp"
