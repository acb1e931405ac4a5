#!/bin/bash
# Reload under load: short HTTP requests through the daemon to a real nginx
# (over MPTCP and plain TCP) and four long echo transfers keep running while
# the test sends SIGHUP after SIGHUP, alternating two valid configurations
# that differ in backend and PROXY version:
#   A: web -> nginx TCP port, PROXY v1, answers "A"; echo -> ppecho A (v1)
#   B: web -> nginx unix socket, PROXY v2, answers "B"; echo -> ppecho B (v2)
# Between reloads the test waits for "configuration generation G active on
# all workers" and for more requests to complete.  No request may fail,
# every request made entirely while one generation was active must have
# that generation's answer, the long transfers (started under A) complete
# intact on their original backend, and after the last reload new
# connections use its backend and PROXY version.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

RELOADS=${RELOADS:-25}      # odd: the last reload applies B, not the start's A
PER_RELOAD=${PER_RELOAD:-100}   # requests to complete between reloads
LONG_MIB=64 LONG_RATE=4 LONG_N=4   # 16 s each: they outlast the reloads on a busy host

require_mptcp
# shellcheck disable=SC2119  # no modules needed for http
require_nginx
require_frontd

t_start=$(now_ms)
start_nginx reload.conf || bail "nginx did not start"
NG_DIR=$NGINX_DIR NG_PORT=$NGINX_PORT
start_ppecho ppa --expect v1 || bail "ppecho A did not start"
PPA=$PPECHO_ADDR PPA_LOG=$PPECHO_LOG
start_ppecho ppb --expect v2 || bail "ppecho B did not start"
PPB=$PPECHO_ADDR PPB_LOG=$PPECHO_LOG

# conf NAME WEB_BACKEND ECHO_BACKEND PROXY_VERSION
conf() {
	write_config "$1" <<EOF
[global]
workers = 3
shutdown_timeout = 5s

[listener:web]
bind = 127.0.0.1:0
backend = $2
proxy_protocol = $4

[listener:echo]
bind = 127.0.0.1:0
backend = $3
proxy_protocol = $4
EOF
}
CONF_A=$(conf conf-a "127.0.0.1:$NG_PORT" "$PPA" v1)
CONF_B=$(conf conf-b "unix:$NG_DIR/b.sock" "$PPB" v2)
ACTIVE=$T/frontd.ini
cp "$CONF_A" "$ACTIVE" || bail "cannot write $ACTIVE"

start_frontd frontd "$ACTIVE" || bail "mptcp-frontd did not start"
WEB=$(frontd_addr web) ECHO=$(frontd_addr echo)
{ [ -n "$WEB" ] && [ -n "$ECHO" ]; } || bail "listener addresses not logged"

# --- long transfers, established under configuration A ----------------------
long_pids=()
for i in $(seq 1 $LONG_N); do
	start_bg "long$i" "$PYTHON" "$TOOLS/client.py" --expect-mptcp --timeout 60 \
		"$(host_of "$ECHO")" "$(port_of "$ECHO")" integrity \
		--mib $LONG_MIB --rate $LONG_RATE --seed "$i"
	long_pids+=("$BG_PID")
done
wait_for_count "$PPA_LOG" . $LONG_N 10 ||
	bail "the long transfers did not all reach backend A"

# --- short requests ----------------------------------------------------------
# load NAME ARGS...: load.py against the web listener until $T/stop exists.
load() {
	local name=$1
	shift
	start_bg "$name" "$PYTHON" "$TOOLS/load.py" "$@" --mode http \
		--stop-file "$T/stop" --max-seconds 50 \
		--progress "$T/$name.progress" --record "$T/$name.json" \
		"$(host_of "$WEB")" "$(port_of "$WEB")"
}
# Paced, so that the whole run stays at a few thousand requests (each one
# leaves a TIME_WAIT socket behind) however fast the machine is.
load load-mptcp --mptcp --threads 6 --rate 1000
LOAD_M_PID=$BG_PID
load load-tcp --threads 2 --rate 500
LOAD_T_PID=$BG_PID

# done_requests: requests both loads completed so far.
done_requests() {
	local m t
	m=$(cut -d' ' -f1 "$T/load-mptcp.progress" 2>/dev/null)
	t=$(cut -d' ' -f1 "$T/load-tcp.progress" 2>/dev/null)
	echo $((${m:-0} + ${t:-0}))
}

