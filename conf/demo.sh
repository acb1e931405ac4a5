#!/bin/bash
# Demo of mptcp-frontd in front of an unmodified nginx, on Debian 12 as root:
#
#   bash conf/demo.sh         install what is missing, build, (re)start
#                             nginx and mptcp-frontd, print how to try it
#   bash conf/demo.sh stop    stop both
#
# Everything the demo writes at run time lives in $DEMO_DIR.  Processes are
# stopped only by the PIDs recorded there, after checking that each PID
# still belongs to the program that wrote it.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Fixed because conf/nginx-demo.conf names it in its paths.
DEMO_DIR=/tmp/mptcp-frontd-demo
NGINX_CONF=$ROOT/conf/nginx-demo.conf
FRONTD=$ROOT/src/mptcp-frontd
FRONTD_CONF=$ROOT/conf/mptcp-frontd.ini
FRONTD_LOG=$DEMO_DIR/mptcp-frontd.log
FRONTD_PID=$DEMO_DIR/mptcp-frontd.pid
NGINX_PID=$DEMO_DIR/nginx.pid
READY_TIMEOUT=10

PACKAGES=(libevent-dev libssl-dev libinih-dev check autoconf automake
          pkg-config make gcc nginx curl mptcpd mptcpize iproute2)

say() { printf '==> %s\n' "$*"; }
die() { printf 'demo.sh: %s\n' "$*" >&2; exit 1; }

install_packages() {
	local missing=() p
	for p in "${PACKAGES[@]}"; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		     grep -q 'install ok installed'; then
			missing+=("$p")
		fi
	done
	if [ ${#missing[@]} -eq 0 ]; then
		say "packages: all present"
		return
	fi
	[ "$(id -u)" -eq 0 ] || die "missing packages (${missing[*]}): run as root"
	say "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
}

build() {
	cd "$ROOT"
	# An existing build tree is kept (it may have been configured with
	# other options); make re-runs the autotools itself when needed.
	if [ ! -f config.status ]; then
		say "configuring"
		autoreconf -fi
		./configure
	fi
	say "building"
	make -j"$(nproc)"
	[ -x "$FRONTD" ] || die "build did not produce $FRONTD"
}

# pid_of FILE PROGRAM: print the PID recorded in FILE if that process is
# alive and runs PROGRAM (guards against a recycled PID).
pid_of() {
	local file=$1 prog=$2 pid exe
	[ -f "$file" ] || return 1
	pid=$(tr -dc '0-9' < "$file")
	[ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
	exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
	[ "$(basename "${exe% (deleted)}")" = "$prog" ] || return 1
	printf '%s\n' "$pid"
}

stop_one() {
	local file=$1 prog=$2 pid
	if pid=$(pid_of "$file" "$prog"); then
		say "stopping $prog (pid $pid)"
		kill -TERM "$pid" 2>/dev/null || true
		# mptcp-frontd drains for up to shutdown_timeout; the demo
		# has nothing worth waiting for longer than 10 s.
		for _ in $(seq 100); do
			[ -d "/proc/$pid" ] || break
			sleep 0.1
		done
		if [ -d "/proc/$pid" ]; then
			say "$prog (pid $pid) still running: SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$file"
}

stop_demo() {
	stop_one "$FRONTD_PID" mptcp-frontd
	stop_one "$NGINX_PID" nginx
}

start_nginx() {
	say "starting nginx on 127.0.0.1:8080 (PROXY protocol)"
	nginx -p "$DEMO_DIR/" -c "$NGINX_CONF" -e "$DEMO_DIR/error.log" -t -q ||
		die "nginx rejects $NGINX_CONF"
	nginx -p "$DEMO_DIR/" -c "$NGINX_CONF" -e "$DEMO_DIR/error.log" ||
		die "nginx did not start; see $DEMO_DIR/error.log"
}

start_frontd() {
	local pid
	"$FRONTD" -c "$FRONTD_CONF" -t >/dev/null ||
		die "mptcp-frontd rejects $FRONTD_CONF"
	say "starting mptcp-frontd on [::]:8000"
	: > "$FRONTD_LOG"
	# -f in the background, detached from this terminal (SIGHUP is not
	# handled yet and would end it), its stderr log going to a file.
	setsid "$FRONTD" -c "$FRONTD_CONF" -f </dev/null >>"$FRONTD_LOG" 2>&1 &
	pid=$!
	echo "$pid" > "$FRONTD_PID"
	for _ in $(seq $((READY_TIMEOUT * 10))); do
		if grep -q " ready (pid $pid)" "$FRONTD_LOG"; then
			return 0
		fi
		if ! [ -d "/proc/$pid" ]; then
			cat "$FRONTD_LOG" >&2
			rm -f "$FRONTD_PID"
			die "mptcp-frontd exited during start"
		fi
		sleep 0.1
	done
	cat "$FRONTD_LOG" >&2
	die "mptcp-frontd not ready after ${READY_TIMEOUT}s (still running as pid $pid)"
}

mptcp_note() {
	local enabled
	enabled=$(cat /proc/sys/net/mptcp/enabled 2>/dev/null || echo 0)
	if [ "$enabled" != 1 ]; then
		echo
		echo "Note: MPTCP is disabled in this kernel or namespace"
		echo "(net.mptcp.enabled != 1); mptcp-frontd serves plain TCP."
		echo "Enable it with: sysctl -w net.mptcp.enabled=1, then restart the demo."
	fi
}

print_usage() {
	cat <<EOF

mptcp-frontd demo is running:
  client --MPTCP--> mptcp-frontd [::]:8000 --TCP + PROXY v2--> nginx 127.0.0.1:8080

Try it:
  mptcpize run curl http://127.0.0.1:8000/    # MPTCP client (IPv4)
  curl http://[::1]:8000/                     # plain TCP client (IPv6)

nginx answers with the client address it received in the PROXY header.

Logs:
  $FRONTD_LOG    mptcp-frontd (diagnostics and access log: proto=mptcp|tcp per connection)
  $DEMO_DIR/access.log         nginx access log (client=PROXY address:port)
  $DEMO_DIR/error.log          nginx error log

Stop it:
  bash conf/demo.sh stop
EOF
	mptcp_note
}

main() {
	case "${1:-start}" in
	stop)
		stop_demo
		say "demo stopped"
		;;
	start)
		install_packages
		build
		stop_demo
		mkdir -p "$DEMO_DIR"
		start_nginx
		start_frontd
		say "mptcp-frontd is ready"
		print_usage
		;;
	*)
		echo "usage: bash conf/demo.sh [start|stop]" >&2
		exit 64
		;;
	esac
}

main "$@"
