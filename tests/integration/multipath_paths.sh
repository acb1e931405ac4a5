#!/bin/bash
# The path record (src/mptcp/mptcp_paths*.c) against the kernel, over
# lib.sh mp_two_paths: tools/pathprobe accepts one connection in the server
# namespace, samples its record every 100 ms and takes the path-manager
# events of its token, as the daemon will; a pathprobe client downloads.
#  - two paths: a 128 MiB MPTCP download over two subflows; the per-path
#    SENT bytes add up to what was sent within 1%, and each path's share
#    matches its veth's transmit counter within 5 points;
#  - a cut: path B goes down mid-download (the server's srv_b, with
#    tcp_retries2 = 3 in the server namespace so the dead subflow times
#    out in seconds): the transfer completes on path A, and the dead
#    subflow stays in the record with its bytes and its close reason;
#  - how the client connected: a plain TCP client is `tcp`; a client whose
#    data segments lose their MPTCP option after an MP_CAPABLE handshake
#    (an nftables rule in the client namespace) makes the server fall back
#    (MPTcpExt DssFallback): `fallback`.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

require_netns
require_mptcp
require_cmd tc nft
PROBE=${top_builddir:-$TESTS_DIR/../..}/tests/tools/pathprobe
[ -x "$PROBE" ] || bail "test tool not built: $PROBE (make check builds it)"

mp_shaped_paths 200mbit || bail "two shaped paths: setup failed"

# probe NAME MIB [client args]: a server in S and a client in C; waits for
# both (bounded) and leaves the server's output in $T/NAME.srv.
probe_start() {
	local name=$1 mib=$2 port
	start_bg "$name.srv" ip netns exec "$S" "$PROBE" server "$MP_SRV_A4" 0 "$mib"
	SRV_PID=$BG_PID
	wait_for_file_line "$T/$name.srv.out" '^listening [0-9]+$' 10 "$SRV_PID" ||
		return 1
	port=$(sed -n 's/^listening //p' "$T/$name.srv.out")
	shift 2
	start_bg "$name.cli" ip netns exec "$C" timeout -k 5 100 "$PROBE" client \
		"$MP_SRV_A4" "$port" "$@"
	CLI_PID=$BG_PID
}
probe_wait() {
	wait_pid_exit "$SRV_PID" 110000 && wait "$SRV_PID"
	local rc=$?
	wait_pid_exit "$CLI_PID" 10000
	return $rc
}
# field NAME KEY: the value of "KEY=..." on the record lines of NAME.
field() {
	sed -n "s/^$2=//p" "$T/$1.srv.out" | tail -n 1
}
# path_line NAME CLIENT_IP: the "path" line of the subflow to CLIENT_IP.
# (The client's join goes to the address the connection started on,
# 192.0.2.2, through cli_b: a path is named by its client side.)
path_line() {
	grep -E "^path [0-9]+ .* remote=$2 " "$T/$1.srv.out" | head -n 1
}

# ---------------------------------------------------------------- two paths
ip -n "$C" mptcp endpoint add "$MP_CLI_B4" dev cli_b subflow ||
	bail "cannot add the client's path B endpoint"
a0=$(mp_tx_bytes "$S" srv_a) b0=$(mp_tx_bytes "$S" srv_b)
probe_start two 128 || bail "pathprobe server did not start"
probe_wait
tap_check $? "two paths: 128 MiB sent over MPTCP" "$T/two.srv.out" "$T/two.srv.err"
a=$(($(mp_tx_bytes "$S" srv_a) - a0)) b=$(($(mp_tx_bytes "$S" srv_b) - b0))
tap_diag_file "$T/two.srv.out"
tap_is "$(field two how)" mptcp "two paths: classified mptcp"
tap_is "$(field two joins)" 1 "two paths: joins=1"
grep -q '^events=off' "$T/two.srv.out"
tap_check $((!$?)) "two paths: the event group was joined"
[ "$(field two events)" -ge 2 ] 2>/dev/null
tap_check $? "two paths: events of the connection's token were merged"
pa=$(path_line two "$MP_CLI_A4") pb=$(path_line two "$MP_CLI_B4")
sa=$(kv "$pa" acked) sb=$(kv "$pb" acked) out=$(field two bytes_out)
tap_diag "path A acked=$sa iface=$a; path B acked=$sb iface=$b; bytes_out=$out"
sum_ok=$(awk -v x="${sa:-0}" -v y="${sb:-0}" -v o="${out:-0}" 'BEGIN {
	d = (x + y - o) / o * 100; if (d < 0) d = -d
	printf "%.3f %d\n", d, d <= 1 }')
tap_diag "per-path SENT sum vs bytes_out: ${sum_ok% *}% off"
tap_is "${sum_ok#* }" 1 "two paths: per-path SENT adds up to bytes_out within 1%"
share=$(awk -v x="${sa:-0}" -v y="${sb:-0}" -v ia="$a" -v ib="$b" 'BEGIN {
	s = x / (x + y) * 100; i = ia / (ia + ib) * 100; d = s - i; if (d < 0) d = -d
	printf "%.2f %.2f %.2f %d\n", s, i, d, d <= 5 }')
