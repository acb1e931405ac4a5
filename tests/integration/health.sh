#!/bin/bash
# Limits and backend failures, visible and quiet; passive backend health.
#  - 200 clients against a listener's max_connections = 5, then against the
#    global max_connections = 8: each limit logged at most twice, counted in
#    connections_limited_total, the limits shown as gauges;
#  - 50 clients to a stopped backend: one "is down" line and one rate-limited
#    "no backend reachable" line instead of two warnings per client (100);
#    every failure in backend_connect_failures_total;
#  - two backends, the first stopped: after the first failure the next
#    clients go straight to the second (the dead one's failure counter stops
#    growing), and the first is taken back after backend_retry once it runs
#    again ("is up again" logged once);
#  - a first backend that drops SYNs (an nftables rule in a private
#    namespace): only the first client pays connect_timeout.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

require_frontd

# scrape NAME: /metrics into $T/NAME.
scrape() {
	curl -sf --max-time 5 -o "$T/$1" "http://$STATS/metrics"
}

# load NAME ADDR ARGS...: tools/load.py echo exchanges against ADDR, bounded;
# its report in $T/NAME.err, records in $T/NAME.json.  Returns its status.
load() {
	local name=$1 addr=$2
	shift 2
	ns_prefix "${CLIENT_NS:-}"
	"${NS_PREFIX[@]}" timeout -k 5 120 "$PYTHON" "$TOOLS/load.py" \
		--mode echo --timeout 20 --max-seconds 100 \
		--record "$T/$name.json" "$@" \
		"$(host_of "$addr")" "$(port_of "$addr")" \
		>"$T/$name.out" 2>"$T/$name.err"
}

# lines REGEX: how many lines of the daemon's log match.
lines() {
	grep -cE -- "$1" "$FRONTD_LOG"
}

start_ppecho good --expect v2 || bail "ppecho did not start"
GOOD=$PPECHO_ADDR
DEAD_PORT=$(free_port)          # released at once: nothing listens there
DEAD=127.0.0.1:$DEAD_PORT
DEAD2_PORT=$(free_port)
DEAD2=127.0.0.1:$DEAD2_PORT

conf=$(write_config frontd <<EOF
[global]
max_connections = 8
workers = 2
stats = 127.0.0.1:0

[listener:lim]
bind = 127.0.0.1:0
backend = $GOOD
max_connections = 5

[listener:glob]
bind = 127.0.0.1:0
backend = $GOOD

[listener:dead]
bind = 127.0.0.1:0
backend = $DEAD

[listener:pair]
bind = 127.0.0.1:0
backend = $DEAD2, $GOOD
backend_retry = 2s
EOF
)
start_frontd frontd "$conf" || bail "mptcp-frontd did not start"
STATS=$(frontd_stats_addr)

# ---- the limits ---------------------------------------------------------
scrape m0
tap_is "$(metric "$T/m0" mptcp_frontd_listener_max_connections listener=lim)" 5 \
	"/metrics: listener_max_connections{listener=\"lim\"} is 5" "$T/m0"
tap_is "$(metric "$T/m0" mptcp_frontd_listener_max_connections listener=glob)" 0 \
	"/metrics: listener_max_connections is 0 for a listener without its own limit" "$T/m0"
tap_is "$(metric "$T/m0" mptcp_frontd_max_connections)" 8 \
	"/metrics: max_connections (global) is 8" "$T/m0"

# flood LISTENER LIMIT LINE_REGEX WHAT: 200 clients (40 at a time) against
# LISTENER: all served, the limit logged once or twice (LINE_REGEX), its
# pauses counted in connections_limited_total{limit=LIMIT}.
flood() {
	local l=$1 limit=$2 rx=$3 what=$4 rc n limited
	load "$l" "$(frontd_addr "$l")" --threads 40 --requests 200
	rc=$?
	tap_check $rc "200 clients against $what: all served ($(sed -n 's/^elapsed-ms //p' "$T/$l.err") ms)" \
		"$T/$l.err" "$FRONTD_LOG"
	scrape "m-$l"
	limited=$(metric "$T/m-$l" mptcp_frontd_connections_limited_total listener="$l" limit="$limit")
	n=$(lines "$rx")
	tap_diag "$what: $n log line(s), connections_limited_total = ${limited:-none}"
	[ "$n" -ge 1 ] && [ "$n" -le 2 ]
	tap_check $? "$what: logged 1-2 times for 200 clients, not per connection (got $n)" "$FRONTD_LOG"
	[ "${limited:-0}" -ge 1 ]
	tap_check $? "connections_limited_total{listener=\"$l\",limit=\"$limit\"} counts the pauses (${limited:-none})" "$T/m-$l"
}
flood lim listener 'listener lim: max_connections = 5 reached' \
	"the listener's max_connections = 5"
flood glob global 'max_connections = 8 reached \(\[global\]\)' \
	"the global max_connections = 8"

# ---- 50 clients to a stopped backend -------------------------------------
before=$(lines 'warn: ')
load dead "$(frontd_addr dead)" --threads 10 --requests 50
fails=$(sed -n 's/^failures //p' "$T/dead.err")
tap_is "$fails" 50 "50 clients to a stopped backend: all 50 fail" "$T/dead.err"
n=$(( $(lines 'warn: ') - before ))
tap_diag "50 clients to a stopped backend: $n warn lines"
[ "$n" -ge 1 ] && [ "$n" -le 3 ]
tap_check $? "... logged in $n warn lines (state change + rate-limited summary), not 2 per client" "$FRONTD_LOG"
tap_is "$(lines "warn: listener dead: backend $DEAD is down \(connect failed: Connection refused\): skipping it for 10000 ms")" 1 \
	"the state change is logged once, with the error" "$FRONTD_LOG"
