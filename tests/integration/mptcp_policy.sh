#!/bin/bash
# The mptcp = on | off | required policy, in private network namespaces.
# With net.mptcp.enabled = 0 the kernel refuses IPPROTO_MPTCP sockets:
# "on" falls back to TCP with exactly one warning and still serves,
# "required" refuses to start.  With MPTCP enabled, "on" gives a listener
# the kernel lists as MPTCP (ss -M) and "off" one it does not.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

require_netns
require_mptcp
require_cmd ss
require_frontd

# ---------------------------------------------------------------- MPTCP off
make_netns NOMP || bail "cannot create a namespace"
ip netns exec "$NOMP" sysctl -q -w net.mptcp.enabled=0 ||
	bail "cannot set net.mptcp.enabled=0 in a namespace"
PPECHO_NS=$NOMP start_ppecho pp_nomp --expect v1 || bail "ppecho did not start"
PP_NOMP=$PPECHO_ADDR PP_NOMP_LOG=$PPECHO_LOG

conf=$(write_config fallback <<EOF
[global]
access_log = $T/fallback-access.log

[listener:fb]
bind = 127.0.0.1:0, [::1]:0
mptcp = on
backend = $PP_NOMP
proxy_protocol = v1

[listener:fb2]
bind = 127.0.0.1:0
mptcp = on
backend = $PP_NOMP
proxy_protocol = v1
EOF
)
FRONTD_NS=$NOMP start_frontd fallback "$conf"
tap_check $? "net.mptcp.enabled=0, mptcp = on: the daemon starts" "$FRONTD_LOG"
tap_is "$(grep -c 'warn: .*kernel refuses MPTCP sockets' "$FRONTD_LOG")" 1 \
	"exactly one 'kernel refuses MPTCP sockets' warning for three sockets" "$FRONTD_LOG"
n_tcp=$(grep -c 'listener fb2\?: listening on .* (tcp)$' "$FRONTD_LOG")
n_mptcp=$(grep -c 'listener .*: listening on .* (mptcp' "$FRONTD_LOG")
tap_is "$n_tcp/$n_mptcp" 3/0 "every listener logs '(tcp)' and none '(mptcp)'" "$FRONTD_LOG"

A=$(frontd_addr fb '^127\.')
CLIENT_NS=$NOMP client fb "$(host_of "$A")" "$(port_of "$A")" integrity --mib 2
rc=$?
tap_check $rc "fallback listener relays a TCP client, 2 MiB each way intact" "$T/fb.err"
CL=$(client_report fb local)
pp_match "$PP_NOMP_LOG" "sport=$(port_of "$CL")" version=1 family=TCP4 \
	src="$(host_of "$CL")" error=null
tap_check $? "the backend in the namespace got a v1 header for that client"
wait_for_file_line "$T/fallback-access.log" "client=$CL " 5
tap_like "$(grep -F "client=$CL " "$T/fallback-access.log")" 'proto=tcp .*end=client_close( |$)' \
	"access log: proto=tcp on a fallback listener" "$T/fallback-access.log"
stop_pid "$FRONTD_PID"

conf=$(write_config required <<EOF
[listener:must]
bind = 127.0.0.1:0
mptcp = required
backend = $PP_NOMP
EOF
)
ip netns exec "$NOMP" timeout -k 2 10 "$FRONTD" -f -c "$conf" \
	>"$T/required.out" 2>"$T/required.err"
rc=$?
tap_is "$rc" 1 "net.mptcp.enabled=0, mptcp = required: the daemon exits 1" "$T/required.err"
tap_like "$(grep ' error: ' "$T/required.err")" 'mptcp = required' \
	"its error line mentions 'mptcp = required'" "$T/required.err"
! grep -q 'ready (pid' "$T/required.err"
tap_check $? "it never reports ready" "$T/required.err"

# ---------------------------------------------------------------- MPTCP on
make_netns MP || bail "cannot create a namespace"
ip netns exec "$MP" sysctl -q -w net.mptcp.enabled=1 ||
	bail "cannot set net.mptcp.enabled=1 in a namespace"
