#!/usr/bin/env bash
# The cost of recording one request in metrics (ADR 0014), with JMH. Builds the gateway (classes
# and libraries under gateway/target), resolves JMH, Micrometer and the Prometheus client through
# bench/metrics/pom.xml, compiles RecordBench with JMH's annotation processor and runs it. Extra
# arguments go to JMH (e.g. -f 3 -i 10, or a benchmark name regex).
#   bench/metrics/run.sh            SKIP_BUILD=1 bench/metrics/run.sh   (gateway already built)
# Needs a JDK 25 and Maven (the first run downloads JMH and Micrometer from Maven Central).
set -euo pipefail
HERE="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
jdk25() {
  local d
  for d in "${JAVA_HOME:-}" /usr/lib/jvm/*; do
    [ -n "$d" ] && [ -x "$d/bin/javac" ] || continue
    if "$d/bin/java" -XshowSettings:properties -version 2>&1 | grep -Eq 'java\.specification\.version = (2[5-9]|[3-9][0-9])'; then
      echo "$d"
      return 0
    fi
  done
  return 1
}
JDK="$(jdk25)" || { echo "run.sh: no JDK 25+ found under \$JAVA_HOME or /usr/lib/jvm" >&2; exit 3; }
export PATH="$JDK/bin:$PATH"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  (cd "$ROOT" && mvn -B -q -DskipTests package -pl gateway -am)
fi
(cd "$HERE" && mvn -B -q dependency:build-classpath -Dmdep.outputFile=target/classpath.txt)
CP="$(cat "$HERE/target/classpath.txt"):$ROOT/gateway/target/classes:$ROOT/gateway/target/lib/*"
rm -rf "$HERE/target/classes" && mkdir -p "$HERE/target/classes"
javac --release 25 -proc:full -nowarn -cp "$CP" -d "$HERE/target/classes" \
  $(find "$HERE/src/main/java" -name '*.java')
exec java -cp "$HERE/target/classes:$CP" org.openjdk.jmh.Main "$@"
