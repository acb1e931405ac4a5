#!/bin/bash
# nginx mail (SMTP, smtp_auth none) behind the daemon: the client gets
# nginx's 220 greeting through it, and the auth_http request nginx makes at
# RCPT TO carries the client's own address and port from the PROXY header.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

require_mptcp
require_nginx mail
require_frontd

start_bg auth "$PYTHON" "$TOOLS/authhttp.py" --log "$T/auth.json" \
	--ready-file "$T/auth.addr"
wait_for_file_line "$T/auth.addr" . 10 "$BG_PID" || bail "authhttp.py did not start"
start_nginx mail.conf AUTH="http://$(head -n 1 "$T/auth.addr")/auth" ||
	bail "nginx (mail) did not start"

conf=$(write_config frontd <<EOF
[listener:smtp_v1]
bind = 127.0.0.1:0
backend = 127.0.0.1:$NGINX_PORT
proxy_protocol = v1

[listener:smtp_v2]
bind = 127.0.0.1:0
backend = 127.0.0.1:$NGINX_PORT
proxy_protocol = v2
EOF
)
start_frontd frontd "$conf" || bail "mptcp-frontd did not start"

# auth_field NAME HEADER: HEADER of the auth request for client NAME's
# connection (matched by its port).
auth_field() {
	local port
	port=$(port_of "$(client_report "$1" local)")
	"$PYTHON" - "$T/auth.json" "$port" "$2" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("Proxy-Protocol-Port") == sys.argv[2]:
        print(r.get(sys.argv[3], ""))
        break
EOF
}

for l in smtp_v1 smtp_v2; do
	A=$(frontd_addr "$l")
	client "$l-greet" --mptcp --expect-mptcp "$(host_of "$A")" "$(port_of "$A")" \
		read --lines 1
	rc=$?
	tap_check $rc "$l: MPTCP client connects and reads a line" "$T/$l-greet.err"
	tap_like "$(cat "$T/$l-greet.out")" '^220 mx\.frontd\.test ESMTP' \
		"$l: the line is nginx's '220 mx.frontd.test ESMTP' greeting" "$T/$l-greet.out"

	client "$l" --mptcp --expect-mptcp "$(host_of "$A")" "$(port_of "$A")" \
		chat 'expect:^220 ' 'send:EHLO client.test\r\n' 'expect:^250 ' \
		'send:MAIL FROM:<a@frontd.test>\r\n' 'expect:^250 ' \
		'send:RCPT TO:<b@frontd.test>\r\n' 'expect:^550 5\.7\.1 '
	rc=$?
	tap_check $rc "$l: SMTP dialogue through the daemon (EHLO, MAIL, RCPT refused by auth_http)" \
		"$T/$l.err" "$T/$l.out"
	CL=$(client_report "$l" local)
	tap_is "$(auth_field "$l" Client-IP) $(auth_field "$l" Proxy-Protocol-Port)" \
		"$(host_of "$CL") $(port_of "$CL")" \
		"$l: nginx's auth request names the client's address and port (Client-IP, Proxy-Protocol-Port)" \
		"$T/auth.json"
done

kill -0 "$FRONTD_PID" 2>/dev/null
tap_check $? "daemon still running" "$FRONTD_LOG"
