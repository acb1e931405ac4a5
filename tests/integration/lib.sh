# Helper library for the integration tests; every script sources it.
#
# What it gives a script:
#  - $T, a private temp directory (the only place tests write), and an EXIT
#    trap that stops every process recorded with start_bg (by PID), deletes
#    every namespace made with make_netns and removes $T;
#  - TAP output: tap_ok / tap_fail / tap_skip / tap_check / tap_diag, the
#    plan printed at exit by tap_done;
#  - require_* guards that skip the whole script ("1..0 # SKIP") when the
#    machine lacks something, except under CI=true where that is a failure;
#  - starters for nginx (templates in nginx/), the daemon and ppecho.py that
#    wait for a readiness signal with a bounded poll, never a fixed sleep.
#
# Scripts run under bash (each re-execs itself when started by /bin/sh).
# Variables the Makefile exports: top_srcdir, top_builddir, FRONTD, TOOLS.

# Variables set here (PPECHO_ADDR, NGINX_PORT, ...) are read by the scripts.
# shellcheck disable=SC2034

set -u

TESTS_DIR=$(cd "$(dirname "$0")" && pwd)
TOOLS=${TOOLS:-$TESTS_DIR/../tools}
FRONTD=${FRONTD:-${top_builddir:-$TESTS_DIR/../..}/src/mptcp-frontd}
PYTHON=${PYTHON:-python3}
NGINX=${NGINX:-nginx}
NGINX_MODULES=${NGINX_MODULES:-/usr/lib/nginx/modules}
TEST_NAME=$(basename "$0" .sh)

_tap_n=0
_tap_failed=0
_tap_planned=0
_pids=()
_netns=()

T=$(mktemp -d "${TMPDIR:-/tmp}/frontd-$TEST_NAME.XXXXXX") || {
	echo "Bail out! mktemp -d failed"
	exit 1
}

# ---------------------------------------------------------------- TAP

tap_diag() {
	printf '%s\n' "$@" | sed 's/^/# /'
}

# tap_diag_file FILE...: the last lines of each file, as TAP comments.
tap_diag_file() {
	local f
	for f in "$@"; do
		[ -e "$f" ] || { tap_diag "($f does not exist)"; continue; }
		tap_diag "---- ${f#"$T"/} (last 25 lines)"
		tail -n 25 "$f" | sed 's/^/#   /'
	done
}

tap_ok() {
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n - $*"
}

tap_fail() {
	_tap_n=$((_tap_n + 1))
	_tap_failed=$((_tap_failed + 1))
	echo "not ok $_tap_n - $*"
}

# tap_skip DESCRIPTION REASON
tap_skip() {
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n - $1 # SKIP $2"
}