# wait_requests N TIMEOUT_S: until the loads completed N requests.
wait_requests() {
	local deadline=$(($(now_ms) + $2 * 1000))
	while [ "$(done_requests)" -lt "$1" ]; do
		kill -0 "$LOAD_M_PID" 2>/dev/null || return 2
		[ "$(now_ms)" -ge "$deadline" ] && return 1
		sleep 0.01
	done
}

wait_requests "$PER_RELOAD" 20 || bail "the load does not progress"

# --- the reloads ----------------------------------------------------------------
# $T/gens: "GENERATION BODY" for every generation, for the window check.
echo "1 A" >"$T/gens"
reloads=0 reload_err=
t_reload0=$(now_ms)
for i in $(seq 1 "$RELOADS"); do
	if [ $((i % 2)) = 1 ]; then src=$CONF_B body=B; else src=$CONF_A body=A; fi
	gen=$((i + 1))
	{ cp "$src" "$ACTIVE.new" && mv "$ACTIVE.new" "$ACTIVE"; } ||
		bail "cannot replace $ACTIVE"
	kill -HUP "$FRONTD_PID"
	wait_for_file_line "$FRONTD_LOG" \
		"info: configuration generation $gen active on all workers\$" 10 \
		"$FRONTD_PID"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		reload_err="reload $i: generation $gen not active on all workers (status $rc)"
		break
	fi
	echo "$gen $body" >>"$T/gens"
	reloads=$i
	n=$(done_requests)
	if ! wait_requests $((n + PER_RELOAD)) 20; then
		reload_err="reload $i: the load stopped progressing after it"
		break
	fi
done
t_reloads=$(($(now_ms) - t_reload0))
tap_is "${reload_err:-none}" none \
	"$RELOADS SIGHUPs alternating B and A, each active on all workers before the next" \
	"$FRONTD_LOG"

running=0
for pid in "${long_pids[@]}"; do
	kill -0 "$pid" 2>/dev/null && running=$((running + 1))
done
tap_is "$running" "$LONG_N" \
	"all $LONG_N long transfers were still in progress after the last reload"

touch "$T/stop"
wait_pid_exit "$LOAD_M_PID" 20000
wait "$LOAD_M_PID"
rc_m=$?
wait_pid_exit "$LOAD_T_PID" 20000
wait "$LOAD_T_PID"
rc_t=$?
report() { sed -n "s/^$2 //p" "$T/$1.err" | head -n 1; }
req_m=$(report load-mptcp requests) fail_m=$(report load-mptcp failures)
req_t=$(report load-tcp requests) fail_t=$(report load-tcp failures)
requests=$((${req_m:-0} + ${req_t:-0}))
failures=$((${fail_m:-0} + ${fail_t:-0}))
tap_diag "requests $requests (MPTCP $req_m, TCP $req_t), failures $failures," \
	"reloads $reloads in ${t_reloads} ms" \
	"bodies: MPTCP $(report load-mptcp bodies), TCP $(report load-tcp bodies)"

tap_is "$rc_m/$fail_m" 0/0 \
	"MPTCP clients: $req_m requests through reloads, none failed" "$T/load-mptcp.err"
tap_is "$rc_t/$fail_t" 0/0 \
	"plain TCP clients: $req_t requests through reloads, none failed" "$T/load-tcp.err"
[ "$requests" -ge 2000 ]
tap_check $? "a few thousand requests were made ($requests >= 2000)"

gens=$(sed -n 's/.*info: configuration generation \([0-9]*\) active on all workers$/\1/p' \
	"$FRONTD_LOG" | sort -un | wc -l)
[ "$gens" -ge 20 ]
tap_check $? "distinct generations logged active on all workers: $gens >= 20" "$FRONTD_LOG"
errors=$(grep -c ' error: ' "$FRONTD_LOG")
tap_is "$errors" 0 "no error logged during the reloads" "$FRONTD_LOG"

# Every request that began after generation G was active on all workers and
# ended before the next SIGHUP was handled must have G's answer.  The log's
# timestamps and the load's t0/t1 read the same clock (CLOCK_REALTIME); a
# log line is stamped (to the millisecond, truncated) after what it reports.
"$PYTHON" - "$FRONTD_LOG" "$T/gens" "$T/load-mptcp.json" "$T/load-tcp.json" \
	>"$T/windows.out" 2>&1 <<'EOF'
