#!/bin/bash
# Socket activation: a launcher of our own (tests/tools/sockact_launch.py)
# creates listening sockets (plain TCP over IPv4 and IPv6, and MPTCP),
# puts them at descriptors 3, 4, 5 with LISTEN_FDS, LISTEN_PID and
# LISTEN_FDNAMES, and execs the daemon, whose configuration binds the same
# addresses.  The daemon serves on those sockets without binding any of
# its own (every worker accepts on the one socket), logs the MPTCP one as
# mptcp, keeps them across a reload; sockets are matched by name when the
# address differs; a socket matching nothing, one not listening, a plain
# TCP socket for `mptcp = required` and a bad LISTEN_FDNAMES refuse the
# start, naming the problem; LISTEN_PID of another process is ignored.
# systemd-socket-activate, when installed, drives it too.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

require_mptcp
require_frontd
require_cmd ss

start_ppecho pp --expect v2 || bail "ppecho did not start"
PP=$PPECHO_ADDR

# launch NAME LAUNCHER_ARGS...: the configuration template on stdin (with
# @SOCKNAME@ for the sockets' addresses) becomes $T/NAME.ini; the daemon
# runs through the launcher with its log in FRONTD_LOG, its PID (the
# launcher's own, which it execs) in FRONTD_PID, and the sockets' "NAME
# ADDRESS INODE" lines in $T/NAME.info.
launch() {
	local name=$1
	shift
	cat >"$T/$name.ini.in"
	FRONTD_LOG=$T/$name.err
	start_bg "$name" "$PYTHON" "$TOOLS/sockact_launch.py" \
		--template "$T/$name.ini.in" --config "$T/$name.ini" \
		--info "$T/$name.info" "$@" -- "$FRONTD" -f -c "$T/$name.ini"
	FRONTD_PID=$BG_PID
	INFO=$T/$name.info
}

wait_ready() {
	wait_for_file_line "$FRONTD_LOG" 'ready \(pid [0-9]+\)' 10 "$FRONTD_PID"
}

# refused DESC: the daemon must exit non-zero (its log is checked next).
refused() {
	local rc
	wait_pid_exit "$FRONTD_PID" 10000
	wait "$FRONTD_PID"
	rc=$?
	[ "$rc" -ne 0 ]
	tap_check $? "$1: refuses to start (exit $rc)" "$FRONTD_LOG"
}

# logged DESC REGEX: the daemon's log matches REGEX.
logged() {
	tap_like "$(cat "$FRONTD_LOG")" "$2" "$1" "$FRONTD_LOG"
}

sock_addr() { awk -v n="$1" '$1 == n { print $2 }' "$INFO"; }
sock_ino() { awk -v n="$1" '$1 == n { print $3 }' "$INFO"; }

# listening_inodes PID: inodes of the listening sockets PID holds, sorted.
listening_inodes() {
	ss -Hltnep | grep -F "pid=$1," |
		sed -n 's/.* ino:\([0-9]*\) .*/\1/p' | sort -un | tr '\n' ' '
}

# echo_via NAME ADDR [CLIENT_ARGS...]: one 1 MiB echo through ADDR.
echo_via() {
	local name=$1 a=$2
	shift 2
	client "$name" "$@" "$(host_of "$a")" "$(port_of "$a")" integrity --mib 1
}

# --- the main case: three sockets, matched, shared by the workers -----------
launch main --sock web=tcp:127.0.0.1 --sock web6=tcp:::1 \
	--sock api=mptcp:127.0.0.1 --names web:web:api <<EOF
[global]
workers = 2

[listener:web]
bind = @web@, @web6@
mptcp = off
backend = $PP

[listener:api]
bind = @api@
mptcp = on
backend = $PP
EOF
wait_ready
rc=$?
tap_check $rc "started with 3 inherited sockets" "$FRONTD_LOG" "$T/main.ini"
[ "$rc" -eq 0 ] || exit 1
WEB=$(sock_addr web) WEB6=$(sock_addr web6) API=$(sock_addr api)
tap_like "$(grep 'listener web: listening on' "$FRONTD_LOG")" \
	"listening on $WEB \\(tcp, inherited fd 3 \"web\", matched by address\\)" \
	"web: IPv4 socket from fd 3 used (tcp)" "$FRONTD_LOG"
