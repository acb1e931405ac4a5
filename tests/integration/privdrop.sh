#!/bin/bash
# Privilege drop: with `user = nobody` the daemon binds as root, then no
# thread of it has uid or gid 0 left (every Uid/Gid field of every
# /proc/PID/task/*/status, and the supplementary groups), only
# CAP_NET_BIND_SERVICE remains, and it serves; a reload then binds a new
# port below 1024.  `group` replaces the user's groups.  A configuration
# file writable by others, or (as root) owned by another user, is refused
# with exit 78; a non-root daemon cannot switch to another user.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

require_root
require_frontd
require_cmd id getent

NOBODY_UID=$(id -u nobody) NOBODY_GID=$(id -g nobody)
NOBODY_GROUPS=$(id -G nobody | tr ' ' '\n' | sort -n | tr '\n' ' ')
DAEMON_GID=$(getent group daemon | cut -d: -f3)
# Reloads re-read the file as nobody: let it through our private dir.
chmod 711 "$T"
# The logs and the pidfile live where nobody may create and remove files:
# -t and start refuse a directory the user cannot write (SIGUSR1 reopens
# the logs as nobody; the pidfile is removed as nobody).
RUN=$T/run
mkdir "$RUN" && chown "$NOBODY_UID" "$RUN"

start_ppecho pp --expect v2 || bail "ppecho did not start"
PP=$PPECHO_ADDR

# conf NAME [EXTRA_GLOBAL_LINE...]: user = nobody, two workers.
conf() {
	local name=$1
	shift
	{
		printf '[global]\nuser = nobody\nworkers = 2\n'
		printf 'access_log = %s\n' "$RUN/$name-access.log"
		printf 'pidfile = %s\n' "$RUN/$name.pid"
		printf '%s\n' "$@"
		printf '\n[listener:web]\nbind = 127.0.0.1:0\nmptcp = off\n'
		printf 'backend = %s\n' "$PP"
	} | write_config "$name"
}

echo_via() {
	client "$1" "$(host_of "$2")" "$(port_of "$2")" integrity --mib 1
}

# task_field PID FIELD: "TID: VALUE" for every thread of PID.
task_field() {
	local st
	for st in /proc/"$1"/task/*/status; do
		printf '%s: %s\n' "$(basename "$(dirname "$st")")" \
			"$(sed -n "s/^$2:[[:space:]]*//p" "$st" | tr -s '\t ' ' ' |
			sed 's/ $//')"
	done
}

# all_tasks_are PID FIELD VALUE DESC: every thread's FIELD is VALUE.
all_tasks_are() {
	local got
	got=$(task_field "$1" "$2")
	if [ -n "$got" ] && ! printf '%s\n' "$got" | grep -vqx "[0-9]*: $3"; then
		tap_ok "$4"
	else
		tap_fail "$4"
		tap_diag "want every thread's $2: '$3'; got:" "$got"
	fi
}

# --- user = nobody -----------------------------------------------------------
start_frontd main "$(conf main)" || bail "mptcp-frontd did not start"
A=$(frontd_addr web)
tap_like "$(cat "$FRONTD_LOG")" \
	"privileges dropped: user nobody \\(uid $NOBODY_UID\\)" \
	"the drop is logged" "$FRONTD_LOG"
ntasks=$(find "/proc/$FRONTD_PID/task" -mindepth 1 -maxdepth 1 | wc -l)
[ "$ntasks" -ge 2 ]
tap_check $? "the daemon runs several threads ($ntasks)"
ids="$NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID"
all_tasks_are "$FRONTD_PID" Uid "$ids" \
	"every thread: real, effective, saved and fs uid are nobody's ($NOBODY_UID)"
gids="$NOBODY_GID $NOBODY_GID $NOBODY_GID $NOBODY_GID"
all_tasks_are "$FRONTD_PID" Gid "$gids" \
	"every thread: every gid is nobody's primary group ($NOBODY_GID)"
all_tasks_are "$FRONTD_PID" Groups "${NOBODY_GROUPS% }" \
	"every thread: supplementary groups are nobody's (${NOBODY_GROUPS% })"
if grep -qE '^CapPrm:.*' /proc/self/status &&
	[ $((0x$(sed -n 's/^CapPrm:[[:space:]]*//p' /proc/self/status) & 0x400)) -ne 0 ]; then
	KEEP=0000000000000400
else
	KEEP=0000000000000000
fi
all_tasks_are "$FRONTD_PID" CapEff "$KEEP" \
	"every thread: effective capabilities only CAP_NET_BIND_SERVICE ($KEEP)"
all_tasks_are "$FRONTD_PID" CapPrm "$KEEP" \
	"every thread: permitted capabilities only CAP_NET_BIND_SERVICE ($KEEP)"
echo_via served "$A"
tap_check $? "as nobody it still serves" "$T/served.err" "$FRONTD_LOG"
wait_for_file_line "$RUN/main-access.log" 'end=' 5
tap_check $? "the access log opened as root is still written" "$RUN/main-access.log"

