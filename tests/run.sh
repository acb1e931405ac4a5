#!/usr/bin/env bash
# Install what the build and the tests need, build with warnings as
# errors, run the whole suite, and end with one line:
#   N passed, N failed[, N skipped]
# counting every test point (each Check test case, each integration check).
#
#   bash tests/run.sh             build in ./ and run the suite
#   CI=true bash tests/run.sh     tests needing root, MPTCP or network
#                                 namespaces must run (they fail, not skip)
#   SANITIZE=1 bash tests/run.sh  same, built with ASan + UBSan
set -u
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)

PACKAGES="build-essential autoconf automake pkg-config libevent-dev libssl-dev
libinih-dev check nginx libnginx-mod-stream libnginx-mod-mail mptcpd mptcpize curl
iproute2 nftables python3 procps python3-yaml systemd util-linux haproxy wrk
openssl clang libclang-rt-14-dev bsdutils podman runc catatonit mmdebstrap
chromium linux-perf strace"

install_packages() {
	local missing=()
	for p in $PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "tests/run.sh: missing packages (${missing[*]}); run as root" >&2
		return 1
	fi
	echo "installing: ${missing[*]}"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends "${missing[@]}" \
		>/dev/null
}

fail_setup() {
	echo "tests/run.sh: $1" >&2
	echo "0 passed, 1 failed"
	exit 1
}

install_packages || fail_setup "package installation failed"
# Debian's nginx package starts a system nginx on port 80; our tests run
# their own instances and never touch it.

configure_flags=(--enable-werror)
if [ "${SANITIZE:-0}" = 1 ]; then
	configure_flags+=(--enable-asan --enable-ubsan)
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi

autoreconf -fi >/dev/null 2>&1 || fail_setup "autoreconf failed"
./configure -q "${configure_flags[@]}" >/dev/null ||
	fail_setup "configure failed"
make -s -j2 >/dev/null || { make 2>&1 | tail -30; fail_setup "build failed"; }

# Stale results would be counted as if they were fresh.
find tests -name '*.trs' -delete 2>/dev/null
# The 60 s soak belongs to the sanitizer pass (issue: leaks show there);
# the other passes run it briefly.
if [ -z "${SOAK_SECONDS:-}" ]; then
	if [ "${SANITIZE:-0}" = 1 ]; then SOAK_SECONDS=60; else SOAK_SECONDS=15; fi
fi
export SOAK_SECONDS
# The sanitizer pass leaves out the container tests: they test the image,
# which is built from conf/container/Dockerfile, never with sanitizers.
check_args=()
if [ "${SANITIZE:-0}" = 1 ]; then
	check_args=(TESTS="$(make -s print-tests |
		tr ' ' '\n' | grep -v '^tests/integration/container' | tr '\n' ' ')")
fi
make -s -j2 check "${check_args[@]}" >/tmp/mptcp-frontd-check.$$ 2>&1
check_rc=$?
grep -E '^(PASS|FAIL|SKIP|ERROR|XPASS|XFAIL):' /tmp/mptcp-frontd-check.$$ |
	grep -v '^PASS:' | head -100
if [ $check_rc -ne 0 ]; then
	# Show the logs of what failed, so CI output explains itself.
	for log in $(grep -l -E ':test-result: (FAIL|ERROR|XPASS)' \
		$(find tests -name '*.trs') 2>/dev/null); do
		echo "===== ${log%.trs}.log"
		tail -40 "${log%.trs}.log"
	done
fi
rm -f /tmp/mptcp-frontd-check.$$

count() {
	find tests -name '*.trs' -print0 | xargs -0 cat 2>/dev/null |
		grep -c "^:test-result: $1" || true
}
pass=$(( $(count PASS) + $(count XFAIL) ))
fail=$(( $(count FAIL) + $(count XPASS) + $(count ERROR) ))
skip=$(count SKIP)
# A harness failure with no failing test point still fails the run.
if [ $check_rc -ne 0 ] && [ "$fail" -eq 0 ]; then
	fail=1
fi

