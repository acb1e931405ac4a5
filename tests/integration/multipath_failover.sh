#!/bin/bash
# Losing a path mid-download, over lib.sh mp_two_paths with nginx behind
# mptcp-frontd in the server namespace:
#  - failover: a 256 MiB MPTCP download over both paths survives path A
#    going down (the client's cli_a set down) mid-transfer, intact; the
#    client measures the stall (longest wait between two reads);
#  - handover: a download that starts on path A alone gains path B when the
#    client adds its endpoint, then loses path A, and completes intact:
#    the phone walking out of Wi-Fi.
# Both paths are limited by tbf so each transfer lasts seconds and the cut
# lands mid-way; every wait is a bounded poll on the client's progress.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

require_netns
require_mptcp
require_cmd tc sha256sum
require_nginx
require_frontd

RATE=150mbit            # per path, server egress: ~18 MiB/s each
MIB=$((1024 * 1024))
started=$(now_ms)

mp_shaped_paths "$RATE" || bail "two shaped paths: setup failed"

mkdir -p "$T/www" || bail "mkdir"
head -c $((256 * MIB)) /dev/urandom >"$T/www/256m.bin" ||
	bail "cannot write the download file"
head -c $((96 * MIB)) "$T/www/256m.bin" >"$T/www/96m.bin" ||
	bail "cannot write the download file"
SUM256=$(sha256sum <"$T/www/256m.bin" | cut -d' ' -f1)
SUM96=$(sha256sum <"$T/www/96m.bin" | cut -d' ' -f1)
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

# start_download NAME MIB: client.py GET /MIBm.bin over MPTCP in the
# background, progress in $T/NAME.progress, waits of 10 ms or more in
# $T/NAME.stalls, report in $T/NAME.err; CL_PID.
start_download() {
	start_bg "$1" ip netns exec "$C" timeout -k 5 60 "$PYTHON" \
		"$TOOLS/client.py" --expect-mptcp "$MP_SRV_A4" "$PORT" \
		get "/$2m.bin" --progress "$T/$1.progress" --stalls "$T/$1.stalls"
	CL_PID=$BG_PID
}

# finish_download NAME MIB SUM: wait (bounded) for the client; check it got
# the file whole.
finish_download() {
	local name=$1 mib=$2 sum=$3 rc
	wait_pid_exit "$CL_PID" 60000
	wait "$CL_PID"
	rc=$?
	tap_check $rc "$name: the download completes" "$T/$name.err"
	tap_is "$(client_report "$name" body)" "$((mib * MIB)) sha256 $sum" \
		"$name: $mib MiB received intact (sha256)" "$T/$name.err"
}

# tx NS: "A B" bytes the server sent on each path so far.
tx() {
	echo "$(mp_tx_bytes "$S" srv_a) $(mp_tx_bytes "$S" srv_b)"
}

# ---------------------------------------------------------------- failover
ip -n "$C" mptcp endpoint add "$MP_CLI_B4" dev cli_b subflow ||
	bail "cannot add the client's path B endpoint"
start_download failover 256
wait_for_subflows "$T/failover.progress" 2 10 "$CL_PID"
tap_check $? "failover: the connection gains its second subflow" \
	"$T/failover.progress" "$T/failover.err"
wait_for_progress "$T/failover.progress" $((64 * MIB)) 30 "$CL_PID"
rc=$?
tap_check $rc "failover: 64 MiB received with both paths up" "$T/failover.err"
read -r a0 b0 <<<"$(tx)"
cut=$(tail -n 1 "$T/failover.progress")
ip -n "$C" link set cli_a down
tap_check $? "failover: path A taken down (cli_a) mid-transfer"
tap_diag "failover: cut at '$cut' (client ms, bytes, subflows)"
finish_download failover 256 "$SUM256"
read -r a1 b1 <<<"$(tx)"
read -r cut_ms cut_bytes _ <<<"$cut"
tap_diag "failover: 256 MiB in $(client_report failover elapsed-ms) ms;" \
	"  path A cut at $cut_ms ms, byte $cut_bytes;" \
	"  stall after the cut: $(stall_after failover "$cut_ms");" \
	"  longest stall of the whole transfer: $(client_report failover stall-max-ms);" \
	"  after the cut the server sent $((a1 - a0)) bytes on path A, $((b1 - b0)) on path B"
