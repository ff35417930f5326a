#!/usr/bin/env bash
# Side by side, in one run on this machine (docs/benchmarks.md, "Side by side"):
#   1. nginx `return 200` vs a cached local-lambdas response             (front-door limit)
#   2. nginx proxying to an nginx upstream over a Unix socket vs local-lambdas in HTTP mode
#      proxying to the same upstream program, and vs a warm Java pipe function
#   3. a client straight on a pipe child's socket vs the same child behind the gateway
#   4. /bin/true and each bench function's own start-to-ready vs the cold cases
#   5. this suite's load client vs wrk against nginx (the client is not the limit)
#   6. HTTP/2 (h2c, prior knowledge) with h2load: nginx `return 200` with http2 vs the cached
#      response and the warm Java pipe function over HTTP/2, and each against its own HTTP/1.1
# Installs wrk, nginx and h2load (nghttp2-client) from Debian when they are missing. Prints ratios.
#
#   bench/compare.sh [--duration SECONDS] [--warmup SECONDS] [--out DIR]
#
# Each gateway target is warmed with wrk -c64 for --warmup seconds (default 15) before it is
# measured: the JVM's JIT compiles the request path during the first seconds of load, and a
# measurement taken while it does measures the compiler. nginx needs no warm-up.
set -euo pipefail

HOME_DIR="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
LL="$HOME_DIR/local-lambdas"
DUR=10
WARM=15
OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DUR="$2"; shift 2 ;;
    --warmup) WARM="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown argument $1 (use --duration SECONDS, --warmup SECONDS, --out DIR)" >&2; exit 2 ;;
  esac
done

need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v h2load >/dev/null 2>&1 || need+=(nghttp2-client)
if [ ${#need[@]} -gt 0 ]; then
  echo "compare.sh: installing ${need[*]} from Debian" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
export PATH="$PATH:/usr/sbin"

T="$(mktemp -d /tmp/ll-compare-XXXXXX)"
OUT="${OUT:-$T}"
mkdir -p "$OUT"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$T/nginx" "$T"/upstream-* "$T"/*.sock
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 1 600); do curl -s -o /dev/null "$1" && return 0; sleep 0.05; done; echo "compare.sh: $1 never answered" >&2; return 1; }