# A reload (file re-read as nobody) binds a port below 1024.
LOW=$("$PYTHON" -c 'import socket
for p in range(1023, 600, -1):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    print(p)
    break')
if [ "$KEEP" = 0000000000000000 ]; then
	tap_skip "a reload binds port $LOW" "no CAP_NET_BIND_SERVICE to keep"
else
	printf '\n[listener:low]\nbind = 127.0.0.1:%s\nmptcp = off\nbackend = %s\n' \
		"$LOW" "$PP" >>"$T/main.ini"
	kill -HUP "$FRONTD_PID"
	wait_for_file_line "$FRONTD_LOG" 'reloaded .*generation 2' 10 "$FRONTD_PID"
	tap_check $? "after the drop, a reload binds 127.0.0.1:$LOW (below 1024)" \
		"$FRONTD_LOG"
	echo_via low "127.0.0.1:$LOW"
	tap_check $? "and serves on it" "$T/low.err" "$FRONTD_LOG"
fi
kill -TERM "$FRONTD_PID"
wait_pid_exit "$FRONTD_PID" 5000
wait "$FRONTD_PID"
tap_is "$?" 0 "SIGTERM: exit 0 as nobody" "$FRONTD_LOG"

# --- group = daemon: that group alone ------------------------------------------
if [ -n "$DAEMON_GID" ]; then
	start_frontd grp "$(conf grp 'group = daemon')" ||
		bail "mptcp-frontd did not start"
	all_tasks_are "$FRONTD_PID" Gid \
		"$DAEMON_GID $DAEMON_GID $DAEMON_GID $DAEMON_GID" \
		"group = daemon: every thread's gids are $DAEMON_GID"
	all_tasks_are "$FRONTD_PID" Groups "$DAEMON_GID" \
		"group = daemon: the only supplementary group"
	echo_via grp_served "$(frontd_addr web)"
	tap_check $? "group = daemon: serves" "$T/grp_served.err"
	stop_pid "$FRONTD_PID"
else
	tap_skip "group = daemon" "no group daemon on this system"
fi

# --- the configuration file's mode and owner --------------------------------------
C=$(conf open)
chmod 0666 "$C"
"$FRONTD" -t -c "$C" >"$T/open.out" 2>"$T/open.stderr"
rc=$?
tap_is "$rc" 78 "world-writable configuration: -t exits 78" "$T/open.stderr"
tap_is "$(cat "$T/open.stderr")" \
	"$C: writable by other users (mode 0666); fix with chmod o-w $C" \
	"world-writable configuration: the exact message" "$T/open.stderr"
"$FRONTD" -f -c "$C" >"$T/open2.out" 2>"$T/open2.stderr"
rc=$?
tap_is "$rc" 78 "world-writable configuration: the daemon refuses to start (78)" \
	"$T/open2.stderr"
chmod 0664 "$C"
"$FRONTD" -t -c "$C" >"$T/open3.out" 2>&1
tap_is "$?" 0 "group-writable configuration is accepted" "$T/open3.out"
chmod 0644 "$C"
chown "$NOBODY_UID" "$C"
"$FRONTD" -t -c "$C" >"$T/owner.out" 2>"$T/owner.stderr"
rc=$?
tap_is "$rc" 78 "as root, a configuration owned by nobody: exit 78" "$T/owner.stderr"
tap_is "$(cat "$T/owner.stderr")" \
	"$C: owned by uid $NOBODY_UID, not root, while running as root; fix with chown root $C" \
	"as root, a configuration owned by nobody: the message" "$T/owner.stderr"

C=$(write_config nouser <<EOF
[global]
user = frontd-no-such-user
[listener:web]
bind = 127.0.0.1:0
backend = $PP
EOF
)
"$FRONTD" -t -c "$C" >"$T/nouser.out" 2>"$T/nouser.stderr"
rc=$?
tap_is "$rc:$(cat "$T/nouser.stderr")" \
	"78:$C:2: [global] user: no such user \"frontd-no-such-user\"" \
	"an unknown user is a configuration error" "$T/nouser.stderr"

# --- not root ------------------------------------------------------------------------
if command -v setpriv >/dev/null 2>&1; then
	as_nobody=(setpriv --reuid="$NOBODY_UID" --regid="$NOBODY_GID"
		--clear-groups --inh-caps=-all --bounding-set=-all)
	C=$(write_config daemonuser <<EOF
[global]
user = daemon
[listener:web]
bind = 127.0.0.1:0
mptcp = off
backend = $PP
EOF
)
	"${as_nobody[@]}" "$FRONTD" -f -c "$C" >"$T/notroot.out" 2>"$T/notroot.err"
	rc=$?
	tap_is "$rc" 1 "as nobody, user = daemon: refuses to start" "$T/notroot.err"
	tap_like "$(cat "$T/notroot.err")" \
		"user = daemon: running as uid $NOBODY_UID, not root: cannot switch" \
		"as nobody, user = daemon: says why" "$T/notroot.err"
	sed -i 's/^user = daemon$/user = nobody/' "$C"
	start_bg self "${as_nobody[@]}" "$FRONTD" -f -c "$C"
	FRONTD_PID=$BG_PID FRONTD_LOG=$T/self.err
	wait_for_file_line "$FRONTD_LOG" 'ready \(pid' 10 "$FRONTD_PID"
	tap_check $? "as nobody, user = nobody: starts (nothing to drop)" "$FRONTD_LOG"
	stop_pid "$FRONTD_PID"
else
	tap_skip "not root" "no setpriv (util-linux)"
fi
