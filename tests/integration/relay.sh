#!/bin/bash
# The two data paths and the workers: integrity, half-close and reset on the
# splice path and on the read/write path (splice = off forces it); idle
# connections hold no pipes (pipes are taken from a pool while data flows);
# with two workers both threads accept connections.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

require_mptcp
require_frontd

start_ppecho pp --expect v2 || bail "ppecho did not start"

# metric NAME_AND_LABELS: one sample from the daemon's /metrics.
metric_now() {
	curl -s --max-time 5 "http://$STATS/metrics" |
		awk -v k="$1" '$1 == k { print $2 }'
}

for mode in splice copy; do
	splice=on
	[ $mode = copy ] && splice=off
	conf=$(write_config "frontd-$mode" <<EOF
[global]
splice = $splice
workers = 1
stats = 127.0.0.1:0

[listener:r]
bind = 127.0.0.1:0
backend = $PPECHO_ADDR
proxy_protocol = v2
EOF
)
	start_frontd "frontd-$mode" "$conf" || bail "mptcp-frontd ($mode) did not start"
	ADDR=$(frontd_addr r)
	STATS=$(frontd_stats_addr)
	base=$(fd_count "$FRONTD_PID" pipe:)    # before any traffic

	CLIENT_TIMEOUT=120 client "int-$mode" --expect-mptcp "$(host_of "$ADDR")" \
		"$(port_of "$ADDR")" integrity --mib 64
	tap_check $? "$mode path: 64 MiB each way over MPTCP arrive intact" \
		"$T/int-$mode.err"
	if [ $mode = copy ]; then
		n=$(fd_count "$FRONTD_PID" pipe:)
		desc="copy path: splice = off moves 64 MiB without creating a pipe"
		if [ "$n" -eq "$base" ]; then tap_ok "$desc"; else tap_fail "$desc ($base -> $n)"; fi
	fi
	client "half-$mode" --mptcp "$(host_of "$ADDR")" "$(port_of "$ADDR")" \
		halfclose --mib 8
	tap_check $? "$mode path: after the client's half-close the whole 8 MiB echo still arrives" \
		"$T/half-$mode.err"
	client "reset-$mode" --mptcp "$(host_of "$ADDR")" "$(port_of "$ADDR")" reset
	client "after-$mode" --mptcp "$(host_of "$ADDR")" "$(port_of "$ADDR")" \
		integrity --mib 1
	tap_check $? "$mode path: a client reset mid-transfer leaves the daemon serving" \
		"$T/after-$mode.err" "$FRONTD_LOG"

	hold "idle-$mode" "$ADDR" 200 --mptcp --echo
	tap_check $? "$mode path: 200 connections established and echoed one byte" \
		"$T/idle-$mode.err"
	# Pipes are held only while data is in flight, and pooled ones are
	# given back when traffic stops: with 200 idle connections the count
	# returns to what the daemon had before any traffic.
	for _ in $(seq 1 100); do
		held=$(fd_count "$FRONTD_PID" pipe:)
		[ "$held" -le "$base" ] && break
		sleep 0.1
	done
	tap_diag "pipes held by the daemon: $base before any traffic, $held with 200 idle connections"
	desc="$mode path: 200 idle connections hold no pipes"
	if [ "$held" -le "$base" ]; then tap_ok "$desc"; else tap_fail "$desc"; fi
	tap_is "$(metric_now 'mptcp_frontd_connections_active{listener="r"}')" 200 \
		"$mode path: /metrics counts the 200 held connections as active"
	release_hold
	stop_pid "$FRONTD_PID"
done

# Two workers: SO_REUSEPORT spreads connections over both threads.
conf=$(write_config frontd-workers <<EOF
[global]
workers = 2
stats = 127.0.0.1:0

[listener:r]
bind = 127.0.0.1:0
backend = $PPECHO_ADDR
EOF
)
start_frontd frontd-workers "$conf" || bail "mptcp-frontd (workers) did not start"
ADDR=$(frontd_addr r)
STATS=$(frontd_stats_addr)
tap_is "$(ls /proc/"$FRONTD_PID"/task | wc -l)" 2 "workers = 2 runs two threads"
hold idle-workers "$ADDR" 200 --mptcp --echo
tap_check $? "200 connections through two workers echo a byte each" \
	"$T/idle-workers.err"
w0=$(metric_now 'mptcp_frontd_worker_connections_accepted_total{worker="0"}')
w1=$(metric_now 'mptcp_frontd_worker_connections_accepted_total{worker="1"}')
tap_diag "worker 0 accepted ${w0:-?}, worker 1 accepted ${w1:-?}"
desc="both worker threads accept connections, 200 in all"
if [ "${w0:-0}" -gt 0 ] && [ "${w1:-0}" -gt 0 ] && [ $((w0 + w1)) -eq 200 ]; then
	tap_ok "$desc"
else
	tap_fail "$desc"
fi
release_hold

tap_done
