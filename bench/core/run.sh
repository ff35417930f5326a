#!/usr/bin/env bash
# Gateway core benchmark against nginx, in one run on this machine.
#
#   bench/core/run.sh            the full run: warm pipe (Java, Python), HTTP mode, cold starts
#   bench/core/run.sh warm       only the wrk comparisons;  bench/core/run.sh cold   only cold starts
#   bench/core/run.sh profile    JFR profile of the gateway while wrk drives /java-i2/ (c64)
#
# Environment: REPEATS (3), DURATION (10s), GW_PORT (18480), NGINX_PORT (18481),
# NGINX_WORKERS (2), COLD_N (30), SKIP_BUILD=1 (use the existing build), KEEP=1 (keep the work dir),
# PROFILE_SECONDS (20), PROFILE_PATH (/java-i2/), PROFILE_CONNS (64).
# Needs: wrk, nginx (nginx-light), hyperfine, python3, a JDK 25. apt-get install -y wrk nginx-light hyperfine
#
# Every (gateway, nginx) pair is measured back to back and the pair is repeated REPEATS times;
# the table shows the medians and the median of the per-pair ratios, which is robust against other
# load on the machine drifting between pairs.
set -euo pipefail

HERE="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
MODE="${1:-all}"
REPEATS="${REPEATS:-3}"
DURATION="${DURATION:-10s}"
GW_PORT="${GW_PORT:-18480}"
NGINX_PORT="${NGINX_PORT:-18481}"
NGINX_WORKERS="${NGINX_WORKERS:-2}"
COLD_N="${COLD_N:-30}"

for tool in wrk nginx hyperfine python3 curl; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is missing (apt-get install -y wrk nginx-light hyperfine curl)" >&2; exit 3; }
done

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
# The manifest's `java` is this JDK, and `python3` the real interpreter: a version-manager shim
# (pyenv's costs ~65 ms per start) would be charged to the gateway's cold start otherwise.
PY_DIR="$(dirname "$(python3 -c 'import sys; print(sys.executable)')")"
export PATH="$JDK/bin:$PY_DIR:$PATH"

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  (cd "$ROOT" && mvn -q -B -DskipTests package)
  touch "$ROOT/gateway/target/.built" # the launcher then does not rebuild
fi
mkdir -p "$HERE/target/classes"
javac --release 17 -nowarn -cp "$ROOT/sdk-java/target/classes" -d "$HERE/target/classes" "$HERE/BenchHello.java"

W="$(mktemp -d /tmp/ll-bench-core.XXXXXX)"
export BENCH_STATE_DIR="$W"
GW_PID=""
NGINX_PID=""
cleanup() {
  if [ -n "$GW_PID" ] && kill -0 "$GW_PID" 2>/dev/null; then
    kill -TERM "$GW_PID" 2>/dev/null || true
    wait "$GW_PID" 2>/dev/null || true
  fi
  if [ -n "$NGINX_PID" ] && kill -0 "$NGINX_PID" 2>/dev/null; then
    kill -TERM "$NGINX_PID" 2>/dev/null || true
    wait "$NGINX_PID" 2>/dev/null || true
  fi
  if [ "${KEEP:-0}" = 1 ]; then echo "work directory kept: $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() { # URL: waits up to 60 s for a 200
  local i
  for i in $(seq 1 600); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "$1" || true)" = 200 ]; then return 0; fi
    sleep 0.1
  done
  echo "run.sh: $1 did not answer 200 within 60 s" >&2
  exit 1
}

start_gateway() {
  (cd "$ROOT" && exec ./local-lambdas serve bench/core/manifest.xml --bind "127.0.0.1:$GW_PORT" -q) \
    >"$W/gateway.log" 2>&1 &
  GW_PID=$!
  local u
  for u in java-i2 java-i4 java-c8 py-i2 http; do wait_for "http://127.0.0.1:$GW_PORT/$u/"; done
  local i
  for i in $(seq 1 100); do [ -s "$W/http-child.sock" ] && break; sleep 0.1; done
}