# tap_check RC DESCRIPTION [FILE...]: ok when RC is 0; otherwise not ok and
# the tails of FILEs as diagnostics.
tap_check() {
	local rc=$1 desc=$2
	shift 2
	if [ "$rc" -eq 0 ]; then
		tap_ok "$desc"
	else
		tap_fail "$desc"
		tap_diag "exit status $rc"
		[ $# -gt 0 ] && tap_diag_file "$@"
	fi
	return "$rc"
}

# tap_is GOT WANT DESCRIPTION [FILE...]: string equality.
tap_is() {
	local got=$1 want=$2 desc=$3
	shift 3
	if [ "$got" = "$want" ]; then
		tap_ok "$desc"
	else
		tap_fail "$desc"
		tap_diag "got:  '$got'" "want: '$want'"
		[ $# -gt 0 ] && tap_diag_file "$@"
		return 1
	fi
}

# tap_like GOT REGEX DESCRIPTION [FILE...]: extended-regex match.
tap_like() {
	local got=$1 rx=$2 desc=$3
	shift 3
	if printf '%s\n' "$got" | grep -Eq -- "$rx"; then
		tap_ok "$desc"
	else
		tap_fail "$desc"
		tap_diag "got:  '$got'" "want match: /$rx/"
		[ $# -gt 0 ] && tap_diag_file "$@"
		return 1
	fi
}

# tap_done: print the plan.  Called by the EXIT trap.
tap_done() {
	[ "$_tap_planned" = 1 ] && return
	_tap_planned=1
	echo "1..$_tap_n"
}

bail() {
	echo "Bail out! $*"
	_tap_planned=1
	exit 1
}

# skip_all REASON: skip the whole script, or fail it under CI=true where
# the CI machine is expected to have everything.
skip_all() {
	_tap_planned=1
	if [ "${CI:-}" = true ]; then
		echo "Bail out! $* (required when CI=true)"
		exit 1
	fi
	echo "1..0 # SKIP $*"
	exit 0
}

# ---------------------------------------------------------------- cleanup

# stop_pid PID: SIGTERM, a bounded wait, then SIGKILL; reaps our children.
stop_pid() {
	local pid=$1
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 1 60); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# at_exit CMD: run the shell command CMD at exit, after the processes
# are stopped (for example to put back a setting the script changed).
_at_exit=()
at_exit() {
	_at_exit+=("$1")
}

_cleanup() {
	local rc=$? pid ns cmd
	# Finish cleaning up even if stdout is gone or a signal repeats.
	trap '' PIPE HUP INT TERM
	for pid in "${_pids[@]}"; do
		stop_pid "$pid"
	done
	for cmd in "${_at_exit[@]}"; do
		eval "$cmd"
	done
	for ns in "${_netns[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	if [ "$_tap_failed" -gt 0 ] || [ "$rc" -ne 0 ]; then
		tap_diag "failures in $TEST_NAME; logs follow"
		local f
		for f in "$T"/*.log "$T"/*.err "$T"/*/error.log; do
			[ -s "$f" ] && tap_diag_file "$f"
		done
	fi
	tap_done
	if [ "${KEEP_TMP:-}" = 1 ]; then
		echo "# kept $T"
	else
		rm -rf "$T"
	fi
	exit "$rc"
}
trap _cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 141' PIPE    # e.g. run by hand through | head: still clean up
trap 'exit 143' TERM

# ---------------------------------------------------------------- guards

require_root() {
	[ "$(id -u)" = 0 ] || skip_all "needs root"
}

require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip_all "needs $c"
	done
}

require_mptcp() {
	"$PYTHON" -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262).close()' \
		2>/dev/null || skip_all "kernel refuses IPPROTO_MPTCP sockets"
}

require_netns() {
	require_root
	require_cmd ip
	local probe="frontd-probe-$$"
	ip netns add "$probe" 2>/dev/null || skip_all "cannot create network namespaces"
	ip netns del "$probe"
}

# require_nginx [stream] [mail]: nginx and the dynamic modules named.
require_nginx() {
	require_cmd "$NGINX"
	local m
	for m in "$@"; do
		[ -f "$NGINX_MODULES/ngx_${m}_module.so" ] ||
			skip_all "needs nginx $m module ($NGINX_MODULES/ngx_${m}_module.so)"
	done
}

# The daemon is the product under test: missing means broken, not skipped.
require_frontd() {
	[ -x "$FRONTD" ] || bail "daemon not built: $FRONTD"
}

# ---------------------------------------------------------------- waiting

now_ms() {
	date +%s%3N
}

# wait_for_file_line FILE REGEX TIMEOUT_S [PID] (whole seconds): poll until FILE has a line
# matching the extended REGEX.  Returns 0 when found, 1 on timeout, 2 when
# PID (if given) exited first.
wait_for_file_line() {
	local file=$1 rx=$2 timeout=$3 pid=${4:-}
	local deadline=$(($(now_ms) + timeout * 1000))
	while :; do
		grep -Eq -- "$rx" "$file" 2>/dev/null && return 0
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			grep -Eq -- "$rx" "$file" 2>/dev/null && return 0
			return 2
		fi
		[ "$(now_ms)" -ge "$deadline" ] && return 1
		sleep 0.05
	done
}

# wait_for_count FILE REGEX N TIMEOUT_S: poll until at least N lines match.
wait_for_count() {
	local file=$1 rx=$2 n=$3 timeout=$4
	local deadline=$(($(now_ms) + timeout * 1000))
	while :; do
		[ "$(grep -Ec -- "$rx" "$file" 2>/dev/null)" -ge "$n" ] && return 0
		[ "$(now_ms)" -ge "$deadline" ] && return 1
		sleep 0.05
	done
}

# wait_pid_exit PID TIMEOUT_MS: 0 once PID is gone, 1 if still running.
# Then `wait PID` gives its exit status (bash reaps children as they exit).
wait_pid_exit() {
	local pid=$1 deadline=$(($(now_ms) + $2))
	while kill -0 "$pid" 2>/dev/null; do
		[ "$(now_ms)" -ge "$deadline" ] && return 1
		sleep 0.02
	done
	return 0
}

# ---------------------------------------------------------------- processes

# start_bg NAME CMD...: run CMD in the background with stdout in $T/NAME.out
# and stderr in $T/NAME.err; its PID is recorded for cleanup and left in
# BG_PID.  Must not be called from a subshell ($(...)), or the PID is lost.
start_bg() {
	local name=$1
	shift
	"$@" >"$T/$name.out" 2>"$T/$name.err" &
	BG_PID=$!
	_pids+=("$BG_PID")
}

# ns_prefix NS: NS_PREFIX=(ip netns exec NS), or empty when NS is empty.
# An array, not a function, so that "${NS_PREFIX[@]}" CMD & records the
# PID of CMD itself (ip netns exec execs it).
ns_prefix() {
	NS_PREFIX=()
	[ -n "$1" ] && NS_PREFIX=(ip netns exec "$1")
	return 0
}

# make_netns VAR: create a namespace with lo up; its name goes in VAR.
make_netns() {
	local name="frontd-$TEST_NAME-$$-${#_netns[@]}"
	ip netns add "$name" || return 1
	_netns+=("$name")
	ip -n "$name" link set lo up || return 1
	printf -v "$1" '%s' "$name"
}

# blackhole_netns VAR PORT DESC: a namespace (name in VAR) in which an
# nftables rule drops every TCP segment to PORT, so a connect() there hangs
# until the caller's timer fires.  Where the machine cannot (not root, no
# ip netns or nft) the check DESC is skipped and 1 returned (under CI=true
# that is a bail-out); a rule that fails to load is a bail-out too.
blackhole_netns() {
	local var=$1 port=$2 desc=$3 rc
	if [ "$(id -u)" != 0 ] || ! command -v nft >/dev/null ||
		! ip netns add "frontd-probe-$$" 2>/dev/null; then
		[ "${CI:-}" = true ] && bail "$desc: needs root, ip netns and nft under CI=true"
		tap_skip "$desc" "needs root, network namespaces and nft"
		return 1
	fi
	ip netns del "frontd-probe-$$"
	make_netns "$var" || bail "cannot create a namespace"
	ip netns exec "${!var}" nft -f - <<EOF
table inet frontd_test {
	chain input {
		type filter hook input priority 0;
		tcp dport $port drop
	}
}
EOF
	rc=$?
	[ "$rc" -eq 0 ] || bail "nft rule in namespace failed"
}

# free_port: an ephemeral TCP port on 127.0.0.1 the kernel just handed out
# and we released.  Racy by nature: callers retry when bind fails.
free_port() {
	"$PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# host_of / port_of "127.0.0.1:80" | "[::1]:80"
host_of() {
	local a=${1%:*}
	a=${a#[}
	printf '%s\n' "${a%]}"
}
port_of() {
	printf '%s\n' "${1##*:}"
}

# render TEMPLATE OUT KEY=VALUE...: replace each @KEY@ by VALUE; fails if a
# placeholder is left over.
render() {
	local src=$1 out=$2 kv args=()
	shift 2
	for kv in "$@"; do
		args+=(-e "s|@${kv%%=*}@|${kv#*=}|g")
	done
	sed "${args[@]}" "$src" >"$out" || return 1
	if grep -Eq '@[A-Z_0-9]+@' "$out"; then
		tap_diag "unsubstituted placeholder in $out:" \
			"$(grep -Eo '@[A-Z_0-9]+@' "$out" | sort -u)"
		return 1
	fi
}

# start_nginx TEMPLATE [KEY=VALUE...]: nginx in the foreground (daemon off)
# on a config rendered from nginx/TEMPLATE with @DIR@ (a fresh directory for
# its pid, logs, sockets, temp files), @PORT@ (a free port), @MODULES@ and
# the given pairs.  Ready when nginx wrote its pid file, which it does after
# opening its listening sockets.  Sets NGINX_DIR, NGINX_PORT, NGINX_PID.
# Retries with another port when the chosen one was taken meanwhile.
_nginx_n=0
start_nginx() {
	local tmpl=$TESTS_DIR/nginx/$1
	shift
	_nginx_n=$((_nginx_n + 1))
	NGINX_DIR=$T/nginx$_nginx_n
	mkdir -p "$NGINX_DIR/tmp" || return 1
	for _ in 1 2 3 4 5; do
		NGINX_PORT=$(free_port) || return 1
		render "$tmpl" "$NGINX_DIR/nginx.conf" DIR="$NGINX_DIR" \
			PORT="$NGINX_PORT" MODULES="$NGINX_MODULES" "$@" || return 1
		rm -f "$NGINX_DIR/nginx.pid"
		start_bg "nginx$_nginx_n" "$NGINX" -p "$NGINX_DIR/" \
			-c "$NGINX_DIR/nginx.conf" -e "$NGINX_DIR/error.log" \
			-g 'daemon off;'
		NGINX_PID=$BG_PID
		wait_for_file_line "$NGINX_DIR/nginx.pid" '^[0-9]+$' 10 "$NGINX_PID"
		case $? in
		0) return 0 ;;
		2)
			wait "$NGINX_PID" 2>/dev/null
			grep -q 'Address already in use' "$NGINX_DIR/error.log" \
				"$T/nginx$_nginx_n.err" 2>/dev/null && continue
			tap_diag "nginx failed to start"
			tap_diag_file "$NGINX_DIR/error.log" "$T/nginx$_nginx_n.err"
			return 1
			;;
		*)
			tap_diag "nginx not ready after 10 s"
			tap_diag_file "$NGINX_DIR/error.log"
			return 1
			;;
		esac
	done
	tap_diag "nginx: no free port after 5 tries"
	return 1
}

