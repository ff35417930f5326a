#!/bin/sh
# An example shell test run by `local-lambdas exec`, which sets LOCAL_LAMBDAS_URL and exits with
# this script's status:  ./local-lambdas exec examples/testing/manifest.xml -- sh examples/testing/shell/test.sh
set -eu
: "${LOCAL_LAMBDAS_URL:?run me through local-lambdas exec}"
body="$(curl -fsS "$LOCAL_LAMBDAS_URL/python/shell")"
case "$body" in
  *'"greeting": "hello from an env file"'*) echo "ok: python" ;;
  *) echo "unexpected answer: $body" >&2; exit 1 ;;
esac
status="$(curl -s -o /dev/null -w '%{http_code}' "$LOCAL_LAMBDAS_URL/nowhere")"
[ "$status" = 404 ] || { echo "expected 404, got $status" >&2; exit 1; }
echo "ok: 404"
