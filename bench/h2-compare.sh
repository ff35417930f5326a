#!/usr/bin/env bash
# HTTP/2 side by side, in one run on this machine (docs/benchmarks.md, "HTTP/2"):
#   1. h2load (h2c, prior knowledge) against nginx `return 200` with http2, the gateway's cached
#      route and a warm Java pipe function;
#   2. wrk (HTTP/1.1) against the same two routes of this build and, with --before DIR (a checkout
#      of an older build, built), of that build, measured alternately: the HTTP/1.1 front door must
#      not have moved.
# Needs nginx-light (http_v2), nghttp2-client (h2load) and wrk. Prints ratios.
#
#   bench/h2-compare.sh [--duration SECONDS] [--warmup SECONDS] [--before DIR]
set -euo pipefail

HOME_DIR="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
DUR=10
WARM=10
BEFORE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DUR="$2"; shift 2 ;;
    --warmup) WARM="$2"; shift 2 ;;
    --before) BEFORE="$2"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "h2-compare.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
export PATH="$PATH:/usr/sbin"
for tool in nginx h2load wrk curl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "h2-compare.sh: $tool is missing (apt-get install nginx-light nghttp2-client wrk curl)" >&2; exit 3; }
done
JAVA_BIN=""
for j in ${LOCAL_LAMBDAS_JAVA:-} ${JAVA_HOME:+$JAVA_HOME/bin/java} /usr/lib/jvm/*/bin/java; do
  [ -x "$j" ] || continue
  v="$("$j" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p')"
  if [ -n "$v" ] && [ "$v" -ge 25 ]; then JAVA_BIN="$j"; break; fi
done
[ -n "$JAVA_BIN" ] || { echo "h2-compare.sh: no JDK 25 found" >&2; exit 3; }

T="$(mktemp -d /tmp/ll-h2-compare-XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$T"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 1 600); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; echo "h2-compare.sh: $1 never answered" >&2; return 1; }

P_NGX=$(free_port)
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
  keepalive_requests 100000000;
  server {
    listen 127.0.0.1:$P_NGX http2;
    location / { return 200 "hello\n"; }
  }
}
CONF
nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" 2>"$T/nginx.log" &
PIDS+=($!)

cat >"$T/h2.xml" <<XML
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

start_gateway() { # DIR PORT
  "$JAVA_BIN" -XX:+UseSerialGC -Xms8m --enable-native-access=ALL-UNNAMED \
    -cp "$1/gateway/target/local-lambdas-gateway.jar:$1/gateway/target/lib/*" \
    dev.locallambdas.cli.Main serve "$T/h2.xml" --bind "127.0.0.1:$2" -q 2>>"$T/gateway.log" &
  PIDS+=($!)
}
P_NEW=$(free_port); start_gateway "$HOME_DIR" "$P_NEW"
P_OLD=""
if [ -n "$BEFORE" ]; then P_OLD=$(free_port); start_gateway "$BEFORE" "$P_OLD"; fi
for _ in $(seq 1 100); do curl -s --http2-prior-knowledge -o /dev/null "http://127.0.0.1:$P_NGX/" && break; sleep 0.1; done
for p in $P_NEW $P_OLD; do
  wait_http "http://127.0.0.1:$p/pipe-java/"
  for i in 1 2 3; do curl -s -o /dev/null "http://127.0.0.1:$p/cached/cached"; done
  wrk -t1 -c64 -d"${WARM}s" "http://127.0.0.1:$p/cached/cached" >/dev/null
  wrk -t1 -c64 -d"${WARM}s" "http://127.0.0.1:$p/pipe-java/x" >/dev/null
  h2load -c16 -m8 -D "$WARM" "http://127.0.0.1:$p/cached/cached" >/dev/null
done

h2() { h2load -c16 -m8 -D "$DUR" "$1" 2>/dev/null | awk '/^finished in/ { gsub(",", ""); print $4 }'; }
w1() { wrk -t1 -c64 -d"${DUR}s" "$1" | awk '/Requests\/sec/ { print $2 }'; }
ratio() { python3 -c "print(f'{float($1)/float($2):.2f}')"; }

echo "h2load -c16 -m8 -D $DUR (h2c prior knowledge), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
NGX=$(h2 "http://127.0.0.1:$P_NGX/")
CACHED=$(h2 "http://127.0.0.1:$P_NEW/cached/cached")
NGX2=$(h2 "http://127.0.0.1:$P_NGX/")
PIPE=$(h2 "http://127.0.0.1:$P_NEW/pipe-java/x")
printf '  nginx http2 return 200   %10s req/s   (again after: %s)\n' "$NGX" "$NGX2"
printf '  gateway cached over h2   %10s req/s   %sx nginx\n' "$CACHED" "$(ratio "$CACHED" "$NGX")"
printf '  gateway Java pipe over h2 %9s req/s   %sx nginx\n' "$PIPE" "$(ratio "$PIPE" "$NGX2")"

echo "wrk -t1 -c64 -d${DUR}s (HTTP/1.1)"
for route in cached/cached pipe-java/x; do
  NEW=$(w1 "http://127.0.0.1:$P_NEW/$route")
  if [ -n "$P_OLD" ]; then
    OLD=$(w1 "http://127.0.0.1:$P_OLD/$route")
    NEW2=$(w1 "http://127.0.0.1:$P_NEW/$route")
    OLD2=$(w1 "http://127.0.0.1:$P_OLD/$route")
    printf '  /%-12s this build %s, %s   before %s, %s   this/before %s\n' "$route" "$NEW" "$NEW2" "$OLD" "$OLD2" \
      "$(python3 -c "print(f'{($NEW+$NEW2)/($OLD+$OLD2):.2f}')")"
  else
    printf '  /%-12s this build %s req/s\n' "$route" "$NEW"
  fi
done