# add_counts LINE: add an "N passed, N failed[, N skipped]" line to ours.
add_counts() {
	local p f k
	p=$(printf '%s\n' "$1" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
	f=$(printf '%s\n' "$1" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	k=$(printf '%s\n' "$1" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
	pass=$((pass + ${p:-0}))
	fail=$((fail + ${f:-1}))
	skip=$((skip + ${k:-0}))
}

if [ "${CI:-}" = true ] && [ "${SANITIZE:-0}" != 1 ]; then
	# The whole suite again, built with ASan + UBSan, in a copy of the
	# tracked files (this tree is configured in place already).
	sandir=$(mktemp -d /tmp/mptcp-frontd-asan.XXXXXX)
	git ls-files -z | xargs -0 cp --parents -t "$sandir" 2>/dev/null ||
		fail_setup "cannot copy the tree for the sanitizer run"
	echo "== ASan + UBSan build: the whole suite again"
	SANITIZE=1 SOAK_SECONDS=60 bash "$sandir/tests/run.sh" >"$sandir.log" 2>&1
	grep -E '^(FAIL|ERROR|XPASS):' "$sandir.log" | head -40
	# The logs of what failed there (its run printed them).
	sed -n '/^===== /,$p' "$sandir.log" | grep -v '^[0-9]* passed' | head -150
	add_counts "$(tail -n 1 "$sandir.log")"
	echo "ASan + UBSan: $(tail -n 1 "$sandir.log")"
	rm -rf "$sandir" "$sandir.log"

	# The benchmark's quick mode as a smoke check: it must run and print
	# its table; no thresholds here.
	if bash tests/bench/smoke.sh >/tmp/mptcp-frontd-smoke.$$ 2>&1 &&
		grep -q '^ok 1' /tmp/mptcp-frontd-smoke.$$; then
		echo "PASS: benchmark smoke (tests/bench/smoke.sh)"
		pass=$((pass + 1))
	else
		tail -40 /tmp/mptcp-frontd-smoke.$$
		echo "FAIL: benchmark smoke (tests/bench/smoke.sh)"
		fail=$((fail + 1))
	fi
	rm -f /tmp/mptcp-frontd-smoke.$$

	# The libFuzzer targets, each for a bounded time (FUZZ_SECONDS,
	# default 60): one point per target, counted like the others.
	if command -v clang >/dev/null 2>&1; then
		bash tests/fuzz/run.sh "${FUZZ_SECONDS:-60}" \
			>/tmp/mptcp-frontd-fuzz.$$ 2>&1
		fuzz_rc=$?
		grep -E '^(ok|not ok) ' /tmp/mptcp-frontd-fuzz.$$ |
			sed 's/^/fuzz: /'
		fp=$(grep -c '^ok ' /tmp/mptcp-frontd-fuzz.$$ || true)
		ff=$(grep -c '^not ok ' /tmp/mptcp-frontd-fuzz.$$ || true)
		if [ "$fuzz_rc" -ne 0 ] && [ "$ff" -eq 0 ]; then
			tail -40 /tmp/mptcp-frontd-fuzz.$$
			ff=1
		elif [ "$ff" -gt 0 ]; then
			tail -60 /tmp/mptcp-frontd-fuzz.$$
		fi
		pass=$((pass + fp))
		fail=$((fail + ff))
		rm -f /tmp/mptcp-frontd-fuzz.$$
	else
		echo "FAIL: fuzzing: clang is missing (it is in PACKAGES)"
		fail=$((fail + 1))
	fi

	# The release tarball must hold everything, build and pass its own
	# unit and structure tests (the integration suite ran twice above).
	if make -s distcheck TESTS="$(make -s print-unit-tests)" \
		>/tmp/mptcp-frontd-distcheck.$$ 2>&1; then
		echo "PASS: make distcheck"
		pass=$((pass + 1))
	else
		tail -60 /tmp/mptcp-frontd-distcheck.$$
		echo "FAIL: make distcheck"
		fail=$((fail + 1))
	fi
	rm -f /tmp/mptcp-frontd-distcheck.$$
fi

if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
