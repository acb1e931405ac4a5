#!/bin/bash
# Data integrity through the daemon, with ppecho.py as the backend checking
# the PROXY header (v2 on one listener, v1 on another) and echoing:
# 64 MiB each way over MPTCP, plain TCP, client half-close, a client reset
# mid-transfer, and the access log's byte counts and end reasons.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

require_mptcp
require_frontd

start_ppecho pp2 --expect v2 || bail "ppecho (v2) did not start"
PP2_LOG=$PPECHO_LOG PP2_ADDR=$PPECHO_ADDR
start_ppecho pp1 --expect v1 || bail "ppecho (v1) did not start"
PP1_LOG=$PPECHO_LOG PP1_ADDR=$PPECHO_ADDR

ACCESS=$T/access.log
conf=$(write_config frontd <<EOF
[global]
log_level = info
access_log = $ACCESS

[listener:v2]
bind = 127.0.0.1:0
mptcp = on
backend = $PP2_ADDR
proxy_protocol = v2

[listener:v1]
bind = 127.0.0.1:0
mptcp = on
backend = $PP1_ADDR
proxy_protocol = v1

[listener:dual]
bind = [::]:0
backend = $PP2_ADDR
proxy_protocol = v2

[listener:idle]
bind = 127.0.0.1:0
backend = $PP2_ADDR
proxy_protocol = v2
idle_timeout = 500ms
EOF
)
start_frontd frontd "$conf" || bail "mptcp-frontd did not start"
V2=$(frontd_addr v2) V1=$(frontd_addr v1)
if [ -z "$V2" ] || [ -z "$V1" ]; then
	bail "no 'listening on' lines for v2/v1"
fi
tap_like "$(grep 'listener v2: listening on' "$FRONTD_LOG")" '\(mptcp\)$' \
	"listener with mptcp = on reports (mptcp) when the kernel allows it"

# access_line NAME: the access log line of client NAME's connection (found
# by its local address), waiting up to 5 s for the daemon to write it.
access_line() {
	local local_addr
	local_addr=$(client_report "$1" local)
	wait_for_file_line "$ACCESS" " client=$local_addr " 5 >/dev/null
	grep -F " client=$local_addr " "$ACCESS" | tail -n 1
}

# --- 64 MiB each way, MPTCP, PROXY v2
client big --mptcp --expect-mptcp "$(host_of "$V2")" "$(port_of "$V2")" \
	integrity --mib 64
rc=$?
tap_check $rc "MPTCP client: 64 MiB each way through the daemon, sha256 equal both ways" \
	"$T/big.err"
CL=$(client_report big local)

pp_match "$PP2_LOG" "sport=$(port_of "$CL")" version=2 command=PROXY \
	family=TCP4 src="$(host_of "$CL")" dst="$(host_of "$V2")" \
	dport="$(port_of "$V2")" error=null
tap_check $? "v2 header: PROXY TCP4, src = client's address and port, dst = listener address"
# mptcp-frontd(8): one TLV, type 0xE0, value "mptcp" or "tcp" (ASCII).
tap_is "$(pp_custom_tlvs "$PP2_LOG" "sport=$(port_of "$CL")")" 0xe0=6d70746370 \
	"v2 header carries TLV 0xE0 = \"mptcp\" for an MPTCP client"

line=$(access_line big)
tap_like "$line" "listener=v2 client=$CL backend=$PP2_ADDR proto=mptcp subflows=[0-9]+ bytes_in=67108864 bytes_out=67108864 duration_ms=[0-9]+ end=client_close( |\$)" \
	"access log: proto=mptcp, bytes_in = bytes_out = 64 MiB, end=client_close" "$ACCESS"

# --- plain TCP client on the same MPTCP listener
client tcp "$(host_of "$V2")" "$(port_of "$V2")" integrity --mib 8 --seed 2
rc=$?
tap_check $rc "plain TCP client on an MPTCP listener: 8 MiB each way intact" "$T/tcp.err"
CL=$(client_report tcp local)
tap_is "$(pp_custom_tlvs "$PP2_LOG" "sport=$(port_of "$CL")")" 0xe0=746370 \
	"v2 header carries TLV 0xE0 = \"tcp\" for a plain TCP client"
line=$(access_line tcp)
tap_like "$line" "client=$CL .*proto=tcp .*bytes_in=8388608 bytes_out=8388608 .*end=client_close( |\$)" \
	"access log: plain TCP client logged proto=tcp with 8 MiB each way" "$ACCESS"

# --- PROXY v1
client v1 --mptcp --expect-mptcp "$(host_of "$V1")" "$(port_of "$V1")" \
	integrity --mib 16 --seed 3
rc=$?
tap_check $rc "MPTCP client through a v1 listener: 16 MiB each way intact" "$T/v1.err"
CL=$(client_report v1 local)
pp_match "$PP1_LOG" "sport=$(port_of "$CL")" version=1 family=TCP4 \
	src="$(host_of "$CL")" dst="$(host_of "$V1")" dport="$(port_of "$V1")" \
	error=null
tap_check $? "v1 header: 'PROXY TCP4' with the client's address and port and the listener's"

