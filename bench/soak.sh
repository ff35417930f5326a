#!/usr/bin/env bash
# Soak run: steady wrk load on the demo manifest (examples/manifest.xml: a Python and a Node pipe
# function and an http-mode function) for SECONDS (default 600), sampling the gateway's RSS,
# thread count and open file descriptors from /proc every 10 s. They should stay flat.
#
#   bench/soak.sh [SECONDS] [CONNECTIONS] [PORT]
#
# Needs wrk (apt-get install -y wrk). Output: bench-results/soak-<time>/{samples.tsv,wrk.txt,
# gateway.log} and a summary on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-600}"
connections="${2:-32}"
port="${3:-18181}"
command -v wrk >/dev/null || { echo "soak: needs wrk (apt-get install -y wrk)" >&2; exit 2; }

out="bench-results/soak-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"
cat >"$out/paths.lua" <<'LUA'
local paths = {"/python/hello", "/node/hello", "/http/hello"}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
LUA

./local-lambdas serve examples/manifest.xml --bind "127.0.0.1:$port" >"$out/gateway.log" 2>&1 &
gw=$!
trap 'kill -TERM "$gw" 2>/dev/null || true; wait "$gw" 2>/dev/null || true' EXIT

for _ in $(seq 1 600); do
  if curl -fsS -o /dev/null "http://127.0.0.1:$port/python/hello" 2>/dev/null; then break; fi
  kill -0 "$gw" 2>/dev/null || { echo "soak: the gateway exited:" >&2; cat "$out/gateway.log" >&2; exit 1; }
  sleep 0.5
done
for p in /python/hello /node/hello /http/hello; do
  curl -fsS -o /dev/null "http://127.0.0.1:$port$p"
done

sample() { # epoch rss_kib threads fds
  printf '%s\t%s\t%s\t%s\n' "$(date +%s)" \
    "$(awk '/^VmRSS/{print $2}' "/proc/$gw/status")" \
    "$(awk '/^Threads/{print $2}' "/proc/$gw/status")" \
    "$(ls "/proc/$gw/fd" | wc -l)"
}

# Warm-up: JIT, instance pools and keep-alive pools reach their working size before the baseline.
wrk -t2 -c"$connections" -d20s -s "$out/paths.lua" "http://127.0.0.1:$port" >"$out/warmup.txt"
printf 'epoch\trss_kib\tthreads\tfds\n' >"$out/samples.tsv"
before="$(sample)"
echo "$before" >>"$out/samples.tsv"
wrk -t2 -c"$connections" -d"${seconds}s" -s "$out/paths.lua" --latency "http://127.0.0.1:$port" >"$out/wrk.txt" &
load=$!
while kill -0 "$load" 2>/dev/null; do
  sleep 10
  kill -0 "$gw" 2>/dev/null || { echo "soak: the gateway died" >&2; exit 1; }
  sample >>"$out/samples.tsv"
done
wait "$load"
after="$(sample)"
sleep 10
settled="$(sample)"
echo "$settled" >>"$out/samples.tsv"

read -r _ rss0 thr0 fd0 <<<"$before"
read -r _ rss1 thr1 fd1 <<<"$after"
read -r _ rss2 thr2 fd2 <<<"$settled"
stats() { awk -v c="$1" 'NR>1{v=$c; if(min==""||v<min)min=v; if(v>max)max=v} END{print min"-"max}' "$out/samples.tsv"; }
requests="$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$out/wrk.txt")"
non2xx="$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$out/wrk.txt")"
sockerr="$(sed -n 's/^ *Socket errors: *\(.*\)/\1/p' "$out/wrk.txt")"
rps="$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$out/wrk.txt")"
echo "soak: ${seconds}s at ${connections} connections over /python, /node, /http: ${requests:-?} requests (${rps:-?}/s), non-2xx ${non2xx:-0}, socket errors: ${sockerr:-none}"
echo "           before   after load   10 s later   range during"
printf 'RSS KiB   %-8s %-12s %-12s %s\n' "$rss0" "$rss1" "$rss2" "$(stats 2)"
printf 'threads   %-8s %-12s %-12s %s\n' "$thr0" "$thr1" "$thr2" "$(stats 3)"
printf 'fds       %-8s %-12s %-12s %s\n' "$fd0" "$fd1" "$fd2" "$(stats 4)"
echo "samples: $out/samples.tsv"
