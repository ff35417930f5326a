#!/usr/bin/env bash
# An upstream for bench/compare.sh: nginx with one worker answering `return 200` on the Unix
# socket named by HTTP_SOCKET. The same program sits behind nginx's proxy and, as an HTTP-mode
# function, behind local-lambdas, so both proxies face the same kind of upstream.
set -euo pipefail
: "${HTTP_SOCKET:?run me with HTTP_SOCKET set (local-lambdas does, for http_listen unix)}"
dir="$(mktemp -d "${COMPARE_DIR:-/tmp}/upstream-XXXXXX")"
user_line=""
[ "$(id -u)" = 0 ] && user_line="user root;"
cat >"$dir/nginx.conf" <<CONF
$user_line
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log stderr warn;
events { worker_connections 4096; }
http {
  access_log off;
  server {
    listen unix:$HTTP_SOCKET;
    location / { default_type application/json; return 200 '{"ok":true,"upstream":"nginx"}'; }
  }
}
CONF
exec nginx -c "$dir/nginx.conf" -p "$dir" -e stderr
