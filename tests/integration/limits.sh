#!/bin/bash
# Limits and faults: a connection flood past max_connections waits in the
# backlog and is served as slots free up; descriptor exhaustion pauses
# accepting without spinning and recovers; 1,000 silent clients neither
# stop a fresh client nor outlive idle_timeout; a backend restart fails the
# clients of that moment with a logged reason and nothing after it.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

require_mptcp
require_frontd

start_ppecho pp --expect v2 || bail "ppecho did not start"
PP_ADDR=$PPECHO_ADDR PP_PID=$PPECHO_PID
ACCESS=$T/access.log

# scrape NAME: /metrics into $T/NAME.
scrape() {
	curl -sf --max-time 5 -o "$T/$1" "http://$STATS/metrics"
}

# ---- flood past max_connections ------------------------------------------
conf=$(write_config flood <<EOF
[global]
max_connections = 50
workers = 2
stats = 127.0.0.1:0

[listener:f]
bind = 127.0.0.1:0
backend = $PP_ADDR
EOF
)
start_frontd flood "$conf" || bail "mptcp-frontd (flood) did not start"
ADDR=$(frontd_addr f)
STATS=$(frontd_stats_addr)
base_sockets=$(fd_count "$FRONTD_PID" socket:)

hold first "$ADDR" 50 --mptcp --echo
tap_check $? "50 connections fill max_connections = 50 and are served" "$T/first.err"
# 30 more clients, each wanting 1 MiB echoed: they can only connect into
# the backlog until slots free up.
waiters=()
for i in $(seq 1 30); do
	# Generous per-operation timeout: these clients sit in the backlog
	# until the test lets the first 50 go, and CI machines can be busy.
	timeout -k 5 150 "$PYTHON" "$TOOLS/client.py" --mptcp --timeout 120 \
		"$(host_of "$ADDR")" "$(port_of "$ADDR")" integrity --mib 1 \
		>"$T/wait$i.out" 2>"$T/wait$i.err" &
	waiters+=("$!")
	_pids+=("$!")
done
max_sockets=0
for _ in $(seq 1 20); do         # watch the daemon for about a second
	n=$(fd_count "$FRONTD_PID" socket:)
	[ "$n" -gt "$max_sockets" ] && max_sockets=$n
	sleep 0.05
done
scrape flood1
active=$(metric "$T/flood1" mptcp_frontd_connections_active listener=f)
tap_diag "while 80 clients want in: $active active, at most $max_sockets sockets (base $base_sockets)"
tap_is "$active" 50 "the daemon holds exactly max_connections = 50 client connections"
# Each connection is a client and a backend socket; the base holds the
# listeners and /metrics.
desc="its socket count never exceeds 2 x 50 + what it had at start"
if [ "$max_sockets" -le $((base_sockets + 100)) ]; then tap_ok "$desc"; else tap_fail "$desc"; fi
release_hold
failed=0 i=0 first_failed=
for pid in "${waiters[@]}"; do
	i=$((i + 1))
	if ! wait "$pid"; then
		failed=$((failed + 1))
		[ -n "$first_failed" ] || first_failed=$T/wait$i.err
	fi
done
tap_is "$failed" 0 "all 30 waiting clients are served once slots free up" \
	${first_failed:+"$first_failed"} "$FRONTD_LOG"
stop_pid "$FRONTD_PID"

# ---- descriptor exhaustion ---------------------------------------------
conf=$(write_config nofile <<EOF
[global]
workers = 1
stats = 127.0.0.1:0

[listener:n]
bind = 127.0.0.1:0
backend = $PP_ADDR
EOF
)
start_frontd nofile "$conf" || bail "mptcp-frontd (nofile) did not start"
# 64 descriptors: room for about 25 connections.
prlimit --pid "$FRONTD_PID" --nofile=64:64 ||
	bail "cannot lower the daemon's descriptor limit"
