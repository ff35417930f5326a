#!/usr/bin/env bash
# Reference oracles: sends the front door's conformance corpus (FrontDoorConformanceTest, raw
# requests over real sockets) to nginx and to Node's http module, both answering 200 to whatever
# they accept, and prints a table of their first status next to local-lambdas' (enforced by the
# conformance test). Needs nginx and node (apt-get install -y nginx-light nodejs).
#
#   bench/oracles.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v nginx >/dev/null || { echo "oracles: needs nginx (apt-get install -y nginx-light)" >&2; exit 2; }
command -v node >/dev/null || { echo "oracles: needs node (apt-get install -y nodejs)" >&2; exit 2; }

work="$(mktemp -d)"
nginx -p "$work/" -c "$PWD/bench/oracles/nginx.conf" -e "$work/error.log" &
ngx=$!
node bench/oracles/node-server.js 18092 &
nd=$!
trap 'kill "$ngx" "$nd" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null http://127.0.0.1:18091/ 2>/dev/null && curl -fsS -o /dev/null http://127.0.0.1:18092/ 2>/dev/null && break
  sleep 0.1
done
echo "nginx: $(nginx -v 2>&1 | sed 's/.*nginx\///')  node: $(node --version)"
mvn -q -B -Dstyle.color=never -pl gateway test -Dtest=ReferenceOraclesTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Doracles="nginx=127.0.0.1:18091,node=127.0.0.1:18092" >"$work/mvn.log" 2>&1 || { cat "$work/mvn.log"; exit 1; }
cat gateway/target/oracles.md
