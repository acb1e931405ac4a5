#!/bin/bash
# The drain when the last connection belongs to a worker thread other than
# the main thread's (workers = 2, the connection pinned on worker 1 by
# tools/pin_worker.py): /metrics keeps answering during the drain, a
# second SIGTERM closes the connection at once (not after
# shutdown_timeout), and the daemon exits 0.  Then SIGQUIT, nginx's
# graceful stop: logged, drains like the first SIGTERM (a transfer in
# progress completes, the listener is closed), a second SIGQUIT does not
# cut anything, and the pidfile is removed at exit.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

require_frontd

start_ppecho pp --expect v2 || bail "ppecho did not start"
PP=$PPECHO_ADDR PP_LOG=$PPECHO_LOG

# conf NAME: two workers, a shutdown_timeout far beyond the test's waits.
conf() {
	write_config "$1" <<EOF2
[global]
workers = 2
shutdown_timeout = 60s
pidfile = $T/$1.pid
access_log = $T/$1-access.log
stats = 127.0.0.1:0

[listener:web]
bind = 127.0.0.1:0
mptcp = off
backend = $PP
proxy_protocol = v2
EOF2
}

# metrics_now FILE: fetch /metrics into FILE within 3 s; status 0 when a
# 200 came back.
metrics_now() {
	"$PYTHON" - "http://$STATS/metrics" "$1" <<'EOF2'
import sys, urllib.request
try:
    body = urllib.request.urlopen(sys.argv[1], timeout=3).read()
except Exception as e:
    print("metrics: %s" % e)
    sys.exit(1)
open(sys.argv[2], "wb").write(body)
EOF2
}

# --- double SIGTERM, the connection on worker 1 -------------------------------
start_frontd term "$(conf term)" || bail "mptcp-frontd did not start"
A=$(frontd_addr web) STATS=$(frontd_stats_addr)
start_bg pin "$PYTHON" "$TOOLS/pin_worker.py" "$(host_of "$A")" "$(port_of "$A")" \
	"http://$STATS/metrics" 1 --release-file "$T/pin.release"
PIN_PID=$BG_PID
wait_for_file_line "$T/pin.out" '^pinned [0-9]+$' 30 "$PIN_PID"
tap_check $? "a connection is held on worker 1 ($(head -n 1 "$T/pin.out"))" \
	"$T/pin.out" "$T/pin.err" || bail "cannot pin a connection on worker 1"

kill -TERM "$FRONTD_PID"
wait_for_file_line "$FRONTD_LOG" 'SIGTERM: stopping: .*draining 1 connections' 5
tap_check $? "first SIGTERM: draining 1 connection" "$FRONTD_LOG"
# Worker 0 has nothing to drain: the main thread's loop must stay.
sleep 0.3
metrics_now "$T/drain.metrics" >"$T/drain-metrics.out" 2>&1
rc=$?
tap_check $rc "/metrics answers during the drain" "$T/drain-metrics.out"
tap_is "$(metric "$T/drain.metrics" mptcp_frontd_connections_active listener=web)" 1 \
	"/metrics during the drain: connections_active{listener=\"web\"} 1" "$T/drain.metrics"
kill -0 "$FRONTD_PID" 2>/dev/null
tap_check $? "the daemon is still draining (shutdown_timeout 60s)"

t0=$(now_ms)
kill -TERM "$FRONTD_PID"
wait_pid_exit "$FRONTD_PID" 5000
rc=$?
took=$(($(now_ms) - t0))
tap_check $rc "second SIGTERM: the daemon exits at once (${took} ms), the connection being on worker 1" \
	"$FRONTD_LOG"
[ "$rc" = 0 ] && wait "$FRONTD_PID"
tap_is "$?" 0 "exit status 0 after the second SIGTERM" "$FRONTD_LOG"
wait_pid_exit "$PIN_PID" 5000
tap_is "$(tail -n 1 "$T/pin.out")" "closed by server" \
	"the pinned connection was closed by the daemon" "$T/pin.out"
tap_like "$(cat "$T/term-access.log")" 'end=shutdown( |$)' \
	"access log: the connection ended with end=shutdown" "$T/term-access.log"

# --- SIGQUIT: graceful ----------------------------------------------------------
start_frontd quit "$(conf quit)" || bail "mptcp-frontd did not start"
A=$(frontd_addr web)
HOST=$(host_of "$A") PORT=$(port_of "$A")
n0=$(wc -l <"$PP_LOG")
# 8 MiB at 4 MiB/s: about 2 s, in progress when SIGQUIT comes.
start_bg slow "$PYTHON" "$TOOLS/client.py" "$HOST" "$PORT" integrity --mib 8 --rate 4
SLOW_PID=$BG_PID
wait_for_count "$PP_LOG" . $((n0 + 1)) 10 || bail "the transfer never reached the backend"
kill -QUIT "$FRONTD_PID"
wait_for_file_line "$FRONTD_LOG" 'info: SIGQUIT: stopping: listeners closed, draining 1 connections' 5
tap_check $? "SIGQUIT is logged as a graceful stop draining 1 connection" "$FRONTD_LOG"
kill -QUIT "$FRONTD_PID"
wait_for_file_line "$FRONTD_LOG" 'info: SIGQUIT: already draining' 5
tap_check $? "a second SIGQUIT only says it is already draining" "$FRONTD_LOG"
client late "$HOST" "$PORT" connect
rc=$?
tap_is "$rc $(grep -c ECONNREFUSED "$T/late.err")" "3 1" \
	"after SIGQUIT a new connection is refused" "$T/late.err"
kill -0 "$SLOW_PID" 2>/dev/null
tap_check $? "the transfer is still in progress after two SIGQUITs"
wait_pid_exit "$SLOW_PID" 30000
wait "$SLOW_PID"
rc=$?
tap_check $rc "the transfer in progress at SIGQUIT completes, 8 MiB each way intact" "$T/slow.err"
wait_pid_exit "$FRONTD_PID" 5000
rc=$?
tap_check $rc "the daemon exits once drained" "$FRONTD_LOG"
wait "$FRONTD_PID"
rc=$?
tap_is "$rc" 0 "exit status 0 after SIGQUIT" "$FRONTD_LOG"
[ ! -e "$T/quit.pid" ]
tap_check $? "pidfile removed at exit"