tap_like "$(grep 'listener web: listening on' "$FRONTD_LOG")" \
	"listening on \\[::1\\]:$(port_of "$WEB6") \\(tcp, inherited fd 4 \"web\"" \
	"web: IPv6 socket from fd 4 used, same listener" "$FRONTD_LOG"
tap_like "$(grep 'listener api: listening on' "$FRONTD_LOG")" \
	"listening on $API \\(mptcp, inherited fd 5 \"api\", matched by address\\)" \
	"api: the inherited MPTCP socket is logged as mptcp" "$FRONTD_LOG"
grep -qi 'socket activation: 3 inherited sockets' "$FRONTD_LOG"
tap_check $? "socket activation logged with the socket count" "$FRONTD_LOG"

echo_via web4 "$WEB"
tap_check $? "web over IPv4 serves on the inherited socket" "$T/web4.err"
echo_via web6 "$WEB6"
tap_check $? "web over IPv6 serves on the inherited socket" "$T/web6.err"
echo_via api "$API" --mptcp --expect-mptcp
tap_check $? "api serves MPTCP on the inherited MPTCP socket" "$T/api.err"

want=$(printf '%s\n' "$(sock_ino web)" "$(sock_ino web6)" "$(sock_ino api)" |
	sort -un | tr '\n' ' ')
tap_is "$(listening_inodes "$FRONTD_PID")" "$want" \
	"the daemon holds no listening socket but the inherited ones (no bind)" \
	"$FRONTD_LOG"
n=$(find "/proc/$FRONTD_PID/fd" -lname "socket:\\[$(sock_ino api)\\]" | wc -l)
tap_is "$n" 2 "both workers accept on the one inherited api socket (2 descriptors)"

kill -HUP "$FRONTD_PID"
wait_for_file_line "$FRONTD_LOG" 'reloaded .*generation 2' 10 "$FRONTD_PID"
tap_check $? "SIGHUP with the same configuration applies" "$FRONTD_LOG"
wait_for_file_line "$FRONTD_LOG" 'generation 2 active on all workers' 10 \
	"$FRONTD_PID"
tap_is "$(listening_inodes "$FRONTD_PID")" "$want" \
	"after the reload: still exactly the inherited sockets" "$FRONTD_LOG"
echo_via api2 "$API" --mptcp --expect-mptcp
tap_check $? "after the reload: api serves MPTCP" "$T/api2.err"
echo_via web2 "$WEB"
tap_check $? "after the reload: web serves" "$T/web2.err"
kill -TERM "$FRONTD_PID"
wait_pid_exit "$FRONTD_PID" 5000
wait "$FRONTD_PID"
tap_is "$?" 0 "SIGTERM: exit 0" "$FRONTD_LOG"

# --- matched by name, and by address under a foreign name ---------------------
# systemd names sockets after their unit unless FileDescriptorName= says.
launch byname --sock any=tcp:127.0.0.1 --sock api=mptcp:127.0.0.1 \
	--names mptcp-frontd.socket:api <<EOF
[listener:web]
bind = @any@
mptcp = off
backend = $PP

[listener:api]
bind = 127.0.0.1:9
backend = $PP
EOF
wait_ready
tap_check $? "by name: started" "$FRONTD_LOG" "$T/byname.ini"
tap_like "$(grep 'listener web: listening on' "$FRONTD_LOG")" \
	"\\(tcp, inherited fd 3 \"mptcp-frontd.socket\", matched by address\\)" \
	"a socket named after its unit is matched by address" "$FRONTD_LOG"
tap_like "$(grep 'listener api: listening on' "$FRONTD_LOG")" \
	"listening on $(sock_addr api) \\(mptcp, inherited fd 4 \"api\", matched by name\\)" \
	"a socket named like a listener serves it at the socket's own address" \
	"$FRONTD_LOG"
echo_via byname_api "$(sock_addr api)" --mptcp --expect-mptcp
tap_check $? "by name: api serves on the inherited address" "$T/byname_api.err"
stop_pid "$FRONTD_PID"

# --- no LISTEN_FDNAMES at all -----------------------------------------------
launch unnamed --sock web=mptcp:127.0.0.1 --names - <<EOF
[listener:web]
bind = @web@
backend = $PP
EOF
wait_ready
tap_check $? "without LISTEN_FDNAMES: started, matched by address" "$FRONTD_LOG"
echo_via unnamed_web "$(sock_addr web)" --mptcp --expect-mptcp
tap_check $? "without LISTEN_FDNAMES: serves" "$T/unnamed_web.err"
stop_pid "$FRONTD_PID"