PPECHO_NS=$MP start_ppecho pp_mp --expect v2 || bail "ppecho did not start"
PP_MP=$PPECHO_ADDR PP_MP_LOG=$PPECHO_LOG

conf=$(write_config policy <<EOF
[global]
access_log = $T/policy-access.log

[listener:on]
bind = 127.0.0.1:0
mptcp = on
backend = $PP_MP
proxy_protocol = v2

[listener:off]
bind = 127.0.0.1:0
mptcp = off
backend = $PP_MP
proxy_protocol = v2

[listener:req]
bind = 127.0.0.1:0
mptcp = required
backend = $PP_MP
proxy_protocol = v2
EOF
)
FRONTD_NS=$MP start_frontd policy "$conf" || bail "mptcp-frontd did not start"
ON=$(frontd_addr on) OFF=$(frontd_addr off) REQ=$(frontd_addr req)
for lp in on:mptcp off:tcp req:mptcp; do
	grep -Eq "info: listener ${lp%:*}: listening on 127\.0\.0\.1:[0-9]+ \(${lp#*:}\)\$" \
		"$FRONTD_LOG"
	tap_check $? "log: listener ${lp%:*} is listening as (${lp#*:})" \
		"$FRONTD_LOG"
done
tap_is "$(grep -c 'kernel refuses MPTCP' "$FRONTD_LOG")" 0 \
	"no fallback warning when the kernel allows MPTCP" "$FRONTD_LOG"

# listed_by ADDR SS_OPTS...: ADDR appears as a local address in ss output.
listed_by() {
	local addr=$1
	shift
	ip netns exec "$MP" ss "$@" | awk -v a="$addr" '
		{ for (i = 1; i <= NF; i++) if ($i == a) found = 1 }
		END { exit !found }'
}
listed_by "$ON" -HlnM
tap_check $? "mptcp = on: ss -M lists the listener $ON as MPTCP"
listed_by "$REQ" -HlnM
tap_check $? "mptcp = required: ss -M lists the listener $REQ as MPTCP"
listed_by "$OFF" -Hltn
tap_check $? "mptcp = off: ss -t lists the listener $OFF as TCP"
! listed_by "$OFF" -HlnM
tap_check $? "mptcp = off: ss -M does not list $OFF"

CLIENT_NS=$MP client on --mptcp --expect-mptcp "$(host_of "$ON")" \
	"$(port_of "$ON")" integrity --mib 1
tap_check $? "mptcp = on: an MPTCP client's connection stays MPTCP" "$T/on.err"
CLIENT_NS=$MP client off --expect-fallback "$(host_of "$OFF")" \
	"$(port_of "$OFF")" integrity --mib 1
tap_check $? "mptcp = off: an MPTCP client falls back to TCP and is served" "$T/off.err"
for c in on off; do
	CL=$(client_report "$c" local)
	wait_for_file_line "$T/policy-access.log" "client=$CL " 5
done
tap_like "$(grep -F "client=$(client_report on local) " "$T/policy-access.log")" \
	'listener=on .* proto=mptcp ' "access log: proto=mptcp on the mptcp = on listener" \
	"$T/policy-access.log"
tap_like "$(grep -F "client=$(client_report off local) " "$T/policy-access.log")" \
	'listener=off .* proto=tcp ' "access log: proto=tcp on the mptcp = off listener" \
	"$T/policy-access.log"
tap_is "$(pp_custom_tlvs "$PP_MP_LOG" "sport=$(port_of "$(client_report on local)")")" \
	0xe0=6d70746370 "PROXY v2 TLV 0xE0 = \"mptcp\" from the mptcp = on listener"
tap_is "$(pp_custom_tlvs "$PP_MP_LOG" "sport=$(port_of "$(client_report off local)")")" \
	0xe0=746370 "PROXY v2 TLV 0xE0 = \"tcp\" for the MPTCP client that fell back"
