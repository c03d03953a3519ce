#!/bin/bash
# The image's HEALTHCHECK: GET /healthz on the port of VTS_BIND, healthy on a 200. Bash's
# /dev/tcp, so the slim image needs no curl.
set -eu
port=${VTS_BIND##*:}
exec 3<>"/dev/tcp/127.0.0.1/${port:-8080}"
printf 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' >&3
read -r _ status _ <&3
[ "$status" = 200 ] || { echo "GET /healthz answered ${status:-nothing}"; exit 1; }
echo "healthy"
