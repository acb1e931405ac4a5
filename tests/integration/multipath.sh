#!/bin/bash
# Multipath TCP over two real paths, end to end: a client namespace and a
# server namespace joined by two veth pairs (lib.sh mp_two_paths: path A
# 192.0.2.0/24 + 2001:db8:a::/64, path B 198.51.100.0/24 + 2001:db8:b::/64),
# mptcp-frontd and a real nginx (PROXY protocol, realip, files from $T/www)
# in the server namespace.  What it shows:
#  - two subflows: an MPTCP download (mptcpize curl) uses both paths; the
#    access log, /metrics and nginx's log say so and name the real client;
#  - fallback is counted: a plain TCP curl is served, logged and counted as
#    tcp;
#  - the TLV: ppecho.py behind the daemon sees PROXY v2 TLV 0xE0 "mptcp"
#    for an MPTCP client (data intact both ways over two subflows) and
#    "tcp" for a plain one;
#  - dual stack: through a [::]:0 listener, IPv4 first + an IPv6 subflow and
#    IPv6 first + an IPv4 subflow; nginx sees the first path's address.
# Failover, handover: multipath_failover.sh; aggregation: multipath_perf.sh.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

require_netns
require_mptcp
require_cmd tc curl mptcpize sha256sum
require_nginx
require_frontd

# Both paths shaped alike (downloads: server egress), so each transfer
# lasts long enough for a join and the scheduler has a reason to use both.
mp_shaped_paths 200mbit || bail "two shaped paths: setup failed"

mkdir -p "$T/www" || bail "mkdir"
head -c $((32 * 1024 * 1024)) /dev/urandom >"$T/www/32m.bin" ||
	bail "cannot write the download file"
SUM=$(sha256sum <"$T/www/32m.bin" | cut -d' ' -f1)
start_nginx_ns "$S" files.conf ROOT="$T/www" || bail "nginx did not start"
NGX_LOG=$NGINX_DIR/access.log
PPECHO_NS=$S start_ppecho pp --expect v2 || bail "ppecho did not start"
PP_LOG=$PPECHO_LOG

ACCESS=$T/access.log
conf=$(write_config frontd <<EOF
[global]
access_log = $ACCESS
stats = 127.0.0.1:0

[listener:web]
bind = [::]:0
mptcp = required
backend = unix:$NGINX_DIR/http.sock
proxy_protocol = v2

[listener:pp]
bind = [::]:0
mptcp = required
backend = $PPECHO_ADDR
proxy_protocol = v2
EOF
)
FRONTD_NS=$S start_frontd frontd "$conf" || bail "mptcp-frontd did not start"
WEB=$(port_of "$(frontd_addr web)") PP=$(port_of "$(frontd_addr pp)")
STATS=$(frontd_stats_addr)
[ -n "$WEB" ] && [ -n "$PP" ] || bail "no 'listening on' lines"
[ -n "$STATS" ] || bail "no 'stats: serving /metrics' line"

# access_line CLIENT: the access-log line of the connection from CLIENT (as
# the daemon writes it: "192.0.2.1:40000", "[2001:db8:a::1]:40000"),
# waiting up to 5 s for the connection to close.
access_line() {
	wait_for_file_line "$ACCESS" \
		" client=$(printf '%s' "$1" | sed 's/[]$*.^[]/\\&/g') " 5
	grep -F " client=$1 " "$ACCESS" | tail -n 1
}

# scrape NAME: /metrics, fetched inside the server namespace, in $T/NAME.
scrape() {
	ip netns exec "$S" curl -sf -o "$T/$1" "http://$STATS/metrics"
}

# curl_get NAME [mptcpize] URL: a download by curl in the client namespace
# (through mptcpize when asked: IPPROTO_MPTCP sockets via LD_PRELOAD) into
# $T/NAME.body; prints "LOCAL_IP LOCAL_PORT SECONDS" and returns curl's
# status.
curl_get() {
	local name=$1 wrap=()
	shift
	[ "$1" = mptcpize ] && { wrap=(mptcpize run); shift; }
	ip netns exec "$C" timeout -k 5 60 "${wrap[@]}" curl -sS -o "$T/$name.body" \
		-w '%{local_ip} %{local_port} %{time_total}\n' "$1" 2>"$T/$name.err"
}

# ---------------------------------------------------------------- two subflows
# The client's second path comes from its own endpoint (a phone adding its
# cellular address).  The in-kernel path manager joins from it to the
# address the connection started with (192.0.2.2); `dev` binds the join to
# cli_b, where a route lookup bound to a device with no route for the
# destination takes it as on-link, and the server answers ARP for any of
# its addresses: the join really crosses path B (the byte counters below).
ip -n "$C" mptcp endpoint add "$MP_CLI_B4" dev cli_b subflow ||
	bail "cannot add the client's path B endpoint"
