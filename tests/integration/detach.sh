#!/bin/bash
# Detached start (no -f, outside systemd) on a terminal (script(1) gives
# it a pty): the starting command waits for the daemon's readiness, prints
# its start-up errors whatever `log` names and exits with the outcome; the
# detached daemon never writes to the terminal: its standard streams are
# /dev/null, it has no controlling terminal, and with log = stderr it
# logs to syslog once ready (said on the terminal).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

require_frontd
require_cmd script

start_ppecho pp --expect v2 || bail "ppecho did not start"

# conf NAME LOG BIND
conf() {
	write_config "$1" <<EOF2
[global]
pidfile = $T/$1.pid
log = $2

[listener:web]
bind = $3
mptcp = off
backend = $PPECHO_ADDR
EOF2
}

# on_tty NAME CONF: start the daemon detached on a pty; the terminal's
# text in $T/NAME.tty, the command's exit status in RC.
on_tty() {
	env -u INVOCATION_ID -u NOTIFY_SOCKET timeout -k 2 20 \
		script -qec "$FRONTD -c $2" /dev/null >"$T/$1.tty" 2>&1 </dev/null
	RC=$?
}

# adopt PIDFILE: the detached daemon's PID, stopped by the cleanup.
adopt() {
	DPID=$(cat "$1" 2>/dev/null)
	[ -n "$DPID" ] && _pids+=("$DPID")
}

# --- log = stderr, a good start -------------------------------------------------
on_tty ok-stderr "$(conf ok-stderr stderr 127.0.0.1:0)"
adopt "$T/ok-stderr.pid"
tap_is "$RC" 0 "detached start with log = stderr: the command exits 0" "$T/ok-stderr.tty"
tap_like "$(cat "$T/ok-stderr.tty")" "ready \\(pid $DPID\\)" \
	"the terminal showed the start-up log up to 'ready (pid $DPID)'" "$T/ok-stderr.tty"
tap_like "$(cat "$T/ok-stderr.tty")" 'log = stderr while detached: logging to syslog' \
	"the terminal was told where the log goes from now on" "$T/ok-stderr.tty"
kill -0 "$DPID" 2>/dev/null
tap_check $? "the daemon runs (pid $DPID)"
fds="$(readlink "/proc/$DPID/fd/0") $(readlink "/proc/$DPID/fd/1") $(readlink "/proc/$DPID/fd/2")"
tap_is "$fds" "/dev/null /dev/null /dev/null" \
	"the detached daemon's standard input, output and error are /dev/null"
tty_nr=$(awk '{ print $7 }' "/proc/$DPID/stat")
tap_is "$tty_nr" 0 "the detached daemon has no controlling terminal"
kill -HUP "$DPID"      # it logs; nothing may reach a terminal
stop_pid "$DPID"
[ ! -e "$T/ok-stderr.pid" ]
tap_check $? "its pidfile is removed when it stops"

# --- log = FILE, a failed start ------------------------------------------------
on_tty bad-file "$(conf bad-file "$T/bad-file.log" 192.0.2.1:1)"
adopt "$T/bad-file.pid"
tap_like "$RC" '^[1-9]' "detached start with log = FILE that fails: non-zero exit (status $RC)" \
	"$T/bad-file.tty"
tap_like "$(cat "$T/bad-file.tty")" 'mptcp-frontd: error: listener web: bind 192.0.2.1:1: Cannot assign requested address' \
	"the terminal shows why, though the log is a file" "$T/bad-file.tty" "$T/bad-file.log"
grep -q 'bind 192.0.2.1:1: Cannot assign' "$T/bad-file.log"
tap_check $? "the log file has the error too" "$T/bad-file.log"
[ -z "$DPID" ]
tap_check $? "no daemon is left running and no pidfile is left"

# --- log = FILE, a good start ----------------------------------------------------
on_tty ok-file "$(conf ok-file "$T/ok-file.log" 127.0.0.1:0)"
adopt "$T/ok-file.pid"
tap_is "$RC" 0 "detached start with log = FILE: exit 0" "$T/ok-file.tty"
# Start-up warnings reach the terminal as nginx's do (running as root
# without `user` is one); nothing else does.
tap_is "$(tr -d '\r' <"$T/ok-file.tty" | grep -v '^mptcp-frontd: warn: ')" "" \
	"nothing on the terminal but start-up warnings (no error, no info)" "$T/ok-file.tty"
grep -q "ready (pid $DPID)" "$T/ok-file.log"
tap_check $? "the log file says ready with the daemon's PID (the pidfile's)" "$T/ok-file.log"
stop_pid "$DPID"
