#!/usr/bin/env bash
# Build the libFuzzer targets with clang (ASan + UBSan) and run each for a
# bounded time.  TAP on stdout, one test point per target:
#
#   1..3
#   ok 1 - fuzz_proxy_decode: 1234567 runs in 60 s, no crash
#
# A crash, leak, timeout, out-of-memory or broken invariant makes that
# point "not ok", prints the sanitizer's report and keeps the input in
# tests/fuzz/artifacts/TARGET/ (see tests/fuzz/README.md for turning it
# into a regression test).
#
#   bash tests/fuzz/run.sh [SECONDS]     SECONDS per target, default 60
#
# Environment:
#   FUZZ_TARGETS  targets to run (default: proxy_decode config parse)
#   CLANG         the compiler (default: clang, else clang-19 ... clang-14)
#   FUZZ_RSS_MB   libFuzzer's -rss_limit_mb (default 2048)
#   FUZZ_WORK     directory for the build and the grown corpus, kept
#                 afterwards (default: a temporary one, removed)
# Exit status: 0 every target ran clean; 1 a finding or a build failure;
# 77 clang or its libFuzzer runtime is missing (nothing ran); 64 usage.
set -u
cd "$(dirname "$0")/../.." || exit 1
top=$(pwd)

secs=${1:-60}
case $secs in
'' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 64 ;;
esac
targets=${FUZZ_TARGETS:-proxy_decode config parse}
rss=${FUZZ_RSS_MB:-2048}
art=$top/tests/fuzz/artifacts

skip() {
	echo "1..0 # SKIP $1"
	exit 77
}

broken() {
	echo "not ok 1 - fuzz build: $1"
	echo "1..1"
	exit 1
}

find_clang() {
	local c
	for c in ${CLANG:-} clang clang-19 clang-18 clang-17 clang-16 \
		clang-15 clang-14; do
		if command -v "$c" >/dev/null 2>&1; then
			echo "$c"
			return 0
		fi
	done
	return 1
}

cc=$(find_clang) || skip "clang not found (Debian: clang and libclang-rt-dev)"

if [ -n "${FUZZ_WORK:-}" ]; then
	work=$FUZZ_WORK
	mkdir -p "$work" || exit 1
else
	work=$(mktemp -d /tmp/mptcp-frontd-fuzz.XXXXXX) || exit 1
	trap 'rm -rf "$work"' EXIT
fi
rm -rf "${work:?}/obj" "${work:?}/bin"
mkdir -p "$work/obj" "$work/bin" "$work/corpus" || exit 1

# Is the libFuzzer runtime there?  (Debian ships it apart from clang.)
printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
	'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
	'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)' \
	'{ (void)d; (void)n; return 0; }' >"$work/probe.c"
if ! "$cc" -fsanitize=fuzzer,address,undefined "$work/probe.c" \
	-o "$work/probe" 2>"$work/probe.log"; then
	skip "$cc cannot link -fsanitize=fuzzer: $(grep -m1 error "$work/probe.log") (Debian: libclang-rt-NN-dev)"
fi

pkgs=(libevent libevent_pthreads openssl inih)
pc_cflags=$(pkg-config --cflags "${pkgs[@]}" 2>/dev/null) ||
	broken "pkg-config does not know all of: ${pkgs[*]}"
pc_libs=$(pkg-config --libs "${pkgs[@]}")

san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
san="$san -fsanitize-coverage-ignorelist=$top/tests/fuzz/coverage-ignore.txt"
cflags="-std=gnu11 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE $san"
cflags="$cflags -I$top/include $pc_cflags"
# Sources that want configure's header get it from a configured tree, or
# an empty one (every HAVE_* undefined, the portable fallbacks).
if [ -f "$top/auto-config.h" ]; then
	cflags="$cflags -I$top"
else
	: >"$work/obj/auto-config.h"
	cflags="$cflags -I$work/obj"
fi

# Everything but main.c is the library (as in Makefile.am), built once
# with coverage instrumentation; each target links only what it uses.  A
# source that does not build is reported and left out: if a target needs
# it, its link fails below.
export cc cflags work
# shellcheck disable=SC2016  # the script is for sh -c, expanded there
printf '%s\n' src/*/*.c |
	xargs -P "$(nproc 2>/dev/null || echo 2)" -n 1 sh -c '
		o="$work/obj/$(basename "$1" .c).o"
		# $cflags is a list of options: split on purpose.
		$cc $cflags -fsanitize=fuzzer-no-link -c "$1" -o "$o" \
			2>"$o.log" && exit 0
		echo "warning: $1 does not build with $cc; left out:" >&2
		grep -m3 error "$o.log" >&2
		rm -f "$o"
	' sh
ar rcs "$work/obj/libfrontd-fuzz.a" "$work"/obj/*.o ||
	broken "no library objects"

declare -A max_len=([proxy_decode]=2048 [config]=8192 [parse]=1100)

n=0
failed=0
# shellcheck disable=SC2086  # a list of names, split on purpose
set -- $targets
echo "1..$#"
for t in "$@"; do
	n=$((n + 1))
	bin=$work/bin/fuzz_$t
	log=$work/fuzz_$t.log
	if [ ! -f "tests/fuzz/fuzz_$t.c" ]; then
		echo "not ok $n - fuzz_$t: no tests/fuzz/fuzz_$t.c"
		failed=1
		continue
	fi
	# shellcheck disable=SC2086  # option lists, split on purpose
	if ! "$cc" $cflags -fsanitize=fuzzer "tests/fuzz/fuzz_$t.c" \
		"$work/obj/libfrontd-fuzz.a" $pc_libs -lpthread -o "$bin" \
		>"$log" 2>&1; then
		echo "not ok $n - fuzz_$t: does not build"
		sed 's/^/# /' "$log" | tail -30
		failed=1
		continue
	fi

	mkdir -p "$work/corpus/$t" "$art/$t"
	opts=(-max_total_time="$secs" -rss_limit_mb="$rss" -timeout=10
		-print_final_stats=1 -artifact_prefix="$art/$t/")
	[ -n "${max_len[$t]:-}" ] && opts+=(-max_len="${max_len[$t]}")
	[ -f "tests/fuzz/$t.dict" ] && opts+=(-dict="tests/fuzz/$t.dict")
	# The grown corpus goes to the first directory only; the seeds and
	# the regressions are read (and so re-checked first).
	dirs=("$work/corpus/$t" "tests/fuzz/corpus/$t")
	[ -d "tests/fuzz/regressions/$t" ] && dirs+=("tests/fuzz/regressions/$t")
	start=$(date +%s)
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
		"$bin" "${opts[@]}" "${dirs[@]}" >"$log" 2>&1
	rc=$?
	took=$(($(date +%s) - start))
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	runs=${runs:-?}
	if [ $rc -eq 0 ]; then
		echo "ok $n - fuzz_$t: $runs runs in $took s, no crash"
		rmdir "$art/$t" 2>/dev/null
	else
		# shellcheck disable=SC2012  # libFuzzer names: hex digests
		saved=$(ls -t "$art/$t" 2>/dev/null | head -1)
		echo "not ok $n - fuzz_$t: finding after $runs runs, input saved as tests/fuzz/artifacts/$t/${saved:-?}"
		grep -v '^#[0-9]' "$log" | grep -v '^INFO:' | tail -60 | sed 's/^/# /'
		failed=1
	fi
done
rmdir "$art" 2>/dev/null
exit $failed
