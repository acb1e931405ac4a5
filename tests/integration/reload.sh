#!/bin/bash
# SIGHUP and SIGUSR1 without load (reload_load.sh has the load):
#  1. a broken file (parse errors, then a bind that fails) logs its errors
#     and changes nothing; a later good file applies;
#  2. established connections keep the backend and idle timeout they
#     started with, new ones get the new settings;
#  3. listeners: added ones open, removed ones close, kept ones keep their
#     socket and port, mptcp off -> on on a fixed address gives an MPTCP
#     listener; clients hammering the kept and the switched port through
#     several reloads never fail;
#  4. SIGUSR1 reopens the log files after a logrotate-style rename; a
#     reload moves the logs to new paths and restarts /metrics on a new
#     address.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

require_mptcp
require_cmd ss curl
require_frontd

start_ppecho ppa --expect v1 || bail "ppecho A did not start"
PPA=$PPECHO_ADDR PPA_LOG=$PPECHO_LOG
start_ppecho ppb --expect v2 || bail "ppecho B did not start"
PPB=$PPECHO_ADDR PPB_LOG=$PPECHO_LOG

# reload CONF_SRC ACTIVE: put CONF_SRC in place (atomically), SIGHUP the
# daemon and wait (bounded) until a reload finished: "configuration
# generation G active on all workers" or "reload failed".  Sets GEN to
# the new generation (empty when the reload failed).  Returns 0 when it
# applied, 1 when it failed, 2 on timeout.
reload() {
	local n0 line
	{ cp "$1" "$2.new" && mv "$2.new" "$2"; } || return 2
	n0=$(grep -Ec 'info: configuration generation [0-9]+ active on all workers$|error: reload failed' "$FRONTD_LOG")
	kill -HUP "$FRONTD_PID"
	GEN=
	wait_for_count "$FRONTD_LOG" \
		'info: configuration generation [0-9]+ active on all workers$|error: reload failed' \
		$((n0 + 1)) 10 || return 2
	line=$(grep -E 'info: configuration generation [0-9]+ active on all workers$|error: reload failed' \
		"$FRONTD_LOG" | tail -n 1)
	case $line in
	*"reload failed"*) return 1 ;;
	esac
	GEN=$(printf '%s\n' "$line" | sed 's/.*generation \([0-9]*\) active.*/\1/')
	# The main thread logs "reloaded" after handing the workers their
	# sets, so the last worker may log "active" first.
	wait_for_file_line "$FRONTD_LOG" "info: reloaded .*: configuration generation $GEN, " 5 ||
		return 2
	return 0
}

# echo_via NAME ADDR [CLIENT_OPTS...]: one line through ADDR (the daemon,
# to an echo backend); 0 when it came back.  The client's port is left in
# CPORT.
echo_via() {
	local name=$1 addr=$2 rc
	shift 2
	client "$name" "$@" "$(host_of "$addr")" "$(port_of "$addr")" \
		send "hello $name\n" --lines 1
	rc=$?
	CPORT=$(port_of "$(client_report "$name" local)")
	[ "$rc" -eq 0 ] && [ "$(cat "$T/$name.out")" = "hello $name" ]
}

# pp_via LOG ADDR: the PROXY version ppecho recorded for the connection
# echo_via just made to ADDR (the last record from our port to that port:
# the loads reuse ephemeral ports, never a whole 4-tuple), or "none".
pp_via() {
	"$PYTHON" - "$1" "$CPORT" "$(port_of "$2")" <<'PY'
import json, sys
path, sport, dport = sys.argv[1], int(sys.argv[2] or 0), int(sys.argv[3])
hits = [r for r in map(json.loads, open(path))
        if r.get("sport") == sport and r.get("dport") == dport]
print(hits[-1]["version"] if hits else "none")
PY
}

# ======================================================= 1. bad reload ======
ACTIVE=$T/bad.ini
good_a=$(write_config bad-a <<EOF
[global]
workers = 2
access_log = $T/bad-access.log

[listener:web]
bind = 127.0.0.1:0
backend = $PPA
proxy_protocol = v1
EOF
)
cp "$good_a" "$ACTIVE"
start_frontd bad "$ACTIVE" || bail "mptcp-frontd did not start"
WEB=$(frontd_addr web)

