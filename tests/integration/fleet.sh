#!/bin/bash
# MPTCP through an L4 load balancer (issue 13), in four namespaces:
#
#   client --path A (cli_a, 192.0.2.0/24)------\            /-- node 1
#          --path B (cli_b, 198.51.100.0/24)---- balancer --
#                                                           \-- node 2
#
# The client has two paths to the balancer (each limited by tbf, its path
# B endpoint `subflow fullmesh`); the balancer forwards the virtual address
# VIP:PORT to the two nodes by a hash of the flow's addresses and ports,
# first as direct server return (the VIP on each node's lo; nftables marks
# the flow with a jhash and the mark picks the route), then as NAT (a DNAT
# by jhash, as kube-proxy's nftables mode does).  Each node runs
# mptcp-frontd in front of its own nginx and is reachable at its own
# unicast addresses over both paths.
#
#  - without `announce`, some joins hash to the other node: those
#    connections keep one subflow and that node's refused-join counter
#    (mptcp_frontd_kernel_mp_join_no_token_found_total) rises; --check
#    prints the warning and the fix;
#  - with `announce` (applied by SIGHUP; the node's own address for direct
#    server return, an address other than the DNAT target for NAT) every
#    connection gets its second subflow to its node, a download aggregates
#    both paths, a path cut mid-download is survived intact, nginx logs the
#    real client, both nodes serve;
#  - announcing the DNAT target gives the daemon's warning;
#  - without CAP_NET_ADMIN `announce` is refused at start and on reload;
#  - endpoints and net.mptcp.allow_join_initial_addr_port are as before
#    once the daemons are gone.
# Budget: about 100 s (64 short downloads, four long ones).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

require_netns
require_mptcp
require_cmd tc nft curl sha256sum setpriv
require_nginx
require_frontd

RATE=50mbit             # per path, each direction
CONNS=16                # per set-up: P(no join misrouted) = 2^-16 per node pair
MIN_RATIO=1.6
MIB=$((1024 * 1024))
PORT=8080
VIP=203.0.113.100
CLI_A=192.0.2.2 LB_A=192.0.2.1
CLI_B=198.51.100.2 LB_B=198.51.100.1
# Node i: link address NODE_IP[i] (the DNAT target), a second address
# NODE_LO[i] on lo.
NODE_IP=(203.0.113.18 203.0.113.26) NODE_GW=(203.0.113.17 203.0.113.25)
NODE_LO=(203.0.113.41 203.0.113.42)
started=$(now_ms)

# ---------------------------------------------------------------- topology
make_netns C && make_netns LB && make_netns N0 && make_netns N1 ||
	bail "cannot create namespaces"
