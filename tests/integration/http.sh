#!/bin/bash
# nginx http behind the daemon: `listen ... proxy_protocol` on TCP and on a
# unix socket, realip from the PROXY header.  MPTCP and plain TCP clients
# fetch a page through the daemon with PROXY v1 and v2 over TCP and unix
# backends, an IPv6 client through a [::1] bind, and an IPv4 client on a
# dual-stack [::]:0 listener; nginx must see each client's own address and
# ephemeral port, both in its access log and in the page it returns.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

require_mptcp
# shellcheck disable=SC2119  # no modules needed for http
require_nginx
require_frontd

start_nginx http.conf || bail "nginx (http) did not start"
NGX_LOG=$NGINX_DIR/access.log
NGX_TCP=127.0.0.1:$NGINX_PORT
NGX_UNIX=unix:$NGINX_DIR/http.sock

# fetch NAME HOST PORT DESC [CLIENT_OPTS...]: GET / and check that nginx's
# page and access log show the client's own address and port.
fetch() {
	local name=$1 host=$2 port=$3 desc=$4 rc cl chost cport line
	shift 4
	client "$name" "$@" "$host" "$port" http /
	rc=$?
	cl=$(client_report "$name" local)
	chost=$(host_of "$cl") cport=$(port_of "$cl")
	if [ "$rc" -ne 0 ] || [ -z "$cl" ]; then
		tap_fail "$desc: GET / returns 200"
		tap_diag_file "$T/$name.err"
		tap_fail "$desc: nginx access log shows the client's address"
		return
	fi
	tap_is "$(cat "$T/$name.out")" "client $chost $cport" \
		"$desc: nginx's \$remote_addr \$remote_port are the client's ($chost $cport)" \
		"$T/$name.err"
	wait_for_file_line "$NGX_LOG" " remote=$chost:$cport " 5
	line=$(grep -F " remote=$chost:$cport " "$NGX_LOG")
	tap_like "$line" "^pp=$chost:$cport remote=$chost:$cport peer=" \
		"$desc: nginx log has \$proxy_protocol_addr:port = \$remote_addr:port = $cl" \
		"$NGX_LOG"
}

# The nginx side on its own, with a hand-made header: if this fails the
# template or nginx is at fault, not the daemon.
fetch direct 127.0.0.1 "$NGINX_PORT" "nginx template, hand-made v1 header, no daemon" \
	--send-proxy v1

conf=$(write_config frontd <<EOF
[listener:tcp_v1]
bind = 127.0.0.1:0
backend = $NGX_TCP
proxy_protocol = v1

[listener:tcp_v2]
bind = 127.0.0.1:0
backend = $NGX_TCP
proxy_protocol = v2

[listener:unix_v1]
bind = 127.0.0.1:0
backend = $NGX_UNIX
proxy_protocol = v1

[listener:unix_v2]
bind = 127.0.0.1:0
backend = $NGX_UNIX
proxy_protocol = v2

[listener:ipv6]
bind = [::1]:0
backend = $NGX_TCP
proxy_protocol = v2

[listener:dual]
bind = [::]:0
backend = $NGX_TCP
proxy_protocol = v1
EOF
)
start_frontd frontd "$conf" || bail "mptcp-frontd did not start"

for l in tcp_v1 tcp_v2 unix_v1 unix_v2; do
	A=$(frontd_addr "$l")
	fetch "$l-mptcp" "$(host_of "$A")" "$(port_of "$A")" \
		"MPTCP client, listener $l" --mptcp --expect-mptcp
	fetch "$l-tcp" "$(host_of "$A")" "$(port_of "$A")" \
		"plain TCP client, listener $l"
done

A=$(frontd_addr ipv6 '^\[::1\]:')
tap_like "$A" '^\[::1\]:[1-9][0-9]*$' "[::1]:0 bind is logged as [::1]:REALPORT"
fetch ipv6 ::1 "$(port_of "$A")" "IPv6 MPTCP client via [::1] bind, PROXY v2" \
	--mptcp --expect-mptcp

A=$(frontd_addr dual '^\[::\]:')
tap_like "$A" '^\[::\]:[1-9][0-9]*$' "[::]:0 bind is logged as [::]:REALPORT"
fetch dual4 127.0.0.1 "$(port_of "$A")" \
	"IPv4 MPTCP client on a dual-stack [::] listener appears as IPv4, PROXY v1" \
	--mptcp --expect-mptcp
fetch dual6 ::1 "$(port_of "$A")" "IPv6 client on the same dual-stack listener" \
	--mptcp --expect-mptcp
! grep -q 'ffff' "$NGX_LOG"
tap_check $? "no v4-mapped (::ffff:) address reaches nginx" "$NGX_LOG"

kill -0 "$FRONTD_PID" 2>/dev/null
tap_check $? "daemon still running" "$FRONTD_LOG"