# --- dual-stack [::] listener: an IPv4 client is IPv4 everywhere
A=$(frontd_addr dual)
client dual4 --expect-mptcp 127.0.0.1 "$(port_of "$A")" integrity --mib 1 --seed 6
rc=$?
tap_check $rc "IPv4 MPTCP client on a dual-stack [::]:0 listener: 1 MiB intact" "$T/dual4.err"
CL=$(client_report dual4 local)
pp_match "$PP2_LOG" "sport=$(port_of "$CL")" version=2 family=TCP4 \
	src=127.0.0.1 dst=127.0.0.1 dport="$(port_of "$A")" error=null
tap_check $? "dual-stack: v2 header is TCP4 127.0.0.1 -> 127.0.0.1 (not v4-mapped TCP6)"
line=$(access_line dual4)
tap_like "$line" "listener=dual client=127\.0\.0\.1:$(port_of "$CL") " \
	"dual-stack: access log prints the IPv4 client as 127.0.0.1" "$ACCESS"
client dual6 --expect-mptcp ::1 "$(port_of "$A")" integrity --mib 1 --seed 7
rc=$?
CL=$(client_report dual6 local)
pp_match "$PP2_LOG" "sport=$(port_of "$CL")" family=TCP6 src=::1 dst=::1 error=null
tap_check $((rc + $?)) "dual-stack: IPv6 client gets a TCP6 ::1 -> ::1 header" "$T/dual6.err"

# --- half-close: the client stops sending, the response must still arrive
client half --mptcp "$(host_of "$V2")" "$(port_of "$V2")" halfclose --mib 1
rc=$?
tap_check $rc "client half-close (SHUT_WR) after 1 MiB: the whole echo arrives afterwards" \
	"$T/half.err"

# --- known-size transfer: exact byte counts, both directions
client known --mptcp "$(host_of "$V1")" "$(port_of "$V1")" integrity \
	--mib 0.5 --seed 4
rc=$?
tap_check $rc "512 KiB transfer through the v1 listener" "$T/known.err"
line=$(access_line known)
tap_like "$line" "listener=v1 client=$(client_report known local) backend=$PP1_ADDR proto=mptcp subflows=[0-9]+ bytes_in=524288 bytes_out=524288 duration_ms=[0-9]+ end=client_close( |\$)" \
	"access log: bytes_in/bytes_out exclude the PROXY header (524288 each)" "$ACCESS"

# --- reset mid-transfer, then the daemon keeps serving
client rst --mptcp "$(host_of "$V2")" "$(port_of "$V2")" reset --kib 1024
rc=$?
tap_check $rc "client sends 1 MiB and resets (SO_LINGER 0) mid-transfer" "$T/rst.err"
line=$(access_line rst)
tap_like "$line" 'end=client_reset( |$)' "access log: the reset connection ends with end=client_reset" \
	"$ACCESS"
client after --mptcp --expect-mptcp "$(host_of "$V2")" "$(port_of "$V2")" \
	integrity --mib 16 --seed 5
rc=$?
tap_check $rc "after the reset the daemon still relays 16 MiB intact" "$T/after.err"

# --- many at once: no connection stalls or corrupts another
N=16
par_pids=()
for i in $(seq 1 $N); do
	opts=(--mptcp)
	[ $((i % 4)) -eq 0 ] && opts=()         # every 4th one plain TCP
	start_bg "par$i" "$PYTHON" "$TOOLS/client.py" "${opts[@]}" "$(host_of "$V2")" \
		"$(port_of "$V2")" integrity --mib 4 --seed "$((100 + i))"
	par_pids+=("$BG_PID")
done
bad=0
for i in $(seq 1 $N); do
	pid=${par_pids[$((i - 1))]}
	wait_pid_exit "$pid" 60000 || bad=$((bad + 1))
	wait "$pid" || { bad=$((bad + 1)); tap_diag_file "$T/par$i.err"; }
done
tap_is "$bad" 0 "$N concurrent clients (MPTCP and TCP), 4 MiB each way each: all intact"
ok_lines=0
for i in $(seq 1 $N); do
	CL=$(client_report "par$i" local)
	wait_for_file_line "$ACCESS" " client=$CL .*bytes_in=4194304 bytes_out=4194304 .*end=client_close( |\$)" 5 &&
		ok_lines=$((ok_lines + 1))
done
tap_is "$ok_lines" "$N" "access log: one line with 4 MiB each way per concurrent client" "$ACCESS"

# --- idle_timeout closes a silent connection
A=$(frontd_addr idle)
client idle --mptcp "$(host_of "$A")" "$(port_of "$A")" hold --send 'ping\n' --max 5
rc=$?
took=$(client_report idle closed | sed -n 's/.* after \([0-9.]*\) s$/\1/p')
awk -v t="${took:-99}" 'BEGIN { exit !(t >= 0.4 && t < 2) }'
tap_check $((rc + $?)) "idle_timeout = 500ms closes a silent connection after 0.4-2 s (took ${took:-?} s)" \
	"$T/idle.err"
line=$(access_line idle)
tap_like "$line" 'bytes_in=5 bytes_out=5 .*end=idle_timeout( |$)' \
	"access log: end=idle_timeout after the 5 bytes echoed" "$ACCESS"

kill -0 "$FRONTD_PID" 2>/dev/null
tap_check $? "daemon still running after all of the above" "$FRONTD_LOG"
tap_is "$(grep -c ' error: ' "$FRONTD_LOG")" 0 "daemon logged no error-level line" \
	"$FRONTD_LOG"
