#!/bin/bash
# sd_notify (systemd Type=notify): with NOTIFY_SOCKET pointing at a
# datagram listener of our own, the daemon sends READY=1 once its
# listeners accept (a connection made right after it succeeds),
# RELOADING=1 with MONOTONIC_USEC then READY=1 on SIGHUP (also when the
# new file is bad: the old configuration keeps serving), and STOPPING=1 on
# SIGTERM.  The abstract namespace ("@name") works too, it stays in the
# foreground without -f, and a notify socket nobody listens on is only a
# warning.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

require_frontd

start_ppecho pp --expect v2 || bail "ppecho did not start"
PP=$PPECHO_ADDR

# start_listener NAME SOCKET: notify_listen.py logging to NLOG=$T/NAME.log.
start_listener() {
	NLOG=$T/$1.log
	: >"$NLOG"
	start_bg "$1" "$PYTHON" "$TOOLS/notify_listen.py" --socket "$2" \
		--log "$NLOG" --ready-file "$T/$1.ready"
	wait_for_file_line "$T/$1.ready" . 10 "$BG_PID" ||
		bail "notify listener $1 did not start"
}

# conf NAME: a configuration on an ephemeral port; prints its path.
conf() {
	write_config "$1" <<EOF
[global]
shutdown_timeout = 2s

[listener:web]
bind = 127.0.0.1:0
mptcp = off
backend = $PP
proxy_protocol = v2
EOF
}

# echo_ok NAME: one echo through the daemon's listener web.
echo_ok() {
	local a
	a=$(frontd_addr web)
	client "$1" "$(host_of "$a")" "$(port_of "$a")" integrity --mib 1
}

# since N: the notifications after the first N, without time and sender.
since() {
	tail -n +$(($1 + 1)) "$NLOG" | cut -d' ' -f4-
}

# --- start-up: READY=1 only once listening ----------------------------------
start_listener notify "$T/notify.sock"
C=$(conf main)
# Not start_frontd: this waits on the notification, not on the log.
FRONTD_LOG=$T/main.err
NOTIFY_SOCKET=$T/notify.sock start_bg main "$FRONTD" -f -c "$C"
FRONTD_PID=$BG_PID
wait_for_file_line "$NLOG" ' READY=1$' 10 "$FRONTD_PID"
rc=$?
tap_check $rc "READY=1 received after start" "$FRONTD_LOG" "$NLOG"
[ "$rc" -eq 0 ] || exit 1
echo_ok first
tap_check $? "a connection made right after READY=1 is served" \
	"$T/first.err" "$FRONTD_LOG"
tap_is "$(since 0)" "READY=1" "READY=1 is the only notification at start" \
	"$NLOG"
tap_like "$(head -n 1 "$NLOG")" " pid=$FRONTD_PID " \
	"READY=1 comes from the daemon's own PID (no fork under NOTIFY_SOCKET)" \
	"$NLOG"

# --- reload: RELOADING=1 + MONOTONIC_USEC, then READY=1 ---------------------
n0=$(wc -l <"$NLOG")
kill -HUP "$FRONTD_PID"
wait_for_count "$NLOG" . $((n0 + 2)) 10
tap_check $? "SIGHUP: two notifications" "$NLOG" "$FRONTD_LOG"
tap_like "$(since "$n0" | sed -n 1p)" '^RELOADING=1 MONOTONIC_USEC=[0-9]+$' \
	"SIGHUP: RELOADING=1 with MONOTONIC_USEC first" "$NLOG"
tap_is "$(since "$n0" | sed -n 2p)" "READY=1" \
	"SIGHUP: READY=1 once the reload is done" "$NLOG" "$FRONTD_LOG"
grep -q 'reloaded .*generation 2' "$FRONTD_LOG"
tap_check $? "SIGHUP: the reload was applied" "$FRONTD_LOG"
usec1=$(since "$n0" | sed -n 's/.*MONOTONIC_USEC=//p')
# CLOCK_MONOTONIC: within a minute of the boot clock on a machine that
# did not sleep.
up_us=$(awk '{ printf "%.0f", $1 * 1000000 }' /proc/uptime)
[ $((up_us - ${usec1:-0})) -lt 60000000 ] &&
	[ $((${usec1:-0} - up_us)) -lt 60000000 ]
