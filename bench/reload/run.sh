#!/usr/bin/env bash
# Time from saving a function's code to the first response served by the new code, in watch mode
# (docs/reload.md): a Python SDK function (app.py rewritten the way editors save) and a Java SDK
# function (its jar replaced by a rename). Usage: bench/reload/run.sh [RUNS] (default 10).
# Needs the gateway built (mvn -o -q -pl gateway -am test-compile or package) and JDK 25 on PATH
# or in JAVA.
set -euo pipefail
RUNS=${1:-10}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
JAVA=${JAVA:-$(ls -d /usr/lib/jvm/*25*/bin/java 2>/dev/null | head -n1)}
JAVA=${JAVA:-java}
JAVAC=${JAVAC:-$(dirname "$(readlink -f "$(command -v "$JAVA")")")/javac}
W=$(mktemp -d)
trap 'kill $GW 2>/dev/null || true; wait 2>/dev/null || true; cp "$W/gateway.log" /tmp/reload-gateway.log; rm -rf "$W"' EXIT
PORT=${PORT:-3917}

# Java: the SDK and N+1 versions of example.Hello, each greeting "vN", one jar each.
mkdir -p "$W/sdk" "$W/java" "$W/jars" "$W/py"
"$JAVAC" -d "$W/sdk" $(find "$ROOT/sdk-java/src/main/java" -name '*.java')
for v in $(seq 0 "$RUNS"); do
  mkdir -p "$W/src$v/example" "$W/cls$v"
  sed "s/\"hello\"/\"v$v\"/" "$ROOT/examples/java/src/main/java/example/Hello.java" > "$W/src$v/example/Hello.java"
  "$JAVAC" -cp "$W/sdk" -d "$W/cls$v" "$W/src$v/example/Hello.java"
  jar --create --file "$W/jars/hello-v$v.jar" -C "$W/cls$v" . -C "$W/sdk" .
done
cp "$W/jars/hello-v0.jar" "$W/java/app.jar"
python3 "$ROOT/bench/reload/measure.py" write-python "$W/py" v0

cat > "$W/manifest.xml" <<XML
<manifest version="1">
  <function>
    <id>py</id>
    <executable>python3</executable>
    <arg>app.py</arg>
    <working_dir>$W/py</working_dir>
    <route>/py</route>
    <env name="SDK_PYTHON">$ROOT/sdk/python</env>
    <start>eager</start>
  </function>
  <function>
    <id>java</id>
    <executable>$JAVA</executable>
    <arg>-XX:TieredStopAtLevel=1</arg>
    <arg>-XX:+UseSerialGC</arg>
    <arg>-cp</arg>
    <arg>app.jar</arg>
    <arg>example.Hello</arg>
    <working_dir>$W/java</working_dir>
    <route>/java</route>
    <start>eager</start>
    <startup_timeout>30s</startup_timeout>
  </function>
</manifest>
XML

mvn -B -o -q -f "$ROOT/pom.xml" -pl gateway dependency:build-classpath -Dmdep.outputFile="$W/cp.txt" >/dev/null
"$JAVA" --enable-native-access=ALL-UNNAMED -XX:UserThreadWaitAttemptsAtExit=0 \
  -cp "$ROOT/gateway/target/classes:$(cat "$W/cp.txt")" dev.locallambdas.cli.Main \
  serve "$W/manifest.xml" --bind "127.0.0.1:$PORT" --watch 2> "$W/gateway.log" &
GW=$!
python3 "$ROOT/bench/reload/measure.py" measure "http://127.0.0.1:$PORT" "$W" "$RUNS"
echo "machine: $(nproc) cores, $(uname -r); shared with other builds while measured"