NODES=("$N0" "$N1")
setup() {
	local i ns
	ip -n "$C" link add cli_a type veth peer name lb_a netns "$LB" &&
		ip -n "$C" link add cli_b type veth peer name lb_b netns "$LB" &&
		ip -n "$C" addr add "$CLI_A/24" dev cli_a &&
		ip -n "$C" addr add "$CLI_B/24" dev cli_b &&
		ip -n "$LB" addr add "$LB_A/24" dev lb_a &&
		ip -n "$LB" addr add "$LB_B/24" dev lb_b || return 1
	for i in 0 1; do
		ns=${NODES[$i]}
		ip -n "$LB" link add "lb_n$i" type veth peer name eth0 netns "$ns" &&
			ip -n "$LB" addr add "${NODE_GW[$i]}/29" dev "lb_n$i" &&
			ip -n "$ns" addr add "${NODE_IP[$i]}/29" dev eth0 &&
			ip -n "$ns" addr add "${NODE_LO[$i]}/32" dev lo &&
			ip -n "$ns" link set eth0 up && ip -n "$LB" link set "lb_n$i" up &&
			ip -n "$ns" route add default via "${NODE_GW[$i]}" &&
			ip -n "$LB" route add "${NODE_LO[$i]}/32" via "${NODE_IP[$i]}" &&
			ip netns exec "$LB" ip route add "$VIP/32" via "${NODE_IP[$i]}" \
				table $((101 + i)) &&
			ip -n "$LB" rule add fwmark $((1 + i)) lookup $((101 + i)) ||
			return 1
	done
	ip netns exec "$LB" sysctl -q -w net.ipv4.ip_forward=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 ||
		return 1
	for ns in "$C" "$N0" "$N1"; do
		ip netns exec "$ns" sysctl -q -w net.mptcp.enabled=1 || return 1
		ip -n "$ns" mptcp limits set subflow 2 add_addr_accepted 2 || return 1
	done
	# The client: path A by default, path B for its path B address; its
	# path B endpoint subflows to every address the server announces.
	ip -n "$C" link set cli_a up && ip -n "$C" link set cli_b up &&
		ip -n "$LB" link set lb_a up && ip -n "$LB" link set lb_b up || return 1
	for d in "$C cli_a" "$C cli_b" "$LB lb_a" "$LB lb_b"; do
		# shellcheck disable=SC2086
		link_up $d || return 1
	done
	ip -n "$C" route replace default via "$LB_A" dev cli_a &&
		ip -n "$C" rule add from "$CLI_B" lookup 100 &&
		ip -n "$C" route add default via "$LB_B" dev cli_b table 100 &&
		ip -n "$C" mptcp endpoint add "$CLI_B" dev cli_b subflow fullmesh ||
		return 1
	for d in "$C cli_a" "$C cli_b" "$LB lb_a" "$LB lb_b"; do
		# shellcheck disable=SC2086
		mp_shape $d "$RATE" || return 1
	done
}
setup || bail "topology setup failed"

# balancer dsr|nat: the example ruleset of that mode, conf/fleet/
# balancer-MODE.nft: direct server return marks the flow by its hash and
# the mark picks the route to a node (ip rules above); NAT sends it to a
# node's address by the same hash.
FLEET_CONF=${top_srcdir:-$TESTS_DIR/../..}/conf/fleet
balancer() {
	local op=add defs=(-D "VIP=$VIP" -D "PORT=$PORT")
	[ "$1" = nat ] && op=del defs+=(-D "NODE0=${NODE_IP[0]}" -D "NODE1=${NODE_IP[1]}")
	ip -n "$N0" addr "$op" "$VIP/32" dev lo && ip -n "$N1" addr "$op" "$VIP/32" dev lo &&
		ip netns exec "$LB" nft "${defs[@]}" -f "$FLEET_CONF/balancer-$1.nft"
}

# pm_state NS: the node's endpoints and C-flag sysctl, one line.
pm_state() {
	echo "endpoints=[$(ip -n "$1" mptcp endpoint show | tr '\n' ';')]" \
		"$(ip netns exec "$1" sysctl -n net.mptcp.allow_join_initial_addr_port)"
}
before0=$(pm_state "$N0") before1=$(pm_state "$N1")

# ---------------------------------------------------------------- nodes
mkdir -p "$T/www" || bail "mkdir"
head -c $((32 * MIB)) /dev/urandom >"$T/www/32m.bin" || bail "cannot write files"
head -c $((2 * MIB)) "$T/www/32m.bin" >"$T/www/2m.bin" || bail "cannot write files"
SUM32=$(sha256sum <"$T/www/32m.bin" | cut -d' ' -f1)
SUM2=$(sha256sum <"$T/www/2m.bin" | cut -d' ' -f1)

# node_config I ANNOUNCE: node I's configuration ("" = no announce).
node_config() {
	cat >"$T/node$1.ini.new" <<EOF
[global]
access_log = $T/node$1.access
stats = 127.0.0.1:0
${2:+announce = $2}

[listener:web]
bind = 0.0.0.0:$PORT
mptcp = required
backend = unix:${NGINX_DIRS[$1]}/http.sock
proxy_protocol = v2
EOF
	mv "$T/node$1.ini.new" "$T/node$1.ini"
}

