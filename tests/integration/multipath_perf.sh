#!/bin/bash
# Aggregation: with both paths of lib.sh mp_two_paths limited by tbf to the
# same rate, an MPTCP download through mptcp-frontd (two subflows, one per
# path) must be at least 1.6x as fast as a plain TCP download through it
# (one path).  Both figures and the ratio are printed.  Budget: about 15 s
# of transfers (RATE and SIZE below), under 60 s in all.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

require_netns
require_mptcp
require_cmd tc sha256sum
require_nginx
require_frontd

RATE_MBIT=40            # per path, each direction
SIZE_MIB=32             # ~7 s over one path, ~3.5 s over two
MIN_RATIO=1.6
started=$(now_ms)

mp_two_paths || bail "two-path namespace setup failed"
C=$MP_CNS S=$MP_SNS
# Every egress on both paths: data one way, ACKs the other.
for nd in "$S srv_a" "$S srv_b" "$C cli_a" "$C cli_b"; do
	# shellcheck disable=SC2086
	mp_shape $nd "${RATE_MBIT}mbit" || bail "tc tbf on $nd failed"
done

mkdir -p "$T/www" || bail "mkdir"
head -c $((SIZE_MIB * 1024 * 1024)) /dev/urandom >"$T/www/file.bin" ||
	bail "cannot write the download file"
SUM=$(sha256sum <"$T/www/file.bin" | cut -d' ' -f1)
start_nginx_ns "$S" files.conf ROOT="$T/www" || bail "nginx did not start"

ACCESS=$T/access.log
conf=$(write_config frontd <<EOF
[global]
access_log = $ACCESS

[listener:web]
bind = 0.0.0.0:0
mptcp = required
backend = unix:$NGINX_DIR/http.sock
proxy_protocol = v2
EOF
)
FRONTD_NS=$S start_frontd frontd "$conf" || bail "mptcp-frontd did not start"
PORT=$(port_of "$(frontd_addr web)")
[ -n "$PORT" ] || bail "no 'listening on' line"
ip -n "$C" mptcp endpoint add "$MP_CLI_B4" dev cli_b subflow ||
	bail "cannot add the client's path B endpoint"

# download NAME CLIENT_ARGS...: GET the file, check it, print its rate.
download() {
	local name=$1 rc
	shift
	CLIENT_NS=$C CLIENT_TIMEOUT=40 client "$name" "$@" "$MP_SRV_A4" "$PORT" \
		get /file.bin
	rc=$?
	tap_check $rc "$name: $SIZE_MIB MiB download through mptcp-frontd" "$T/$name.err"
	tap_is "$(client_report "$name" body)" "$((SIZE_MIB * 1024 * 1024)) sha256 $SUM" \
		"$name: the download is intact" "$T/$name.err"
}

# Plain TCP first: it rides path A alone (no MPTCP, no second subflow).
download tcp
download mptcp --expect-mptcp
tap_is "$(client_report mptcp mptcp-max)" subflows=2 \
	"mptcp: the connection had two subflows" "$T/mptcp.err"
tap_like "$(grep -F " client=$(client_report mptcp local) " "$ACCESS")" \
	'proto=mptcp subflows=2 ' "access log: proto=mptcp subflows=2" "$ACCESS"

tcp_rate=$(client_report tcp rate-mbit) mp_rate=$(client_report mptcp rate-mbit)
ratio=$(awk -v a="${mp_rate:-0}" -v b="${tcp_rate:-0}" \
	'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')
tap_diag "paths limited to $RATE_MBIT Mbit/s each" \
	"plain TCP (one path): $tcp_rate Mbit/s in $(client_report tcp elapsed-ms) ms" \
	"MPTCP (two subflows): $mp_rate Mbit/s in $(client_report mptcp elapsed-ms) ms" \
	"ratio: $ratio (want >= $MIN_RATIO)"
awk -v r="$ratio" -v m="$MIN_RATIO" 'BEGIN { exit !(r >= m) }'
tap_check $? "MPTCP over two paths is at least ${MIN_RATIO}x as fast as TCP over one"
tap_diag "runtime $((($(now_ms) - started) / 1000)) s"
