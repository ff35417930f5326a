#!/usr/bin/env bash
# Issue 10's comparison, in one run on this machine (docs/lambda.md, "Measurements"): the same
# logic (a fixed small JSON answer) as a Java pipe function (bench's PipeFunction) and as a Lambda
# handler under the official Java runtime interface client (it/lambda/BenchHandler) behind the
# gateway, with nginx `return 200` as the machine's reference; wrk at 1, 8 and 64 connections.
# Then cold starts: the client's own start to its first /next (ric-start.py, no gateway) against a
# cold request through the gateway (max_requests_per_instance 1: every request a new environment).
#
#   bench/lambda/run.sh [--duration SECONDS] [--warmup SECONDS]
#
# Needs the gateway's test classes and dependencies: mvn -o -pl gateway test-compile first.
set -euo pipefail
HOME_DIR="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
LL="$HOME_DIR/local-lambdas"
DUR=10; WARM=10; COLD=7
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DUR="$2"; shift 2 ;;
    --warmup) WARM="$2"; shift 2 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
export PATH="$PATH:/usr/sbin"
T="$(mktemp -d /tmp/ll-lambda-XXXXXX)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$T"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 1 600); do curl -s -o /dev/null "$1" && return 0; sleep 0.05; done; echo "run.sh: $1 never answered" >&2; return 1; }

