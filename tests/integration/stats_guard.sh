#!/bin/bash
# The /metrics listener against hostile or unlucky clients:
#  1. at the descriptor limit its accept backs off instead of spinning,
#     says so in one log line, and it and the proxy serve again once
#     descriptors free up;
#  2. a request sent one byte every 0.5 s is cut at the 5 s deadline; at
#     most 16 connections are held, later ones wait in the backlog until
#     the deadline frees a slot; -t and the start warn when `stats` binds
#     a non-loopback address;
#  3. a reload whose new `stats` address cannot be bound is rejected as a
#     whole: old configuration kept, /metrics still answering at the old
#     address.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

require_frontd
require_cmd curl prlimit

start_ppecho pp --expect v2 || bail "ppecho did not start"
PP_ADDR=$PPECHO_ADDR

# conf NAME STATS LISTENER...: $T/NAME.ini with one worker, `stats =
# STATS` and a plain TCP listener relaying to ppecho per LISTENER name;
# prints its path.
conf() {
	local name=$1 stats=$2 l
	shift 2
	{
		printf '[global]\nworkers = 1\nstats = %s\n' "$stats"
		for l in "$@"; do
			printf '\n[listener:%s]\nbind = 127.0.0.1:0\nbackend = %s\nmptcp = off\n' \
				"$l" "$PP_ADDR"
		done
	} | write_config "$name"
}

# ---- 1. descriptor exhaustion --------------------------------------------
conf=$(conf nofile 127.0.0.1:0 n)
start_frontd nofile "$conf" || bail "mptcp-frontd (nofile) did not start"
ADDR=$(frontd_addr n)
STATS=$(frontd_stats_addr)
# lowest_free_fd PID: the descriptor number PID's next open would get.
lowest_free_fd() {
	local i=0
	while [ -e "/proc/$1/fd/$i" ] && [ "$i" -lt 100000 ]; do i=$((i + 1)); done
	echo "$i"
}

# Fill descriptors with relayed connections, then put the soft limit at
# the lowest free descriptor: every new one fails with EMFILE, and the
# held connections' descriptors are below it, so closing them frees room.
hold fill "$ADDR" 20 --echo
tap_check $? "20 relayed connections are held" "$T/fill.err" || bail "cannot go on"
limit=$(lowest_free_fd "$FRONTD_PID")
prlimit --pid "$FRONTD_PID" --nofile="$limit:" ||
	bail "cannot lower the daemon's descriptor limit"
tap_diag "descriptor limit lowered to $limit ($(fd_count "$FRONTD_PID") open)"
# A scrape now: it waits in the backlog, answered once descriptors free up.
start_bg scrape-wait curl -s --max-time 30 -o "$T/scrape-wait.body" \
	-w '%{http_code}' "http://$STATS/metrics"
SCRAPE_PID=$BG_PID
wait_for_file_line "$FRONTD_LOG" 'Too many open files' 5
tap_check $? "the stats listener's accept runs out of descriptors" "$FRONTD_LOG"
sleep 0.2                       # past the first pause
lines0=$(grep -c 'Too many open files' "$FRONTD_LOG")
t0=$(cpu_ticks "$FRONTD_PID")
sleep 1
t1=$(cpu_ticks "$FRONTD_PID")
lines1=$(grep -c 'Too many open files' "$FRONTD_LOG")
hz=$(getconf CLK_TCK)
tap_diag "at the descriptor limit: $((t1 - t0)) of $hz CPU ticks in a second;" \
	"$lines1 log lines about it ($((lines1 - lines0)) during that second);" \
	"$(wc -c <"$FRONTD_LOG") bytes of log"
desc="... without spinning: under 5% of a CPU over a second"
if [ $((t1 - t0)) -le $((hz / 20)) ]; then tap_ok "$desc"; else tap_fail "$desc"; fi
tap_is "$lines1" 1 "... and says so in one log line" "$FRONTD_LOG"
release_hold
wait "$SCRAPE_PID"
rc=$?
tap_is "$rc/$(cat "$T/scrape-wait.out")" 0/200 \
	"once descriptors free up, the waiting scrape is answered" "$T/scrape-wait.err"
client after-limit "$(host_of "$ADDR")" "$(port_of "$ADDR")" integrity --mib 1
tap_check $? "... and the proxy serves a fresh client" "$T/after-limit.err" "$FRONTD_LOG"
tap_like "$(grep 'stats: accepting again' "$FRONTD_LOG")" 'after [0-9]+ failed attempts' \
	"the recovery is logged once, with the count of failed attempts" "$FRONTD_LOG"
stop_pid "$FRONTD_PID"

# ---- 2. deadline, connection cap, exposure warning -------------------------
conf=$(conf bounded 127.0.0.1:0 b)
start_frontd bounded "$conf" || bail "mptcp-frontd (bounded) did not start"
STATS=$(frontd_stats_addr)
# 50 bytes at one every 0.5 s would take 25 s; a byte never waits long
# enough for an idle timeout.
CLIENT_TIMEOUT=30 client slow "$(host_of "$STATS")" "$(port_of "$STATS")" hold \
	--drip 0.5 --max 15 \
	--send 'GET /metrics HTTP/1.1\r\nHost: x\r\nUser-Agent: a-slow-one\r\n\r\n'
