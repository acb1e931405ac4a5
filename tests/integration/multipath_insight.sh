#!/bin/bash
# The path record of the real daemon (conn_paths.c) in its access log and
# /metrics, over lib.sh mp_two_paths with nginx behind it:
#  - two paths: a 256 MiB MPTCP download (mptcpize curl) whose client adds
#    a path-B subflow; the key=value line's per-path SENT bytes (paths=)
#    add up to bytes_out within 1%, each path's share matches its veth's
#    transmit counter within 5 points, joins=1, how=mptcp, local= and
#    port= name the address and port the client reached;
#  - access_log_format = json (a reload switches it): every line parses
#    with python's json module, every field has its type;
#  - a cut: path B goes down mid-download (tcp_retries2 = 3 in the server
#    namespace): the dead subflow stays in the JSON record with its bytes
#    and a close reason, and joins counts every join the record holds;
#  - how the client connected, in the log and in /metrics: a plain TCP
#    curl is `tcp`; an MPTCP curl whose data segments lose their MPTCP
#    option after the handshake (nftables in the client namespace) is
#    `fallback`.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

require_netns
require_mptcp
require_cmd tc nft curl mptcpize
require_nginx
require_frontd

mp_shaped_paths 200mbit || bail "two shaped paths: setup failed"

mkdir -p "$T/www" || bail "mkdir"
head -c $((256 * 1024 * 1024)) /dev/zero >"$T/www/256m.bin" &&
	head -c $((1024 * 1024)) /dev/zero >"$T/www/1m.bin" ||
	bail "cannot write the download files"
start_nginx_ns "$S" files.conf ROOT="$T/www" || bail "nginx did not start"

ACCESS=$T/access.log
# frontd_conf FORMAT: the daemon's configuration with that access log format.
frontd_conf() {
	cat >"$T/frontd.ini" <<EOF
[global]
access_log = $ACCESS
access_log_format = $1
stats = 127.0.0.1:0

[listener:web]
bind = [::]:0
mptcp = required
backend = unix:$NGINX_DIR/http.sock
proxy_protocol = v2
EOF
}
frontd_conf kv
FRONTD_NS=$S start_frontd frontd "$T/frontd.ini" || bail "mptcp-frontd did not start"
WEB=$(port_of "$(frontd_addr web)") STATS=$(frontd_stats_addr)
[ -n "$WEB" ] && [ -n "$STATS" ] || bail "no 'listening on' or stats line"

# access_line CLIENT: the access line of CLIENT ("IP:PORT"), key=value or
# JSON, waiting up to 5 s for the connection to close.
access_line() {
	wait_for_file_line "$ACCESS" "\"?client\"?[=:]\"?$1[\" ]" 5
	grep -E "\"?client\"?[=:]\"?$1[\" ]" "$ACCESS" | tail -n 1
}
# curl_get NAME [mptcpize] URL: a download in the client namespace; prints
# "LOCAL_IP LOCAL_PORT" and returns curl's status.
curl_get() {
	local name=$1 wrap=()
	shift
	[ "$1" = mptcpize ] && { wrap=(mptcpize run); shift; }
	ip netns exec "$C" timeout -k 5 100 "${wrap[@]}" curl -sS -o /dev/null \
		-w '%{local_ip} %{local_port}\n' "$1" 2>"$T/$name.err"
}

# ---------------------------------------------------------------- two paths
ip -n "$C" mptcp endpoint add "$MP_CLI_B4" dev cli_b subflow ||
	bail "cannot add the client's path B endpoint"
a0=$(mp_tx_bytes "$S" srv_a) b0=$(mp_tx_bytes "$S" srv_b)
out=$(curl_get two mptcpize "http://$MP_SRV_A4:$WEB/256m.bin")
tap_check $? "two paths: 256 MiB downloaded through the daemon" "$T/two.err"
a=$(($(mp_tx_bytes "$S" srv_a) - a0)) b=$(($(mp_tx_bytes "$S" srv_b) - b0))
read -r _ port <<<"$out"
line=$(access_line "$MP_CLI_A4:$port")
tap_diag "kv line: $line"
tap_like "$line" " proto=mptcp subflows=2 .* end=client_close local=$MP_SRV_A4:$WEB port=$WEB how=mptcp joins=1 paths=" \
	"two paths: the kv line keeps its fields and ends with local= port= how= joins= paths=" "$ACCESS"
