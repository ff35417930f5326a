#!/usr/bin/env bash
# TLS providers side by side, in one run on this machine (docs/benchmarks.md, "TLS providers"; ADR 0017):
# the gateway twice on the same certificate and cached route, once with the JDK's TLS provider and
# once with Netty's native one (BoringSSL, netty-tcnative-boringssl-static; the default since this
# measurement), chosen with -Dlocallambdas.tls.provider=jdk|openssl, and nginx over TLS (ssl +
# http2, same certificate) as the reference. Each case is measured alternately (JDK, native, JDK,
# native; nginx before and after) so that the noise of a shared machine falls on both alike:
#   1. new TLS connections: `openssl s_time -new` (a full handshake, no resumption, then one
#      HTTP/1.0 GET of the cached route and the close), --clients copies at once, TLS 1.3 and 1.2;
#   2. long-lived connections: h2load over h2 (ALPN) -c16 -m8, and wrk over https/1.1 -c64.
# For each: requests (or connections) per second, the ratio to nginx in the same round, and the
# server's CPU per request (utime+stime from /proc/PID/stat around the measurement). At the end the
# gateways' RSS. Builds nothing: run `mvn -B -o -q -DskipTests package` first. The native library
# comes from gateway/target/lib or, when the build does not ship it, from ~/.m2.
# Needs nginx-light, nghttp2-client (h2load), wrk, openssl and curl.
#
#   bench/tls-compare.sh [--duration SECONDS] [--warmup SECONDS] [--clients N] [--key ec|rsa]
set -euo pipefail

HOME_DIR="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
DUR=10
WARM=15
CLIENTS=4
KEY=ec
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DUR="$2"; shift 2 ;;
    --warmup) WARM="$2"; shift 2 ;;
    --clients) CLIENTS="$2"; shift 2 ;;
    --key) KEY="$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "tls-compare.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
export PATH="$PATH:/usr/sbin"
for tool in nginx h2load wrk openssl curl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "tls-compare.sh: $tool is missing (apt-get install nginx-light nghttp2-client wrk openssl curl)" >&2; exit 3; }
done
JAVA_BIN=""
for j in ${LOCAL_LAMBDAS_JAVA:-} ${JAVA_HOME:+$JAVA_HOME/bin/java} /usr/lib/jvm/*/bin/java; do
  [ -x "$j" ] || continue
  v="$("$j" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p')"
  if [ -n "$v" ] && [ "$v" -ge 25 ]; then JAVA_BIN="$j"; break; fi
done
[ -n "$JAVA_BIN" ] || { echo "tls-compare.sh: no JDK 25 found" >&2; exit 3; }
JAR="$HOME_DIR/gateway/target/local-lambdas-gateway.jar"
[ -f "$JAR" ] || { echo "tls-compare.sh: $JAR is missing: mvn -B -o -q -DskipTests package" >&2; exit 3; }
CP="$JAR:$HOME_DIR/gateway/target/lib/*"
if ! ls "$HOME_DIR"/gateway/target/lib/netty-tcnative-boringssl-static-*.jar >/dev/null 2>&1; then
  M2="${HOME}/.m2/repository/io/netty"
  TCN="$(ls "$M2"/netty-tcnative-boringssl-static/*/netty-tcnative-boringssl-static-*-linux-x86_64.jar 2>/dev/null | sort -V | tail -n1)"
  TCC="$(ls "$M2"/netty-tcnative-classes/*/netty-tcnative-classes-*.jar 2>/dev/null | sort -V | tail -n1)"
  [ -n "$TCN" ] && [ -n "$TCC" ] || { echo "tls-compare.sh: netty-tcnative-boringssl-static (linux-x86_64) is not in ~/.m2: mvn dependency:get -Dartifact=io.netty:netty-tcnative-boringssl-static:2.0.84.Final:jar:linux-x86_64" >&2; exit 3; }
  CP="$CP:$TCN:$TCC"
fi

T="$(mktemp -d /tmp/ll-tls-compare-XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$T"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_https() { for _ in $(seq 1 600); do curl -sk -o /dev/null "$1" && return 0; sleep 0.1; done; echo "tls-compare.sh: $1 never answered" >&2; return 1; }

# One certificate for all three servers: EC P-256 like --tls-self-signed's, or RSA 2048.
case "$KEY" in
  ec) NEWKEY=(-newkey ec -pkeyopt ec_paramgen_curve:P-256) ;;
  rsa) NEWKEY=(-newkey rsa:2048) ;;
  *) echo "tls-compare.sh: --key ec or rsa" >&2; exit 2 ;;