# Everything still missing at the cut went over path B (with headers).
[ "$((b1 - b0))" -ge $((256 * MIB - cut_bytes)) ]
tap_check $? "failover: path B carried the rest of the download"
line=$(grep -F " client=$(client_report failover local) " "$ACCESS")
tap_like "$line" "proto=mptcp subflows=2 " \
	"failover: access log: proto=mptcp subflows=2" "$ACCESS"
# bytes_out: the body and nginx's response header.
out=$(kv "$line" bytes_out)
[ "${out:-0}" -gt $((256 * MIB)) ] && [ "$out" -lt $((256 * MIB + 4096)) ]
tap_check $? "failover: access log: bytes_out is the whole response" "$ACCESS"
tap_diag "failover: access log bytes_out=$out"

# ---------------------------------------------------------------- handover
# Path A back, no client endpoint: the connection starts with one subflow.
# Adding a `subflow` endpoint makes the in-kernel path manager open a
# subflow from it on every existing connection with room under the limits
# (verified on 6.18: no `fullmesh`, no new connection needed).
ip -n "$C" mptcp endpoint flush
link_up "$C" cli_a && link_up "$S" srv_a || bail "cannot bring path A back up"
start_download handover 96
wait_for_progress "$T/handover.progress" $((24 * MIB)) 30 "$CL_PID"
rc=$?
tap_check $rc "handover: 24 MiB received over path A alone" "$T/handover.err"
before=$(tail -n 1 "$T/handover.progress")
tap_is "$(echo "$before" | cut -d' ' -f3)" 1 \
	"handover: one subflow until the client gains path B" "$T/handover.progress"
ip -n "$C" mptcp endpoint add "$MP_CLI_B4" dev cli_b subflow
tap_check $? "handover: the client adds its path B endpoint mid-transfer"
wait_for_subflows "$T/handover.progress" 2 10 "$CL_PID"
tap_check $? "handover: the existing connection gains a subflow on path B" \
	"$T/handover.progress" "$T/handover.err"
read -r a0 b0 <<<"$(tx)"
cut=$(tail -n 1 "$T/handover.progress")
ip -n "$C" link set cli_a down
tap_check $? "handover: path A taken down (cli_a) once path B joined"
finish_download handover 96 "$SUM96"
read -r a1 b1 <<<"$(tx)"
read -r cut_ms cut_bytes _ <<<"$cut"
tap_diag "handover: 96 MiB in $(client_report handover elapsed-ms) ms;" \
	"  endpoint added at '$before', second subflow seen at '$cut' (ms bytes subflows);" \
	"  path A cut then; stall after the cut: $(stall_after handover "$cut_ms");" \
	"  longest stall of the whole transfer: $(client_report handover stall-max-ms);" \
	"  after the cut the server sent $((a1 - a0)) bytes on path A, $((b1 - b0)) on path B"
[ "$((b1 - b0))" -ge $((96 * MIB - cut_bytes)) ]
tap_check $? "handover: path B carried the rest of the download"
grep -Eq "^subflow $MP_CLI_B4:[0-9]+>" "$T/handover.err"
tap_check $? "handover: the client's second subflow left from $MP_CLI_B4" "$T/handover.err"
tap_like "$(grep -F " client=$(client_report handover local) " "$ACCESS")" \
	"proto=mptcp subflows=2 " "handover: access log: proto=mptcp subflows=2" "$ACCESS"
tap_diag "runtime $((($(now_ms) - started) / 1000)) s"
