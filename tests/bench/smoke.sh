#!/usr/bin/env bash
# Smoke check for the benchmark (TAP, one point): `run.sh --quick`
# completes, exits 0 and prints its table.  No thresholds: the figures
# are not judged here.  Results go to a temporary directory so that the
# last full run in tests/bench/results/ is kept.
#
# Without MPTCP or the tools the benchmark needs, the test is skipped,
# unless CI=true, where it fails instead.
set -u
here=$(cd "$(dirname "$0")" && pwd)
frontd=${FRONTD:-$here/../../src/mptcp-frontd}

echo "1..1"

missing=""
# openssl and a C compiler for the TLS rows (certificate, noresume.so).
for tool in nginx haproxy wrk mptcpize curl python3 openssl "${CC:-cc}"; do
	command -v "$tool" >/dev/null || missing="$missing $tool"
done
[ "$(cat /proc/sys/net/mptcp/enabled 2>/dev/null)" = 1 ] ||
	missing="$missing MPTCP(net.mptcp.enabled)"
[ -x "$frontd" ] || missing="$missing $frontd"
if [ -n "$missing" ]; then
	if [ "${CI:-}" = true ]; then
		echo "not ok 1 - bench quick mode: missing:$missing"
		exit 1
	fi
	echo "ok 1 # SKIP bench quick mode: missing:$missing"
	exit 0
fi

tmp=$(mktemp -d) || { echo "not ok 1 - bench quick mode: mktemp failed"; exit 1; }
trap 'rm -rf "$tmp"' EXIT

bash "$here/run.sh" --quick --frontd "$frontd" --out "$tmp" \
	--json "$tmp/last.json" >"$tmp/output" 2>&1
rc=$?

problems=""
[ "$rc" -eq 0 ] || problems="$problems exit status $rc;"
grep -q '^| figure | backend | direct | limit | HAProxy 2.6 | HAProxy 3 | mptcp-frontd |' "$tmp/output" ||
	problems="$problems no table printed;"
for row in 'keep-alive req/s' 'new conn/request req/s' 'bulk Gbit/s (median)' \
	'idle RSS KiB/conn @2,000' 'TLS full handshakes/s' 'TLS bulk Gbit/s (median)'; do
	grep -qF "| $row | tcp |" "$tmp/output" || problems="$problems no '$row' row;"
done
[ -s "$tmp/last.md" ] || problems="$problems no last.md;"
python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$tmp/last.json" 2>/dev/null ||
	problems="$problems no valid JSON;"

if [ -z "$problems" ]; then
	echo "ok 1 - bench quick mode completed and printed its table"
	exit 0
fi
sed 's/^/# /' "$tmp/output" | tail -n 60
echo "not ok 1 - bench quick mode:$problems"
exit 1