NGINX_DIRS=() FLOGS=() FPIDS=() GENS=(1 1)
for i in 0 1; do
	start_nginx_ns "${NODES[$i]}" files.conf ROOT="$T/www" ||
		bail "nginx on node $i did not start"
	NGINX_DIRS[$i]=$NGINX_DIR
	node_config "$i" ""
	FRONTD_NS=${NODES[$i]} start_frontd "node$i" "$T/node$i.ini" ||
		bail "mptcp-frontd on node $i did not start"
	FLOGS[$i]=$FRONTD_LOG FPIDS[$i]=$FRONTD_PID
done

# reconfigure I ANNOUNCE: node I's new configuration through SIGHUP.
reconfigure() {
	node_config "$1" "$2"
	GENS[$1]=$((GENS[$1] + 1))
	kill -HUP "${FPIDS[$1]}"
	wait_for_file_line "${FLOGS[$1]}" \
		"info: reloaded .*: configuration generation ${GENS[$1]}, " 5
}

# refused: joins refused for an unknown token, both nodes, from /metrics.
refused() {
	local i n=0 v stats
	for i in 0 1; do
		stats=$(FRONTD_LOG=${FLOGS[$i]} frontd_stats_addr)
		ip netns exec "${NODES[$i]}" curl -sf -o "$T/metrics$i" \
			"http://$stats/metrics" || return 1
		v=$(metric "$T/metrics$i" mptcp_frontd_kernel_mp_join_no_token_found_total)
		[ -n "$v" ] || return 1
		n=$((n + v))
	done
	echo "$n"
}

# served_by NAME: the node (0 or 1) whose daemon logged client run NAME's
# connection (waits, bounded, for the line it writes at close), or "?".
# The subflow count comes from the client: the daemon samples it while
# data moves, and a 200 ms download may close its second subflow before
# the last sample.
served_by() {
	local local_addr i
	local_addr=$(client_report "$1" local)
	for _ in $(seq 1 100); do
		for i in 0 1; do
			grep -qF " client=$local_addr " "$T/node$i.access" 2>/dev/null &&
				{ echo "$i"; return 0; }
		done
		sleep 0.05
	done
	echo "?"
}

# batch NAME [ANNOUNCED...]: CONNS MPTCP downloads of 2 MiB through the
# VIP, one after the other.  Sets B_TWO (connections that had two subflows
# or more, as the client saw them), B_ONE, B_BAD (failed or not intact),
# B_NODE0/B_NODE1 (served by each), B_DIRECT (connections whose second
# subflow went to the address ANNOUNCED[node] of the node that served
# them), B_REFUSED (joins refused meanwhile, both nodes).
batch() {
	local name=$1 i rc node sf r0
	shift
	local ann=("$@")
	B_TWO=0 B_ONE=0 B_BAD=0 B_NODE0=0 B_NODE1=0 B_DIRECT=0
	r0=$(refused) || return 1
	for i in $(seq 1 "$CONNS"); do
		CLIENT_NS=$C CLIENT_TIMEOUT=20 client "$name.$i" --expect-mptcp \
			"$VIP" "$PORT" get /2m.bin
		rc=$?
		if [ "$rc" -ne 0 ] || [ "$(client_report "$name.$i" body)" != \
			"$((2 * MIB)) sha256 $SUM2" ]; then
			B_BAD=$((B_BAD + 1))
			continue
		fi
		sf=$(client_report "$name.$i" mptcp-max)
		if [ "${sf#subflows=}" -ge 2 ] 2>/dev/null; then B_TWO=$((B_TWO + 1)); else B_ONE=$((B_ONE + 1)); fi
		node=$(served_by "$name.$i")
		case $node in
		0) B_NODE0=$((B_NODE0 + 1)) ;;
		1) B_NODE1=$((B_NODE1 + 1)) ;;
		*) continue ;;
		esac
		[ -n "${ann[$node]:-}" ] &&
			grep -q "^subflow $CLI_B:[0-9]*>${ann[$node]}:$PORT\$" "$T/$name.$i.err" &&
			B_DIRECT=$((B_DIRECT + 1))
	done
	B_REFUSED=$(($(refused) - r0))
	tap_diag "$name: $CONNS connections: $B_TWO with 2 subflows, $B_ONE with 1," \
		"$B_BAD failed; served by node 0: $B_NODE0, node 1: $B_NODE1;" \
		"joins refused (unknown token): $B_REFUSED"
	TABLE+=("$name | $CONNS | $B_TWO | $B_ONE | $B_REFUSED")
}
TABLE=()

