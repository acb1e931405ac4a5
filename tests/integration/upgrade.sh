#!/bin/bash
# Binary upgrade under load, nginx style.  Echo loads (MPTCP and plain
# TCP, every exchange judged by tools/load.py) and one long transfer run
# while the test sends SIGUSR2 to the running daemon: it renames its
# pidfile FILE.oldbin and starts its executable again (a copy in $T/bin,
# as if a package had replaced it) with the listening sockets and /metrics
# inherited; the new process writes FILE and reports ready; SIGQUIT then
# lets the old one drain (the long transfer completes on it) and exit,
# removing only FILE.oldbin.  No exchange may fail, before, during or after.
# Then the executable is replaced by one that exits at once: SIGUSR2 to
# the new daemon fails, which logs it, keeps serving (still under load,
# still no failure) and renames its pidfile back.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

PER_STEP=${PER_STEP:-300}       # exchanges to complete between steps

require_mptcp
require_frontd

mkdir -p "$T/bin" && cp "$FRONTD" "$T/bin/mptcp-frontd" || bail "cannot copy the daemon"
FRONTD=$T/bin/mptcp-frontd

start_ppecho pp --expect v2 || bail "ppecho did not start"
PIDF=$T/frontd.pid
CONF=$(write_config frontd <<EOF2
[global]
workers = 2
pidfile = $PIDF
shutdown_timeout = 30s
stats = 127.0.0.1:0

[listener:web]
bind = 127.0.0.1:0
backend = $PPECHO_ADDR
proxy_protocol = v2
EOF2
)
start_frontd frontd "$CONF" || bail "mptcp-frontd did not start"
OLD=$FRONTD_PID
A=$(frontd_addr web) STATS=$(frontd_stats_addr)
HOST=$(host_of "$A") PORT=$(port_of "$A")

# 12 MiB at 3 MiB/s: 4 s, still running when the old process is told to go.
start_bg long "$PYTHON" "$TOOLS/client.py" --expect-mptcp --timeout 60 \
	"$HOST" "$PORT" integrity --mib 12 --rate 3
LONG_PID=$BG_PID

load() {
	local name=$1
	shift
	start_bg "$name" "$PYTHON" "$TOOLS/load.py" "$@" --mode echo \
		--stop-file "$T/stop" --max-seconds 100 \
		--progress "$T/$name.progress" --record "$T/$name.json" "$HOST" "$PORT"
}
load load-mptcp --mptcp --threads 4 --rate 400
LOAD_M=$BG_PID
load load-tcp --threads 2 --rate 200
LOAD_T=$BG_PID

# more_requests N: until N more exchanges completed (at most 30 s).
more_requests() {
	load_wait_more "$1" "$LOAD_M" load-mptcp load-tcp
}
more_requests "$PER_STEP" || bail "the load does not progress"

# --- SIGUSR2: the new binary ------------------------------------------------------
t_usr2=$(date +%s.%N)
kill -USR2 "$OLD"
wait_for_file_line "$FRONTD_LOG" 'info: binary upgrade: new process [0-9]+ is ready' 15 "$OLD"
tap_check $? "SIGUSR2: the old process logs that the new one is ready" "$FRONTD_LOG" ||
	bail "no new process"
NEW=$(sed -n 's/.*info: binary upgrade: new process \([0-9]*\) is ready.*/\1/p' "$FRONTD_LOG" | head -n 1)
_pids+=("$NEW")
grep -q "ready (pid $NEW)" "$FRONTD_LOG"
tap_check $? "the new process (pid $NEW) said ready itself" "$FRONTD_LOG"
tap_like "$(grep "pid $NEW" "$FRONTD_LOG" | head -n 1)" "started $FRONTD as pid $NEW with 2 inherited sockets" \
	"it is the same path re-executed, with both workers' sockets" "$FRONTD_LOG"
