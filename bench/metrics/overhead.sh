#!/usr/bin/env bash
# What recording metrics costs on the data path (ADR 0014): the gateway built from BASE (default:
# the commit this branch started from, without metrics) and from this tree, side by side in one
# run, serving the same warm Java pipe function (bench/core's BenchHello), measured alternately
# with wrk. Prints each pair (req/s, p50 latency, and the gateway process's CPU time per request,
# from /proc) and the median of the per-pair ratios (after / before).
#
#   bench/metrics/overhead.sh [BASE]
#
# Environment: REPEATS (5), DURATION (10s), WARMUP (15s), PATH_NAME (java-c8: 1 instance x
# concurrency 8; java-i2: 2 x 1), SKIP_BUILD=1 (this tree is built already). Needs wrk, a JDK 25, Maven (offline is fine once built).
set -euo pipefail
HERE="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BASE="${1:-$(git -C "$ROOT" merge-base HEAD main)}"
REPEATS="${REPEATS:-5}"
DURATION="${DURATION:-10s}"
WARMUP="${WARMUP:-15s}"
PATH_NAME="${PATH_NAME:-java-c8}"
command -v wrk >/dev/null || { echo "overhead.sh: wrk is missing (apt-get install -y wrk)" >&2; exit 3; }

W="$(mktemp -d /tmp/ll-metrics-overhead.XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$W"
}
trap cleanup EXIT

# The "before" build is kept (by commit) in /tmp, so a second run does not build it again.
BEFORE_DIR="/tmp/ll-metrics-before-$(git -C "$ROOT" rev-parse --short "$BASE")"
if [ ! -f "$BEFORE_DIR/.built" ]; then
  echo "building $BASE (before) in $BEFORE_DIR" >&2
  rm -rf "$BEFORE_DIR" && mkdir -p "$BEFORE_DIR"
  git -C "$ROOT" archive "$BASE" | tar -x -C "$BEFORE_DIR"
  (cd "$BEFORE_DIR" && mvn -B -q -o -DskipTests package -pl gateway -am)
  touch "$BEFORE_DIR/.built"
fi
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  echo "building this tree (after)" >&2
  (cd "$ROOT" && mvn -B -q -o -DskipTests package -pl sdk-java,gateway -am)
fi
mkdir -p "$W/classes"
javac --release 17 -nowarn -cp "$ROOT/sdk-java/target/classes" -d "$W/classes" "$ROOT/bench/core/BenchHello.java"

