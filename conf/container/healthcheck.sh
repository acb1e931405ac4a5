#!/bin/bash
# Container health check for mptcp-frontd: the stats endpoint answers
# "HEAD /metrics" with 200, which proves the daemon's event loop runs.
# Needs "stats = 127.0.0.1:9090" (or the address given as $1) in the
# configuration.  Plain bash (/dev/tcp): the image carries no HTTP client.
#
#   mptcp-frontd-healthcheck [HOST:PORT]
addr=${1:-127.0.0.1:9090}
host=${addr%:*}
port=${addr##*:}
exec 3<>"/dev/tcp/$host/$port" || exit 1
printf 'HEAD /metrics HTTP/1.0\r\nHost: %s\r\n\r\n' "$addr" >&3 || exit 1
IFS= read -r -t 5 status <&3 || exit 1
case $status in
'HTTP/1.'[01]' 200 '*) exit 0 ;;
esac
echo "mptcp-frontd-healthcheck: $status" >&2
exit 1