# Build first (the launcher builds what is missing); then find the JDK it runs on.
"$LL" bench --help >/dev/null
JAVA_BIN=""
for j in ${LOCAL_LAMBDAS_JAVA:-} ${JAVA_HOME:+$JAVA_HOME/bin/java} /usr/lib/jvm/*/bin/java; do
  [ -x "$j" ] || continue
  v="$("$j" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p')"
  if [ -n "$v" ] && [ "$v" -ge 25 ]; then JAVA_BIN="$j"; break; fi
done
[ -n "$JAVA_BIN" ] || { echo "compare.sh: no JDK 25 found" >&2; exit 3; }

# ---- nginx: return 200, and a proxy to an nginx upstream on a Unix socket ----------------------
P_NGX=$(free_port); P_PROXY=$(free_port); P_LL=$(free_port); P_NGX2=$(free_port)
mkdir -p "$T/nginx"
USER_LINE=""; [ "$(id -u)" = 0 ] && USER_LINE="user root;"
cat >"$T/nginx/nginx.conf" <<CONF
$USER_LINE
worker_processes auto;
daemon off;
pid $T/nginx/nginx.pid;
error_log stderr warn;
events { worker_connections 4096; }
http {
  access_log off;
  upstream up { server unix:$T/up.sock; keepalive 64; }
  server { listen 127.0.0.1:$P_NGX; location / { default_type application/json; return 200 '{"ok":true,"server":"nginx"}'; } }
  server { listen 127.0.0.1:$P_NGX2 http2; keepalive_requests 100000000; location / { default_type application/json; return 200 '{"ok":true,"server":"nginx"}'; } }
  server {
    listen 127.0.0.1:$P_PROXY;
    location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
CONF
HTTP_SOCKET="$T/up.sock" COMPARE_DIR="$T" "$HOME_DIR/bench/compare/nginx-upstream.sh" 2>"$T/upstream.log" &
PIDS+=($!)
nginx -c "$T/nginx/nginx.conf" -p "$T/nginx" -e stderr 2>"$T/nginx.log" &
PIDS+=($!)

# ---- local-lambdas: cached response, HTTP mode to the same upstream program, warm Java pipe ----
cat >"$T/compare.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<manifest version="1">
  <function>
    <id>cached</id>
    <executable>python3</executable>
    <arg>$HOME_DIR/bench/functions/python/pipe_function.py</arg>
    <route>/cached/*</route>
    <cache><enabled>true</enabled></cache>
  </function>
  <function>
    <id>nginx</id>
    <executable>$HOME_DIR/bench/compare/nginx-upstream.sh</executable>
    <route>/nginx/*</route>
    <protocol>http</protocol>
    <http_listen>unix</http_listen>
    <env name="COMPARE_DIR">$T</env>
    <start>eager</start>
  </function>
  <function>
    <id>pipe-java</id>
    <executable>$JAVA_BIN</executable>
    <arg>-XX:TieredStopAtLevel=1</arg><arg>-XX:+UseSerialGC</arg><arg>-Xshare:auto</arg>
    <arg>-cp</arg><arg>$HOME_DIR/bench/functions/java/target/classes:$HOME_DIR/sdk-java/target/classes</arg>
    <arg>benchfn.PipeFunction</arg>
    <route>/pipe-java/*</route>
    <start>eager</start>
  </function>
</manifest>
XML
CACHE_NOTE=""
if ! "$LL" validate "$T/compare.xml" >/dev/null 2>&1; then
  sed -i '/<cache>/d' "$T/compare.xml"
  CACHE_NOTE="(this build's manifest has no <cache> element)"
fi
"$LL" serve "$T/compare.xml" --bind "127.0.0.1:$P_LL" -q 2>"$T/gateway.log" &
GW_PID=$!
PIDS+=($GW_PID)
wait_http "http://127.0.0.1:$P_NGX/"
wait_http "http://127.0.0.1:$P_PROXY/"
wait_http "http://127.0.0.1:$P_LL/nginx/"
wait_http "http://127.0.0.1:$P_LL/pipe-java/"

# ---- measuring ---------------------------------------------------------------------------------
to_ms() { # wrk latency ("123.45us", "1.20ms", "2.00s") to ms
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.4f", n }'
}
RPS=""; P50=""; CPU=""
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
wrk_run() { # url connections -> sets RPS, P50 (ms) and CPU (the gateway's us of CPU per request)
  local out c0 c1 n
  c0="$(cpu_ticks "$GW_PID")"
  out="$(wrk -t"$([ "$2" -gt 1 ] && echo 2 || echo 1)" -c"$2" -d"${DUR}s" --latency "$1")"
  c1="$(cpu_ticks "$GW_PID")"
  echo "$out" >>"$OUT/wrk.log"
  RPS="$(echo "$out" | awk '/Requests\/sec/ { print $2 }')"
  P50="$(to_ms "$(echo "$out" | awk '$1 == "50%" { print $2 }')")"
  n="$(echo "$out" | awk '/requests in/ { print $1 }')"
  CPU="$(awk -v a="$c0" -v b="$c1" -v n="$n" -v hz="$(getconf CLK_TCK)" 'BEGIN { if (n > 0) printf "%.1f", (b - a) * 1e6 / hz / n; else print "-" }')"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "-"; else printf "%.2fx", a / b }'; }
row() { printf "%-58s %12s %10s\n" "$1" "$2" "$3"; }

echo "== local-lambdas vs nginx, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, wrk ${DUR}s per run =="
echo "(the machine may be shared: compare the ratios, which come from runs made minutes apart)"
echo
row "measurement" "req/s" "p50 ms"

# warm everything: nginx once, the gateway's paths under load until the JIT has compiled them
for u in "/" ; do curl -s -o /dev/null "http://127.0.0.1:$P_NGX$u"; done
for i in 1 2 3; do curl -s -o /dev/null "http://127.0.0.1:$P_LL/cached/cached"; done
warm() { wrk -t2 -c64 -d"${WARM}s" "$1" >/dev/null; wrk -t1 -c1 -d2s "$1" >/dev/null; }

wrk_run "http://127.0.0.1:$P_NGX/" 64;  NGX64=$RPS
wrk_run "http://127.0.0.1:$P_NGX/" 1;   NGX1=$P50
row "nginx return 200 (c64 req/s, c1 p50)" "$NGX64" "$NGX1"
XCACHE="$(curl -s -D - -o /dev/null "http://127.0.0.1:$P_LL/cached/cached" | tr -d '\r' | awk -F': ' 'tolower($1) == "x-cache" { print $2 }')"
if [ "${XCACHE^^}" = "HIT" ]; then
  warm "http://127.0.0.1:$P_LL/cached/cached"
  wrk_run "http://127.0.0.1:$P_LL/cached/cached" 64; C64=$RPS
  wrk_run "http://127.0.0.1:$P_LL/cached/cached" 1;  C1=$P50
  row "local-lambdas cached response" "$C64" "$C1"
  CACHE_RATIO="throughput $(ratio "$C64" "$NGX64") of nginx (target >= 0.9x); p50 at c1 $(ratio "$C1" "$NGX1") of nginx's (target <= 1.1x)"
else
  row "local-lambdas cached response: cache not available in this build $CACHE_NOTE" "-" "-"
  CACHE_RATIO="cache not available in this build"
fi

wrk_run "http://127.0.0.1:$P_PROXY/" 64; PX64=$RPS
wrk_run "http://127.0.0.1:$P_PROXY/" 1;  PX1=$P50
row "nginx proxy -> nginx upstream (unix socket)" "$PX64" "$PX1"
warm "http://127.0.0.1:$P_LL/nginx/"
wrk_run "http://127.0.0.1:$P_LL/nginx/" 64; LH64=$RPS; LHCPU=$CPU
wrk_run "http://127.0.0.1:$P_LL/nginx/" 1;  LH1=$P50
row "local-lambdas HTTP mode -> nginx upstream (unix socket)" "$LH64" "$LH1"
warm "http://127.0.0.1:$P_LL/pipe-java/"
wrk_run "http://127.0.0.1:$P_LL/pipe-java/" 64; PJ64=$RPS; PJCPU=$CPU
wrk_run "http://127.0.0.1:$P_LL/pipe-java/" 1;  PJ1=$P50; PJ1RPS=$RPS
row "local-lambdas pipe -> Java SDK function" "$PJ64" "$PJ1"

DIRECT="$("$LL" bench direct-pipe --function pipe-java --requests 20000 --warmup 5000)"
D_RPS="$(echo "$DIRECT" | sed -n 's/.* rps=\([0-9.]*\).*/\1/p')"
D_P50="$(echo "$DIRECT" | sed -n 's/.* p50_ms=\([0-9.]*\).*/\1/p')"
row "direct client on the Java pipe child's socket (c1)" "$D_RPS" "$D_P50"