start_nginx() { # after the gateway: proxies /http/ to the gateway's own HTTP child
  local child
  child="$(cat "$W/http-child.sock")"
  mkdir -p "$W/nginx/logs" "$W/nginx/tmp"
  cat >"$W/nginx/nginx.conf" <<CONF
daemon off;
worker_processes $NGINX_WORKERS;
user root;
error_log $W/nginx/logs/error.log warn;
pid $W/nginx/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $W/nginx/tmp;
  proxy_temp_path $W/nginx/tmp;
  fastcgi_temp_path $W/nginx/tmp;
  uwsgi_temp_path $W/nginx/tmp;
  scgi_temp_path $W/nginx/tmp;
  keepalive_requests 1000000;
  upstream up { server unix:$W/up.sock; keepalive 64; }
  upstream child { server unix:$child; keepalive 64; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; }
    location /http/ { proxy_pass http://child; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
  server {
    listen unix:$W/up.sock;
    default_type text/plain;
    location / { return 200 "hello\n"; }
  }
}
CONF
  nginx -p "$W/nginx" -c "$W/nginx/nginx.conf" &
  NGINX_PID=$!
  wait_for "http://127.0.0.1:$NGINX_PORT/"
  wait_for "http://127.0.0.1:$NGINX_PORT/http/"
}

# wrk -> "requests_per_second p50_microseconds"
wrk_run() { # CONNS URL
  local threads=2
  [ "$1" -lt 2 ] && threads=1
  wrk -t"$threads" -c"$1" -d"$DURATION" --latency "$2" 2>&1 | tee -a "$W/wrk.log" | awk '
    / 50% / { v = $2; u = 1
              if (v ~ /us$/) { u = 1 } else if (v ~ /ms$/) { u = 1000 } else if (v ~ /s$/) { u = 1000000 }
              sub(/[a-z]+$/, "", v); p50 = v * u }
    /Requests\/sec/ { rps = $2 }
    /Non-2xx|Socket errors/ { bad = bad " " $0 }
    END { if (bad != "") print "run.sh: wrk reported errors:" bad > "/dev/stderr"; printf "%s %s\n", rps, p50 }'
}

record() { # REP CASE CONNS GW_URL NGINX_URL
  local g n
  echo "== rep $1 $2 c$3: gateway $4" >>"$W/wrk.log"
  g="$(wrk_run "$3" "$4")"
  echo "== rep $1 $2 c$3: nginx $5" >>"$W/wrk.log"
  n="$(wrk_run "$3" "$5")"
  echo "$1 $2 $3 $g $n" >>"$W/results.txt"
  printf '  rep %s %-10s c%-3s gateway %10s rps p50 %8s us | nginx %10s rps p50 %8s us\n' "$1" "$2" "$3" $g $n >&2
}

info() {
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); nproc: $(nproc); load: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "jdk: $("$JDK/bin/java" -version 2>&1 | head -n1); nginx: $(nginx -v 2>&1 | cut -d/ -f2); wrk: $(wrk -v 2>&1 | head -n1 | cut -d' ' -f2); python: $(python3 -V | cut -d' ' -f2)"
  echo "duration $DURATION per wrk run, $REPEATS repeats, nginx worker_processes $NGINX_WORKERS"
}

warm() {
  local u
  for u in java-i2 java-i4 java-c8 py-i2 http; do
    wrk -t2 -c64 -d3s "http://127.0.0.1:$GW_PORT/$u/" >/dev/null 2>&1
  done
  wrk -t2 -c64 -d3s "http://127.0.0.1:$NGINX_PORT/" >/dev/null 2>&1
  wrk -t2 -c64 -d3s "http://127.0.0.1:$NGINX_PORT/http/" >/dev/null 2>&1
}