# Errors on lines 7, 8 and 13; it also points web at backend B and adds a
# listener, neither of which may happen.
broken=$(write_config broken <<EOF
[global]
workers = 2

[listener:web]
bind = 127.0.0.1:0
backend = $PPB
proxy_protocol = v3
idle_timout = 5s

[listener:extra]
bind = 127.0.0.4:0
backend = $PPB
connect_timeout = soon
EOF
)
reload "$broken" "$ACTIVE"
rc=$?
tap_is "$rc" 1 "SIGHUP with a broken file: the reload fails" "$FRONTD_LOG"
sed -n '/info: SIGHUP: reloading /,$p' "$FRONTD_LOG" | cut -d' ' -f2- >"$T/bad-reload.out"
cat >"$T/bad-reload.want" <<EOF
info: SIGHUP: reloading $ACTIVE
error: reload: $ACTIVE:7: [listener:web] proxy_protocol: bad value "v3": expected v1, v2 or off
error: reload: $ACTIVE:8: [listener:web] idle_timout: unknown key; did you mean "idle_timeout"?
error: reload: $ACTIVE:13: [listener:extra] connect_timeout: bad duration "soon": expected a number with ms, s, m or h
error: reload failed (3 errors): still running configuration generation 1
EOF
diff -u "$T/bad-reload.want" "$T/bad-reload.out" >"$T/bad-reload.diff"
tap_check $? "it logs every error, exactly, then the generation still running" \
	"$T/bad-reload.diff"
"$FRONTD" -t -c "$ACTIVE" >/dev/null 2>"$T/bad-t.err"
sed -n 's/^error: reload: //p' "$T/bad-reload.out" | diff -u - "$T/bad-t.err" >"$T/bad-t.diff"
tap_check $? "the reload's errors are the ones -t reports for that file" "$T/bad-t.diff"
echo_via bad1 "$WEB"
rc=$?
tap_is "$rc $(pp_via "$PPA_LOG" "$WEB")" "0 1" \
	"the old configuration keeps serving: backend A, PROXY v1" \
	"$T/bad1.err"
ss -Hltn src 127.0.0.4 >"$T/bad-ss.out"
tap_is "$(wc -l <"$T/bad-ss.out")" 0 \
	"the broken file's new listener was not opened" "$T/bad-ss.out"

# Valid syntax, but a bind that fails: rolled back as a whole.
nobind=$(write_config nobind <<EOF
[global]
workers = 2

[listener:web]
bind = 127.0.0.1:0
backend = $PPB
proxy_protocol = v2

[listener:extra]
bind = 198.51.100.7:0
backend = $PPB
EOF
)
n0=$(wc -l <"$FRONTD_LOG")
reload "$nobind" "$ACTIVE"
rc=$?
tap_is "$rc" 1 "SIGHUP with a file whose listener cannot bind: the reload fails" "$FRONTD_LOG"
tail -n +$((n0 + 1)) "$FRONTD_LOG" | cut -d' ' -f2- >"$T/nobind.out"
grep -Fxq "error: listener extra: bind 198.51.100.7:0: Cannot assign requested address" "$T/nobind.out" &&
	grep -Fxq "error: reload failed: still running configuration generation 1" "$T/nobind.out"
tap_check $? "it logs the bind error and that generation 1 still runs" "$T/nobind.out"
echo_via bad2 "$WEB"
rc=$?
tap_is "$rc $(pp_via "$PPA_LOG" "$WEB")" "0 1" \
	"the old configuration still serves: backend A, PROXY v1" \
	"$T/bad2.err"

good_b=$(write_config bad-b <<EOF
[global]
workers = 2
access_log = $T/bad-access.log

[listener:web]
bind = 127.0.0.1:0
backend = $PPB
proxy_protocol = v2
EOF
)
n0=$(wc -l <"$FRONTD_LOG")
reload "$good_b" "$ACTIVE"
rc=$?
tap_is "$rc" 0 "a later good file applies" "$FRONTD_LOG"
tail -n +$((n0 + 1)) "$FRONTD_LOG" | cut -d' ' -f2- >"$T/good.out"
grep -Fxq "info: reloaded $ACTIVE: configuration generation $GEN, 1 listener" "$T/good.out"
tap_check $? "it logs \"reloaded FILE: configuration generation $GEN, 1 listener\"" "$T/good.out"
echo_via good1 "$WEB"
rc=$?
tap_is "$rc $(pp_via "$PPB_LOG" "$WEB")" "0 2" \
	"a new connection on the same port gets backend B with PROXY v2" \
	"$T/good1.err"