closed=$(client_report slow closed)
secs=$(printf '%s\n' "$closed" | sed -n 's/^[^ ]* after \([0-9.]*\) s$/\1/p')
awk -v s="${secs:-99}" 'BEGIN { exit !(s >= 4.5 && s < 6.5) }'
tap_check $? "a request sent one byte every 0.5 s is cut at the 5 s deadline ($closed)" \
	"$T/slow.err" "$T/slow.out"
tap_like "$(head -n 1 "$T/slow.out")" '^(HTTP/1\.1 408 |$)' \
	"... and is not answered with the metrics" "$T/slow.out"

base=$(fd_count "$FRONTD_PID" socket:)
hold capped "$STATS" 20
tap_check $? "20 clients connect to /metrics and send nothing" "$T/capped.err"
most=0
for _ in $(seq 1 10); do        # about half a second
	n=$(($(fd_count "$FRONTD_PID" socket:) - base))
	[ "$n" -gt "$most" ] && most=$n
	sleep 0.05
done
tap_is "$most" 16 "the daemon holds at most 16 of them" "$FRONTD_LOG"
curl -s --max-time 1 -o /dev/null "http://$STATS/metrics"
tap_is "$?" 28 "a scrape beside them waits in the backlog (curl times out after 1 s)"
t0=$(now_ms)
curl -sf --max-time 15 -o "$T/after-cap" "http://$STATS/metrics"
rc=$?
t1=$(now_ms)
tap_check $rc "... and is answered once the deadline frees slots ($((t1 - t0)) ms)"
release_hold
curl -sf --max-time 5 -o /dev/null "http://$STATS/metrics"
tap_check $? "/metrics answers at once when the holders are gone"
bytes=$(curl -s --max-time 5 "http://$STATS/nothing" | wc -c)
desc="a wrong path gets a short 404 ($bytes bytes)"
if [ "$bytes" -gt 0 ] && [ "$bytes" -lt 100 ]; then tap_ok "$desc"; else tap_fail "$desc"; fi
stop_pid "$FRONTD_PID"

"$FRONTD" -t -c "$conf" >"$T/t-lo.out" 2>"$T/t-lo.err"
rc=$?
tap_is "$rc/$(grep -c 'stats:' "$T/t-lo.err")" 0/0 \
	"-t: a loopback stats address gets no warning" "$T/t-lo.err"
sed 's/^stats = 127\.0\.0\.1:0$/stats = 0.0.0.0:0/' "$conf" >"$T/exposed.ini"
line=$(grep -n '^stats' "$T/exposed.ini" | cut -d: -f1)
"$FRONTD" -t -c "$T/exposed.ini" >"$T/t-any.out" 2>"$T/t-any.err"
rc=$?
tap_is "$rc/$(cat "$T/t-any.out")" "0/$T/exposed.ini: configuration OK" \
	"-t: a non-loopback stats address is valid" "$T/t-any.err"
tap_like "$(cat "$T/t-any.err")" \
	"warn: $T/exposed\\.ini:$line: \\[global\\] stats: 0\\.0\\.0\\.0:0 is not a loopback address and /metrics has no authentication: .*bind 127\\.0\\.0\\.1 or \\[::1\\], or .*firewall" \
	"... but -t warns: no authentication, bind loopback or use a firewall rule" "$T/t-any.err"
start_frontd exposed "$T/exposed.ini" || bail "mptcp-frontd (exposed) did not start"
grep -Eq "warn: .*exposed\\.ini:$line: \\[global\\] stats: 0\\.0\\.0\\.0:0 is not a loopback address" \
	"$FRONTD_LOG"
tap_check $? "the same warning is logged at start" "$FRONTD_LOG"
stop_pid "$FRONTD_PID"

# ---- 3. a reload to an unbindable stats address -----------------------------
ACTIVE=$(conf active 127.0.0.1:0 r)
start_frontd reload "$ACTIVE" || bail "mptcp-frontd (reload) did not start"
STATS=$(frontd_stats_addr)
# 192.0.2.1 is on no interface here: bind fails with EADDRNOTAVAIL.
conf active 192.0.2.1:9090 r new >/dev/null
kill -HUP "$FRONTD_PID"
wait_for_file_line "$FRONTD_LOG" 'reload (failed|.*configuration generation 2)|reloaded ' 10 \
	"$FRONTD_PID"
tap_check $? "the daemon finished the reload" "$FRONTD_LOG"
grep -q 'error: stats 192\.0\.2\.1:9090: Cannot assign requested address' "$FRONTD_LOG" &&
	grep -q 'error: reload failed: still running configuration generation 1$' "$FRONTD_LOG"
tap_check $? "a reload whose stats address cannot be bound fails, with the reason logged" \
	"$FRONTD_LOG"
grep -q 'listener new: listening' "$FRONTD_LOG"
tap_is "$?" 1 "... before any new listener is bound" "$FRONTD_LOG"
grep -q 'configuration generation 2' "$FRONTD_LOG"
tap_is "$?" 1 "... and no generation 2 is ever made current" "$FRONTD_LOG"
curl -sf --max-time 5 -o "$T/metrics-old" "http://$STATS/metrics"
tap_check $? "/metrics still answers at the old address $STATS" "$FRONTD_LOG"
kill -0 "$FRONTD_PID"
tap_check $? "the daemon is still running" "$FRONTD_LOG"
stop_pid "$FRONTD_PID"

tap_done