# write_config NAME: stdin -> $T/NAME.ini; prints the path.
write_config() {
	cat >"$T/$1.ini"
	printf '%s\n' "$T/$1.ini"
}

# start_frontd NAME CONF [EXTRA_ARGS...]: the daemon in the foreground,
# logging to stderr = $T/NAME.err.  Waits (bounded) for "ready (pid N)".
# In namespace $FRONTD_NS when set.  Sets FRONTD_PID and FRONTD_LOG.
start_frontd() {
	local name=$1 conf=$2 rc
	shift 2
	FRONTD_LOG=$T/$name.err
	ns_prefix "${FRONTD_NS:-}"
	start_bg "$name" "${NS_PREFIX[@]}" "$FRONTD" -f -c "$conf" "$@"
	FRONTD_PID=$BG_PID
	wait_for_file_line "$FRONTD_LOG" 'mptcp-frontd .* ready \(pid [0-9]+\)' \
		10 "$FRONTD_PID"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		tap_diag "mptcp-frontd ($name) did not become ready (status $rc)"
		tap_diag_file "$FRONTD_LOG" "$conf"
		return 1
	fi
}

# frontd_addr LISTENER [REGEX]: the first address the daemon's log says
# LISTENER listens on (matching REGEX, e.g. '^\[' for IPv6), as logged:
# "127.0.0.1:39811" or "[::1]:40001" (from "... (mptcp)", "... (tcp)" or
# "... (mptcp, dual-stack)").
frontd_addr() {
	local name=$1 rx=${2:-.}
	sed -n "s/.*listener $name: listening on \([^ ]*\) (\(mptcp\|tcp\)[,)].*/\1/p" \
		"$FRONTD_LOG" | grep -E -- "$rx" | head -n 1
}