scrape m3
tap_is "$(metric "$T/m3" mptcp_frontd_backend_connect_failures_total listener=dead backend="$DEAD")" 50 \
	"/metrics: backend_connect_failures_total{backend=\"$DEAD\"} 50 (all down: each client still tries one)" "$T/m3"
tap_is "$(metric "$T/m3" mptcp_frontd_backend_up listener=dead backend="$DEAD")" 0 \
	"/metrics: backend_up 0" "$T/m3"
tap_is "$(metric "$T/m3" mptcp_frontd_connections_closed_total listener=dead reason=connect_failed)" 50 \
	"/metrics: 50 connections closed with reason connect_failed" "$T/m3"

# ---- passive health: the first of two backends stopped -------------------
load pair1 "$(frontd_addr pair)" --threads 1 --requests 20
tap_check $? "first backend stopped: 20 clients served by the second" "$T/pair1.err"
scrape m4
tap_is "$(metric "$T/m4" mptcp_frontd_backend_connect_failures_total listener=pair backend="$DEAD2")" 1 \
	"only the first client tried the dead backend (failures 1, not 20)" "$T/m4"
tap_is "$(metric "$T/m4" mptcp_frontd_backend_connect_seconds_count listener=pair backend="$GOOD")" 20 \
	"the second backend got all 20 connects (connect_seconds_count)" "$T/m4"
tap_is "$(metric "$T/m4" mptcp_frontd_backend_up listener=pair backend="$DEAD2")" 0 \
	"/metrics: backend_up{backend=\"$DEAD2\"} 0" "$T/m4"
tap_is "$(metric "$T/m4" mptcp_frontd_backend_up listener=pair backend="$GOOD")" 1 \
	"/metrics: backend_up{backend=\"$GOOD\"} 1" "$T/m4"
grep -E "^# (HELP|TYPE) mptcp_frontd_backend_connect_seconds " "$T/m4" | grep -q histogram
tap_check $? "/metrics: backend_connect_seconds is a histogram" "$T/m4"

# The first backend comes back: taken back once backend_retry (2 s) is over.
start_ppecho back --expect v2 --bind "$DEAD2" || bail "ppecho on $DEAD2 did not start"
t0=$(now_ms) back=
for _ in $(seq 1 100); do      # at most 100 tries and 10 s
	[ "$(now_ms)" -ge $((t0 + 10000)) ] && break
	load pairb "$(frontd_addr pair)" --threads 1 --requests 1
	scrape m5
	back=$(metric "$T/m5" mptcp_frontd_backend_connect_seconds_count listener=pair backend="$DEAD2")
	[ "${back:-0}" -ge 1 ] && break
	sleep 0.1
done
took=$(( $(now_ms) - t0 ))
tap_diag "first backend restarted: taken back after $took ms (backend_retry = 2s)"
[ "${back:-0}" -ge 1 ]
tap_check $? "restarted first backend is used again after backend_retry" "$T/m5" "$FRONTD_LOG"
tap_is "$(metric "$T/m5" mptcp_frontd_backend_up listener=pair backend="$DEAD2")" 1 \
	"/metrics: backend_up{backend=\"$DEAD2\"} back to 1" "$T/m5"
tap_is "$(lines "info: listener pair: backend $DEAD2 is up again after [0-9.]+ s down \(1 failed connects meanwhile\)")" 1 \
	"'is up again' logged once, with the failures while down" "$FRONTD_LOG"
stop_pid "$FRONTD_PID"

# ---- a first backend that drops SYNs -------------------------------------
BLACKHOLE_PORT=4099
blackhole_netns NS "$BLACKHOLE_PORT" \
	"a first backend that drops SYNs costs connect_timeout once" || exit 0
PPECHO_NS=$NS start_ppecho nsgood --expect v2 || bail "ppecho in namespace did not start"
conf=$(write_config blackhole <<EOF
[listener:bh]
bind = 127.0.0.1:0
backend = 127.0.0.1:$BLACKHOLE_PORT, $PPECHO_ADDR
connect_timeout = 1s
backend_retry = 1m
EOF
)
FRONTD_NS=$NS start_frontd blackhole "$conf" || bail "mptcp-frontd in namespace did not start"
CLIENT_NS=$NS load bh "$(frontd_addr bh)" --threads 1 --requests 10
tap_check $? "first backend dropping SYNs: 10 clients served by the second" "$T/bh.err"
# Per-request latency (ms) from load.py's records, in order.
lat=$("$PYTHON" -c '
import json, sys
recs = sorted((json.loads(l) for l in open(sys.argv[1]) if l.strip()), key=lambda r: r["t0"])
print(" ".join("%d" % round((r["t1"] - r["t0"]) * 1000) for r in recs))' "$T/bh.json")
tap_diag "per-request latency (ms), first backend dropping SYNs, connect_timeout 1s: $lat"
first=${lat%% *} rest=${lat#* }
worst=$(printf '%s\n' $rest | sort -n | tail -n 1)
[ "${first:-0}" -ge 900 ]
tap_check $? "the first client pays connect_timeout once (${first:-?} ms)"
[ -n "$worst" ] && [ "$worst" -lt 300 ]
tap_check $? "the next 9 skip the dead backend: each under 300 ms (worst ${worst:-?} ms)"
tap_is "$(lines "warn: listener bh: backend 127.0.0.1:$BLACKHOLE_PORT is down \(connect failed: timed out\)")" 1 \
	"'is down (connect failed: timed out)' logged once" "$FRONTD_LOG"
