#!/bin/sh
# HTTP-mode child for the benchmark: a single-process nginx that listens where the gateway says
# (HTTP_SOCKET, http_listen unix) and answers "hello\n". It records its socket path in
# $BENCH_STATE_DIR/http-child.sock so that the nginx baseline can proxy to the very same child.
set -eu
: "${HTTP_SOCKET:?run me under local-lambdas with <http_listen>unix</http_listen>}"
dir="$(mktemp -d "${BENCH_STATE_DIR:-/tmp}/http-child.XXXXXX")"
mkdir -p "$dir/logs"
cat >"$dir/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
user root;
error_log stderr warn;
pid $dir/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/tmp;
  proxy_temp_path $dir/tmp;
  fastcgi_temp_path $dir/tmp;
  uwsgi_temp_path $dir/tmp;
  scgi_temp_path $dir/tmp;
  keepalive_requests 1000000;
  server {
    listen unix:$HTTP_SOCKET;
    default_type text/plain;
    location / { return 200 "hello\n"; }
  }
}
CONF
[ -n "${BENCH_STATE_DIR:-}" ] && echo "$HTTP_SOCKET" >"$BENCH_STATE_DIR/http-child.sock"
exec nginx -p "$dir" -c "$dir/nginx.conf"
