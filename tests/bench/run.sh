#!/usr/bin/env bash
# mptcp-frontd benchmark: nginx direct, nginx on an MPTCP listener (the
# limit), HAProxy 2.6, HAProxy 3 and mptcp-frontd side by side, in one run,
# on loopback.
#
#   tests/bench/run.sh [--quick] [--json FILE] [--frontd PATH] [--out DIR]
#                      [--only keepalive,close,bulk,memory,tls] [--serve]
#
# See tests/bench/README.md for what is measured and how to read it.
# Exit status: 0 when every measurement completed and every MPTCP and TLS check
# passed, 1 otherwise (the table is still printed), 64 on a bad option.
# The cleanup functions run from the EXIT trap, which shellcheck cannot see.
# shellcheck disable=SC2317
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
bench_py="$here/bench.py"

quick=0
json=""
frontd="${FRONTD:-$top/src/mptcp-frontd}"
outdir="$here/results"
only=keepalive,close,bulk,memory,tls
serve=0

usage() {
	echo "usage: run.sh [--quick] [--json FILE] [--frontd PATH] [--out DIR] [--only keepalive,close,bulk,memory,tls] [--serve]"
}

while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1 ;;
	--json) [ $# -ge 2 ] || { usage >&2; exit 64; }; json=$2; shift ;;
	--json=*) json=${1#*=} ;;
	--frontd) [ $# -ge 2 ] || { usage >&2; exit 64; }; frontd=$2; shift ;;
	--frontd=*) frontd=${1#*=} ;;
	--out) [ $# -ge 2 ] || { usage >&2; exit 64; }; outdir=$2; shift ;;
	--out=*) outdir=${1#*=} ;;
	--only) [ $# -ge 2 ] || { usage >&2; exit 64; }; only=$2; shift ;;
	--only=*) only=${1#*=} ;;
	--serve) serve=1 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "run.sh: unknown option '$1'" >&2; usage >&2; exit 64 ;;
	esac
	shift
done

if [ "$quick" = 1 ]; then
	mode=quick duration=3 bulk_mib=256 bulk_runs=1 idle_counts=500,2000 sys_duration=1
else
	mode=full duration=10 bulk_mib=1024 bulk_runs=3 idle_counts=2000,9000 sys_duration=2
fi
for t in ${only//,/ }; do
	case "$t" in keepalive | close | bulk | memory | tls) ;;
	*) echo "run.sh: --only takes keepalive, close, bulk, memory, tls" >&2; exit 64 ;;
	esac