esac
openssl req -x509 "${NEWKEY[@]}" -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 2 \
  -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null

BODY='{"ok":true,"runtime":"python","transport":"pipe"}'
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
    listen 127.0.0.1:$P_NGX ssl http2;
    ssl_certificate $T/cert.pem;
    ssl_certificate_key $T/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { default_type application/json; return 200 '$BODY'; }
  }
}
CONF
nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" 2>"$T/nginx.log" &
NGX_PID=$!
PIDS+=("$NGX_PID")

cat >"$T/tls.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<manifest version="1">
  <function>
    <id>cached</id>
    <executable>python3</executable>
    <arg>$HOME_DIR/bench/functions/python/pipe_function.py</arg>
    <route>/cached/*</route>
    <cache><enabled>true</enabled></cache>
  </function>
</manifest>
XML

start_gateway() { # PROVIDER PORT; the launcher's JVM options (./local-lambdas), without its AOT cache
  "$JAVA_BIN" -XX:+UseSerialGC -Xms8m -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30 \
    -XX:TrimNativeHeapInterval=5000 --enable-native-access=ALL-UNNAMED \
    --sun-misc-unsafe-memory-access=allow -Dio.netty.leakDetection.level=disabled \
    -Djava.library.path="$HOME_DIR/gateway/target/native/META-INF/native" \
    -Dlocallambdas.tls.provider="$1" -cp "$CP" dev.locallambdas.cli.Main serve "$T/tls.xml" \
    --bind "127.0.0.1:$2" --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" -q 2>>"$T/gateway-$1.log" &
  PIDS+=($!)
}
P_JDK=$(free_port); start_gateway jdk "$P_JDK"; JDK_PID=$!
P_SSL=$(free_port); start_gateway openssl "$P_SSL"; SSL_PID=$!
wait_https "https://127.0.0.1:$P_NGX/"
for p in $P_JDK $P_SSL; do wait_https "https://127.0.0.1:$p/cached/cached"; done
for p in $P_NGX $P_JDK $P_SSL; do
  for v in http2 http1.1; do
    got="$(curl -sk --cacert "$T/cert.pem" "--$v" -o /dev/null -w '%{http_version} %{http_code}' "https://127.0.0.1:$p/cached/cached")"
    echo "  check: port $p asked $v got HTTP/$got" >&2
  done
done
rss_idle() { awk '/^VmRSS/ { printf "%d", $2/1024 }' "/proc/$1/status"; }
IDLE_JDK=$(rss_idle "$JDK_PID"); IDLE_SSL=$(rss_idle "$SSL_PID")

# Server CPU in clock ticks: the process, and for nginx its workers (the master's children; the
# gateway's child is the function, idle behind the cache).
ticks() {
  local total=0 p children=""
  [ "$1" = "$NGX_PID" ] && children="$(cat /proc/"$1"/task/*/children)"
  for p in "$1" $children; do
    total=$((total + $(sed 's/^.*) //' "/proc/$p/stat" | awk '{ print $12 + $13 }')))
  done
  echo "$total"
}
HZ=$(getconf CLK_TCK)

# Each measurement prints its rate (requests or connections per second).
stime() { # PORT VERSION PATH SECONDS
  local i s e n=0 clients=()
  s=$(date +%s.%N)
  for i in $(seq 1 "$CLIENTS"); do
    openssl s_time -connect "127.0.0.1:$1" "-$2" -new -time "$4" -www "$3" >"$T/stime.$i" 2>&1 &
    clients+=($!)
  done
  wait "${clients[@]}"
  e=$(date +%s.%N)
  for i in $(seq 1 "$CLIENTS"); do
    n=$((n + $(awk '/connections in .* real seconds/ { c=$1 } END { print c+0 }' "$T/stime.$i")))
  done
  python3 -c "print(f'{$n/($e-$s):.0f}')"
}
# h2load's -D needs a warm-up phase over TLS (nghttp2 1.52 measured nothing without one); the rate
# is over the main phase.
h2() { h2load -c16 -m8 --warm-up-time=1 -D "$2" "$1" 2>/dev/null | awk '/^finished in/ { gsub(",", ""); print $4 }'; }
w1() { wrk -t1 -c64 -d"$2s" "$1" | awk '/Requests\/sec/ { print $2 }'; }