a_tx0=$(mp_tx_bytes "$S" srv_a) b_tx0=$(mp_tx_bytes "$S" srv_b)
out=$(curl_get mp mptcpize "http://$MP_SRV_A4:$WEB/32m.bin")
rc=$?
tap_check $rc "mptcpize curl downloads 32 MiB through mptcp-frontd" "$T/mp.err"
read -r ip port secs <<<"$out"
tap_is "$(sha256sum <"$T/mp.body" | cut -d' ' -f1)" "$SUM" \
	"the MPTCP download is intact (sha256)"
tap_is "$ip" "$MP_CLI_A4" "curl's connection started on path A"
line=$(access_line "$MP_CLI_A4:$port")
tap_like "$line" "listener=web .* proto=mptcp subflows=2 .*end=" \
	"access log: proto=mptcp subflows=2" "$ACCESS"
tap_like "$(grep -F "pp=$MP_CLI_A4:$port " "$NGX_LOG")" \
	"remote=$MP_CLI_A4:$port request=\"GET /32m.bin HTTP/1.1\" status=200" \
	"nginx logs the client's real path-A address from the PROXY header" "$NGX_LOG"
a_tx=$(($(mp_tx_bytes "$S" srv_a) - a_tx0))
b_tx=$(($(mp_tx_bytes "$S" srv_b) - b_tx0))
tap_diag "32 MiB in ${secs}s; server sent $a_tx bytes on path A, $b_tx on path B"
[ "$a_tx" -ge $((32 * 1024 * 1024 / 5)) ] && [ "$b_tx" -ge $((32 * 1024 * 1024 / 5)) ]
tap_check $? "both paths carried at least a fifth of the download"

scrape metrics1
rc=$?
tap_check $rc "GET /metrics answers in the server namespace"
acc=$(metric "$T/metrics1" mptcp_frontd_connections_accepted_total listener=web proto=mptcp)
le1=$(metric "$T/metrics1" mptcp_frontd_subflows_bucket listener=web le=1)
le2=$(metric "$T/metrics1" mptcp_frontd_subflows_bucket listener=web le=2)
cnt=$(metric "$T/metrics1" mptcp_frontd_subflows_count listener=web)
max=$(metric "$T/metrics1" mptcp_frontd_subflows_max listener=web)
tap_diag "metrics: accepted mptcp=$acc subflows le=1:$le1 le=2:$le2 count=$cnt max=$max"
tap_is "$acc" 1 "/metrics: accepted_total{listener=web,proto=mptcp} is 1" "$T/metrics1"
tap_is "$le1/$le2/$cnt" 0/1/1 \
	"/metrics: subflows histogram has the connection in le=2, not le=1" "$T/metrics1"
tap_is "$max" 2 "/metrics: subflows_max{listener=web} is 2" "$T/metrics1"
down=$(metric "$T/metrics1" mptcp_frontd_bytes_relayed_total listener=web \
	direction=backend_to_client)
active=$(metric "$T/metrics1" mptcp_frontd_connections_active listener=web)
tap_diag "metrics: bytes backend_to_client=$down, active=$active"
[ "${down:-0}" -gt $((32 * 1024 * 1024)) ] && [ "$active" = 0 ]
tap_check $? "/metrics: the 32 MiB are counted as relayed, no connection active" \
	"$T/metrics1"
ip -n "$C" mptcp endpoint flush

# ---------------------------------------------------------------- fallback
# A client that never asks for MPTCP: the listener serves it as plain TCP.
out=$(curl_get tcp "http://$MP_SRV_A4:$WEB/32m.bin")
rc=$?
tap_check $rc "plain TCP curl downloads through the MPTCP listener" "$T/tcp.err"
read -r ip port secs <<<"$out"
tap_is "$(sha256sum <"$T/tcp.body" | cut -d' ' -f1)" "$SUM" \
	"the plain TCP download is intact (sha256)"
tap_like "$(access_line "$MP_CLI_A4:$port")" "listener=web .* proto=tcp .*end=" \
	"access log: the plain client is proto=tcp" "$ACCESS"
tap_like "$(grep -F "pp=$MP_CLI_A4:$port " "$NGX_LOG")" "status=200" \
	"nginx logs the plain client's real address" "$NGX_LOG"
scrape metrics2
acc_tcp=$(metric "$T/metrics2" mptcp_frontd_connections_accepted_total listener=web proto=tcp)
acc_mp=$(metric "$T/metrics2" mptcp_frontd_connections_accepted_total listener=web proto=mptcp)
cnt=$(metric "$T/metrics2" mptcp_frontd_subflows_count listener=web)
tap_diag "metrics: accepted tcp=$acc_tcp mptcp=$acc_mp, subflows_count=$cnt"
tap_is "$acc_tcp/$acc_mp" 1/1 \
	"/metrics: the fallback is counted as proto=tcp, MPTCP count unchanged" "$T/metrics2"
tap_is "$cnt" 1 "/metrics: the subflow histogram counts MPTCP connections only" \
	"$T/metrics2"

# ---------------------------------------------------------------- TLV
# ppecho decodes the PROXY v2 header: TLV 0xE0 says how the client came.
ip -n "$C" mptcp endpoint add "$MP_CLI_B4" dev cli_b subflow ||
	bail "cannot add the client's path B endpoint"
