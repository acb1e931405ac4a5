#!/bin/bash
# Two real paths: a client namespace and a server namespace joined by two
# veth pairs (192.0.2.0/24 and 198.51.100.0/24).  The server's path manager
# announces its second address; the client opens a second subflow to it.
# Data through the daemon must stay intact and the access log must count
# both subflows.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

require_netns
require_mptcp
require_frontd

make_netns CNS || bail "cannot create the client namespace"
make_netns SNS || bail "cannot create the server namespace"
setup() {
	ip -n "$CNS" link add p1c type veth peer name p1s netns "$SNS" &&
		ip -n "$CNS" link add p2c type veth peer name p2s netns "$SNS" &&
		ip -n "$CNS" addr add 192.0.2.1/24 dev p1c &&
		ip -n "$CNS" addr add 198.51.100.1/24 dev p2c &&
		ip -n "$SNS" addr add 192.0.2.2/24 dev p1s &&
		ip -n "$SNS" addr add 198.51.100.2/24 dev p2s &&
		ip -n "$CNS" link set p1c up && ip -n "$CNS" link set p2c up &&
		ip -n "$SNS" link set p1s up && ip -n "$SNS" link set p2s up &&
		ip netns exec "$CNS" sysctl -q -w net.mptcp.enabled=1 &&
		ip netns exec "$SNS" sysctl -q -w net.mptcp.enabled=1 &&
		ip -n "$CNS" mptcp limits set subflow 2 add_addr_accepted 2 &&
		ip -n "$SNS" mptcp limits set subflow 2 add_addr_accepted 2 &&
		ip -n "$SNS" mptcp endpoint add 198.51.100.2 dev p2s signal
}
setup || bail "two-path namespace setup failed"
# Addresses are usable once DAD is done; IPv4 has none, but the links must
# be up: wait (bounded) for both veth pairs to report it.
for _ in $(seq 1 100); do
	[ "$(ip -n "$CNS" -br link show up | grep -c '^p[12]c')" = 2 ] &&
		[ "$(ip -n "$SNS" -br link show up | grep -c '^p[12]s')" = 2 ] && break
	sleep 0.02
done

PPECHO_NS=$SNS start_ppecho pp --expect v2 || bail "ppecho did not start"
PP=$PPECHO_ADDR PP_LOG=$PPECHO_LOG
conf=$(write_config frontd <<EOF
[global]
access_log = $T/access.log

[listener:mp]
bind = 0.0.0.0:0
mptcp = required
backend = $PP
proxy_protocol = v2
EOF
)
FRONTD_NS=$SNS start_frontd frontd "$conf" || bail "mptcp-frontd did not start"
PORT=$(port_of "$(frontd_addr mp)")

# 24 MiB at 12 MiB/s: two seconds, ample time for the second subflow to
# join (milliseconds on veth) while data is still flowing.
CLIENT_NS=$CNS client mp --expect-mptcp 192.0.2.2 "$PORT" integrity \
	--mib 24 --rate 12
rc=$?
tap_check $rc "MPTCP client over two paths: 24 MiB each way intact" "$T/mp.err"
tap_is "$(client_report mp mptcp-max)" "subflows=2" \
	"the client's connection used two subflows (path manager works)" "$T/mp.err"
CL=$(client_report mp local)
tap_is "$CL" "192.0.2.1:$(port_of "$CL")" "the connection started on the first path"
pp_match "$PP_LOG" "sport=$(port_of "$CL")" src=192.0.2.1 dst=192.0.2.2 \
	dport="$PORT" error=null
tap_check $? "PROXY v2 header names the first subflow's addresses"
wait_for_file_line "$T/access.log" "client=$CL " 5
tap_like "$(grep -F "client=$CL " "$T/access.log")" \
	'proto=mptcp subflows=2 bytes_in=25165824 bytes_out=25165824 .*end=client_close$' \
	"access log: proto=mptcp subflows=2 and 24 MiB each way" "$T/access.log"