# start_ppecho NAME [ARGS...]: the PROXY-checking echo backend, recording
# headers in $T/NAME.json.  In namespace $PPECHO_NS when set.  Sets
# PPECHO_ADDR ("127.0.0.1:PORT" or "unix:/path"), PPECHO_PID, PPECHO_LOG.
start_ppecho() {
	local name=$1
	shift
	PPECHO_LOG=$T/$name.json
	: >"$PPECHO_LOG"
	ns_prefix "${PPECHO_NS:-}"
	start_bg "$name" "${NS_PREFIX[@]}" "$PYTHON" \
		"$TOOLS/ppecho.py" --log "$PPECHO_LOG" --ready-file "$T/$name.addr" "$@"
	PPECHO_PID=$BG_PID
	if ! wait_for_file_line "$T/$name.addr" . 10 "$PPECHO_PID"; then
		tap_diag "ppecho ($name) did not start"
		tap_diag_file "$T/$name.err"
		return 1
	fi
	PPECHO_ADDR=$(head -n 1 "$T/$name.addr")
}

# client NAME ARGS...: tests/tools/client.py with stdout in $T/NAME.out and
# stderr (its "key value" report) in $T/NAME.err; returns its exit status.
# Bounded by CLIENT_TIMEOUT seconds (default 60).  In namespace $CLIENT_NS
# when set.
client() {
	local name=$1
	shift
	ns_prefix "${CLIENT_NS:-}"
	"${NS_PREFIX[@]}" timeout -k 5 \
		"${CLIENT_TIMEOUT:-60}" "$PYTHON" "$TOOLS/client.py" "$@" \
		>"$T/$name.out" 2>"$T/$name.err"
}

