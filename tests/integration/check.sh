#!/bin/bash
# mptcp-frontd --check in private network namespaces (sysctls, limits and
# endpoints are per namespace): MPTCP disabled means "cannot serve" and
# exit 1; a zero subflow limit is a warning with its fix, exit 0; limits
# and a signal endpoint give a clean report listing the endpoint, exit 0.
# shellcheck disable=SC2016  # the expected advice quotes commands in `...`
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

require_netns
require_mptcp
require_frontd

# run_check NAME NS [ARGS...]: --check in NS; output in $T/NAME.out,
# exit status in CHECK_RC.
run_check() {
	local name=$1 ns=$2
	shift 2
	ip netns exec "$ns" timeout -k 2 20 "$FRONTD" --check "$@" \
		>"$T/$name.out" 2>"$T/$name.err"
	CHECK_RC=$?
}

# lines NAME REGEX [GREP_OPTION...]: the output lines of run NAME that
# match REGEX.
lines() {
	grep -E "${@:3}" -e "$2" "$T/$1.out"
}

# well_formed NAME: every line is a finding, a fix, a section heading or
# the final verdict.
well_formed() {
	local name=$1 bad
	bad=$(grep -Ev '^(ok|warn|error): |^  fix: |^== [a-zA-Z0-9 ]+ ==$' "$T/$name.out" |
		grep -v '^verdict: ')
	tap_is "$bad" "" "$name: every line is ok:/warn:/error:/  fix:/== section ==" "$T/$name.out"
	tap_like "$(tail -n 1 "$T/$name.out")" '^verdict: this host (can|cannot) serve MPTCP$' \
		"$name: the last line is the verdict" "$T/$name.out"
	tap_is "$(grep -c '^verdict: ' "$T/$name.out")" 1 "$name: one verdict" \
		"$T/$name.out"
	tap_is "$(cat "$T/$name.err")" "" "$name: nothing on stderr" "$T/$name.err"
}

# ---------------------------------------------------------------- disabled
make_netns OFF || bail "cannot create a namespace"
ip netns exec "$OFF" sysctl -q -w net.mptcp.enabled=0 ||
	bail "cannot set net.mptcp.enabled=0 in a namespace"
run_check disabled "$OFF"
tap_is "$CHECK_RC" 1 "net.mptcp.enabled = 0: --check exits 1" "$T/disabled.out"
tap_is "$(lines disabled '^error: net\.mptcp\.enabled')" \
	"error: net.mptcp.enabled = 0: MPTCP is disabled in this network namespace" \
	"it reports the disabled sysctl as an error" "$T/disabled.out"
tap_like "$(lines disabled '^error: net\.mptcp\.enabled' -A1 | tail -n 1)" \
	'^  fix: run `sysctl -w net\.mptcp\.enabled=1`' \
	"with the sysctl that fixes it on the next line" "$T/disabled.out"
tap_is "$(lines disabled '^error: socket\(' | grep -c 'ENOPROTOOPT')" 2 \
	"both MPTCP socket families fail with ENOPROTOOPT" "$T/disabled.out"
tap_is "$(tail -n 1 "$T/disabled.out")" "verdict: this host cannot serve MPTCP" \
	"verdict: cannot serve" "$T/disabled.out"
well_formed disabled

# ---------------------------------------------------------------- subflow 0
make_netns ZERO || bail "cannot create a namespace"
if ! { ip netns exec "$ZERO" sysctl -q -w net.mptcp.enabled=1 &&
	ip -n "$ZERO" mptcp limits set subflow 0 add_addr_accepted 0; }; then
	bail "cannot set MPTCP limits in a namespace"
fi
run_check zero "$ZERO"
tap_is "$CHECK_RC" 0 "subflow limit 0: --check exits 0 (single path still serves)" \
	"$T/zero.out"
tap_like "$(lines zero '^warn: subflow limit')" \
	'^warn: subflow limit is 0: clients cannot add paths to a connection' \
	"it warns that clients cannot add paths" "$T/zero.out"
tap_is "$(lines zero '^warn: subflow limit' -A1 | tail -n 1)" \
	'  fix: run `ip mptcp limits set subflow 2 add_addr_accepted 2`' \
	"with the command that fixes it" "$T/zero.out"