tap_check $? "MONOTONIC_USEC is the monotonic clock in microseconds (${usec1:-none} ~ $up_us)"

# A bad file: still RELOADING=1 then READY=1, and the old setup serves.
cp "$C" "$T/good.ini"
printf '[global]\nbogus = 1\n' >>"$C"
n0=$(wc -l <"$NLOG")
kill -HUP "$FRONTD_PID"
wait_for_count "$NLOG" . $((n0 + 2)) 10
tap_is "$(since "$n0" | cut -d' ' -f1 | tr '\n' ' ')" "RELOADING=1 READY=1 " \
	"failed reload: RELOADING=1 then READY=1" "$NLOG" "$FRONTD_LOG"
usec2=$(since "$n0" | sed -n 's/.*MONOTONIC_USEC=//p')
[ "${usec2:-0}" -gt "${usec1:-0}" ]
tap_check $? "MONOTONIC_USEC grows from one reload to the next (${usec1:-none} < ${usec2:-none})"
grep -q 'reload failed' "$FRONTD_LOG"
tap_check $? "the failed reload is logged" "$FRONTD_LOG"
echo_ok after_bad
tap_check $? "after the failed reload the daemon still serves" "$T/after_bad.err"
cp "$T/good.ini" "$C"

# --- stop: STOPPING=1 --------------------------------------------------------
n0=$(wc -l <"$NLOG")
kill -TERM "$FRONTD_PID"
wait_for_count "$NLOG" . $((n0 + 1)) 10
tap_like "$(tail -n +$((n0 + 1)) "$NLOG" | head -n 1)" \
	" pid=$FRONTD_PID uid=[0-9]+ STOPPING=1$" "SIGTERM: STOPPING=1" "$NLOG"
wait_pid_exit "$FRONTD_PID" 5000
wait "$FRONTD_PID"
tap_is "$?" 0 "daemon exits 0 after SIGTERM" "$FRONTD_LOG"
tap_is "$(since "$n0")" "STOPPING=1" "nothing after STOPPING=1" "$NLOG"

# --- abstract namespace, no -f ------------------------------------------------
ABS="@frontd-notify-test-$$"
start_listener abstract "$ABS"
FRONTD_LOG=$T/abs.err
NOTIFY_SOCKET=$ABS start_bg abs "$FRONTD" -c "$(conf abs)"
FRONTD_PID=$BG_PID
wait_for_file_line "$NLOG" ' READY=1$' 10 "$FRONTD_PID"
tap_check $? "abstract NOTIFY_SOCKET ($ABS): READY=1 received" "$FRONTD_LOG"
tap_like "$(head -n 1 "$NLOG")" " pid=$FRONTD_PID " \
	"without -f, NOTIFY_SOCKET keeps the daemon in the foreground (same PID)" \
	"$NLOG"
echo_ok abs_echo
tap_check $? "abstract NOTIFY_SOCKET: the daemon serves" "$T/abs_echo.err"
stop_pid "$FRONTD_PID"

# --- nobody listening: a warning, never a failure ------------------------------
NOTIFY_SOCKET=$T/nobody.sock start_frontd nobody "$(conf nobody)"
tap_check $? "NOTIFY_SOCKET with no listener: the daemon starts anyway" "$FRONTD_LOG"
echo_ok nobody_echo
tap_check $? "NOTIFY_SOCKET with no listener: it serves" "$T/nobody_echo.err"
kill -HUP "$FRONTD_PID"
wait_for_file_line "$FRONTD_LOG" 'reloaded ' 10 "$FRONTD_PID"
tap_check $? "NOTIFY_SOCKET with no listener: reloads work" "$FRONTD_LOG"
tap_is "$(grep -c 'NOTIFY_SOCKET' "$FRONTD_LOG")" 1 \
	"NOTIFY_SOCKET with no listener: warned once" "$FRONTD_LOG"
stop_pid "$FRONTD_PID"
