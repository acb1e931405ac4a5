#!/bin/bash
# nginx stream behind the daemon: `listen ... proxy_protocol` and
# `return "$proxy_protocol_addr:$proxy_protocol_port\n"`, so each client
# reads back the address nginx believes it has: its own, for PROXY v1 and
# v2, over TCP and unix backends, IPv4 and IPv6, MPTCP and plain TCP.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

require_mptcp
require_nginx stream
require_frontd

start_nginx stream.conf || bail "nginx (stream) did not start"

# echo_back NAME HOST PORT DESC [CLIENT_OPTS...]
echo_back() {
	local name=$1 host=$2 port=$3 desc=$4 rc cl
	shift 4
	# Read to EOF: nginx closes after its reply, and so must the daemon
	# before this client closes (so the access log's end reason is fixed).
	client "$name" "$@" "$host" "$port" read
	rc=$?
	cl=$(client_report "$name" local)
	if [ "$rc" -ne 0 ] || [ -z "$cl" ]; then
		tap_fail "$desc: nginx answers with the client's address"
		tap_diag_file "$T/$name.err"
		return
	fi
	tap_is "$(cat "$T/$name.out")" "$(host_of "$cl"):$(port_of "$cl")" \
		"$desc: nginx answers with the client's address" "$T/$name.err"
}

echo_back direct 127.0.0.1 "$NGINX_PORT" \
	"nginx template, hand-made v2 header, no daemon" --send-proxy v2

conf=$(write_config frontd <<EOF
[global]
access_log = $T/access.log

[listener:tcp_v1]
bind = 127.0.0.1:0
backend = 127.0.0.1:$NGINX_PORT
proxy_protocol = v1

[listener:tcp_v2]
bind = 127.0.0.1:0, [::1]:0
backend = 127.0.0.1:$NGINX_PORT
proxy_protocol = v2

[listener:unix_v1]
bind = 127.0.0.1:0
backend = unix:$NGINX_DIR/stream.sock
proxy_protocol = v1

[listener:unix_v2]
bind = 127.0.0.1:0
backend = unix:$NGINX_DIR/stream.sock
proxy_protocol = v2
EOF
)
start_frontd frontd "$conf" || bail "mptcp-frontd did not start"

for l in tcp_v1 tcp_v2 unix_v1 unix_v2; do
	A=$(frontd_addr "$l" '^127\.')
	echo_back "$l" "$(host_of "$A")" "$(port_of "$A")" \
		"MPTCP client, listener $l" --mptcp --expect-mptcp
done
A=$(frontd_addr tcp_v1 '^127\.')
echo_back tcp "$(host_of "$A")" "$(port_of "$A")" "plain TCP client, PROXY v1"
A=$(frontd_addr tcp_v2 '^\[::1\]')
echo_back v6 ::1 "$(port_of "$A")" "IPv6 MPTCP client, PROXY v2 TCP6" \
	--mptcp --expect-mptcp

# nginx's `return` closes first: the daemon must say so.
CL=$(client_report tcp local)
wait_for_file_line "$T/access.log" "client=$CL " 5
tap_like "$(grep -F "client=$CL " "$T/access.log")" \
	"listener=tcp_v1 client=$CL backend=127.0.0.1:$NGINX_PORT proto=tcp .*bytes_in=0 bytes_out=$(wc -c <"$T/tcp.out") .*end=backend_close( |\$)" \
	"access log: nginx closing first is end=backend_close, bytes_out = the reply's length" \
	"$T/access.log"

kill -0 "$FRONTD_PID" 2>/dev/null
tap_check $? "daemon still running" "$FRONTD_LOG"