ADDR=$(frontd_addr n)
STATS=$(frontd_stats_addr)
hold burst "$ADDR" 100 --mptcp
tap_check $? "a burst of 100 clients (connected to the kernel) is held" "$T/burst.err"
wait_for_file_line "$FRONTD_LOG" 'Too many open files' 5
tap_check $? "the daemon says it ran out of descriptors" "$FRONTD_LOG"
t0=$(cpu_ticks "$FRONTD_PID")
sleep 1
t1=$(cpu_ticks "$FRONTD_PID")
tap_diag "CPU ticks used over a quiet second at the descriptor limit: $((t1 - t0)) (of $(getconf CLK_TCK))"
desc="at the descriptor limit it does not spin (under 10% of a CPU over a second)"
if [ $((t1 - t0)) -le $(($(getconf CLK_TCK) / 10)) ]; then tap_ok "$desc"; else tap_fail "$desc"; fi
kill -0 "$FRONTD_PID" 2>/dev/null
tap_check $? "the daemon is alive" "$FRONTD_LOG"
release_hold
client after-burst --mptcp "$(host_of "$ADDR")" "$(port_of "$ADDR")" integrity --mib 1
tap_check $? "after the burst a fresh client is served again" "$T/after-burst.err" "$FRONTD_LOG"
stop_pid "$FRONTD_PID"

# ---- 1,000 silent clients and idle_timeout -------------------------------
conf=$(write_config silent <<EOF
[global]
stats = 127.0.0.1:0
access_log = $ACCESS

[listener:s]
bind = 127.0.0.1:0
backend = $PP_ADDR
idle_timeout = 3s
EOF
)
start_frontd silent "$conf" || bail "mptcp-frontd (silent) did not start"
ADDR=$(frontd_addr s)
STATS=$(frontd_stats_addr)
: >"$ACCESS"
hold silent "$ADDR" 1000 --mptcp
tap_check $? "1,000 clients that send nothing are connected" "$T/silent.err"
t0=$(now_ms)
client fresh --mptcp "$(host_of "$ADDR")" "$(port_of "$ADDR")" integrity --mib 1
rc=$?
t1=$(now_ms)
tap_diag "a fresh 1 MiB echo took $((t1 - t0)) ms beside 1,000 silent connections"
tap_check $rc "a fresh client is served beside 1,000 silent ones" "$T/fresh.err"
desc="... promptly (under 2 s)"
if [ $((t1 - t0)) -lt 2000 ]; then tap_ok "$desc"; else tap_fail "$desc"; fi
wait_for_count "$ACCESS" 'end=idle_timeout' 1000 10
tap_check $? "the 1,000 silent connections are closed by idle_timeout = 3s" "$ACCESS"
scrape silent1
tap_is "$(metric "$T/silent1" mptcp_frontd_connections_active listener=s)" 0 \
	"/metrics shows no connection left open"
release_hold
stop_pid "$FRONTD_PID"

# ---- backend restart ------------------------------------------------------
conf=$(write_config restart <<EOF
[global]
access_log = $ACCESS

[listener:r]
bind = 127.0.0.1:0
backend = $PP_ADDR
connect_timeout = 1s
EOF
)
start_frontd restart "$conf" || bail "mptcp-frontd (restart) did not start"
ADDR=$(frontd_addr r)
: >"$ACCESS"
client before --mptcp "$(host_of "$ADDR")" "$(port_of "$ADDR")" integrity --mib 1
tap_check $? "before the backend restart requests succeed" "$T/before.err"
stop_pid "$PP_PID"
client during --mptcp "$(host_of "$ADDR")" "$(port_of "$ADDR")" integrity --mib 1
rc=$?
desc="while the backend is down a client is closed, not served"
if [ "$rc" -ne 0 ]; then tap_ok "$desc"; else tap_fail "$desc"; fi
wait_for_file_line "$FRONTD_LOG" "backend $PP_ADDR is down \(connect failed: Connection refused\)" 5
tap_check $? "the failure is logged with its reason" "$FRONTD_LOG"
wait_for_file_line "$ACCESS" 'end=connect_failed' 5
tap_check $? "the access log says end=connect_failed" "$ACCESS"
start_ppecho pp-again --expect v2 --bind "$PP_ADDR" ||
	bail "ppecho did not restart on $PP_ADDR"
client after --mptcp "$(host_of "$ADDR")" "$(port_of "$ADDR")" integrity --mib 1
tap_check $? "after the backend is back requests succeed, without restarting mptcp-frontd" \
	"$T/after.err" "$FRONTD_LOG"
# Its only backend, down: still tried by the next client, and up again at
# the first success (no need to wait for backend_retry).
grep -qE "info: listener r: backend $PP_ADDR is up again after" "$FRONTD_LOG"
tap_check $? "the backend's return is logged ('is up again')" "$FRONTD_LOG"
stop_pid "$FRONTD_PID"

tap_done