# client_report NAME KEY: the value of a "KEY value" line client.py wrote.
client_report() {
	sed -n "s/^$2 //p" "$T/$1.err" | head -n 1
}

# pplog LOG SELECTOR KEY: a field of one JSON record ppecho wrote.
# SELECTOR is an index (1-based; -1 = last) or FIELD=VALUE (the first
# record whose FIELD prints as VALUE, e.g. sport=40123).  Lists print as
# JSON, None as "null".  Exit 1 when there is no such record.
pplog() {
	"$PYTHON" - "$@" <<'EOF'
import json, sys
path, sel, key = sys.argv[1:4]
recs = [json.loads(l) for l in open(path) if l.strip()]
def text(v):
    return json.dumps(v) if isinstance(v, (list, dict)) or v is None else str(v)
if "=" in sel:
    f, _, want = sel.partition("=")
    hits = [r for r in recs if text(r.get(f)) == want]
else:
    i = int(sel)
    hits = recs[i - 1:i] if i > 0 else recs[i:len(recs) + i + 1]
if not hits:
    print("(no record %s among %d)" % (sel, len(recs)))
    sys.exit(1)
print(text(hits[0].get(key)))
EOF
}

# pp_match LOG FIELD=VALUE...: 0 when some ppecho record has every FIELD
# printing as VALUE (null for None); otherwise 1 and the last records as
# TAP comments.
pp_match() {
	"$PYTHON" - "$@" <<'EOF'
import json, sys
path = sys.argv[1]
want = dict(a.split("=", 1) for a in sys.argv[2:])
recs = [json.loads(l) for l in open(path) if l.strip()]
def text(v):
    return json.dumps(v) if isinstance(v, (list, dict)) or v is None else str(v)
for r in recs:
    if all(text(r.get(k)) == v for k, v in want.items()):
        sys.exit(0)
print("# no ppecho record with %s; last records:" % json.dumps(want))
for r in recs[-4:]:
    print("#   " + json.dumps(r, sort_keys=True))
sys.exit(1)
EOF
}