CLIENT_NS=$C client pp_mp --expect-mptcp "$MP_SRV_A4" "$PP" integrity \
	--mib 24 --rate 12
rc=$?
tap_check $rc "MPTCP client through ppecho: 24 MiB each way intact" "$T/pp_mp.err"
tap_is "$(client_report pp_mp mptcp-max)" "subflows=2" \
	"that connection used two subflows" "$T/pp_mp.err"
CL=$(client_report pp_mp local)
pp_match "$PP_LOG" "sport=$(port_of "$CL")" family=TCP4 src="$MP_CLI_A4" \
	dst="$MP_SRV_A4" dport="$PP" error=null
tap_check $? "PROXY v2 header names the first subflow's addresses"
tap_is "$(pp_custom_tlvs "$PP_LOG" "sport=$(port_of "$CL")")" 0xe0=6d70746370 \
	"PROXY v2 TLV 0xE0 = \"mptcp\" for the MPTCP client"
tap_like "$(access_line "$CL")" \
	'proto=mptcp subflows=2 bytes_in=25165824 bytes_out=25165824 .*end=client_close( |$)' \
	"access log: proto=mptcp subflows=2 and 24 MiB each way" "$ACCESS"
ip -n "$C" mptcp endpoint flush

CLIENT_NS=$C client pp_tcp "$MP_SRV_A4" "$PP" integrity --mib 1
rc=$?
tap_check $rc "plain TCP client through ppecho: 1 MiB each way intact" "$T/pp_tcp.err"
CL=$(client_report pp_tcp local)
tap_is "$(pp_custom_tlvs "$PP_LOG" "sport=$(port_of "$CL")")" 0xe0=746370 \
	"PROXY v2 TLV 0xE0 = \"tcp\" for the plain TCP client"

# ---------------------------------------------------------------- dual stack
# Mixing families needs an AF_INET6, non-v6only socket at both ends: the
# daemon's [::]:0 listener, and a client that reaches IPv4 as ::ffff:a.b.c.d
# (client.py does so when given that address).  How the second subflow is
# made, verified on 6.18: the in-kernel path manager pairs a client
# `subflow` endpoint only with the remote address of the first subflow and
# only within one family, so a v6 endpoint never joins a v4-first
# connection (one subflow; `fullmesh` neither: the only remote address it
# knows is the v4 one).  The server therefore announces (`signal`) its
# path-B address of the other family; the client accepts it
# (add_addr_accepted) and joins from its own path-B address of that family.
#
# dual_stack NAME FIRST_HOST SIGNAL_ADDR WANT_CLIENT JOIN_FAMILY JOIN_RX:
# download over an MPTCP connection to FIRST_HOST while the server signals
# SIGNAL_ADDR; WANT_CLIENT is the address the daemon and nginx must report
# (host only), JOIN_RX what the client's second subflow must look like.
dual_stack() {
	local name=$1 host=$2 sig=$3 want=$4 join_fam=$5 join_rx=$6 rc cl port logged
	ip -n "$S" mptcp endpoint flush
	ip -n "$S" mptcp endpoint add "$sig" dev srv_b signal ||
		{ tap_fail "$name: cannot add the server's signal endpoint"; return; }
	CLIENT_NS=$C client "$name" --expect-mptcp "$host" "$WEB" get /32m.bin
	rc=$?
	tap_check $rc "$name: MPTCP download over $host through [::]:0" "$T/$name.err"
	tap_is "$(client_report "$name" body)" "33554432 sha256 $SUM" \
		"$name: the download is intact" "$T/$name.err"
	tap_diag "$name: client saw" "$(grep '^subflow ' "$T/$name.err")"
	grep -Eq "^subflow $join_rx" "$T/$name.err"
	tap_check $? "$name: the client added an $join_fam subflow on path B" "$T/$name.err"
	cl=$(client_report "$name" local)
	port=$(port_of "$cl")
	case $want in
	*:*) logged="[$want]:$port" ;;
	*) logged="$want:$port" ;;
	esac
	tap_like "$(access_line "$logged")" "listener=web .* proto=mptcp subflows=2 " \
		"$name: access log: client=$want (first path) proto=mptcp subflows=2" "$ACCESS"
	tap_like "$(grep -F "pp=$want:$port " "$NGX_LOG")" "remote=$want:$port .*status=200" \
		"$name: nginx sees the first path's address $want" "$NGX_LOG"
}
dual_stack v4_then_v6 "::ffff:$MP_SRV_A4" "$MP_SRV_B6" "$MP_CLI_A4" IPv6 \
	"\[$MP_CLI_B6\]:[0-9]+>\[$MP_SRV_B6\]:$WEB\$"
dual_stack v6_then_v4 "$MP_SRV_A6" "$MP_SRV_B4" "$MP_CLI_A6" IPv4 \
	"$MP_CLI_B4:[0-9]+>$MP_SRV_B4:$WEB\$"
ip -n "$S" mptcp endpoint flush