# ============================== 2. established connections keep settings ===
# Now on B (idle_timeout 10m).  A transfer and an idle connection start
# here; then a reload to A with idle_timeout = 300ms.
nb=$(wc -l <"$PPB_LOG")
start_bg est-long "$PYTHON" "$TOOLS/client.py" --expect-mptcp \
	"$(host_of "$WEB")" "$(port_of "$WEB")" integrity --mib 16 --rate 8
LONG_PID=$BG_PID
start_bg est-idle "$PYTHON" "$TOOLS/client.py" --mptcp \
	"$(host_of "$WEB")" "$(port_of "$WEB")" hold --send 'old\n' --max 2.5
IDLE_PID=$BG_PID
wait_for_count "$PPB_LOG" . $((nb + 2)) 10 ||
	bail "the established connections did not reach backend B"
short_a=$(write_config short-a <<EOF
[global]
workers = 2
access_log = $T/bad-access.log

[listener:web]
bind = 127.0.0.1:0
backend = $PPA
proxy_protocol = v1
idle_timeout = 300ms
EOF
)
reload "$short_a" "$ACTIVE"
tap_is "$?" 0 "reload to backend A with idle_timeout = 300ms while two connections are open" \
	"$FRONTD_LOG"
echo_via new1 "$WEB"
rc=$?
tap_is "$rc $(pp_via "$PPA_LOG" "$WEB")" "0 1" \
	"a new connection gets backend A with PROXY v1" \
	"$T/new1.err"
client new-idle --mptcp "$(host_of "$WEB")" "$(port_of "$WEB")" hold --send 'new\n' --max 5
rc=$?
closed=$(client_report new-idle closed)
secs=$(printf '%s\n' "$closed" | sed -n 's/^eof after \([0-9.]*\) s$/\1/p')
awk -v s="${secs:-99}" 'BEGIN { exit !(s >= 0.25 && s < 2) }'
tap_check $((rc + $?)) "a new idle connection is closed by the new idle_timeout ($closed)" \
	"$T/new-idle.err"

wait_pid_exit "$IDLE_PID" 10000
wait "$IDLE_PID"
rc=$?
closed=$(client_report est-idle closed)
tap_like "$rc $closed" '^1 timeout after 2\.[5-9]' \
	"the idle connection from before the reload is not closed by the new idle_timeout ($closed)" \
	"$T/est-idle.err"
wait_pid_exit "$LONG_PID" 20000
wait "$LONG_PID"
rc=$?
tap_check $rc "the transfer from before the reload completes, 16 MiB each way intact" \
	"$T/est-long.err"
sp=$(port_of "$(client_report est-long local)")
dp=$(port_of "$WEB")
pp_match "$PPB_LOG" sport="$sp" dport="$dp" version=2 >"$T/est-pp.out" &&
	! pp_match "$PPA_LOG" sport="$sp" dport="$dp" >/dev/null
tap_check $? "it stayed on its original backend B (PROXY v2)" "$T/est-pp.out"
wait_for_file_line "$T/bad-access.log" "client=127\.0\.0\.1:$sp " 5
tap_like "$(grep -F "client=127.0.0.1:$sp " "$T/bad-access.log")" \
	"backend=$(printf '%s' "$PPB" | sed 's/[.]/\\./g') .*bytes_in=16777216 bytes_out=16777216 .*end=client_close( |\$)" \
	"access log: that connection ran to completion on backend B" "$T/bad-access.log"
stop_pid "$FRONTD_PID"

# ======================================================= 3. listeners =======
# keep and second both bind 127.0.0.1:0 (listed in the other order after
# the reload: each must keep its own port); gone and added use addresses of
# their own; switch binds a fixed port, mptcp off then on.
start_ppecho ppl || bail "ppecho for the listeners did not start"
PPL=$PPECHO_ADDR PPL_LOG=$PPECHO_LOG
ACTIVE=$T/lst.ini