# pp_custom_tlvs LOG SELECTOR: the TLVs in the application range 0xE0-0xEF
# of one record, one "0xNN=HEX" per line.
pp_custom_tlvs() {
	local tlvs
	tlvs=$(pplog "$1" "$2" tlvs) || return 1
	printf '%s\n' "$tlvs" | "$PYTHON" -c '
import json, sys
for t in json.loads(sys.stdin.read() or "[]"):
    if 0xE0 <= int(t["type"], 16) <= 0xEF:
        print("%s=%s" % (t["type"], t["value"]))'
}

# kv LINE KEY: the value of KEY=VALUE in a space-separated log line.
kv() {
	printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}

# ---------------------------------------------------------------- two paths

# Addresses of the two-path topology (documentation ranges only).  Path A
# is the first path (the "Wi-Fi"), path B the second (the "cellular").
MP_CLI_A4=192.0.2.1 MP_SRV_A4=192.0.2.2
MP_CLI_B4=198.51.100.1 MP_SRV_B4=198.51.100.2
MP_CLI_A6=2001:db8:a::1 MP_SRV_A6=2001:db8:a::2
MP_CLI_B6=2001:db8:b::1 MP_SRV_B6=2001:db8:b::2

# mp_two_paths: a client namespace (MP_CNS) and a server namespace (MP_SNS)
# joined by two veth pairs, cli_a <-> srv_a (path A: 192.0.2.0/24 and
# 2001:db8:a::/64) and cli_b <-> srv_b (path B: 198.51.100.0/24 and
# 2001:db8:b::/64), each /24 and /64 directly connected so every address
# pair routes over its own link.  MPTCP is on with the in-kernel path
# manager and limits of 2 subflows and 2 accepted ADD_ADDRs at both ends;
# there are no endpoints: each test adds the ones its story needs.  IPv6
# addresses skip DAD (nodad), which would otherwise keep them tentative,
# unusable for a second or more.  Returns once all four links are up.
mp_two_paths() {
	make_netns MP_CNS || return 1
	make_netns MP_SNS || return 1
	local c=$MP_CNS s=$MP_SNS ns i
	ip -n "$c" link add cli_a type veth peer name srv_a netns "$s" &&
		ip -n "$c" link add cli_b type veth peer name srv_b netns "$s" &&
		ip -n "$c" addr add "$MP_CLI_A4/24" dev cli_a &&
		ip -n "$c" addr add "$MP_CLI_B4/24" dev cli_b &&
		ip -n "$s" addr add "$MP_SRV_A4/24" dev srv_a &&
		ip -n "$s" addr add "$MP_SRV_B4/24" dev srv_b &&
		ip -n "$c" addr add "$MP_CLI_A6/64" dev cli_a nodad &&
		ip -n "$c" addr add "$MP_CLI_B6/64" dev cli_b nodad &&
		ip -n "$s" addr add "$MP_SRV_A6/64" dev srv_a nodad &&
		ip -n "$s" addr add "$MP_SRV_B6/64" dev srv_b nodad || return 1
	for ns in "$c" "$s"; do
		ip netns exec "$ns" sysctl -q -w net.mptcp.enabled=1 || return 1
		# Older kernels have no pm_type; the in-kernel PM is their only one.
		ip netns exec "$ns" sysctl -q -w net.mptcp.pm_type=0 2>/dev/null
		ip -n "$ns" mptcp limits set subflow 2 add_addr_accepted 2 ||
			return 1
	done
	ip -n "$c" link set cli_a up && ip -n "$c" link set cli_b up &&
		ip -n "$s" link set srv_a up && ip -n "$s" link set srv_b up ||
		return 1
	# veth reports carrier once both ends are up: a bounded poll for it.
	for i in $(seq 1 200); do
		[ "$(ip -n "$c" -br link show up | grep -Ec '^cli_[ab]@.* UP ')" = 2 ] &&
			[ "$(ip -n "$s" -br link show up | grep -Ec '^srv_[ab]@.* UP ')" = 2 ] &&
			return 0
		sleep 0.02
	done
	tap_diag "two-path links not up after 4 s" \
		"$(ip -n "$c" -br link)" "$(ip -n "$s" -br link)"
	return 1
}

