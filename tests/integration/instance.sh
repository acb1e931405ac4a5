#!/bin/bash
# One instance per pidfile, and no silent sharing of a listening address:
# a second `mptcp-frontd -c same.ini` fails at once with "already running
# (pid N, FILE)" and leaves the pidfile alone; a second instance with its
# own pidfile but the same address, or any process holding the address
# (even with SO_REUSEPORT, even an IPv4 listener under a dual-stack [::]
# bind), is an error at start; a stale pidfile (no lock) is taken over; the
# owner removes its pidfile at exit.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

require_frontd

start_ppecho pp --expect v2 || bail "ppecho did not start"

# conf NAME PIDFILE BIND
conf() {
	write_config "$1" <<EOF2
[global]
pidfile = $2

[listener:web]
bind = $3
mptcp = off
backend = $PPECHO_ADDR
EOF2
}

PIDF=$T/frontd.pid
CONF=$(conf a "$PIDF" 127.0.0.1:0)
start_frontd first "$CONF" || bail "mptcp-frontd did not start"
FIRST=$FRONTD_PID
A=$(frontd_addr web)
tap_is "$(cat "$PIDF")" "$FIRST" "the pidfile holds the first instance's PID"

# run_second NAME CONF: a foreground start bounded to 10 s; sets RC.
run_second() {
	timeout -k 2 10 "$FRONTD" -f -c "$2" >"$T/$1.out" 2>"$T/$1.err"
	RC=$?
}

run_second second "$CONF"
tap_like "$RC" '^[1-9]' "a second instance with the same file exits non-zero (status $RC)" "$T/second.err"
tap_like "$(cat "$T/second.err")" "already running \\(pid $FIRST, $PIDF\\)" \
	"it says: already running (pid $FIRST, $PIDF)" "$T/second.err"
grep -q 'listening on' "$T/second.err"
tap_check $((!$?)) "it bound nothing" "$T/second.err"
tap_is "$(cat "$PIDF" 2>/dev/null)" "$FIRST" "the pidfile is intact after the second instance exited"

# Same address, another pidfile.
run_second other "$(conf b "$T/other.pid" "$A")"
tap_like "$RC" '^[1-9]' "another instance binding the running one's address fails (status $RC)" "$T/other.err"
tap_like "$(cat "$T/other.err")" "listener web: $A is already in use by another process" \
	"it names the address in use" "$T/other.err"
[ ! -e "$T/other.pid" ]
tap_check $? "the failed instance removed its own pidfile"
kill -0 "$FIRST" 2>/dev/null
tap_check $? "the first instance still runs"

# A foreign listener that even allows SO_REUSEPORT sharing.
# foreign FAMILY HOST: a listener on a free port; sets FOREIGN_PORT.
foreign() {
	start_bg "foreign-$1" "$PYTHON" -c '
import socket, sys, time
fam = socket.AF_INET6 if sys.argv[1] == "6" else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
s.bind((sys.argv[2], 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
time.sleep(60)' "$1" "$2"
	wait_for_file_line "$T/foreign-$1.out" '^[0-9]+$' 10 "$BG_PID" || return 1
	FOREIGN_PORT=$(head -n 1 "$T/foreign-$1.out")
}
foreign 4 0.0.0.0 || bail "cannot start a foreign listener"
run_second reuse "$(conf c "$T/c.pid" "127.0.0.1:$FOREIGN_PORT")"
tap_like "$RC $(cat "$T/reuse.err")" "^[1-9].*127.0.0.1:$FOREIGN_PORT is already in use by another process" \
	"an address a foreign SO_REUSEPORT listener holds (0.0.0.0:$FOREIGN_PORT) is an error at start" "$T/reuse.err"
if "$PYTHON" -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
	run_second dual "$(conf d "$T/d.pid" "[::]:$FOREIGN_PORT")"
	tap_like "$RC $(cat "$T/dual.err")" "^[1-9].*\\[::\\]:$FOREIGN_PORT is already in use by another process" \
		"a dual-stack [::]:$FOREIGN_PORT bind over the IPv4 listener is an error too" "$T/dual.err"
else
	tap_skip "dual-stack bind over an IPv4 listener" "no IPv6 on this host"
fi

# The owner removes its pidfile; a stale one (nobody holds its lock) is
# taken over.
stop_pid "$FIRST"
[ ! -e "$PIDF" ]
tap_check $? "the first instance removed its pidfile at exit"
echo 999999 >"$PIDF"
start_frontd third "$CONF" || bail "mptcp-frontd did not start over a stale pidfile"
tap_is "$(cat "$PIDF")" "$FRONTD_PID" "a stale pidfile is taken over and rewritten"