# lconf NAME FIXED_PORT GEN: configuration 1 or 2 of this case.
lconf() {
	if [ "$3" = 1 ]; then
		write_config "$1" <<EOF
[global]
workers = 2

[listener:keep]
bind = 127.0.0.1:0
backend = $PPL
proxy_protocol = v1

[listener:second]
bind = 127.0.0.1:0
backend = $PPL
proxy_protocol = v2

[listener:gone]
bind = 127.0.0.2:0
backend = $PPL

[listener:switch]
bind = 127.0.0.1:$2
mptcp = off
backend = $PPL
EOF
	else
		write_config "$1" <<EOF
[global]
workers = 2

[listener:second]
bind = 127.0.0.1:0
backend = $PPL
proxy_protocol = v2

[listener:keep]
bind = 127.0.0.1:0
backend = $PPL
proxy_protocol = v1

[listener:added]
bind = 127.0.0.3:0
backend = $PPL
proxy_protocol = v1

[listener:switch]
bind = 127.0.0.1:$2
mptcp = on
backend = $PPL
EOF
	fi
}

started=
for _ in 1 2 3 4 5; do
	FIXED=$(free_port)
	L1=$(lconf lst-1 "$FIXED" 1) L2=$(lconf lst-2 "$FIXED" 2)
	cp "$L1" "$ACTIVE"
	if start_frontd lst "$ACTIVE"; then
		started=1
		break
	fi
	grep -q 'Address already in use' "$FRONTD_LOG" || break
	wait "$FRONTD_PID" 2>/dev/null
done
[ -n "$started" ] || bail "mptcp-frontd did not start"
KEEP=$(frontd_addr keep) SECOND=$(frontd_addr second) GONE=$(frontd_addr gone)
SWITCH=127.0.0.1:$FIXED
tap_is "$(frontd_addr switch)" "$SWITCH" "switch listens on its fixed port"

# mptcp_listeners: how many MPTCP listening sockets ss lists on $SWITCH.
mptcp_listeners() {
	ss -Hltn -M 2>/dev/null | awk -v a="$SWITCH" '$1 == "mptcp" && $5 == a' | wc -l
}
tap_is "$(mptcp_listeners)" 0 "before: ss lists no MPTCP listener on $SWITCH (mptcp = off)"
echo_via sw0 "$SWITCH" --expect-fallback
tap_check $? "before: an MPTCP client to $SWITCH falls back to TCP" "$T/sw0.err"

# A switched bind closes its old socket: a handshake the kernel completes
# on it between the daemon's last accept and the close would be reset,
# unless the kernel moves it to the new socket (tcp_migrate_req, as
# mptcp-frontd(8) advises for hosts that switch listeners under load).
# Set for this test, put back at exit.
migrate=/proc/sys/net/ipv4/tcp_migrate_req
if [ -w "$migrate" ]; then
	old_migrate=$(cat "$migrate")
	at_exit "echo $old_migrate >$migrate"
	echo 1 >"$migrate"
fi

# Clients that keep connecting to the kept port and to the switched one
# through every reload; each exchange must succeed.
lload() {
	local name=$1 addr=$2
	shift 2
	start_bg "$name" "$PYTHON" "$TOOLS/load.py" "$@" --mode echo --threads 2 \
		--rate 400 --stop-file "$T/lstop" --max-seconds 40 \
		--progress "$T/$name.progress" --record "$T/$name.json" \
		"$(host_of "$addr")" "$(port_of "$addr")"
}
lload ll-keep "$KEEP"
LL_KEEP=$BG_PID
lload ll-switch "$SWITCH" --mptcp
LL_SWM=$BG_PID
lload ll-switch-tcp "$SWITCH"
LL_SWT=$BG_PID

# wait_more NAME N: until load NAME completed N more exchanges (bounded).
wait_more() {
	local f=$T/$1.progress n0 n deadline=$(($(now_ms) + 10000))
	n0=$(cut -d' ' -f1 "$f" 2>/dev/null)
	n0=${n0:-0}
	while :; do
		n=$(cut -d' ' -f1 "$f" 2>/dev/null)
		[ "${n:-0}" -ge $((n0 + $2)) ] && return 0
		[ "$(now_ms)" -ge "$deadline" ] && return 1
		sleep 0.01
	done
}
{ wait_more ll-keep 50 && wait_more ll-switch 50; } ||
	bail "the listener load does not progress"

