#!/bin/bash
# SIGTERM drains: listeners close at once (new clients are refused), a
# transfer in progress completes intact, the daemon exits 0; and when
# shutdown_timeout expires first, the daemon closes what is left
# (end=shutdown) and still exits 0, on time.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

require_mptcp
require_frontd

start_ppecho pp --expect v2 || bail "ppecho did not start"
PP=$PPECHO_ADDR PP_LOG=$PPECHO_LOG

# new_conf NAME SHUTDOWN_TIMEOUT
new_conf() {
	write_config "$1" <<EOF
[global]
access_log = $T/$1-access.log
pidfile = $T/$1.pid
shutdown_timeout = $2

[listener:web]
bind = 127.0.0.1:0
backend = $PP
proxy_protocol = v2
EOF
}

# --- case 1: a long transfer survives SIGTERM ------------------------------
conf=$(new_conf drain 20s)
start_frontd drain "$conf" || bail "mptcp-frontd did not start"
A=$(frontd_addr web)
HOST=$(host_of "$A") PORT=$(port_of "$A")
tap_is "$(cat "$T/drain.pid" 2>/dev/null)" "$FRONTD_PID" "pidfile holds the daemon's PID"

# 12 MiB at 4 MiB/s: about 3 s, so it is mid-transfer when SIGTERM comes.
n0=$(wc -l <"$PP_LOG")
start_bg slow "$PYTHON" "$TOOLS/client.py" --mptcp --expect-mptcp \
	"$HOST" "$PORT" integrity --mib 12 --rate 4
SLOW_PID=$BG_PID
wait_for_count "$PP_LOG" . $((n0 + 1)) 10 ||
	bail "the slow transfer never reached the backend"
kill -TERM "$FRONTD_PID"
t_term=$(now_ms)

# The listener must go away at once.  Poll briefly: the daemon handles the
# signal asynchronously, but well within a second.
refused=1
for _ in $(seq 1 40); do
	client late "$HOST" "$PORT" connect
	rc=$?
	if [ "$rc" -eq 3 ] && grep -q ECONNREFUSED "$T/late.err"; then
		refused=0
		break
	fi
	[ $(($(now_ms) - t_term)) -ge 1000 ] && break
	sleep 0.025
done
t_refused=$(($(now_ms) - t_term))
tap_check $refused "after SIGTERM a new connection is refused (ECONNREFUSED after ${t_refused} ms)" \
	"$T/late.err"
kill -0 "$SLOW_PID" 2>/dev/null
tap_check $? "the transfer is still in progress when new connections are refused"

wait_pid_exit "$SLOW_PID" 30000
wait "$SLOW_PID"
rc=$?
tap_check $rc "transfer in progress at SIGTERM completes, 12 MiB each way intact" "$T/slow.err"

wait_pid_exit "$FRONTD_PID" 5000
rc=$?
tap_check $rc "daemon exits once the last connection is done (within 5 s)" "$FRONTD_LOG"
wait "$FRONTD_PID"
rc=$?
tap_is "$rc" 0 "daemon exit status after a SIGTERM drain is 0" "$FRONTD_LOG"
[ ! -e "$T/drain.pid" ]
tap_check $? "pidfile removed on exit"
CL=$(client_report slow local)
tap_like "$(grep -F "client=$CL " "$T/drain-access.log")" \
	'bytes_in=12582912 bytes_out=12582912 .*end=client_close( |$)' \
	"access log: drained connection logged with its full byte counts" "$T/drain-access.log"

# --- case 2: shutdown_timeout expires --------------------------------------
conf=$(new_conf expire 1s)
start_frontd expire "$conf" || bail "mptcp-frontd did not start"
A=$(frontd_addr web)
n0=$(wc -l <"$PP_LOG")
start_bg idle "$PYTHON" "$TOOLS/client.py" --mptcp "$(host_of "$A")" \
	"$(port_of "$A")" hold --send 'still here\n' --max 10
IDLE_PID=$BG_PID
wait_for_count "$PP_LOG" . $((n0 + 1)) 10 ||
	bail "the idle connection never reached the backend"
t_term=$(now_ms)
kill -TERM "$FRONTD_PID"
wait_pid_exit "$FRONTD_PID" 4000
rc=$?
took=$(($(now_ms) - t_term))
tap_check $rc "shutdown_timeout = 1s with an idle connection open: daemon exits within 4 s (took ${took} ms)" \
	"$FRONTD_LOG"
if [ "$rc" -eq 0 ]; then
	wait "$FRONTD_PID"
	rc=$?
	tap_is "$rc" 0 "daemon exit status after shutdown_timeout is 0" "$FRONTD_LOG"
	[ "$took" -ge 900 ]
	tap_check $? "daemon waited about shutdown_timeout before closing (${took} ms >= 900)"
else
	tap_fail "daemon exit status after shutdown_timeout is 0"
	tap_fail "daemon waited about shutdown_timeout before closing"
fi
wait_pid_exit "$IDLE_PID" 5000
wait "$IDLE_PID"
rc=$?
tap_check $rc "the idle client saw its connection closed ($(client_report idle closed))" \
	"$T/idle.err"
CL=$(client_report idle local)
tap_like "$(grep -F "client=$CL " "$T/expire-access.log")" 'end=shutdown( |$)' \
	"access log: the connection closed by the timeout ends with end=shutdown" \
	"$T/expire-access.log"