# mp_shape DEV_NS DEV RATE: a tbf qdisc limiting DEV's egress to RATE
# (tc syntax, e.g. 40mbit).  The queue is kept short (a few ms at RATE) so
# both paths keep similar round-trip times and the scheduler sees them as
# equals; GSO super-packets larger than the burst are segmented by tbf.
mp_shape() {
	ip netns exec "$1" tc qdisc replace dev "$2" root tbf rate "$3" \
		burst 32kb latency 20ms
}

# mp_shaped_paths RATE: mp_two_paths, then both paths shaped to RATE on
# the server's side (downloads: its egress); C and S name the client's
# and the server's namespaces.
mp_shaped_paths() {
	local dev
	mp_two_paths || return 1
	C=$MP_CNS S=$MP_SNS
	for dev in srv_a srv_b; do
		mp_shape "$S" "$dev" "$1" || return 1
	done
}

# mp_tx_bytes NS DEV / mp_rx_bytes NS DEV: the interface's byte counters.
mp_tx_bytes() {
	ip netns exec "$1" cat "/sys/class/net/$2/statistics/tx_bytes"
}
mp_rx_bytes() {
	ip netns exec "$1" cat "/sys/class/net/$2/statistics/rx_bytes"
}

# start_nginx_ns NS TEMPLATE [KEY=VALUE...]: like start_nginx, but nginx
# runs inside namespace NS (ip netns exec) and its template listens on a
# unix socket (@DIR@/...) only, so no port has to be found: @DIR@ and
# @MODULES@ are filled in, with the given pairs.  Sets NGINX_DIR, NGINX_PID.
start_nginx_ns() {
	local ns=$1 tmpl=$TESTS_DIR/nginx/$2 rc
	shift 2
	_nginx_n=$((_nginx_n + 1))
	NGINX_DIR=$T/nginx$_nginx_n
	mkdir -p "$NGINX_DIR/tmp" || return 1
	render "$tmpl" "$NGINX_DIR/nginx.conf" DIR="$NGINX_DIR" \
		MODULES="$NGINX_MODULES" "$@" || return 1
	start_bg "nginx$_nginx_n" ip netns exec "$ns" "$NGINX" -p "$NGINX_DIR/" \
		-c "$NGINX_DIR/nginx.conf" -e "$NGINX_DIR/error.log" \
		-g 'daemon off;'
	NGINX_PID=$BG_PID
	wait_for_file_line "$NGINX_DIR/nginx.pid" '^[0-9]+$' 10 "$NGINX_PID"
	rc=$?
	[ "$rc" -eq 0 ] && return 0
	tap_diag "nginx in $ns did not start (status $rc)"
	tap_diag_file "$NGINX_DIR/error.log" "$T/nginx$_nginx_n.err"
	return 1
}

# frontd_stats_addr: where the daemon says it serves /metrics ("ADDR:PORT").
frontd_stats_addr() {
	sed -n 's|.*stats: serving /metrics on http://\([^/]*\)/metrics.*|\1|p' \
		"$FRONTD_LOG" | head -n 1
}

# metric FILE NAME [LABEL=VALUE...]: the value of the first sample of
# family member NAME in the Prometheus text FILE whose labels include every
# LABEL="VALUE" given; empty when there is none.
metric() {
	local file=$1 name=$2 rx
	shift 2
	rx="^$name([{]|[[:space:]])"
	awk -v rx="$rx" -v want="$*" '
		$0 ~ rx {
			n = split(want, w, " ")
			for (i = 1; i <= n; i++) {
				split(w[i], p, "=")
				if (index($0, p[1] "=\"" p[2] "\"") == 0) next
			}
			print $NF
			exit
		}' "$file"
}

# wait_for_progress FILE BYTES TIMEOUT_S [PID]: poll until the last line of a
# client.py --progress FILE ("MS BYTES SUBFLOWS") reports at least BYTES
# received.  0 when reached, 1 on timeout, 2 when PID exited first.
wait_for_progress() {
	_wait_progress_field 2 "$@"
}