reload "$L2" "$ACTIVE"
tap_is "$?" 0 "reload: second and keep swapped in the file, gone removed, added, switch mptcp off -> on" \
	"$FRONTD_LOG"
wait_more ll-switch 50 && wait_more ll-switch-tcp 50 && wait_more ll-keep 50
tap_check $? "the loads go on after the reload"

n_keep=$(grep -c 'listener keep: listening on' "$FRONTD_LOG")
n_second=$(grep -c 'listener second: listening on' "$FRONTD_LOG")
tap_is "$n_keep/$n_second" 1/1 \
	"kept listeners were not opened again (one \"listening on\" line each, from the start)" \
	"$FRONTD_LOG"
echo_via keep1 "$KEEP"
rc=$?
tap_is "$rc $(pp_via "$PPL_LOG" "$KEEP")" "0 1" \
	"keep still answers on its logged port $(port_of "$KEEP") with its own settings (PROXY v1)" \
	"$T/keep1.err"
echo_via second1 "$SECOND"
rc=$?
tap_is "$rc $(pp_via "$PPL_LOG" "$SECOND")" "0 2" \
	"second still answers on its logged port $(port_of "$SECOND") with its own settings (PROXY v2)" \
	"$T/second1.err"

client gone1 "$(host_of "$GONE")" "$(port_of "$GONE")" connect
rc=$?
tap_is "$rc $(client_report gone1 connect)" "3 ECONNREFUSED" \
	"the removed listener's port $GONE refuses connections" "$T/gone1.err"

ADDED=$(frontd_addr added)
tap_like "$ADDED" '^127\.0\.0\.3:[0-9]+$' "the added listener logs where it listens ($ADDED)" \
	"$FRONTD_LOG"
echo_via added1 "${ADDED:-127.0.0.3:1}" --expect-mptcp
rc=$?
tap_is "$rc $(pp_via "$PPL_LOG" "${ADDED:-127.0.0.3:1}")" "0 1" \
	"a request on the added listener succeeds (MPTCP, its PROXY v1)" \
	"$T/added1.err"

grep -q "listener switch: listening on $SWITCH (mptcp)" "$FRONTD_LOG"
tap_check $? "switch logs its new MPTCP socket on the same address" "$FRONTD_LOG"
tap_is "$(mptcp_listeners)" 2 "after: ss -M lists $SWITCH as MPTCP listeners (one per worker)"
echo_via sw1 "$SWITCH" --expect-mptcp
tap_check $? "after: an MPTCP client to $SWITCH negotiates MPTCP" "$T/sw1.err"

# Back and forth a few more times under the same load: on -> off needs the
# same open-before-close.
ok=0
for i in $(seq 1 8); do
	if [ $((i % 2)) = 1 ]; then src=$L1; else src=$L2; fi
	reload "$src" "$ACTIVE" || break
	{ wait_more ll-switch 50 && wait_more ll-switch-tcp 50 &&
		wait_more ll-keep 50; } || break
	ok=$i
done
tap_is "$ok" 8 "eight more reloads switching mptcp on and off under load" "$FRONTD_LOG"

touch "$T/lstop"
for name in ll-keep ll-switch ll-switch-tcp; do
	case $name in
	ll-keep) pid=$LL_KEEP ;;
	ll-switch) pid=$LL_SWM ;;
	*) pid=$LL_SWT ;;
	esac
	wait_pid_exit "$pid" 20000
	wait "$pid"
	rc=$?
	req=$(sed -n 's/^requests //p' "$T/$name.err")
	fail=$(sed -n 's/^failures //p' "$T/$name.err")
	tap_is "$rc/$fail" 0/0 \
		"$name: $req connections through 9 reloads, none refused or failed" "$T/$name.err" ||
		tap_diag "failed exchanges (t0 is wall-clock time, like the log's):" \
			"$(grep -F '"ok": false' "$T/$name.json" | head -n 5)"
done
n_keep=$(grep -c 'listener keep: listening on' "$FRONTD_LOG")
tap_is "$n_keep" 1 "keep kept its one socket through all reloads" "$FRONTD_LOG"
stop_pid "$FRONTD_PID"

