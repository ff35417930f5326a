#!/usr/bin/env bash
# Slow clients, the long version: slowhttptest (Debian package slowhttptest) opens CONNECTIONS
# slowloris connections against the demo gateway (examples/manifest.xml), each sending one more
# header line every INTERVAL seconds, wave after wave for SECONDS; meanwhile wrk sends normal
# traffic at 4 connections. Normal traffic must keep being served (no errors, no non-2xx); the slow connections
# should be cut by the front door's header timeout (408 after 10 s).
#
#   bench/slowloris.sh [SECONDS] [CONNECTIONS] [INTERVAL] [PORT]
#
# Output: bench-results/slowloris-<time>/ (slowhttptest's CSV and HTML, wrk's output, the log).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-120}"
connections="${2:-1000}"
interval="${3:-5}"
port="${4:-18182}"
command -v slowhttptest >/dev/null || { echo "slowloris: needs slowhttptest (apt-get install -y slowhttptest)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "slowloris: needs wrk (apt-get install -y wrk)" >&2; exit 2; }

out="bench-results/slowloris-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"
./local-lambdas serve examples/manifest.xml --bind "127.0.0.1:$port" >"$out/gateway.log" 2>&1 &
gw=$!
trap 'kill -TERM "$gw" 2>/dev/null || true; wait "$gw" 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  if curl -fsS -o /dev/null "http://127.0.0.1:$port/python/hello" 2>/dev/null; then break; fi
  kill -0 "$gw" 2>/dev/null || { echo "slowloris: the gateway exited:" >&2; cat "$out/gateway.log" >&2; exit 1; }
  sleep 0.5
done

fds() { ls "/proc/$gw/fd" | wc -l; }
fd_before="$(fds)"
# slowhttptest does not replace the connections the gateway cuts (408 after the 10 s header
# timeout), so it runs in waves, one after another, until the time is up.
end=$(( $(date +%s) + seconds ))
(
  wave=0
  while [ "$(date +%s)" -lt "$end" ]; do
    wave=$((wave + 1))
    slowhttptest -H -c "$connections" -r 200 -i "$interval" -x 24 -p 3 -l "$(( end - $(date +%s) + 1 ))" -t GET \
      -u "http://127.0.0.1:$port/python/hello" -g -o "$out/wave$wave" >"$out/wave$wave.txt" 2>&1 || true
  done
) &
slow=$!
: >"$out/fds.txt"
( while kill -0 "$slow" 2>/dev/null; do fds >>"$out/fds.txt"; sleep 1; done ) &
sampler=$!
sleep 3
wrk -t1 -c4 -d"$((seconds - 6))s" "http://127.0.0.1:$port/python/hello" >"$out/wrk.txt"
wait "$slow" || true
wait "$sampler" || true
sleep 3
fd_after="$(fds)"

requests="$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$out/wrk.txt")"
non2xx="$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$out/wrk.txt")"
sockerr="$(sed -n 's/^ *Socket errors: *\(.*\)/\1/p' "$out/wrk.txt")"
rps="$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$out/wrk.txt")"
waves="$(ls "$out"/wave*.csv 2>/dev/null | wc -l)"
most="$(for f in "$out"/wave*.csv; do awk -F, 'NR>1 && $4>m{m=$4} END{print m+0}' "$f"; done | sort -n | tail -1)"
closed="$(for f in "$out"/wave*.csv; do awk -F, 'NR>1{c=$2} END{print c+0}' "$f"; done | awk '{s+=$1} END{print s+0}')"
echo "slowloris: ${waves} waves of ${connections} slow connections (a header line every ${interval} s) for ${seconds} s"
echo "slow connections open at once: up to ${most:-?}; closed by the gateway: ${closed:-?} (the header timeout cuts each after 10 s)"
echo "normal traffic (wrk, 4 connections, alongside): ${requests:-?} requests (${rps:-?}/s), non-2xx ${non2xx:-0}, socket errors: ${sockerr:-none}"
echo "gateway fds: ${fd_before} before, up to $(sort -n "$out/fds.txt" | tail -1) during, ${fd_after} after"
echo "output: $out"