# aggregate NAME: a plain TCP then an MPTCP 32 MiB download through the
# VIP; checks both and the ratio.  Sets RATIO.
aggregate() {
	local name=$1 tcp mp
	CLIENT_NS=$C CLIENT_TIMEOUT=40 client "$name-tcp" "$VIP" "$PORT" get /32m.bin
	tap_check $? "$name: plain TCP download through the balancer (path A)" "$T/$name-tcp.err"
	CLIENT_NS=$C CLIENT_TIMEOUT=40 client "$name-mp" --expect-mptcp "$VIP" "$PORT" \
		get /32m.bin
	tap_check $? "$name: MPTCP download through the balancer" "$T/$name-mp.err"
	tap_is "$(client_report "$name-mp" body)" "$((32 * MIB)) sha256 $SUM32" \
		"$name: the MPTCP download is intact" "$T/$name-mp.err"
	tcp=$(client_report "$name-tcp" rate-mbit) mp=$(client_report "$name-mp" rate-mbit)
	RATIO=$(awk -v a="${mp:-0}" -v b="${tcp:-0}" \
		'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')
	tap_diag "$name: one path (TCP) $tcp Mbit/s, MPTCP $mp Mbit/s: ${RATIO}x"
	awk -v r="$RATIO" -v m="$MIN_RATIO" 'BEGIN { exit !(r >= m) }'
	tap_check $? "$name: a download through the balancer aggregates both paths (${RATIO}x >= ${MIN_RATIO}x)"
}

# failover NAME: 32 MiB over MPTCP through the VIP; path A cut once 8 MiB
# arrived; intact.  Path A comes back afterwards.  Sets STALL.
failover() {
	local name=$1 pid rc cut cut_ms
	start_bg "$name" ip netns exec "$C" timeout -k 5 60 "$PYTHON" \
		"$TOOLS/client.py" --expect-mptcp "$VIP" "$PORT" get /32m.bin \
		--progress "$T/$name.progress" --stalls "$T/$name.stalls"
	pid=$BG_PID
	wait_for_subflows "$T/$name.progress" 2 10 "$pid" &&
		wait_for_progress "$T/$name.progress" $((8 * MIB)) 30 "$pid"
	tap_check $? "$name: 8 MiB received over two subflows" "$T/$name.progress"
	cut=$(tail -n 1 "$T/$name.progress")
	ip -n "$C" link set cli_a down
	wait_pid_exit "$pid" 60000
	wait "$pid"
	rc=$?
	tap_check $rc "$name: the download completes after path A is cut" "$T/$name.err"
	tap_is "$(client_report "$name" body)" "$((32 * MIB)) sha256 $SUM32" \
		"$name: 32 MiB received intact (sha256)" "$T/$name.err"
	read -r cut_ms _ <<<"$cut"
	STALL=$(stall_after "$name" "$cut_ms")
	tap_diag "$name: cut at '$cut' (ms bytes subflows); stall after the cut: $STALL"
	link_up "$C" cli_a && link_up "$LB" lb_a &&
		ip -n "$C" route replace default via "$LB_A" dev cli_a ||
		bail "cannot bring path A back"
}

# fixed NAME ANNOUNCED0 ANNOUNCED1: the checks of a set-up that is right
# for its balancer, each node announcing ANNOUNCEDi.
fixed() {
	local name=$1
	batch "$@" || bail "cannot read /metrics"
	tap_is "$B_TWO/$B_BAD" "$CONNS/0" \
		"$name: every connection through the VIP gets its second subflow"
	tap_is "$B_DIRECT" "$CONNS" \
		"$name: each second subflow goes straight to its node's announced address"
	tap_is "$B_REFUSED" 0 "$name: no join refused"
	[ "$B_NODE0" -gt 0 ] && [ "$B_NODE1" -gt 0 ]
	tap_check $? "$name: both nodes served connections ($B_NODE0 + $B_NODE1)"
	aggregate "$name"
	failover "$name-cut"
	TABLE[-1]+=" | ${RATIO}x | ${STALL%% at*}"
}