paths=$(kv "$line" paths) out_b=$(kv "$line" bytes_out)
tap_like "$paths" \
	"^$MP_SRV_A4:$WEB>$MP_CLI_A4:$port:[0-9]+/[0-9]+,$MP_SRV_A4:$WEB>$MP_CLI_B4:[0-9]+:[0-9]+/[0-9]+$" \
	"two paths: paths= has both subflows LOCAL>REMOTE:SENT/RECEIVED"
sa=$(printf '%s\n' "$paths" | tr ',' '\n' | grep -F ">$MP_CLI_A4:" | sed 's/.*:\([0-9]*\)\/[0-9]*$/\1/')
sb=$(printf '%s\n' "$paths" | tr ',' '\n' | grep -F ">$MP_CLI_B4:" | sed 's/.*:\([0-9]*\)\/[0-9]*$/\1/')
tap_diag "path A sent=$sa (srv_a tx $a), path B sent=$sb (srv_b tx $b), bytes_out=$out_b"
read -r d_sum ok_sum <<<"$(awk -v x="${sa:-0}" -v y="${sb:-0}" -v o="${out_b:-1}" 'BEGIN {
	d = (x + y - o) / o * 100; if (d < 0) d = -d; printf "%.3f %d\n", d, d <= 1 }')"
tap_diag "per-path SENT sum vs bytes_out: $d_sum% off"
tap_is "$ok_sum" 1 "two paths: per-path SENT adds up to bytes_out within 1%"
read -r s_rec s_if ok_share <<<"$(awk -v x="${sa:-0}" -v y="${sb:-0}" -v ia="$a" -v ib="$b" 'BEGIN {
	if (x + y == 0 || ia + ib == 0) { print "0 0 0"; exit }
	s = x / (x + y) * 100; i = ia / (ia + ib) * 100; d = s - i; if (d < 0) d = -d
	printf "%.2f %.2f %d\n", s, i, d <= 5 }')"
tap_diag "path A share: access log $s_rec%, srv_a counter $s_if%"
tap_is "$ok_share" 1 "two paths: each path's share matches its interface counter within 5 points"
[ "${sb:-0}" -gt $((256 * 1048576 / 5)) ]
tap_check $? "two paths: path B carried at least a fifth"

# ---------------------------------------------------------------- JSON
frontd_conf json
kill -HUP "$FRONTD_PID"
wait_for_file_line "$FRONTD_LOG" 'configuration generation 2 active' 10 "$FRONTD_PID"
tap_check $? "a reload switches the access log to JSON" "$FRONTD_LOG"

# check_json LINE PY: LINE parses as one JSON object with every field
# typed; PY (a python expression over `o`) holds.
check_json() {
	"$PYTHON" - "$1" "$2" <<'PY'
import json, sys
o = json.loads(sys.argv[1])
types = {"time": str, "listener": str, "client": str, "local": str,
         "port": int, "backend": (str, type(None)), "proto": str, "how": str,
         "subflows_seen": int, "joins": int, "bytes_in": int,
         "bytes_out": int, "subflows": (list, type(None)),
         "duration_ms": int, "end": str, "tls": (str, type(None)),
         "tls_resumed": (bool, type(None))}
sub = {"id": int, "local": str, "remote": str,
       "established_ms": (int, type(None)), "closed_ms": (int, type(None)),
       "end": str, "error": int, "reset_reason": (int, type(None)),
       "backup": (bool, type(None)), "bytes_sent": int, "bytes_acked": int,
       "bytes_retrans": int, "bytes_received": int, "srtt_us": int,
       "cwnd": int, "retrans": int, "precision": str}
for k, t in types.items():
    assert k in o and isinstance(o[k], t) and not (t is int and isinstance(o[k], bool)), (k, o.get(k))
for s in o["subflows"] or []:
    for k, t in sub.items():
        assert k in s and isinstance(s[k], t), (k, s.get(k))
assert eval(sys.argv[2]), sys.argv[2]
PY
}

# ---------------------------------------------------------------- a cut
ip netns exec "$S" sysctl -q -w net.ipv4.tcp_retries2=3 || bail "sysctl tcp_retries2"
a0=$(mp_tx_bytes "$S" srv_a) b0=$(mp_tx_bytes "$S" srv_b)
ip netns exec "$C" timeout -k 5 100 mptcpize run curl -sS -o /dev/null \
	-w '%{local_ip} %{local_port}\n' "http://$MP_SRV_A4:$WEB/256m.bin" \
	>"$T/cut.out" 2>"$T/cut.err" &
