#!/usr/bin/env bash
# Front-door library benchmark: each candidate is measured right after nginx, and reported as a
# ratio to that adjacent nginx run. Usage: bench/frontdoor/run.sh [rounds] (default 2).
# Needs: nginx, wrk, curl, Maven, JDK 25 (apt-get install -y nginx-light wrk).
set -euo pipefail

ROUNDS=${1:-2}
HERE=$(cd "$(dirname "$0")" && pwd)
JAVA=${JAVA:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
# The same JVM flags for every candidate.
JVM_FLAGS=(-Xms256m -Xmx256m -XX:+UseParallelGC --enable-native-access=ALL-UNNAMED)
CANDIDATES=(${CANDIDATES:-netty-epoll netty-epoll-unsafe netty-nio jdk-httpserver helidon jetty})
NGINX_PORT=18081
JVM_PORT=18080
THREADS=2
CONNS=64
DURATION=${DURATION:-10s}
WARMUP_JVM=${WARMUP_JVM:-8s}
WARMUP_NGINX=2s

WORK=$(mktemp -d /tmp/frontdoor-bench.XXXXXX)
OUT=$WORK/results
mkdir -p "$OUT"
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

wait_for_port() {
  local port=$1
  for _ in $(seq 100); do
    if curl -sf -o /dev/null "http://127.0.0.1:$port/"; then return 0; fi
    sleep 0.1
  done
  echo "nothing answered on port $port" >&2
  return 1
}

port_free() {
  if curl -s -o /dev/null "http://127.0.0.1:$1/"; then
    echo "port $1 is already in use" >&2
    return 1
  fi
}

# Prints "<requests/sec> <p50 in microseconds>" for one server, and keeps wrk's raw output.
measure() {
  local port=$1 tag=$2
  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" "http://127.0.0.1:$port/" >"$OUT/$tag.c$CONNS.txt"
  wrk -t1 -c1 -d"$DURATION" --latency "http://127.0.0.1:$port/" >"$OUT/$tag.c1.txt"
  for f in "$OUT/$tag.c$CONNS.txt" "$OUT/$tag.c1.txt"; do
    if grep -qE 'Non-2xx|Socket errors' "$f"; then
      echo "warning: errors in $f: $(grep -E 'Non-2xx|Socket errors' "$f" | tr -s ' ')" >&2
    fi
  done
  local rps p50
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$OUT/$tag.c$CONNS.txt")
  p50=$(awk '$1 == "50%" {
      v = $2
      if (v ~ /us$/) { sub(/us$/, "", v); print v + 0 }
      else if (v ~ /ms$/) { sub(/ms$/, "", v); print v * 1000 }
      else if (v ~ /s$/) { sub(/s$/, "", v); print v * 1000000 }
    }' "$OUT/$tag.c1.txt")
  echo "$rps $p50"
}

# Renders rows "<round> <candidate> <rps> <nginx rps> <p50 us> <nginx p50 us>" as Markdown.
report() {
  awk '
    BEGIN {
      printf "| round | candidate | req/s c64 | nginx req/s | ratio | p50 c1 (us) | nginx p50 (us) | p50 ratio |\n"
      printf "|---|---|---:|---:|---:|---:|---:|---:|\n"
    }
    {
      r = $3 / $4; l = $5 / $6
      printf "| %s | %s | %.0f | %.0f | %.2f | %.1f | %.1f | %.2f |\n", $1, $2, $3, $4, r, $5, $6, l
      if (!($2 in n)) { names[++k] = $2; rmin[$2] = r; rmax[$2] = r; lmin[$2] = l; lmax[$2] = l }
      sum[$2] += r; lsum[$2] += l; n[$2]++
      if (r < rmin[$2]) rmin[$2] = r; if (r > rmax[$2]) rmax[$2] = r
      if (l < lmin[$2]) lmin[$2] = l; if (l > lmax[$2]) lmax[$2] = l
    }
    END {
      printf "\n| candidate | throughput ratio, mean (min-max) | p50 ratio, mean (min-max), lower is better |\n|---|---:|---:|\n"
      for (i = 1; i <= k; i++) {
        c = names[i]
        printf "| %s | %.2f (%.2f-%.2f) | %.2f (%.2f-%.2f) |\n", c, sum[c] / n[c], rmin[c], rmax[c], lsum[c] / n[c], lmin[c], lmax[c]
      }
    }' "$1"
}

echo "building candidates" >&2
(cd "$HERE" && mvn -q -B package) >&2
CP="$HERE/target/classes:$HERE/target/lib/*"

mkdir -p "$WORK/nginx"
port_free "$NGINX_PORT"
nginx -p "$WORK/nginx/" -c "$HERE/nginx.conf" -e "$WORK/nginx/error.log" &
PIDS+=($!)
wait_for_port "$NGINX_PORT"

ROWS=$OUT/rows.txt
: >"$ROWS"
for round in $(seq "$ROUNDS"); do
  order=("${CANDIDATES[@]}")
  # Even rounds run the candidates in reverse, so drift over time does not favour one position.
  if ((round % 2 == 0)); then
    order=()
    for ((i = ${#CANDIDATES[@]} - 1; i >= 0; i--)); do order+=("${CANDIDATES[i]}"); done
  fi
  for cand in "${order[@]}"; do
    wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP_NGINX" "http://127.0.0.1:$NGINX_PORT/" >/dev/null
    read -r n_rps n_p50 < <(measure "$NGINX_PORT" "r$round.nginx-before-$cand")

    port_free "$JVM_PORT"
    extra=()
    main=$cand
    if [[ $cand == netty-epoll-unsafe ]]; then
      # Netty 4.2 on JDK 24+ leaves sun.misc.Unsafe alone unless memory access is allowed.
      extra=(--sun-misc-unsafe-memory-access=allow)
      main=netty-epoll
    fi
    "$JAVA" "${JVM_FLAGS[@]}" "${extra[@]}" -cp "$CP" dev.locallambdas.bench.frontdoor.Main \
      "$main" "$JVM_PORT" >"$OUT/r$round.$cand.log" 2>&1 &
    jpid=$!
    PIDS+=($jpid)
    wait_for_port "$JVM_PORT"
    wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP_JVM" "http://127.0.0.1:$JVM_PORT/" >/dev/null
    wrk -t1 -c1 -d2s "http://127.0.0.1:$JVM_PORT/" >/dev/null
    read -r c_rps c_p50 < <(measure "$JVM_PORT" "r$round.$cand")
    kill "$jpid"
    wait "$jpid" 2>/dev/null || true

    echo "$round $cand $c_rps $n_rps $c_p50 $n_p50" | tee -a "$ROWS" >&2
  done
done

echo
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)  nproc: $(nproc)  $(nginx -v 2>&1)  java: $("$JAVA" -version 2>&1 | head -1)"
echo "JVM flags: ${JVM_FLAGS[*]}   wrk: -t$THREADS -c$CONNS -d$DURATION and -t1 -c1 -d$DURATION --latency"
echo
report "$ROWS"
echo
echo "raw wrk output: $OUT"