read -r s_rec s_if s_d s_ok <<<"$share"
tap_diag "path A share: record $s_rec%, srv_a counter $s_if% (difference $s_d points)"
tap_is "$s_ok" 1 "two paths: each path's share matches its interface counter within 5%"
[ "${sa:-0}" -gt $((128 * 1048576 / 5)) ] && [ "${sb:-0}" -gt $((128 * 1048576 / 5)) ]
tap_check $? "two paths: both subflows carried at least a fifth"
tap_like "$(field two paths)" \
	"^$MP_SRV_A4:[0-9]+>$MP_CLI_A4:[0-9]+:[0-9]+/[0-9]+,$MP_SRV_A4:[0-9]+>$MP_CLI_B4:[0-9]+:[0-9]+/[0-9]+$" \
	"two paths: paths= lists both subflows LOCAL>REMOTE:SENT/RECEIVED"
tap_like "$pa" "end=up_at_end .*precision=(events\+)?full_info\+final" \
	"two paths: the first subflow is up at the end, final FULL_INFO figures"
tap_like "$pb" "end=up_at_end .*precision=events\+full_info\+final" \
	"two paths: the join's times come from its event"
"$PYTHON" -c 'import json, sys; a = json.loads(sys.argv[1]); assert len(a) == 2 and all(
	k in a[1] for k in ("id", "local", "remote", "established_ms", "closed_ms", "end",
	"bytes_sent", "bytes_acked", "bytes_received", "srtt_us", "cwnd", "retrans", "precision"))' \
	"$(field two json)"
tap_check $? "two paths: the JSON array parses and has every field"

# ---------------------------------------------------------------- a cut
ip netns exec "$S" sysctl -q -w net.ipv4.tcp_retries2=3 || bail "sysctl tcp_retries2"
probe_start cut 128 || bail "pathprobe server did not start"
wait_for_file_line "$T/cut.srv.out" '^progress ([4-9][0-9]|[1-9][0-9][0-9])[0-9]{6}$' 30 "$SRV_PID"
tap_check $? "cut: the download passes 40 MB" "$T/cut.srv.out"
ip -n "$S" link set srv_b down
tap_check $? "cut: path B taken down (srv_b) mid-download"
probe_wait
tap_check $? "cut: the whole 128 MiB still reached the client" "$T/cut.srv.out" "$T/cut.srv.err"
tap_diag_file "$T/cut.srv.out"
pb=$(path_line cut "$MP_CLI_B4")
tap_like "$pb" "acked=[1-9][0-9]* end=(error|reset|gone) " \
	"cut: the dead subflow stays in the record with its bytes and a close reason"
tap_like "$pb" "closed_ms=[0-9]+ precision=.*(events|last_sample)" \
	"cut: its close time and precision are recorded"
tap_is "$(field cut joins)" 1 "cut: joins counts the join"
ip -n "$S" link set srv_b up
ip -n "$C" mptcp endpoint flush

# ---------------------------------------------------------------- tcp
probe_start tcp 1 tcp || bail "pathprobe server did not start"
probe_wait
tap_check $? "tcp: a plain TCP client is served" "$T/tcp.srv.out"
tap_is "$(field tcp how)" tcp "tcp: a client that did not ask is classified tcp"
tap_like "$(field tcp paths)" "^$MP_SRV_A4:[0-9]+>$MP_CLI_A4:[0-9]+:10485(76|77)/6553[67]$" \
	"tcp: one path, from TCP_INFO"

# ---------------------------------------------------------------- fallback
# The handshake keeps its MPTCP options (MP_CAPABLE is negotiated); every
# client segment with data loses them, so the server sees data without a
# DSS mapping and falls back to TCP (MPTcpExt DssFallback).
ip netns exec "$C" nft -f - <<EOF2 || bail "nft rule"
table inet frontd_strip {
	chain out {
		type filter hook output priority 0;
		tcp flags & syn == 0 ip length > 100 reset tcp option mptcp
	}
}
EOF2
probe_start fallback 1 || bail "pathprobe server did not start"
probe_wait
tap_check $? "fallback: the client is served" "$T/fallback.srv.out"
tap_diag_file "$T/fallback.srv.out"
# The fallback can come before accept() or after it, as the request races
# the accept: either way MP_CAPABLE was negotiated and the end is the same.
tap_diag "fallback: at accept: $(sed -n 's/^accepted //p' "$T/fallback.srv.out")"
tap_is "$(field fallback how)" fallback "fallback: classified fallback"
fb=$(ip netns exec "$S" nstat -az 2>/dev/null | awk 'tolower($1) == "mptcpextdssfallback" { print $2 }')
tap_diag "server MPTcpExtDssFallback=$fb"
tap_is "$fb" 1 "fallback: the kernel counted the fallback (MPTcpExtDssFallback)"
# Not checked: the bytes.  TCP_INFO on the fallen-back socket reads zeros
# once the client has closed (6.18), and this 1 MiB ends between two ticks.
tap_diag "fallback: paths=$(field fallback paths)"
ip netns exec "$C" nft delete table inet frontd_strip