# broken NAME: the checks of a set-up without announce.
broken() {
	local name=$1
	batch "$name" || bail "cannot read /metrics"
	tap_is "$B_BAD" 0 "$name: every download completes intact"
	[ "$B_ONE" -gt 0 ] && [ "$B_REFUSED" -gt 0 ]
	tap_check $? "$name: some joins reach the other node: $B_ONE connections keep one subflow, $B_REFUSED joins refused"
	TABLE[-1]+=" | - | -"
}

# ---------------------------------------------------------------- examples
# The node configurations of conf/fleet/ load; the DaemonSet runs on the
# host network with announce from the node's address.
# -t checks the files it names as start would: the log directory the
# examples name is made here (writable by their user, as on a node).
chmod o+x "$T" && mkdir -p "$T/varlog" && chmod 1777 "$T/varlog"
for f in node.ini node-proxy.ini; do
	sed "s|/var/log/mptcp-frontd|$T/varlog|" "$FLEET_CONF/$f" >"$T/$f"
	out=$("$FRONTD" -t -c "$T/$f" 2>"$T/$f.err")
	tap_is "$out" "$T/$f: configuration OK" "conf/fleet/$f: configuration OK" "$T/$f.err"
done
"$PYTHON" - "$FLEET_CONF/daemonset.yaml" >"$T/daemonset.out" 2>&1 <<'EOF'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
cm = [d for d in docs if d["kind"] == "ConfigMap"][0]
ds = [d for d in docs if d["kind"] == "DaemonSet"][0]
pod = ds["spec"]["template"]["spec"]
c = pod["containers"][0]
env = {e["name"]: e for e in c["env"]}
assert pod["hostNetwork"] is True, "hostNetwork"
assert env["NODE_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.hostIP", "NODE_IP"
assert "NET_ADMIN" in c["securityContext"]["capabilities"]["add"], "NET_ADMIN"
ini = cm["data"]["mptcp-frontd.ini"]
assert "announce = ${NODE_IP}" in ini.splitlines(), "announce"
EOF
tap_check $? "conf/fleet/daemonset.yaml: host network, NET_ADMIN, announce = \${NODE_IP} from status.hostIP" "$T/daemonset.out"

# ---------------------------------------------------------------- DSR
balancer dsr || bail "nftables (direct server return) failed"
broken dsr-no-announce
# --check on a node that refused joins.
for i in 0 1; do
	ip netns exec "${NODES[$i]}" "$FRONTD" --check >"$T/check$i.out" 2>&1
done
grep -h -A1 'MP_JOIN.* refused' "$T/check0.out" "$T/check1.out" >"$T/check.warn"
grep -q '^warn: [0-9]* MP_JOINs\{0,1\} w[a-z]* refused' "$T/check.warn" &&
	grep -q '^  fix: on every node, announce its own unicast address' "$T/check.warn"
tap_check $? "--check warns of the refused joins, with the fix" "$T/check0.out" "$T/check1.out"
tap_diag_file "$T/check.warn"

for i in 0 1; do
	reconfigure "$i" "${NODE_IP[$i]}" || bail "reload with announce failed on node $i"
done
tap_is "$(pm_state "$N0")" "endpoints=[${NODE_IP[0]} id 1 signal ;] 0" \
	"dsr: node 0 announces its address, allow_join_initial_addr_port = 0"
fixed dsr-announce "${NODE_IP[@]}"
for i in 0 1; do
	grep -Eq "remote=$CLI_A:[0-9]+ " "${NGINX_DIRS[$i]}/access.log" &&
		! grep -Eq "remote=($LB_A|$LB_B|${NODE_GW[$i]}):" "${NGINX_DIRS[$i]}/access.log"
	tap_check $? "nginx on node $i logs the real client address" "${NGINX_DIRS[$i]}/access.log"
done

# ---------------------------------------------------------------- NAT
balancer nat || bail "nftables (NAT) failed"
for i in 0 1; do
	reconfigure "$i" "" || bail "reload without announce failed on node $i"
done
tap_is "$(pm_state "$N0")" "$before0" \
	"a reload without announce puts node 0's path manager back"
broken nat-no-announce

# The DNAT target announced: nothing is, and the daemon says so.
for i in 0 1; do
	reconfigure "$i" "${NODE_IP[$i]}" || bail "reload failed on node $i"
done
CLIENT_NS=$C CLIENT_TIMEOUT=20 client nat-target --expect-mptcp "$VIP" "$PORT" get /2m.bin
node=$(served_by nat-target)
case $node in 0 | 1) ;; *) node=0 ;; esac
sf=$(client_report nat-target mptcp-max)
wait_for_file_line "${FLOGS[$node]}" \
	"warn: announce: a connection arrived addressed to ${NODE_IP[$node]}:$PORT, which is announced.*fix: announce another address" 5