# wait_for_subflows FILE N TIMEOUT_S [PID]: the same, until the client's
# connection has at least N subflows.
wait_for_subflows() {
	_wait_progress_field 3 "$@"
}

_wait_progress_field() {
	local field=$1 file=$2 want=$3 timeout=$4 pid=${5:-}
	local deadline=$(($(now_ms) + timeout * 1000)) got
	while :; do
		got=$(tail -n 1 "$file" 2>/dev/null | awk -v f="$field" '{ print $f + 0 }')
		[ "${got:-0}" -ge "$want" ] && return 0
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			return 2
		fi
		[ "$(now_ms)" -ge "$deadline" ] && return 1
		sleep 0.02
	done
}

# stall_after NAME CUT_MS: the longest wait between two reads that ended
# after CUT_MS (client clock) in client.py's --stalls file $T/NAME.stalls,
# as "GAP_MS at byte N", or "none >= 10 ms".
stall_after() {
	awk -v cut="$2" '$1 + $3 > cut && $3 > max { max = $3; at = $2 }
		END { if (max) print max " ms at byte " at; else print "none >= 10 ms" }' \
		"$T/$1.stalls"
}

# link_up NS DEV: set DEV up and wait (bounded) until it reports carrier.
link_up() {
	ip -n "$1" link set "$2" up || return 1
	for _ in $(seq 1 200); do
		ip -n "$1" -br link show dev "$2" | grep -q ' UP ' && return 0
		sleep 0.02
	done
	return 1
}

# ---------------------------------------------------------------- idle load

# hold NAME ADDR COUNT [HOLD_ARGS...]: tools/hold.py keeps COUNT connections
# to ADDR ("127.0.0.1:PORT") open until release_hold; waits (bounded) until
# all are up, returns hold.py's failure otherwise.  Sets HOLD_PID.
hold() {
	local name=$1 addr=$2 count=$3
	shift 3
	HOLD_RELEASE=$T/$name.release
	start_bg "$name" "$PYTHON" "$TOOLS/hold.py" "$@" \
		--release-file "$HOLD_RELEASE" "$(host_of "$addr")" \
		"$(port_of "$addr")" "$count"
	HOLD_PID=$BG_PID
	wait_for_file_line "$T/$name.out" "^held $count\$" 60 "$HOLD_PID"
}

# release_hold: let the last hold's connections go; waits until it exited.
release_hold() {
	: >"$HOLD_RELEASE"
	wait_pid_exit "$HOLD_PID" 10000
}

# fd_count PID [KIND]: descriptors of PID, all or those whose link starts
# with KIND ("socket:", "pipe:").
fd_count() {
	local n=0 f
	for f in /proc/"$1"/fd/*; do
		case $(readlink "$f" 2>/dev/null) in "${2:-}"*) n=$((n + 1)) ;; esac
	done
	echo "$n"
}

# cpu_ticks PID: user + system clock ticks the process has used.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# ---------------------------------------------------------------- short-request load

# load_done NAME...: exchanges the load.py runs NAME (--progress
# $T/NAME.progress) completed so far, summed.
load_done() {
	local n=0 name d
	for name in "$@"; do
		d=$(cut -d' ' -f1 "$T/$name.progress" 2>/dev/null)
		n=$((n + ${d:-0}))
	done
	echo "$n"
}

# load_wait_more N PID NAME...: until the loads NAME... completed N more
# exchanges (at most 30 s).  1 on timeout, 2 when PID (a load) exited.
load_wait_more() {
	local n=$1 pid=$2 want deadline=$(($(now_ms) + 30000))
	shift 2
	want=$(($(load_done "$@") + n))
	while [ "$(load_done "$@")" -lt "$want" ]; do
		kill -0 "$pid" 2>/dev/null || return 2
		[ "$(now_ms)" -ge "$deadline" ] && return 1
		sleep 0.02
	done
}
