#!/bin/sh
# A CGI program (RFC 3875) for CgiTest: reports its meta-variables and echoes its body.
case "$QUERY_STRING" in
  fail) echo "the script broke" >&2; exit 3 ;;
  redirect) printf 'Location: /elsewhere\r\n\r\n'; exit 0 ;;
esac
printf 'Status: 201 Created\r\nContent-Type: text/plain\r\nX-Script: %s\r\n\r\n' "$SCRIPT_NAME"
echo "method=$REQUEST_METHOD path_info=$PATH_INFO query=$QUERY_STRING server=$SERVER_NAME ua=$HTTP_USER_AGENT length=$CONTENT_LENGTH gateway=$GATEWAY_INTERFACE"
cat