JAVA_BIN=""
for j in ${JAVA_HOME:+$JAVA_HOME/bin/java} /usr/lib/jvm/*/bin/java; do
  [ -x "$j" ] || continue
  v="$("$j" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p')"
  if [ -n "$v" ] && [ "$v" -ge 25 ]; then JAVA_BIN="$j"; break; fi
done
(cd "$HOME_DIR" && mvn -B -o -q -pl gateway dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$T/cp.txt" >/dev/null)
CP="$HOME_DIR/gateway/target/test-classes:$(cat "$T/cp.txt")"
CORE_JAR="$(tr ':' '\n' <"$T/cp.txt" | grep '/aws-lambda-java-core-[0-9.]*\.jar$' | head -n1)"

P_NGX=$(free_port); P_LL=$(free_port)
mkdir -p "$T/nginx"
USER_LINE=""; [ "$(id -u)" = 0 ] && USER_LINE="user root;"
cat >"$T/nginx/nginx.conf" <<CONF
$USER_LINE
worker_processes auto; daemon off; pid $T/nginx/nginx.pid; error_log stderr warn;
events { worker_connections 4096; }
http { access_log off;
  server { listen 127.0.0.1:$P_NGX; location / { default_type application/json; return 200 '{"ok":true,"server":"nginx"}'; } } }
CONF
nginx -c "$T/nginx/nginx.conf" -p "$T/nginx" -e stderr 2>"$T/nginx.log" &
PIDS+=($!)

# The same JVM flags for both functions; full tiered JIT (C2), as warm throughput is measured.
JFLAGS="<arg>-XX:+UseSerialGC</arg><arg>-Xshare:auto</arg><arg>--enable-native-access=ALL-UNNAMED</arg>"
cat >"$T/lambda.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<manifest version="1">
  <function>
    <id>pipe-java</id>
    <executable>$JAVA_BIN</executable>$JFLAGS
    <arg>-cp</arg><arg>$HOME_DIR/bench/functions/java/target/classes:$HOME_DIR/sdk-java/target/classes</arg>
    <arg>benchfn.PipeFunction</arg>
    <route>/pipe-java/*</route><start>eager</start><max_instances>8</max_instances>
  </function>
  <function>
    <id>cached</id>
    <executable>$JAVA_BIN</executable>$JFLAGS
    <arg>-cp</arg><arg>$HOME_DIR/bench/functions/java/target/classes:$HOME_DIR/sdk-java/target/classes</arg>
    <arg>benchfn.PipeFunction</arg>
    <route>/cached/*</route><start>eager</start><cache><enabled>true</enabled></cache>
  </function>
  <function>
    <id>in-process</id>
    <protocol>in-process</protocol>
    <executable>$HOME_DIR/gateway/target/test-classes</executable>
    <arg>$CORE_JAR</arg>
    <handler>dev.locallambdas.it.lambda.BenchHandler</handler>
    <route>/in-process/*</route><start>eager</start><max_instances>8</max_instances>
  </function>
  <function>
    <id>http-java</id>
    <protocol>http</protocol>
    <executable>$JAVA_BIN</executable>$JFLAGS
    <arg>-cp</arg><arg>$HOME_DIR/bench/functions/java/target/classes:$HOME_DIR/bench/functions/java/target/lib/*</arg>
    <arg>benchfn.HttpFunction</arg>
    <route>/http-java/*</route><start>eager</start><concurrency>64</concurrency>
  </function>
  <function>
    <id>lambda-java</id>
    <protocol>lambda</protocol>
    <executable>$JAVA_BIN</executable>$JFLAGS
    <arg>-cp</arg><arg>$CP</arg>
    <arg>com.amazonaws.services.lambda.runtime.api.client.AWSLambda</arg>
    <arg>dev.locallambdas.it.lambda.BenchHandler::handleRequest</arg>
    <route>/lambda-java/*</route><start>eager</start><max_instances>8</max_instances>
  </function>
  <function>
    <id>lambda-cold</id>
    <protocol>lambda</protocol>
    <executable>$JAVA_BIN</executable>$JFLAGS
    <arg>-cp</arg><arg>$CP</arg>
    <arg>com.amazonaws.services.lambda.runtime.api.client.AWSLambda</arg>
    <arg>dev.locallambdas.it.lambda.BenchHandler::handleRequest</arg>
    <route>/lambda-cold/*</route><max_requests_per_instance>1</max_requests_per_instance>
  </function>
</manifest>
XML
"$LL" serve "$T/lambda.xml" --bind "127.0.0.1:$P_LL" -q 2>"$T/gateway.log" &
PIDS+=($!)
wait_http "http://127.0.0.1:$P_NGX/"
wait_http "http://127.0.0.1:$P_LL/pipe-java/x"
wait_http "http://127.0.0.1:$P_LL/lambda-java/x"
wait_http "http://127.0.0.1:$P_LL/in-process/x"
wait_http "http://127.0.0.1:$P_LL/http-java/x"

echo "machine: $(nproc) cores, shared; wrk ${DUR}s per cell after ${WARM}s warm-up at -c64"
printf "%-22s %12s %14s %14s\n" target "c1 us/req" "c8 req/s" "c64 req/s"
read -r d1 d8 d64 < <("$JAVA_BIN" -XX:+UseSerialGC -cp "$CP" dev.locallambdas.it.lambda.DirectCall "$DUR")
printf "%-22s %12s %14s %14s\n" "direct call (no gateway)" "$d1" "$d8" "$d64"
for target in nginx cached in-process pipe-java lambda-java http-java; do
  if [ "$target" = nginx ]; then URL="http://127.0.0.1:$P_NGX/"; else
    URL="http://127.0.0.1:$P_LL/$target/x"
    [ "$target" = cached ] && URL="http://127.0.0.1:$P_LL/cached/cached"
    wrk -t2 -c64 -d"${WARM}s" "$URL" >/dev/null
  fi
  c1=$(wrk -t1 -c1 -d"${DUR}s" "$URL" | awk '/Requests\/sec/ {printf "%.1f", 1000000/$2}')
  c8=$(wrk -t2 -c8 -d"${DUR}s" "$URL" | awk '/Requests\/sec/ {printf "%.0f", $2}')
  c64=$(wrk -t2 -c64 -d"${DUR}s" "$URL" | awk '/Requests\/sec/ {printf "%.0f", $2}')
  printf "%-22s %12s %14s %14s\n" "$target" "$c1" "$c8" "$c64"
done

echo
# Cold starts on a gateway of their own that logs at info level: its "ready (pid P, N ms)" lines
# time each environment from the start request to the runtime's first /next, which is what
# ric-start.py times for the client alone.
P_COLD=$(free_port)
sed -n '/<manifest/,$p' "$T/lambda.xml" | sed 's#<start>eager</start>##' >"$T/cold.xml"
"$LL" serve "$T/cold.xml" --bind "127.0.0.1:$P_COLD" 2>"$T/cold.log" &
PIDS+=($!)
wait_http "http://127.0.0.1:$P_COLD/nothing"
own=$(python3 "$HOME_DIR/bench/lambda/ric-start.py" "$COLD" "$JAVA_BIN" "$CP" dev.locallambdas.it.lambda.BenchHandler::handleRequest)
cold=()
for _ in $(seq 1 "$COLD"); do
  cold+=("$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$P_COLD/lambda-cold/x" | awk '{printf "%.1f", $1*1000}')")
  sleep 0.3 # let the used environment stop
done
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ready=$(grep -o 'lambda-cold#[0-9]*: ready (pid [0-9]*, [0-9]* ms)' "$T/cold.log" | sed 's/.*, \([0-9]*\) ms)/\1/' | median)
echo "cold start (median of $COLD): the client alone, spawn to first /next: ${own} ms;"
echo "  through the gateway, start request to first /next: ${ready} ms (overhead $(awk -v a="$ready" -v b="$own" 'BEGIN {printf "%.1f", a-b}') ms);"
echo "  a cold request end to end (curl): $(printf "%s\n" "${cold[@]}" | median) ms (all: ${cold[*]})"