done
# wanted TEST: is TEST part of this run?
wanted() { case ",$only," in *",$1,"*) return 0 ;; esac; return 1; }
case "$json" in "" | /*) ;; *) json="$PWD/$json" ;; esac
case "$outdir" in /*) ;; *) outdir="$PWD/$outdir" ;; esac

t_start=${EPOCHREALTIME/./}
elapsed() { # seconds since the start, one decimal
	local us=$((${EPOCHREALTIME/./} - t_start))
	printf '%d.%d' $((us / 1000000)) $((us / 100000 % 10))
}
say() {
	printf '[%6ss] %s\n' "$(elapsed)" "$*"
}
die() {
	echo "run.sh: error: $*" >&2
	exit 1
}

# ------------------------------------------------------------ processes
# Every process we start is recorded here and stopped by its PID.
pids=()
names=()
wd=""
current="" # the measurement running now

alive() {
	local state
	state=$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) ||
		return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

stop_pid() {
	local pid=$1 i kids
	alive "$pid" || return 0
	# nginx workers are children of the master: remember them first.
	kids=$(cat "/proc/$pid/task/$pid/children" 2>/dev/null)
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		alive "$pid" || break
		sleep 0.1
	done
	if alive "$pid"; then
		kill -KILL "$pid" 2>/dev/null
	fi
	for k in $kids; do
		for ((i = 0; i < 20; i++)); do
			alive "$k" || break
			sleep 0.1
		done
		alive "$k" && kill -KILL "$k" 2>/dev/null
	done
	return 0
}

cleanup() {
	local i
	trap - EXIT INT TERM
	[ -n "$current" ] && stop_pid "$current"
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		stop_pid "${pids[$i]}"
	done
	wait 2>/dev/null
	if [ -n "$wd" ] && [ -d "$wd" ]; then
		rm -rf "$wd"
	fi
}
trap cleanup EXIT
trap 'echo "run.sh: interrupted" >&2; exit 130' INT
trap 'echo "run.sh: terminated" >&2; exit 143' TERM

# started NAME PID: remember a background process.
started() {
	names+=("$1")
	pids+=("$2")
}

# measure CMD...: run one measurement in the background and wait for it,
# so that a signal reaches our trap at once instead of after the command.
measure() {
	local rc
	"$@" &
	current=$!
	wait "$current"
	rc=$?
	current=""
	return "$rc"
}

# show_log NAME FILE: the end of a component's log, for error messages.
show_log() {
	echo "---- $1 ($2) ----" >&2
	tail -n 20 "$2" >&2 2>/dev/null
	echo "----" >&2
}

# wait_http NAME PID LOG URL: bounded wait until URL answers 200 while
# the process stays alive.
wait_http() {
	local name=$1 pid=$2 logf=$3 url=$4 i code=""
	for ((i = 0; i < 100; i++)); do
		if ! alive "$pid"; then
			show_log "$name" "$logf"
			die "$name exited during startup"
		fi
		code=$(curl -sk -o /dev/null --max-time 1 -w '%{http_code}' "$url")
		[ "$code" = 200 ] && return 0
		sleep 0.1
	done
	show_log "$name" "$logf"
	die "$name did not answer $url within 10 s (last status '$code')"
}

# ------------------------------------------------------------ prerequisites
for tool in nginx haproxy wrk mptcpize curl python3 flock; do
	command -v "$tool" >/dev/null || die "'$tool' not found (see tests/bench/README.md)"
done
# TLS: a throwaway certificate, and the no-resumption shim for wrk.
if wanted tls; then
	for tool in openssl "${CC:-cc}"; do
		command -v "$tool" >/dev/null || die "'$tool' not found (needed for the TLS measurements; or leave tls out of --only)"
	done
fi
[ -x "$frontd" ] || die "no mptcp-frontd binary at '$frontd': build it first (make), or pass --frontd PATH"
[ "$(cat /proc/sys/net/mptcp/enabled 2>/dev/null)" = 1 ] ||
	die "MPTCP is not enabled (sysctl net.mptcp.enabled=1)"
python3 - <<'EOF' || die "this kernel cannot create MPTCP sockets"
import socket
socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262).close()
EOF
ulimit -n "$(ulimit -Hn)" 2>/dev/null

# HAProxy 3 and nginx with `listen ... multipath` from a cached Debian sid
# tree (sidroot.sh).  Its binaries run through the tree's own loader and
# libraries, not chroot(2), so they see the work directory as it is.  No
# tree: the haproxy3 rows are skipped and direct-mptcp is the limit.
sid_run=()
sid=$(bash "$here/sidroot.sh" 2>"/tmp/mptcp-bench-sidroot.$$") && [ -n "$sid" ] &&
	sid_run=("$sid/usr/lib64/ld-linux-x86-64.so.2" --library-path
		"$sid/usr/lib/x86_64-linux-gnu")
sid_msg=$(cat "/tmp/mptcp-bench-sidroot.$$" 2>/dev/null)
rm -f "/tmp/mptcp-bench-sidroot.$$"
[ -n "$sid_msg" ] && printf '%s\n' "$sid_msg"
if [ ${#sid_run[@]} -gt 0 ]; then
	limit=nginx-multipath
else
	echo "run.sh: note: no Debian sid tree, so no HAProxy 3 rows, and the limit is nginx 1.22 under mptcpize (direct-mptcp)"
	limit=direct-mptcp
fi
# Syscall counts: perf (raw_syscalls tracepoints) where it works, else strace.
syscall_tool=""
if perf stat -e raw_syscalls:sys_enter -- true >/dev/null 2>&1; then
	syscall_tool=perf
elif command -v strace >/dev/null; then
	syscall_tool=strace
else
	echo "run.sh: note: neither perf nor strace works here: no system-call counts"
fi

# Work directory in /dev/shm: served files, configs, logs, sockets.
wd=$(mktemp -d /dev/shm/mptcp-bench.XXXXXX) || die "mktemp in /dev/shm failed"
# nginx workers run as nobody: they must read the files.
chmod 755 "$wd"
mkdir -p "$wd/www" "$wd/nginx/tmp" "$wd/$limit/tmp" "$wd/tls" "$outdir" ||
	die "cannot create work directories"
results="$wd/results.jsonl"
: >"$results"

load_start=$(cut -d' ' -f1 /proc/loadavg)
say "mode $mode: work directory $wd; load average $load_start"
case "$load_start" in
0.[0-4]*) ;;
*) say "note: the host is not idle (load average $load_start): other work skews the figures" ;;
esac
head -c 1024 /dev/zero | tr '\0' 'x' >"$wd/www/small"
{ ! wanted bulk && ! wanted tls; } || dd if=/dev/zero of="$wd/www/big" bs=1M count="$bulk_mib" status=none ||
	die "cannot write the $bulk_mib MiB file in /dev/shm"
chmod -R a+rX "$wd/www"
bulk_size=$((bulk_mib * 1024 * 1024))

read -r p_direct p_pp p_mdirect p_ftcp p_funix p_fttcp p_ftunix p_fstcp p_fsunix \
	p_h3tcp p_h3unix p_h3ttcp p_h3tunix \
	< <(python3 "$bench_py" ports 13) || die "cannot pick free ports"
nginx_sock="$wd/nginx/pp.sock"

# render TEMPLATE OUT KEY=VALUE...: fill @KEY@ placeholders.
render() {
	local tpl=$1 out=$2 kv expr=()
	shift 2
	for kv in "$@"; do
		expr+=(-e "s|@${kv%%=*}@|${kv#*=}|g")
	done
	sed "${expr[@]}" "$tpl" >"$out" || die "cannot write $out"
}

# ------------------------------------------------------------ nginx
declare -A port pid_of stats_of
# start_nginx NAME DIR CONF URL [command...]: the command defaults to nginx.
# pid_of[NAME] is its worker (one), whose CPU time and system calls are
# the server's own.
start_nginx() {
	local name=$1 dir=$2 conf=$3 url=$4 i
	shift 4
	[ $# -gt 0 ] || set -- nginx
	"$@" -t -q -p "$dir" -e "$dir/error.log" -c "$conf" >"$dir/stderr.log" 2>&1 || {
		show_log "$name" "$dir/stderr.log"
		die "$name: configuration rejected"
	}
	"$@" -p "$dir" -e "$dir/error.log" -c "$conf" >"$dir/stderr.log" 2>&1 &
	started "$name" $!
	wait_http "$name" $! "$dir/error.log" "$url"
	for ((i = 0; i < 20; i++)); do
		pid_of[$name]=$(cat "/proc/$!/task/$!/children" 2>/dev/null)
		pid_of[$name]=${pid_of[$name]%% *}
		[ -n "${pid_of[$name]}" ] && break
		sleep 0.1
	done
}

render "$here/conf/nginx.conf.in" "$wd/nginx/nginx.conf" \
	DIR="$wd/nginx" WWW="$wd/www" DIRECT_PORT="$p_direct" PP_PORT="$p_pp" \
	PP_SOCK="$nginx_sock"
start_nginx nginx "$wd/nginx" "$wd/nginx/nginx.conf" \
	"http://127.0.0.1:$p_direct/small"
status_url="http://127.0.0.1:$p_direct/nginx_status"

if [ "$limit" = nginx-multipath ]; then
	render "$here/conf/nginx-mptcp.conf.in" "$wd/$limit/nginx.conf" \
		DIR="$wd/$limit" WWW="$wd/www" PORT="$p_mdirect" LISTEN_OPTS="multipath "
	start_nginx "$limit" "$wd/$limit" "$wd/$limit/nginx.conf" \
		"http://127.0.0.1:$p_mdirect/small" "${sid_run[@]}" "$sid/usr/sbin/nginx"
	limit_what="nginx $("${sid_run[@]}" "$sid/usr/sbin/nginx" -v 2>&1 | sed 's/.*nginx\///') with listen ... multipath"
else
	render "$here/conf/nginx-mptcp.conf.in" "$wd/$limit/nginx.conf" \
		DIR="$wd/$limit" WWW="$wd/www" PORT="$p_mdirect" LISTEN_OPTS=""
	start_nginx "$limit" "$wd/$limit" "$wd/$limit/nginx.conf" \
		"http://127.0.0.1:$p_mdirect/small" mptcpize run nginx
	limit_what="nginx $(nginx -v 2>&1 | sed 's/.*nginx\///') under mptcpize"
fi
pid_of[direct]=${pid_of[nginx]}
say "nginx ready: direct 127.0.0.1:$p_direct, PROXY 127.0.0.1:$p_pp and $nginx_sock; the limit ($limit: $limit_what) 127.0.0.1:$p_mdirect"

# ------------------------------------------------------------ HAProxy
# One instance per backend type, so that each one's CPU time and memory
# belong to one scenario.  haproxy-*: HAProxy 2.6 on an inherited MPTCP
# socket; haproxy3-*: HAProxy 3 from the sid tree on its own mptcp4@ bind.
start_haproxy() { # SCENARIO BACKEND [TEMPLATE [KEY=VALUE...]]
	local sc=$1 backend=$2 tpl=${3:-haproxy.cfg.in} dir="$wd/$1" i scheme=http p
	shift $(($# < 3 ? $# : 3))
	mkdir -p "$dir" || die "cannot create $dir"
	case "$tpl" in *tls*) scheme=https ;; esac
	case "$sc" in
	haproxy3-*)
		case "$sc" in
		haproxy3-tcp) p=$p_h3tcp ;; haproxy3-unix) p=$p_h3unix ;;
		haproxy3-tls-tcp) p=$p_h3ttcp ;; *) p=$p_h3tunix ;;
		esac
		render "$here/conf/$tpl" "$dir/haproxy.cfg" BACKEND="$backend" \
			DIR="$dir" BIND="mptcp4@127.0.0.1:$p" "$@"
		echo "$p" >"$dir/port"
		"${sid_run[@]}" "$sid/usr/sbin/haproxy" -db -f "$dir/haproxy.cfg" \
			>"$dir/haproxy.log" 2>&1 &
		;;
	*)
		# shellcheck disable=SC2016 # HAProxy expands it, not the shell
		render "$here/conf/$tpl" "$dir/haproxy.cfg" BACKEND="$backend" \
			DIR="$dir" BIND='"fd@${BENCH_LISTEN_FD}"' "$@"
		python3 "$bench_py" mptcp-listen-exec --env BENCH_LISTEN_FD \
			--portfile "$dir/port" -- haproxy -db -f "$dir/haproxy.cfg" \
			>"$dir/haproxy.log" 2>&1 &
		;;
	esac
	started "$sc" $!
	pid_of[$sc]=$!
	for ((i = 0; i < 50; i++)); do
		[ -s "$dir/port" ] && break
		alive "${pid_of[$sc]}" || break
		sleep 0.1
	done
	[ -s "$dir/port" ] || { show_log "$sc" "$dir/haproxy.log"; die "$sc: no listening socket"; }
	port[$sc]=$(cat "$dir/port")
	wait_http "$sc" "${pid_of[$sc]}" "$dir/haproxy.log" "$scheme://127.0.0.1:${port[$sc]}/small"
}
start_haproxy haproxy-tcp "127.0.0.1:$p_pp"
start_haproxy haproxy-unix "$nginx_sock"
say "HAProxy 2.6 ready: tcp backend 127.0.0.1:${port[haproxy-tcp]} (pid ${pid_of[haproxy-tcp]}), unix backend 127.0.0.1:${port[haproxy-unix]} (pid ${pid_of[haproxy-unix]})"
h3=()
if [ ${#sid_run[@]} -gt 0 ]; then
	h3=(haproxy3)
	start_haproxy haproxy3-tcp "127.0.0.1:$p_pp"
	start_haproxy haproxy3-unix "$nginx_sock"
	say "HAProxy 3 ready: tcp backend 127.0.0.1:${port[haproxy3-tcp]} (pid ${pid_of[haproxy3-tcp]}), unix backend 127.0.0.1:${port[haproxy3-unix]} (pid ${pid_of[haproxy3-unix]})"
fi

# ------------------------------------------------------------ mptcp-frontd
start_frontd() { # SCENARIO PORT BACKEND [TEMPLATE [KEY=VALUE...]]
	local sc=$1 p=$2 backend=$3 tpl=${4:-frontd.ini.in} dir="$wd/$1" w scheme=http
	shift $(($# < 4 ? $# : 4))
	mkdir -p "$dir" || die "cannot create $dir"
	case "$tpl" in *tls*) scheme=https ;; esac
	# `workers` arrives with issue 3: use it where this build knows it.
	for w in "workers = auto" ""; do
		render "$here/conf/$tpl" "$dir/frontd.ini" \
			PORT="$p" BACKEND="$backend" WORKERS="$w" "$@"
		"$frontd" -t -c "$dir/frontd.ini" >"$dir/check.log" 2>&1 && break
	done
	"$frontd" -t -c "$dir/frontd.ini" >"$dir/check.log" 2>&1 || {
		show_log "$sc" "$dir/check.log"
		die "$sc: configuration rejected by $frontd -t"
	}
	"$frontd" -f -c "$dir/frontd.ini" >"$dir/frontd.log" 2>&1 &
	started "$sc" $!
	pid_of[$sc]=$!
	port[$sc]=$p
	wait_http "$sc" "${pid_of[$sc]}" "$dir/frontd.log" "$scheme://127.0.0.1:$p/small"
}
start_frontd frontd-tcp "$p_ftcp" "127.0.0.1:$p_pp"
start_frontd frontd-unix "$p_funix" "unix:$nginx_sock"
frontd_workers=$(grep -c '^workers' "$wd/frontd-tcp/frontd.ini")
say "mptcp-frontd ready: tcp backend 127.0.0.1:$p_ftcp (pid ${pid_of[frontd-tcp]}), unix backend 127.0.0.1:$p_funix (pid ${pid_of[frontd-unix]})$([ "$frontd_workers" = 1 ] && echo ', workers = auto')"

# ------------------------------------------------------------ TLS
# Both proxies terminate TLS with the same throwaway certificate and key
# (ECDSA P-256, self-signed), TLS 1.3 only and one cipher suite; the key
# exchange group is OpenSSL's default on both (X25519), which the probe
# below shows.  noresume.so makes wrk start every connection without the
# previous session, so that the full-handshake row is full handshakes.
tls_suite=TLS_AES_128_GCM_SHA256
tls_scenarios=()
if wanted tls; then
	tls=$wd/tls
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -keyout "$tls/key.pem" -out "$tls/cert.pem" -days 2 \
		-subj /CN=bench.invalid -addext subjectAltName=DNS:bench.invalid \
		>"$tls/openssl.log" 2>&1 || { show_log openssl "$tls/openssl.log"; die "cannot make the test certificate"; }
	cat "$tls/cert.pem" "$tls/key.pem" >"$tls/haproxy.pem"
	chmod 600 "$tls/key.pem" "$tls/haproxy.pem"
	"${CC:-cc}" -O2 -shared -fPIC -o "$tls/noresume.so" "$here/noresume.c" -ldl \
		>"$tls/cc.log" 2>&1 || { show_log cc "$tls/cc.log"; die "cannot build noresume.so"; }

	# The unix backend only in the full mode: --quick takes a few
	# minutes less with the TCP backend alone.
	tls_backends=(tcp unix)
	[ "$quick" = 1 ] && tls_backends=(tcp)
	for b in "${tls_backends[@]}"; do
		if [ "$b" = tcp ]; then
			hbackend="127.0.0.1:$p_pp" fbackend=$hbackend
			fport=$p_fttcp sport=$p_fstcp
		else
			hbackend=$nginx_sock fbackend="unix:$nginx_sock"
			fport=$p_ftunix sport=$p_fsunix
		fi
		for h in haproxy "${h3[@]}"; do
			start_haproxy "$h-tls-$b" "$hbackend" haproxy-tls.cfg.in \
				PEM="$tls/haproxy.pem" SUITE="$tls_suite"
			tls_scenarios+=("$h-tls-$b")
		done
		start_frontd "frontd-tls-$b" "$fport" "$fbackend" \
			frontd-tls.ini.in CERT="$tls/cert.pem" KEY="$tls/key.pem" \
			SUITE="$tls_suite" STATS_PORT="$sport"
		stats_of[frontd-tls-$b]="http://127.0.0.1:$sport/metrics"
		tls_scenarios+=("frontd-tls-$b")
		say "TLS ready, $b backend: HAProxy 2.6 127.0.0.1:${port[haproxy-tls-$b]} (pid ${pid_of[haproxy-tls-$b]})${h3:+, HAProxy 3 127.0.0.1:${port[haproxy3-tls-$b]} (pid ${pid_of[haproxy3-tls-$b]})}, mptcp-frontd 127.0.0.1:$fport (pid ${pid_of[frontd-tls-$b]}); ECDSA P-256 certificate, TLS 1.3, $tls_suite"
	done
fi

port[direct]=$p_direct
port[$limit]=$p_mdirect
# The HAProxys and frontd alternate so that each set runs close in time.
proxies=()
for b in tcp unix; do
	for h in haproxy "${h3[@]}" frontd; do
		proxies+=("$h-$b")
	done
done
scenarios=(direct "$limit" "${proxies[@]}")
# tls_counters SCENARIO: where bench.py reads the proxy's handshake counts.
tls_counters() {
	case "$1" in
	haproxy*) echo --haproxy-sock "$wd/$1/admin.sock" ;;
	frontd-*) echo --frontd-stats "${stats_of[$1]}" ;;
	esac
}
mptcp_flag() { [ "$1" = direct ] || echo --mptcp; }

if [ "$serve" = 1 ]; then
	# Everything up, nothing measured: for perf, strace or a manual wrk.
	for sc in "${scenarios[@]}" "${tls_scenarios[@]}"; do
		case "$sc" in *-tls-*) scheme=https ;; *) scheme=http ;; esac
		printf '  %-16s %s://127.0.0.1:%s/small  /big%s\n' "$sc" "$scheme" \
			"${port[$sc]}" "${pid_of[$sc]:+  pid ${pid_of[$sc]}}"
	done
	wanted tls && say "TLS: wrk -H 'Connection: close' https://...; full handshakes with LD_PRELOAD=$wd/tls/noresume.so"
	say "serving for up to an hour; stop with Ctrl-C"
	for ((i = 0; i < 3600; i++)); do
		sleep 1
	done
	exit 0
fi

failed=0
# Memory first, on freshly started proxies: after the load phases their
# allocators hold freed memory that idle connections would reuse, which
# would hide the real cost of an idle connection.
wanted memory && say "memory: idle MPTCP connections held (${idle_counts/,/ then })"
for sc in "${proxies[@]}"; do
	wanted memory || break
	measure python3 "$bench_py" idle --scenario "$sc" \
		--addr "127.0.0.1:${port[$sc]}" --pid "${pid_of[$sc]}" \
		--status "$status_url" --counts "$idle_counts" --out "$results" ||
		failed=1
done

for kind in keepalive close; do
	wanted "$kind" || continue
	say "$kind: wrk -t2 -c50 -d${duration}s --latency$([ $kind = close ] && echo " -H 'Connection: close'")"
	for sc in "${scenarios[@]}"; do
		# shellcheck disable=SC2046
		measure python3 "$bench_py" wrk --scenario "$sc" --kind "$kind" \
			--url "http://127.0.0.1:${port[$sc]}/small" --pid "${pid_of[$sc]}" \
			--duration "$duration" --out "$results" $(mptcp_flag "$sc") ||
			failed=1
		sleep 1
	done
	# System calls: a separate short run, so the counting does not touch
	# the figures above.
	[ -n "$syscall_tool" ] || continue
	say "$kind: system calls per request, $syscall_tool during wrk -d${sys_duration}s"
	for sc in "${scenarios[@]}"; do
		# shellcheck disable=SC2046
		measure python3 "$bench_py" syscalls --scenario "$sc" --kind "$kind" \
			--url "http://127.0.0.1:${port[$sc]}/small" --pid "${pid_of[$sc]}" \
			--tool "$syscall_tool" --duration "$sys_duration" --out "$results" \
			$(mptcp_flag "$sc") || failed=1
	done
done

wanted bulk && say "bulk: $bulk_mib MiB download with curl, $bulk_runs run(s) each"
for sc in "${scenarios[@]}"; do
	wanted bulk || break
	# shellcheck disable=SC2046
	measure python3 "$bench_py" bulk --scenario "$sc" \
		--url "http://127.0.0.1:${port[$sc]}/big" --size "$bulk_size" \
		--runs "$bulk_runs" --pid "${pid_of[$sc]:-0}" --out "$results" \
		$(mptcp_flag "$sc") || failed=1
done

# TLS last: what each proxy negotiates, then handshakes (one request per
# connection, full then resumed), then a download.
if wanted tls; then
	say "tls: what each proxy negotiates (openssl s_client)"
	for sc in "${tls_scenarios[@]}"; do
		measure python3 "$bench_py" tls-probe --scenario "$sc" \
			--addr "127.0.0.1:${port[$sc]}" --mptcp --out "$results" ||
			failed=1
	done
	for kind in tls-full tls-resumed; do
		say "$kind: wrk -t2 -c50 -d${duration}s --latency -H 'Connection: close' https://...$([ $kind = tls-full ] && echo ' with noresume.so')"
		for sc in "${tls_scenarios[@]}"; do
			# shellcheck disable=SC2046
			measure python3 "$bench_py" wrk --scenario "$sc" --kind "$kind" \
				--url "https://127.0.0.1:${port[$sc]}/small" \
				--duration "$duration" --out "$results" --mptcp \
				--pid "${pid_of[$sc]}" \
				$([ $kind = tls-full ] && echo --preload "$wd/tls/noresume.so") \
				$(tls_counters "$sc") || failed=1
			sleep 1
		done
	done
	say "tls bulk: $bulk_mib MiB download with curl -k over TLS, $bulk_runs run(s) each"
	for sc in "${tls_scenarios[@]}"; do
		measure python3 "$bench_py" bulk --scenario "$sc" \
			--url "https://127.0.0.1:${port[$sc]}/big" --size "$bulk_size" \
			--runs "$bulk_runs" --pid "${pid_of[$sc]}" --out "$results" \
			--mptcp || failed=1
	done
fi

for i in "${!pids[@]}"; do
	if ! alive "${pids[$i]}"; then
		echo "run.sh: ${names[$i]} (pid ${pids[$i]}) died during the run" >&2
		failed=1
	fi
done

versions=$(
	printf '"%s", ' "$(nginx -v 2>&1 | sed 's/.*version: //')" \
		"$(haproxy -v | head -n 1 | awk '{ print "HAProxy " $3 }')" \
		${h3:+"$("${sid_run[@]}" "$sid/usr/sbin/haproxy" -v | head -n 1 | awk '{ print "HAProxy " $3 " (sid)" }')"} \
		"$(wrk --version 2>&1 | head -n 1 | awk '{ print $1 " " $2 }')" \
		"mptcp-frontd $("$frontd" -V 2>&1 | head -n 1 | awk '{ print $NF }')"
)
load_end=$(cut -d' ' -f1 /proc/loadavg)
tls_note=""
wanted tls && tls_note="TLS rows: both proxies terminate TLS 1.3 ($tls_suite, ECDSA P-256 certificate, OpenSSL's default group) in front of the same nginx, session tickets on and no session cache on both; wrk -H 'Connection: close' over https, so one handshake per request: full handshakes with noresume.so (wrk may not reuse the previous session), resumed ones with plain wrk (it offers the last ticket); each checked on the proxy's counters. TLS bulk: curl -k --http1.1."
meta=$(printf '{"limit": "%s", "limit_what": "%s", "syscall_tool": "%s", "mode": "%s", "loadavg_start": %s, "loadavg_end": %s, "date": "%s", "duration": %s, "bulk_mib": %s, "bulk_runs": %s, "idle_counts": [%s], "frontd_workers_auto": %s, "versions": [%s], "tls": "%s", "tls_suite": "%s"}' \
	"$limit" "$limit_what" "$syscall_tool" "$mode" "$load_start" "$load_end" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$duration" "$bulk_mib" \
	"$bulk_runs" "$idle_counts" "$([ "$frontd_workers" = 1 ] && echo true || echo false)" \
	"${versions%, }" "$tls_note" "$(wanted tls && echo "$tls_suite")")

say "measurements done in $(elapsed) s"
echo
python3 "$bench_py" report --results "$results" --meta "$meta" \
	--md "$outdir/last.md" ${json:+--json "$json"} || failed=1
echo "results written to $outdir/last.md${json:+ and $json}"
exit "$failed"