# measure PID CMD...: runs CMD and prints "RATE CPU_US_PER_REQUEST", the server's CPU over the
# command's wall time divided by the requests that rate makes in that time.
measure() {
  local pid="$1" before after s e rate
  shift
  before=$(ticks "$pid"); s=$(date +%s.%N)
  rate="$("$@")"
  e=$(date +%s.%N); after=$(ticks "$pid")
  python3 -c "r = float('${rate:-0}'); print(f'{r:.0f} {($after-$before)*1e6/$HZ/max(r*($e-$s), 1):.0f}')"
}

echo "warming up (${WARM}s per load per gateway)..." >&2
for p in $P_JDK $P_SSL; do
  stime "$p" tls1_3 /cached/cached "$WARM" >/dev/null
  h2load -c16 -m8 --warm-up-time=1 -D "$WARM" "https://127.0.0.1:$p/cached/cached" >"$T/h2load.warm" 2>&1 || { echo "tls-compare.sh: h2load failed:" >&2; tail -n 5 "$T/h2load.warm" >&2; }
  wrk -t1 -c64 -d"${WARM}s" "https://127.0.0.1:$p/cached/cached" >/dev/null
done

ratio() { python3 -c "print(f'{float($1)/float($2):.2f}')"; }
# case NAME CMD-TEMPLATE: @PORT@ is replaced by the port; nginx, JDK, native, JDK, native, nginx
run_case() {
  local name="$1" tmpl="$2" n1 j1 s1 j2 s2 n2
  run() { local cmd="${tmpl//@PORT@/$2}"; measure "$1" $cmd; }
  n1=($(run "$NGX_PID" "$P_NGX")); j1=($(run "$JDK_PID" "$P_JDK")); s1=($(run "$SSL_PID" "$P_SSL"))
  j2=($(run "$JDK_PID" "$P_JDK")); s2=($(run "$SSL_PID" "$P_SSL")); n2=($(run "$NGX_PID" "$P_NGX"))
  local ngx jdk ssl
  ngx=$(python3 -c "print(($n1+$n2)/2)"); jdk=$(python3 -c "print(($j1+$j2)/2)"); ssl=$(python3 -c "print(($s1+$s2)/2)")
  printf '%s\n' "$name"
  printf '  nginx     %7s %7s /s   cpu/req %5s %5s us\n' "${n1[0]}" "${n2[0]}" "${n1[1]}" "${n2[1]}"
  printf '  JDK       %7s %7s /s   cpu/req %5s %5s us   %sx nginx\n' "${j1[0]}" "${j2[0]}" "${j1[1]}" "${j2[1]}" "$(ratio "$jdk" "$ngx")"
  printf '  native    %7s %7s /s   cpu/req %5s %5s us   %sx nginx   %sx JDK\n' "${s1[0]}" "${s2[0]}" "${s1[1]}" "${s2[1]}" "$(ratio "$ssl" "$ngx")" "$(ratio "$ssl" "$jdk")"
}

echo "$(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), key $KEY, ${DUR}s per measurement"
run_case "new connections, TLS 1.3 (openssl s_time -new x$CLIENTS, GET /cached/cached)" "stime @PORT@ tls1_3 /cached/cached $DUR"
run_case "new connections, TLS 1.2 (openssl s_time -new x$CLIENTS, GET /cached/cached)" "stime @PORT@ tls1_2 /cached/cached $DUR"
run_case "h2 over TLS (h2load -c16 -m8, ALPN h2)" "h2 https://127.0.0.1:@PORT@/cached/cached $DUR"
run_case "https/1.1 (wrk -t1 -c64)" "w1 https://127.0.0.1:@PORT@/cached/cached $DUR"
echo "load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
printf 'RSS: JDK %s MiB idle, %s MiB after; native %s MiB idle, %s MiB after\n' \
  "$IDLE_JDK" "$(rss_idle "$JDK_PID")" "$IDLE_SSL" "$(rss_idle "$SSL_PID")"
grep -q netty_tcnative "/proc/$SSL_PID/maps" && echo "native: libnetty_tcnative mapped" || echo "native: libnetty_tcnative NOT mapped (the JDK provider served)"
grep -q netty_tcnative "/proc/$JDK_PID/maps" && echo "JDK: libnetty_tcnative mapped (unexpected)" || true