# ============================================= 4. SIGUSR1 and log targets ===
LOG1=$T/usr1-daemon.log ACC1=$T/usr1-access.log
LOG2=$T/usr1-daemon2.log ACC2=$T/usr1-access2.log
ACTIVE=$T/usr1.ini
# uconf NAME LOG ACCESS_LOG STATS
uconf() {
	write_config "$1" <<EOF
[global]
workers = 2
log = $2
access_log = $3
stats = $4

[listener:web]
bind = 127.0.0.1:0
backend = $PPA
proxy_protocol = v1
EOF
}
cp "$(uconf usr1-a "$LOG1" "$ACC1" 127.0.0.1:0)" "$ACTIVE"
start_bg usr1 "$FRONTD" -f -c "$ACTIVE"
FRONTD_PID=$BG_PID FRONTD_LOG=$LOG1
wait_for_file_line "$LOG1" 'mptcp-frontd .* ready \(pid [0-9]+\)' 10 "$FRONTD_PID" ||
	bail "mptcp-frontd (log to a file) did not become ready"
WEB=$(frontd_addr web)

{ mv "$LOG1" "$LOG1.1" && mv "$ACC1" "$ACC1.1"; } || bail "cannot rename the logs"
kill -USR1 "$FRONTD_PID"
wait_for_file_line "$LOG1" 'info: SIGUSR1: log files reopened$' 5 "$FRONTD_PID"
tap_check $? "after a logrotate-style rename, SIGUSR1 logs to a fresh file at the original path" \
	"$LOG1.1" "$T/usr1.err"
grep -q 'SIGUSR1' "$LOG1.1"
tap_check $((!$?)) "the renamed file got nothing more"
echo_via usr1c "$WEB"
wait_for_file_line "$ACC1" "client=127\.0\.0\.1:$CPORT " 5
tap_check $? "the next connection is logged in a fresh access log at the original path" \
	"$ACC1" "$ACC1.1"
grep -q "client=127.0.0.1:$CPORT " "$ACC1.1"
tap_check $((!$?)) "and not in the renamed access log"

STATS1=$(sed -n 's|.*stats: serving /metrics on http://\([^/]*\)/metrics.*|\1|p' "$LOG1" "$LOG1.1" | head -n 1)
curl -sf --max-time 5 "http://$STATS1/metrics" >/dev/null
tap_check $? "/metrics answers on $STATS1"

# Not reload(): the lines that end the reload go to the new file.
{ cp "$(uconf usr1-b "$LOG2" "$ACC2" 127.0.0.5:0)" "$ACTIVE.new" &&
	mv "$ACTIVE.new" "$ACTIVE"; } || bail "cannot replace $ACTIVE"
kill -HUP "$FRONTD_PID"
wait_for_file_line "$LOG2" 'info: configuration generation 2 active on all workers$' 10 \
	"$FRONTD_PID" &&
	wait_for_file_line "$LOG2" 'info: reloaded .*: configuration generation 2, ' 5
rc=$?
FRONTD_LOG=$LOG2
grep -q "info: SIGHUP: reloading $ACTIVE\$" "$LOG1" &&
	grep -q "info: reloaded $ACTIVE: configuration generation 2, 1 listener\$" "$LOG2"
tap_check $((rc + $?)) "a reload with log = another file: \"reloading\" in the old file, the rest in the new one" \
	"$LOG1" "$LOG2"
echo_via usr1d "$WEB"
wait_for_file_line "$ACC2" "client=127\.0\.0\.1:$CPORT " 5
tap_check $? "and access_log = another file takes the next connection" "$ACC2"
STATS2=$(sed -n 's|.*stats: serving /metrics on http://\([^/]*\)/metrics.*|\1|p' "$LOG2" | head -n 1)
tap_like "$STATS2" '^127\.0\.0\.5:[0-9]+$' "the stats endpoint restarted on its new address ($STATS2)" "$LOG2"
curl -sf --max-time 5 "http://$STATS2/metrics" >"$T/metrics2.out"
tap_check $? "/metrics answers on $STATS2"
curl -s --max-time 5 "http://$STATS1/metrics" >/dev/null
tap_is "$?" 7 "the old stats address refuses connections (curl exit 7)"
stop_pid "$FRONTD_PID"