JAVA_BIN="$(command -v java)"
for d in "${JAVA_HOME:-}" /usr/lib/jvm/*; do
  if [ -n "$d" ] && [ -x "$d/bin/java" ] && "$d/bin/java" -XshowSettings:properties -version 2>&1 | grep -Eq 'java\.specification\.version = (2[5-9]|[3-9][0-9])'; then
    JAVA_BIN="$d/bin/java"; break
  fi
done
cat >"$W/manifest.xml" <<XML
<manifest version="1">
  <function>
    <id>java-c8</id>
    <executable>$JAVA_BIN</executable>
    <arg>-XX:+UseSerialGC</arg><arg>-Xshare:auto</arg>
    <arg>-cp</arg><arg>$W/classes:$ROOT/sdk-java/target/classes</arg><arg>BenchHello</arg>
    <route>/java-c8/*</route>
    <start>eager</start><min_instances>1</min_instances><max_instances>1</max_instances>
    <concurrency>8</concurrency><idle_timeout>never</idle_timeout><queue_size>1000</queue_size>
  </function>
  <function>
    <id>java-i2</id>
    <executable>$JAVA_BIN</executable>
    <arg>-XX:+UseSerialGC</arg><arg>-Xshare:auto</arg>
    <arg>-cp</arg><arg>$W/classes:$ROOT/sdk-java/target/classes</arg><arg>BenchHello</arg>
    <route>/java-i2/*</route>
    <start>eager</start><min_instances>2</min_instances><max_instances>2</max_instances>
    <concurrency>1</concurrency><idle_timeout>never</idle_timeout><queue_size>1000</queue_size>
  </function>
</manifest>
XML

JVM_OPTS=(-Xshare:auto -XX:UserThreadWaitAttemptsAtExit=0 -XX:+UseParallelGC --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Dio.netty.leakDetection.level=disabled)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
serve() { # DIR PORT
  "$JAVA_BIN" "${JVM_OPTS[@]}" -cp "$1/gateway/target/classes:$1/gateway/target/lib/*" \
    dev.locallambdas.cli.Main serve "$W/manifest.xml" --bind "127.0.0.1:$2" -q >"$W/gw-$2.log" 2>&1 &
  PIDS+=($!)
}
BEFORE_PORT="$(free_port)"; serve "$BEFORE_DIR" "$BEFORE_PORT"
AFTER_PORT="$(free_port)"; serve "$ROOT" "$AFTER_PORT"
for port in "$BEFORE_PORT" "$AFTER_PORT"; do
  for _ in $(seq 1 600); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/$PATH_NAME/" || true)" = 200 ] && break
    sleep 0.1
  done
done
BEFORE_PID="${PIDS[0]}"; AFTER_PID="${PIDS[1]}"
BEFORE="http://127.0.0.1:$BEFORE_PORT/$PATH_NAME/"
AFTER="http://127.0.0.1:$AFTER_PORT/$PATH_NAME/"

# Gateway CPU time (user + system, in clock ticks) of the JVM listening on a port.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
TICK_US=$((1000000 / $(getconf CLK_TCK)))

wrk_run() { # CONNS URL GATEWAY_PID -> "rps p50_us cpu_us_per_request"
  local threads=2 before after
  [ "$1" -lt 2 ] && threads=1
  before="$(cpu_ticks "$3")"
  wrk -t"$threads" -c"$1" -d"$DURATION" --latency "$2" > "$W/wrk.out" 2>&1
  after="$(cpu_ticks "$3")"
  awk -v ticks="$((after - before))" -v tick_us="$TICK_US" '
    / 50% / { v = $2; u = 1
              if (v ~ /us$/) { u = 1 } else if (v ~ /ms$/) { u = 1000 } else if (v ~ /s$/) { u = 1000000 }
              sub(/[a-z]+$/, "", v); p50 = v * u }
    /Requests\/sec/ { rps = $2 }
    / requests in / { n = $1 }
    /Non-2xx|Socket errors/ { bad = bad " " $0 }
    END { if (bad != "") print "overhead.sh: wrk reported errors:" bad > "/dev/stderr";
          printf "%s %s %.1f\n", rps, p50, (n > 0 ? ticks * tick_us / n : 0) }' "$W/wrk.out"
}

echo "warming both gateways for $WARMUP each (the JIT compiles the request path first)" >&2
wrk -t2 -c64 -d"$WARMUP" "$BEFORE" >/dev/null 2>&1
wrk -t2 -c64 -d"$WARMUP" "$AFTER" >/dev/null 2>&1

echo "base $BASE; $PATH_NAME; $REPEATS repeats of $DURATION per run; load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-4s %-5s %11s %11s %7s %10s %10s %7s %9s %9s %7s\n' rep conns before_rps after_rps ratio before_p50 after_p50 ratio before_cpu after_cpu ratio
for conns in 64 1; do
  ratios=()
  for rep in $(seq 1 "$REPEATS"); do
    # Alternate who goes first, so a drift in the machine's load favours neither.
    if [ $((rep % 2)) = 1 ]; then
      read -r brps bp50 bcpu < <(wrk_run "$conns" "$BEFORE" "$BEFORE_PID"); read -r arps ap50 acpu < <(wrk_run "$conns" "$AFTER" "$AFTER_PID")
    else
      read -r arps ap50 acpu < <(wrk_run "$conns" "$AFTER" "$AFTER_PID"); read -r brps bp50 bcpu < <(wrk_run "$conns" "$BEFORE" "$BEFORE_PID")
    fi
    line="$(python3 -c "print(f'{$arps/$brps:.3f} {$ap50/$bp50:.3f} {$acpu/$bcpu:.3f}')")"
    ratios+=("$line")
    read -r r1 r2 r3 <<<"$line"
    printf '%-4s %-5s %11s %11s %7s %10s %10s %7s %9s %9s %7s\n' "$rep" "c$conns" "$brps" "$arps" "$r1" "$bp50" "$ap50" "$r2" "$bcpu" "$acpu" "$r3"
  done
  printf '%s\n' "${ratios[@]}" | python3 -c "
import statistics, sys
rows = [list(map(float, l.split())) for l in sys.stdin if l.strip()]
names = ['req/s', 'p50', 'gateway CPU us/request']
print('c$conns: median after/before ' + '; '.join(
    f'{n} {statistics.median(c):.3f} (min {min(c):.3f}, max {max(c):.3f})' for n, c in zip(names, zip(*rows))))
"
done