table() {
  python3 - "$W/results.txt" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    rep, case, conns, grps, gp50, nrps, np50 = line.split()
    rows.setdefault((case, int(conns)), []).append(tuple(map(float, (grps, gp50, nrps, np50))))
names = {"java-i2": "(a) Java pipe, 2 inst x conc 1", "java-i4": "(a) Java pipe, 4 inst x conc 1",
         "java-c8": "(a) Java pipe, 1 inst x conc 8", "py-i2": "(b) Python pipe, 2 inst x conc 1",
         "http": "(c) HTTP mode, nginx child"}
print("| case | load | gateway | nginx | ratio (median of pairs) | target |")
print("|---|---|---:|---:|---:|---|")
for (case, conns), rs in rows.items():
    med = lambda i: statistics.median(r[i] for r in rs)
    if conns == 1:
        ratio = statistics.median(r[1] / r[3] for r in rs)
        target = "<= 1.0" if case.startswith("java") else "info"
        verdict = "" if target == "info" else (" met" if ratio <= 1.0 else " missed")
        print("| %s | p50 latency, -c1 | %.0f us | %.0f us | %.2fx | %s%s |" % (
            names.get(case, case), med(1), med(3), ratio, target, verdict))
    else:
        ratio = statistics.median(r[0] / r[2] for r in rs)
        target = ">= 1.0" if case.startswith("java") else "info"
        verdict = "" if target == "info" else (" met" if ratio >= 1.0 else " missed")
        print("| %s | req/s, -c%d | %.0f | %.0f | %.2fx | %s%s |" % (
            names.get(case, case), conns, med(0), med(2), ratio, target, verdict))
PY
}

cold() {
  local gw="http://127.0.0.1:$GW_PORT" jcp="$HERE/target/classes:$ROOT/sdk-java/target/classes"
  local jcmd=(java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto -cp "$jcp" BenchHello)
  echo
  echo "Cold start: $COLD_N pairs, each a cold request through the gateway (max_requests_per_instance 1)"
  echo "followed by the same child started alone (spawn to HELLO, no gateway); ms median / p10 / p90"
  echo
  echo "| child | cold request via gateway | child alone: spawn to HELLO | overhead per pair |"
  echo "|---|---:|---:|---:|"
  local name url out
  for name in Java Python; do
    if [ "$name" = Java ]; then
      out="$(python3 "$HERE/coldstart.py" pair "$gw/java-cold/" "$COLD_N" "${jcmd[@]}")"
    else
      out="$(python3 "$HERE/coldstart.py" pair "$gw/py-cold/" "$COLD_N" python3 "$HERE/hello.py")"
    fi
    echo "$out" | awk -v n="$name" '{ sub(/^[a-z]+: /, ""); gsub(/ /, " / "); v[NR] = $0 }
      END { printf "| %s | %s | %s | %s |\n", n, v[1], v[2], v[3] }'
  done
  echo
  echo "hyperfine (process start floors):"
  (cd "$ROOT" && hyperfine -N -w 3 -r 30 --style basic -i \
    /bin/true \
    "python3 -c 'import sys; sys.path.insert(0,\"sdk/python\"); import local_lambdas'" \
    "env -u PIPE_ADDRESS ${jcmd[*]}" 2>&1 | grep -E 'Benchmark|Time \(mean' )
}

cpu_ticks() { # PID...: user+system clock ticks of these processes
  local p t=0
  for p in "$@"; do
    [ -r "/proc/$p/stat" ] && t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat")))
  done
  echo "$t"
}