tap_check $? "announcing the DNAT target: the daemon warns, with the fix" "${FLOGS[@]}"
tap_diag "nat-announce-target: the connection had ${sf#subflows=} subflow(s)"

for i in 0 1; do
	reconfigure "$i" "${NODE_LO[$i]}" || bail "reload failed on node $i"
done
fixed nat-announce "${NODE_LO[@]}"

# ---------------------------------------------------------------- exit
for i in 0 1; do
	stop_pid "${FPIDS[$i]}"
done
tap_is "$(pm_state "$N0") / $(pm_state "$N1")" "$before0 / $before1" \
	"at exit the endpoints and allow_join_initial_addr_port are as before"


# ---------------------------------------------------------------- capability
# Root without CAP_NET_ADMIN: refused at start, and on reload (after the
# daemons above are gone, so that nothing is announced already).
node_config 0 "${NODE_LO[0]}"
sed -i "s/^bind = .*/bind = 0.0.0.0:0/; s/^stats = .*/stats = off/" "$T/node0.ini"
ip netns exec "$N0" setpriv --bounding-set=-net_admin --inh-caps=-net_admin \
	"$FRONTD" -f -c "$T/node0.ini" >"$T/nocap.out" 2>"$T/nocap.err"
rc=$?
[ "$rc" -ne 0 ] && grep -q 'announce: cannot add signal endpoint .*needs CAP_NET_ADMIN' "$T/nocap.err"
tap_check $? "announce without CAP_NET_ADMIN: refused at start, with the reason (status $rc)" "$T/nocap.err"
sed -i "/^announce = /d" "$T/node0.ini"
start_bg nocap ip netns exec "$N0" setpriv --bounding-set=-net_admin \
	--inh-caps=-net_admin "$FRONTD" -f -c "$T/node0.ini"
pid=$BG_PID
wait_for_file_line "$T/nocap.err" 'ready \(pid' 10 "$pid" || bail "no-cap daemon did not start"
sed -i "s/^\[global\]/[global]\nannounce = ${NODE_LO[0]}/" "$T/node0.ini"
kill -HUP "$pid"
wait_for_file_line "$T/nocap.err" 'reload: announce cannot be applied; keeping the old configuration' 5 &&
	grep -q 'needs CAP_NET_ADMIN' "$T/nocap.err" && kill -0 "$pid"
tap_check $? "announce without CAP_NET_ADMIN: a reload is refused, the old configuration runs on" "$T/nocap.err"
stop_pid "$pid"

tap_is "$(pm_state "$N0")" "$before0" "the refused daemon changed nothing"

tap_diag "set-up | connections | 2 subflows | 1 subflow | joins refused | aggregation | failover stall"
tap_diag "${TABLE[@]}"
tap_diag "runtime $((($(now_ms) - started) / 1000)) s"