CLIENT="$("$LL" bench url "http://127.0.0.1:$P_NGX/" --concurrency 64 --duration "${DUR}s")"
B_RPS="$(echo "$CLIENT" | sed -n 's/.* rps=\([0-9.]*\).*/\1/p')"
row "this suite's client -> nginx return 200 (c64)" "$B_RPS" "-"

# ---- HTTP/2: h2load -c16 -m8 (16 connections, 8 streams each) --------------------------------
H2RPS=""
h2_run() { # url -> sets H2RPS
  local out
  out="$(h2load -c16 -m8 -D "$DUR" "$1" 2>&1)"
  echo "$out" >>"$OUT/h2load.log"
  H2RPS="$(echo "$out" | awk '/^finished in/ { gsub(",", ""); print $4 }')"
  if ! echo "$out" | grep -q ' 0 failed, 0 errored' || ! echo "$out" | grep -q ' 0 4xx, 0 5xx'; then
    H2RPS="$H2RPS(errors!)"
  fi
}
h2_run "http://127.0.0.1:$P_NGX2/"; NGXH2=$H2RPS
row "nginx http2 return 200 (h2load c16 m8)" "$NGXH2" "-"
if [ "${XCACHE^^}" = "HIT" ]; then
  h2load -c16 -m8 -D "$WARM" "http://127.0.0.1:$P_LL/cached/cached" >/dev/null 2>&1
  h2_run "http://127.0.0.1:$P_LL/cached/cached"; CH2=$H2RPS
  row "local-lambdas cached response over HTTP/2" "$CH2" "-"
fi
h2load -c16 -m8 -D "$WARM" "http://127.0.0.1:$P_LL/pipe-java/" >/dev/null 2>&1
h2_run "http://127.0.0.1:$P_LL/pipe-java/"; PJH2=$H2RPS
row "local-lambdas pipe -> Java SDK function over HTTP/2" "$PJH2" "-"

echo
echo "== ratios =="
echo "cached vs nginx return 200:            $CACHE_RATIO"
echo "HTTP mode vs nginx proxy (same upstream): throughput $(ratio "$LH64" "$PX64"), p50 at c1 $(ratio "$LH1" "$PX1")"
echo "warm Java pipe vs nginx proxy:          throughput $(ratio "$PJ64" "$PX64") (target >= 1.0x), p50 at c1 $(ratio "$PJ1" "$PX1") (target <= 1.0x)"
echo "gateway CPU per request at c64:         pipe ${PJCPU} us (target <= 25), HTTP mode ${LHCPU} us"
echo "gateway vs direct pipe client (c1):     p50 $(ratio "$PJ1" "$D_P50") of the floor, throughput $(ratio "$PJ1RPS" "$D_RPS")"
echo "suite client vs wrk on nginx (c64):     $(ratio "$B_RPS" "$NGX64") of wrk's req/s"
if [ -n "${CH2:-}" ]; then
  echo "HTTP/2 cached vs nginx http2:           $(ratio "${CH2%%(*}" "$NGXH2") (its own HTTP/1.1 at c64: $(ratio "${CH2%%(*}" "$C64"))"
fi
echo "HTTP/2 Java pipe vs nginx http2:        $(ratio "${PJH2%%(*}" "$NGXH2") (its own HTTP/1.1 at c64: $(ratio "${PJH2%%(*}" "$PJ64"))"

# Stop the gateway and nginx before the cold-start runs: they would share the CPUs.
cleanup
PIDS=()

echo
echo "== cold starts: the function's own start-to-ready vs a cold request through the gateway =="
"$LL" bench --cases 3,5 --cold-requests 10 --warmup 2 --no-progress --out "$OUT/cold" >/dev/null
"$LL" bench startup --runs 10 --results "$OUT/cold/results.json"
echo
echo "raw output: $OUT (wrk.log, h2load.log, cold/results.json)"