import datetime, json, re, sys
log, gens_file, *records = sys.argv[1:]
def ts(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()
want = dict(l.split() for l in open(gens_file) if l.strip())
windows, cur = [], None     # (from, until, generation), in log order
for line in open(log):
    m = re.match(r"(\S+) info: (.*)", line.rstrip("\n"))
    if not m:
        continue
    t, msg = ts(m.group(1)), m.group(2)
    a = re.match(r"configuration generation (\d+) active on all workers$", msg)
    if msg.startswith("mptcp-frontd ") and " ready (pid " in msg:
        cur = ("1", t)
    elif a:
        cur = (a.group(1), t)
    elif msg.startswith("SIGHUP: reloading ") and cur:
        windows.append((cur[1] + 0.001, t, cur[0]))
        cur = None
if cur:
    windows.append((cur[1] + 0.001, float("inf"), cur[0]))
checked, bad, used = 0, [], set()
for path in records:
    for r in map(json.loads, open(path)):
        if not r["ok"]:
            continue
        if r["body"] not in ("A", "B"):
            bad.append("unexpected body %r: %s" % (r["body"], r))
            continue
        for lo, hi, g in windows:
            if r["t0"] >= lo and r["t1"] < hi:
                checked += 1
                used.add(g)
                if r["body"] != want.get(g):
                    bad.append("generation %s (%s) answered %s: %s"
                               % (g, want.get(g), r["body"], r))
                break
print("checked %d windows %d mismatches %d" % (checked, len(used), len(bad)))
for b in bad[:10]:
    print(b)
sys.exit(1 if bad else 0)
EOF
rc=$?
win=$(head -n 1 "$T/windows.out")
tap_check $rc "requests made within one generation got that generation's backend ($win)" \
	"$T/windows.out"
nwin=$(sed -n 's/.* windows \([0-9]*\) .*/\1/p' "$T/windows.out")
[ "${nwin:-0}" -ge $((RELOADS / 2)) ]
tap_check $? "requests fell inside at least half of the generations' windows (${nwin:-0} of $((RELOADS + 1)))"

# --- the long transfers --------------------------------------------------------
long_ok=0
for i in $(seq 1 $LONG_N); do
	pid=${long_pids[$((i - 1))]}
	wait_pid_exit "$pid" 30000
	wait "$pid"
	rc=$?
	tap_check $rc "long transfer $i: $LONG_MIB MiB each way through $reloads reloads, sha256 match" \
		"$T/long$i.err" && long_ok=$((long_ok + 1))
	pp_match "$PPA_LOG" sport="$(port_of "$(client_report "long$i" local)")" version=1 \
		>"$T/long$i-pp.out"
	tap_check $? "long transfer $i stayed on its original backend (ppecho A, PROXY v1)" \
		"$T/long$i-pp.out"
done

# --- after the last reload: B's backend and PROXY version -------------------
client last-web --mptcp "$(host_of "$WEB")" "$(port_of "$WEB")" http /last-reload
rc=$?
tap_is "$rc $(cat "$T/last-web.out")" "0 B" \
	"after the last reload a new request gets backend B's answer" "$T/last-web.err"
CL=$(client_report last-web local)
wait_for_file_line "$NG_DIR/b.log" "^pp=$CL .*GET /last-reload " 5
tap_check $? "nginx B logged it with the client address from the PROXY header (pp=$CL)" \
	"$NG_DIR/b.log"
grep -q "GET /last-reload " "$NG_DIR/a.log"
tap_check $((!$?)) "nginx A did not see that request"

client last-echo --mptcp "$(host_of "$ECHO")" "$(port_of "$ECHO")" send 'after\n' --lines 1
rc=$?
tap_is "$rc $(cat "$T/last-echo.out")" "0 after" \
	"after the last reload a new echo connection works" "$T/last-echo.err"
pp_match "$PPB_LOG" sport="$(port_of "$(client_report last-echo local)")" version=2 \
	>"$T/last-pp.out"
tap_check $? "it reached ppecho B with a PROXY v2 header" "$T/last-pp.out"

kill -0 "$FRONTD_PID"
tap_check $? "the daemon is still running" "$FRONTD_LOG"
tap_diag "runtime $(($(now_ms) - t_start)) ms"