tap_is "$(cat "$PIDF" 2>/dev/null) $(cat "$PIDF.oldbin" 2>/dev/null)" "$NEW $OLD" \
	"pidfile: FILE has the new PID, FILE.oldbin the old one"
more_requests "$PER_STEP"
tap_check $? "$PER_STEP more exchanges while both processes serve"

# --- SIGQUIT to the old one -----------------------------------------------------
t_quit=$(date +%s.%N)
kill -QUIT "$OLD"
wait_pid_exit "$OLD" 30000
rc=$?
tap_check $rc "SIGQUIT: the old process drains and exits" "$FRONTD_LOG"
[ "$rc" = 0 ] && wait "$OLD"
tap_is "$?" 0 "the old process's exit status is 0"
wait_pid_exit "$LONG_PID" 30000
wait "$LONG_PID"
rc=$?
tap_check $rc "the long transfer in progress across the upgrade completed intact (12 MiB each way)" \
	"$T/long.err"
tap_is "$(cat "$PIDF" 2>/dev/null) $([ -e "$PIDF.oldbin" ] && echo oldbin-left)" "$NEW " \
	"the old process removed FILE.oldbin only; FILE still has the new PID"
more_requests "$PER_STEP"
tap_check $? "$PER_STEP more exchanges served by the new process alone"
"$PYTHON" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5).read()' \
	"http://$STATS/metrics" >"$T/metrics.out" 2>&1
tap_check $? "/metrics answers on the inherited socket" "$T/metrics.out"

# --- a new binary that fails -------------------------------------------------------
printf '#!/bin/sh\necho "broken build" >&2\nexit 3\n' >"$T/bin/broken"
chmod +x "$T/bin/broken" && mv "$T/bin/broken" "$T/bin/mptcp-frontd"
kill -USR2 "$NEW"
wait_for_file_line "$FRONTD_LOG" \
	"error: binary upgrade failed: new process [0-9]+ exited before it was ready \\(exit status 3\\); this process \\(pid $NEW\\) keeps serving" \
	10 "$NEW"
tap_check $? "SIGUSR2 with a broken executable: the failure is logged" "$FRONTD_LOG"
wait_for_file_line "$FRONTD_LOG" "info: binary upgrade: pidfile $PIDF restored" 5
tap_check $? "the pidfile is renamed back" "$FRONTD_LOG"
tap_is "$(cat "$PIDF" 2>/dev/null) $([ -e "$PIDF.oldbin" ] && echo oldbin-left)" "$NEW " \
	"FILE has the running process's PID again, no FILE.oldbin"
more_requests "$PER_STEP"
tap_check $? "$PER_STEP more exchanges after the failed upgrade"

touch "$T/stop"
wait_pid_exit "$LOAD_M" 20000
wait "$LOAD_M"
rc_m=$?
wait_pid_exit "$LOAD_T" 20000
wait "$LOAD_T"
rc_t=$?
report() { sed -n "s/^$2 //p" "$T/$1.err" | head -n 1; }
req=$(($(report load-mptcp requests) + $(report load-tcp requests)))
fail=$(($(report load-mptcp failures) + $(report load-tcp failures)))
# In flight: exchanges that had begun and not ended at the signal.
inflight() {
	cat "$T/load-mptcp.json" "$T/load-tcp.json" | "$PYTHON" -c '
import json, sys
t = float(sys.argv[1])
print(sum(1 for l in sys.stdin if (lambda r: r["t0"] <= t <= (r["t1"] or t))(json.loads(l))))' "$1"
}
tap_diag "binary upgrade under load: $req exchanges, $fail failed;" \
	"in flight at SIGUSR2: $(inflight "$t_usr2"), at SIGQUIT: $(inflight "$t_quit")" \
	"errors: MPTCP $(report load-mptcp errors) TCP $(report load-tcp errors)"
tap_is "$rc_m/$rc_t/$fail" 0/0/0 "no exchange failed ($req made, MPTCP and TCP)" \
	"$T/load-mptcp.err" "$T/load-tcp.err"