tap_is "$(lines zero '^error: ')" "" "no errors" "$T/zero.out"
tap_is "$(lines zero '^ok: socket\(AF_INET6?, .* works \(SO_PROTOCOL = 262\)$' | wc -l)" 2 \
	"both MPTCP socket families work, SO_PROTOCOL = 262" "$T/zero.out"
tap_is "$(tail -n 1 "$T/zero.out")" "verdict: this host can serve MPTCP" \
	"verdict: can serve" "$T/zero.out"
well_formed zero

# ---------------------------------------------------------------- healthy
make_netns OK || bail "cannot create a namespace"
if ! { ip netns exec "$OK" sysctl -q -w net.mptcp.enabled=1 &&
	ip -n "$OK" link add ck0 type veth peer name ck1 &&
	ip -n "$OK" link set ck0 up &&
	ip -n "$OK" link set ck1 up &&
	ip -n "$OK" addr add 192.0.2.1/24 dev ck0 &&
	ip -n "$OK" mptcp limits set subflow 2 add_addr_accepted 2 &&
	ip -n "$OK" mptcp endpoint add 192.0.2.1 dev ck0 signal; }; then
	bail "cannot set up the healthy namespace"
fi
ifindex=$(ip -n "$OK" -o link show ck0 | sed -n 's/^\([0-9]*\):.*/\1/p')
ep_id=$(ip -n "$OK" mptcp endpoint show | sed -n 's/^192\.0\.2\.1 id \([0-9]*\) .*/\1/p')
# Read no configuration: a missing -c file must not matter.
run_check healthy "$OK" -c "$T/does-not-exist.ini"
tap_is "$CHECK_RC" 0 "healthy namespace: --check exits 0" "$T/healthy.out"
tap_is "$(lines healthy '^(warn|error): ')" "" "no warnings, no errors" \
	"$T/healthy.out"
tap_is "$(lines healthy '^ok: limits: ')" \
	"ok: limits: subflow 2 add_addr_accepted 2 (each connection may gain up to 2 more subflows)" \
	"it reports the limits read over netlink" "$T/healthy.out"
tap_is "$(lines healthy '^ok: endpoint ')" \
	"ok: endpoint id $ep_id: 192.0.2.1 signal dev ck0 (ifindex $ifindex)" \
	"it lists the signal endpoint with its device" "$T/healthy.out"
tap_is "$(lines healthy '^ok: net\.mptcp\.enabled')" "ok: net.mptcp.enabled = 1" \
	"net.mptcp.enabled = 1 is ok" "$T/healthy.out"
tap_like "$(lines healthy '^ok: path manager: ')" '^ok: path manager: in-kernel' \
	"the in-kernel path manager is ok" "$T/healthy.out"
tap_is "$(tail -n 1 "$T/healthy.out")" "verdict: this host can serve MPTCP" \
	"verdict: can serve" "$T/healthy.out"
well_formed healthy

# A second endpoint: listed too, in the kernel's order.
if ! { ip -n "$OK" addr add 2001:db8::1/64 dev ck0 nodad &&
	ip -n "$OK" mptcp endpoint add 2001:db8::1 dev ck0 signal backup; }; then
	bail "cannot add an IPv6 endpoint"
fi
run_check healthy2 "$OK"
tap_is "$CHECK_RC" 0 "two endpoints: --check exits 0" "$T/healthy2.out"
tap_is "$(lines healthy2 '^ok: endpoint ' | sed 's/^ok: endpoint id [0-9]*: //')" \
	"192.0.2.1 signal dev ck0 (ifindex $ifindex)
2001:db8::1 signal,backup dev ck0 (ifindex $ifindex)" \
	"both endpoints are listed with their flags" "$T/healthy2.out"

# ---------------------------------------------------------------- userspace PM
# pm_type exists from Linux 5.19 (and still on kernels that name it
# net.mptcp.path_manager); no mptcpd runs in a fresh namespace.
make_netns UPM || bail "cannot create a namespace"
if ip netns exec "$UPM" sysctl -q -w net.mptcp.pm_type=1 2>/dev/null; then
	run_check userspace "$UPM"
	tap_is "$CHECK_RC" 0 "userspace path manager: --check exits 0" \
		"$T/userspace.out"
	tap_like "$(lines userspace '^warn: path manager')" \
		'^warn: path manager: userspace .* no mptcpd is running' \
		"it warns that no mptcpd is running" "$T/userspace.out"
	well_formed userspace
else
	tap_skip "userspace path manager warning" "no net.mptcp.pm_type (Linux < 5.19)"
fi