CUT_PID=$!
cut_ok=1
for _ in $(seq 1 500); do
	[ $(($(mp_tx_bytes "$S" srv_b) - b0)) -ge $((24 * 1048576)) ] && { cut_ok=0; break; }
	kill -0 "$CUT_PID" 2>/dev/null || break
	sleep 0.02
done
tap_check $cut_ok "cut: path B carried 24 MiB of the download"
ip -n "$S" link set srv_b down
tap_check $? "cut: path B taken down (srv_b) mid-download"
wait "$CUT_PID"
tap_check $? "cut: the whole 256 MiB still reached the client" "$T/cut.err"
read -r _ port <"$T/cut.out"
line=$(access_line "$MP_CLI_A4:$port")
tap_diag "JSON line: $line"
check_json "$line" '(o["how"] == "mptcp" and o["joins"] >= 1 and
	o["joins"] == len(o["subflows"]) - 1 and
	any(s["remote"].startswith("198.51.100.1:") and s["bytes_acked"] > 0 and
	    s["end"] in ("error", "reset", "gone") and s["closed_ms"] is not None
	    for s in o["subflows"]))'
tap_check $? "cut: JSON parses, every field typed; the dead subflow keeps its bytes and a close reason; joins counts every join" "$ACCESS"
ip -n "$S" link set srv_b up
ip netns exec "$S" sysctl -q -w net.ipv4.tcp_retries2=15
ip -n "$C" mptcp endpoint flush

# ---------------------------------------------------------------- tcp
out=$(curl_get tcp "http://$MP_SRV_A4:$WEB/1m.bin")
tap_check $? "tcp: a plain TCP client is served" "$T/tcp.err"
read -r _ port <<<"$out"
line=$(access_line "$MP_CLI_A4:$port")
check_json "$line" 'o["how"] == "tcp" and o["proto"] == "tcp" and o["joins"] == 0 and o["subflows"] is None'
tap_check $? "tcp: logged how=tcp, no path record" "$ACCESS"

# ---------------------------------------------------------------- fallback
ip netns exec "$C" nft -f - <<EOF2 || bail "nft rule"
table inet frontd_strip {
	chain out {
		type filter hook output priority 0;
		tcp flags & syn == 0 ip length > 100 reset tcp option mptcp
	}
}
EOF2
out=$(curl_get fallback mptcpize "http://$MP_SRV_A4:$WEB/1m.bin")
tap_check $? "fallback: the client is served" "$T/fallback.err"
ip netns exec "$C" nft delete table inet frontd_strip
read -r _ port <<<"$out"
line=$(access_line "$MP_CLI_A4:$port")
tap_diag "JSON line: $line"
check_json "$line" 'o["how"] == "fallback" and o["joins"] == 0'
tap_check $? "fallback: logged how=fallback" "$ACCESS"

# ---------------------------------------------------------------- metrics
ip netns exec "$S" curl -sf -o "$T/metrics" "http://$STATS/metrics"
tap_check $? "/metrics answers" 
for h in mptcp tcp fallback; do
	want=1; [ "$h" = mptcp ] && want=2
	[ "$(metric "$T/metrics" mptcp_frontd_connections_total listener=web how=$h)" -ge "$want" ] 2>/dev/null
	tap_check $? "metrics: connections_total{how=\"$h\"} counts it" "$T/metrics"
done
[ "$(metric "$T/metrics" mptcp_frontd_subflow_joins_total listener=web)" -ge 2 ] 2>/dev/null
tap_check $? "metrics: subflow_joins_total counts both joins" "$T/metrics"
dead=0
for r in error reset gone; do
	n=$(metric "$T/metrics" mptcp_frontd_subflows_closed_total listener=web reason=$r)
	dead=$((dead + ${n:-0}))
done
[ "$dead" -ge 1 ]
tap_check $? "metrics: the dead subflow is in subflows_closed_total by reason" "$T/metrics"
[ "$(metric "$T/metrics" mptcp_frontd_path_bytes_total listener=web family=ipv4 direction=to_client)" -ge $((512 * 1048576)) ] 2>/dev/null
tap_check $? "metrics: path_bytes_total{family=\"ipv4\"} has both downloads" "$T/metrics"
! grep -E '^mptcp_frontd_(subflows_closed|path_bytes|connections)_total\{[^}]*(192\.0\.2|198\.51)' "$T/metrics" >/dev/null
tap_check $? "metrics: no address in any label"
tap_done