# CPU time per request of the gateway JVM, of its children and of nginx, for one wrk run per side.
cpu_split() { # CONNS GW_PATH NGINX_PATH
  local hz kids ng g0 k0 n0 g1 k1 n1 out reqs
  hz="$(getconf CLK_TCK)"
  kids="$(pgrep -P "$GW_PID" | tr '\n' ' ')"
  ng="$(pgrep -P "$NGINX_PID" | tr '\n' ' ') $NGINX_PID"
  g0="$(cpu_ticks "$GW_PID")"; k0="$(cpu_ticks $kids)"
  out="$(wrk -t"$(( $1 < 2 ? 1 : 2 ))" -c"$1" -d"$DURATION" "http://127.0.0.1:$GW_PORT$2")"
  g1="$(cpu_ticks "$GW_PID")"; k1="$(cpu_ticks $kids)"
  reqs="$(echo "$out" | awk '/requests in/ { print $1 }')"
  awk -v g=$((g1 - g0)) -v k=$((k1 - k0)) -v r="$reqs" -v hz="$hz" -v p="$2" 'BEGIN {
    printf "gateway %-10s %9d req: gateway JVM %5.1f us/req, children %5.1f us/req (CPU)\n", p, r, g * 1e6 / hz / r, k * 1e6 / hz / r }'
  n0="$(cpu_ticks $ng)"
  out="$(wrk -t"$(( $1 < 2 ? 1 : 2 ))" -c"$1" -d"$DURATION" "http://127.0.0.1:$NGINX_PORT$3")"
  n1="$(cpu_ticks $ng)"
  reqs="$(echo "$out" | awk '/requests in/ { print $1 }')"
  awk -v n=$((n1 - n0)) -v r="$reqs" -v hz="$hz" -v p="$3" 'BEGIN {
    printf "nginx   %-10s %9d req: nginx (front + upstream) %5.1f us/req (CPU)\n", p, r, n * 1e6 / hz / r }'
}

profile() {
  local secs="${PROFILE_SECONDS:-20}" path="${PROFILE_PATH:-/java-i2/}" conns="${PROFILE_CONNS:-64}"
  warm
  echo "CPU per request, -c$conns, $DURATION each:"
  cpu_split "$conns" "$path" /
  cpu_split "$conns" /http/ /http/
  echo
  jcmd "$GW_PID" JFR.start name=bench settings=profile filename="$W/gateway.jfr" >/dev/null
  wrk -t"$(( conns < 2 ? 1 : 2 ))" -c"$conns" -d"${secs}s" "http://127.0.0.1:$GW_PORT$path" | grep -E 'Requests/sec|Latency'
  jcmd "$GW_PID" JFR.stop name=bench >/dev/null
  cp "$W/gateway.jfr" "$HERE/target/gateway.jfr"
  echo "recording: $HERE/target/gateway.jfr"
  jfr view --width 160 hot-methods "$W/gateway.jfr" | head -n 40
  echo
  echo "top frames (own + callers), first 4 frames of each sample, by count:"
  jfr print --events jdk.ExecutionSample --stack-depth 4 "$W/gateway.jfr" |
    awk '/stackTrace = \[/ { s = ""; n = 0; next } /^[ \t]+\]/ { if (s != "") c[s]++; s = ""; next }
         /line:/ { sub(/^ +/, ""); sub(/ +line:.*/, ""); if (n < 4) { s = s (n ? " <- " : "") $0; n++ } }
         END { for (k in c) print c[k], k }' | sort -rn | head -n 25
}

start_gateway
start_nginx
case "$MODE" in
  profile)
    profile
    ;;
  cold)
    info
    cold
    ;;
  all | warm)
    info
    echo "warming up..." >&2
    warm
    : >"$W/results.txt"
    for rep in $(seq 1 "$REPEATS"); do
      for c in java-i2 java-i4 java-c8 py-i2; do
        for conns in 64 16 1; do
          record "$rep" "$c" "$conns" "http://127.0.0.1:$GW_PORT/$c/" "http://127.0.0.1:$NGINX_PORT/"
        done
      done
      for conns in 64 16 1; do
        record "$rep" http "$conns" "http://127.0.0.1:$GW_PORT/http/" "http://127.0.0.1:$NGINX_PORT/http/"
      done
    done
    echo
    table
    if [ "$MODE" = all ]; then cold; fi
    ;;
  *)
    echo "usage: run.sh [all|warm|cold|profile]" >&2
    exit 2
    ;;
esac