# --- refusals -------------------------------------------------------------------
launch extra --sock web=tcp:127.0.0.1 --sock extra=tcp:127.0.0.1 <<EOF
[listener:web]
bind = @web@
mptcp = off
backend = $PP
EOF
refused "a socket matching no listener"
logged "a socket matching no listener: logged with its fd, name and address" \
	"error: inherited socket fd 4 \\(name \"extra\", $(sock_addr extra), tcp\\) matches no listener by name or address"

launch notlistening --sock web=bound:127.0.0.1 <<EOF
[listener:web]
bind = @web@
mptcp = off
backend = $PP
EOF
refused "a socket that is not listening"
logged "a socket that is not listening: logged" \
	"error: inherited socket fd 3 \\(name \"web\", $(sock_addr web), tcp\\): not listening"

launch required --sock web=tcp:127.0.0.1 <<EOF
[listener:web]
bind = @web@
mptcp = required
backend = $PP
EOF
refused "a plain TCP socket for mptcp = required"
logged "a plain TCP socket for mptcp = required: logged" \
	"listener web: mptcp = required, but inherited socket fd 3 .* is plain TCP"

launch badnames --sock web=tcp:127.0.0.1 --names web:api <<EOF
[listener:web]
bind = @web@
mptcp = off
backend = $PP
EOF
refused "LISTEN_FDNAMES with more names than sockets"
logged "LISTEN_FDNAMES with more names than sockets: logged" \
	"LISTEN_FDNAMES has 2 names for LISTEN_FDS=1 sockets"

# --- LISTEN_PID of someone else: not ours ----------------------------------------
launch otherpid --sock web=tcp:127.0.0.1 --pid 1 <<EOF
[listener:web]
bind = 127.0.0.1:0
mptcp = off
backend = $PP
EOF
wait_ready
tap_check $? "LISTEN_PID of another process: starts, binding its own socket" \
	"$FRONTD_LOG"
tap_like "$(cat "$FRONTD_LOG")" 'LISTEN_FDS=1 ignored \(LISTEN_PID=1 is not us\)' \
	"LISTEN_PID of another process: the sockets are ignored, with a word" \
	"$FRONTD_LOG"
grep -q 'inherited' "$FRONTD_LOG"
tap_is "$?" 1 "LISTEN_PID of another process: nothing inherited" "$FRONTD_LOG"
stop_pid "$FRONTD_PID"

# --- systemd-socket-activate (package systemd), when installed -------------------
if command -v systemd-socket-activate >/dev/null 2>&1; then
	started=1
	for _ in 1 2 3 4 5; do
		PORT=$(free_port)
		FRONTD_LOG=$T/ssa.err
		cat >"$T/ssa.ini" <<EOF
[listener:web]
bind = 127.0.0.1:$PORT
mptcp = off
backend = $PP
EOF
		start_bg ssa systemd-socket-activate -l "127.0.0.1:$PORT" \
			--fdname=web "$FRONTD" -f -c "$T/ssa.ini"
		FRONTD_PID=$BG_PID
		# The tool logs once listening; it starts the daemon at the
		# first connection, which then waits in the backlog.
		wait_for_file_line "$T/ssa.out" "Listening on" 5 "$FRONTD_PID" ||
			wait_for_file_line "$T/ssa.err" "Listening on" 5 "$FRONTD_PID"
		started=$?
		[ "$started" -eq 0 ] && break
		stop_pid "$FRONTD_PID"
	done
	tap_check "$started" "systemd-socket-activate listens on 127.0.0.1:$PORT" "$T/ssa.err"
	echo_via ssa_web "127.0.0.1:$PORT"
	tap_check $? "systemd-socket-activate: the first connection starts the daemon and is served" \
		"$T/ssa_web.err" "$FRONTD_LOG"
	tap_like "$(cat "$FRONTD_LOG")" "listening on 127.0.0.1:$PORT \\(tcp, inherited fd 3 \"web\"" \
		"systemd-socket-activate: the daemon uses the socket it was given" \
		"$FRONTD_LOG"
	stop_pid "$FRONTD_PID"
else
	tap_skip "systemd-socket-activate" "not installed (package systemd)"
fi
