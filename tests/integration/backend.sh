#!/bin/bash
# Backend failures: nothing listening (TCP and unix), failover to the next
# backend in the list, and connect_timeout against a backend whose SYNs are
# dropped (an nftables rule in a private network namespace).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

require_mptcp
require_frontd

start_ppecho good --expect v2 || bail "ppecho did not start"
GOOD=$PPECHO_ADDR GOOD_LOG=$PPECHO_LOG
start_ppecho rude --expect v2 --reset-after 65536 || bail "ppecho did not start"
RUDE=$PPECHO_ADDR
DEAD_PORT=$(free_port)          # released at once: nothing listens there
DEAD=127.0.0.1:$DEAD_PORT
DEAD_UNIX=$T/nobody-listens.sock
ACCESS=$T/access.log

conf=$(write_config frontd <<EOF
[global]
access_log = $ACCESS

[listener:dead]
bind = 127.0.0.1:0
backend = $DEAD
proxy_protocol = v2
connect_timeout = 5s

[listener:deadunix]
bind = 127.0.0.1:0
backend = unix:$DEAD_UNIX
proxy_protocol = v2
connect_timeout = 5s

[listener:failover]
bind = 127.0.0.1:0
backend = $DEAD, $GOOD
proxy_protocol = v2
connect_timeout = 5s

[listener:rude]
bind = 127.0.0.1:0
backend = $RUDE
proxy_protocol = v2
EOF
)
start_frontd frontd "$conf" || bail "mptcp-frontd did not start"

# closed_within NAME MAX_S: the "closed ... after X s" client.py reported
# is below MAX_S seconds.
closed_within() {
	local took
	took=$(client_report "$1" closed | sed -n 's/.* after \([0-9.]*\) s$/\1/p')
	[ -n "$took" ] && awk -v t="$took" -v m="$2" 'BEGIN { exit !(t < m) }'
}

for l in dead deadunix; do
	A=$(frontd_addr "$l")
	if [ "$l" = dead ]; then b=$DEAD; else b=unix:$DEAD_UNIX; fi
	client "$l" --mptcp --expect-mptcp "$(host_of "$A")" "$(port_of "$A")" \
		hold --send 'GET / HTTP/1.0\r\n\r\n' --max 5
	rc=$?
	closed_within "$l" 2
	tap_check $(( rc + $? )) "backend $b down: the client is closed within 2 s ($(client_report "$l" closed))" \
		"$T/$l.err"
	CL=$(client_report "$l" local)
	wait_for_file_line "$FRONTD_LOG" "listener $l: client $CL: no backend reachable" 5
	grep -qF "warn: listener $l: backend $b is down (connect failed: " "$FRONTD_LOG"
	tap_check $? "log: 'listener $l: backend $b is down (connect failed: REASON)'" "$FRONTD_LOG"
	grep -qF "warn: listener $l: client $CL: no backend reachable (tried 1 of 1, last: " "$FRONTD_LOG"
	tap_check $? "log: 'listener $l: client $CL: no backend reachable (tried 1 of 1, last: REASON), closing'" \
		"$FRONTD_LOG"
	wait_for_file_line "$ACCESS" "client=$CL " 5
	tap_like "$(grep -F "client=$CL " "$ACCESS")" \
		"listener=$l client=$CL .*proto=mptcp .*bytes_out=0 .*end=connect_failed( |\$)" \
		"access log: listener=$l end=connect_failed, nothing sent to the client" "$ACCESS"
done
tap_like "$(grep "listener dead: backend .* is down" "$FRONTD_LOG")" \
	'connect failed: Connection refused\): skipping it' "refused TCP connect is reported as 'Connection refused'"

# --- failover: first backend dead, second one serves
A=$(frontd_addr failover)
client fo --mptcp --expect-mptcp "$(host_of "$A")" "$(port_of "$A")" \
	integrity --mib 4
rc=$?
tap_check $rc "failover: first backend dead, 4 MiB each way intact through the second" \
	"$T/fo.err"
CL=$(client_report fo local)
pp_match "$GOOD_LOG" "sport=$(port_of "$CL")" version=2 src="$(host_of "$CL")" \
	error=null
tap_check $? "failover: the second backend got the client's PROXY header"
grep -qF "listener failover: backend $DEAD is down (connect failed" "$FRONTD_LOG"
tap_check $? "failover: the dead first backend is logged as down" "$FRONTD_LOG"
! grep -qF "listener failover: client $CL: no backend reachable" "$FRONTD_LOG"
tap_check $? "failover: no 'no backend reachable' for a client the second backend served"
wait_for_file_line "$ACCESS" "client=$CL " 5
tap_like "$(grep -F "client=$CL " "$ACCESS")" \
	"listener=failover client=$CL backend=$GOOD .*bytes_in=4194304 bytes_out=4194304 .*end=client_close( |\$)" \
	"access log: failover connection names the backend that served it" "$ACCESS"

# --- the backend resets mid-transfer
A=$(frontd_addr rude)
client rude --mptcp "$(host_of "$A")" "$(port_of "$A")" integrity --mib 4
rc=$?
[ "$rc" -ne 0 ]
tap_check $? "backend resets after 64 KiB: the client does not see a complete transfer ($(client_report rude error)$(client_report rude fail))" \
	"$T/rude.err"
CL=$(client_report rude local)
wait_for_file_line "$ACCESS" "client=$CL " 5
tap_like "$(grep -F "client=$CL " "$ACCESS")" "listener=rude client=$CL backend=$RUDE .*end=backend_reset( |\$)" \
	"access log: end=backend_reset" "$ACCESS"

kill -0 "$FRONTD_PID" 2>/dev/null
tap_check $? "daemon still running after backend failures" "$FRONTD_LOG"

# --- connect_timeout: a backend that never answers.  In a private namespace
# an nftables rule drops the SYNs to one port, so connect() hangs until the
# daemon's timer fires.
BLACKHOLE_PORT=4099
blackhole_netns NS "$BLACKHOLE_PORT" \
	"connect_timeout closes a client whose backend never answers" || exit 0
conf=$(write_config blackhole <<EOF
[global]
access_log = $T/access-ns.log

[listener:slow]
bind = 127.0.0.1:0
backend = 127.0.0.1:$BLACKHOLE_PORT
proxy_protocol = v1
connect_timeout = 700ms
EOF
)
FRONTD_NS=$NS start_frontd blackhole "$conf" || bail "mptcp-frontd in namespace did not start"
A=$(frontd_addr slow)
CLIENT_NS=$NS client slow --mptcp "$(host_of "$A")" "$(port_of "$A")" \
	hold --send 'hello\n' --max 5
rc=$?
took=$(client_report slow closed | sed -n 's/.* after \([0-9.]*\) s$/\1/p')
awk -v t="${took:-99}" 'BEGIN { exit !(t >= 0.6 && t < 2.5) }'
tap_check $(( rc + $? )) "connect_timeout = 700ms: client closed after 0.6-2.5 s (took ${took:-?} s)" \
	"$T/slow.err"
CL=$(client_report slow local)
grep -qF "listener slow: backend 127.0.0.1:$BLACKHOLE_PORT is down (connect failed: timed out)" \
	"$FRONTD_LOG"
tap_check $? "log: connect failed: timed out" "$FRONTD_LOG"
wait_for_file_line "$T/access-ns.log" "client=$CL " 5
tap_like "$(grep -F "client=$CL " "$T/access-ns.log")" 'end=connect_failed( |$)' \
	"access log: timed-out connect ends with end=connect_failed" "$T/access-ns.log"
