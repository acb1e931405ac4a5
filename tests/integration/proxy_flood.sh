#!/bin/bash
# A flood of refused accept_proxy connections (issue 15, item 5): 10,000
# connections from a source outside accept_proxy_from.  Each is refused,
# access-logged with end=proxy_untrusted and counted in /metrics, but the
# daemon's own log gets a bounded number of lines (one info line per
# 10 s window, the first at once; the next says how many were refused
# since), not one each.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

require_cmd curl
require_frontd

N=${FLOOD_COUNT:-10000}
start_ppecho pp --expect v1 || bail "ppecho did not start"
conf=$(write_config flood <<EOF2
[global]
stats = 127.0.0.1:0
access_log = $T/access.log

[listener:lb]
bind = 127.0.0.1:0
backend = $PPECHO_ADDR
proxy_protocol = v1
accept_proxy = on
accept_proxy_from = 192.0.2.0/24
EOF2
)
start_frontd flood "$conf" || bail "mptcp-frontd did not start"
ADDR=$(frontd_addr lb)
STATS=$(frontd_stats_addr)
lines0=$(grep -ac '' "$FRONTD_LOG")

start_bg flooder "$PYTHON" "$TOOLS/flood.py" "$(host_of "$ADDR")" \
	"$(port_of "$ADDR")" "$N" --max 120
FLOOD=$BG_PID
wait_pid_exit "$FLOOD" 150000 || bail "the flood did not finish"
wait "$FLOOD"
rc=$?
tap_check $rc "the flood of $N connections ran: $(cat "$T/flooder.out")" "$T/flooder.err"

wait_for_count "$T/access.log" 'end=proxy_untrusted' "$N" 30
tap_is "$(grep -c 'end=proxy_untrusted' "$T/access.log")" "$N" \
	"every refusal is access-logged"
curl -s --max-time 5 "http://$STATS/metrics" >"$T/metrics"
tap_is "$(metric "$T/metrics" mptcp_frontd_connections_closed_total listener=lb reason=proxy_untrusted)" "$N" \
	"every refusal is counted" "$T/metrics"
lines=$(($(grep -ac '' "$FRONTD_LOG") - lines0))
refused=$(grep -ac 'PROXY header refused' "$FRONTD_LOG")
tap_diag "daemon log: $lines0 lines at start, $lines new, $refused about refusals, for $N refused connections"
desc="the daemon's log stays bounded: $refused refusal lines (at most 20)"
if [ "$refused" -le 20 ] && [ "$lines" -le 40 ]; then tap_ok "$desc"; else tap_fail "$desc"; fi
grep -aq 'PROXY header refused: source not in accept_proxy_from' "$FRONTD_LOG"
tap_check $? "the first refusal is logged at once, with its reason" "$FRONTD_LOG"

# The next window's first refusal says how many went to level debug.
sleep 10.5
"$PYTHON" "$TOOLS/flood.py" "$(host_of "$ADDR")" "$(port_of "$ADDR")" 1 \
	>"$T/one.out" 2>&1
wait_for_count "$FRONTD_LOG" 'PROXY header refused' 2 5
grep -aq "PROXY header refused: source not in accept_proxy_from (and $((N - 1)) more refusals in the last 1[0-9] s" "$FRONTD_LOG"
tap_check $? "after the window, one line counts the $((N - 1)) refusals logged at debug" "$FRONTD_LOG"

kill -TERM "$FRONTD_PID"
wait_pid_exit "$FRONTD_PID" 10000
wait "$FRONTD_PID"
tap_is "$?" 0 "the daemon stops with status 0" "$FRONTD_LOG"

tap_done
