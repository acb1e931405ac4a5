#!/usr/bin/env bash
# A Debian sid tree with HAProxy 3 and nginx (with `listen ... multipath`),
# made with mmdebstrap from Debian packages only and cached between runs,
# for the benchmark's `haproxy3-*` and `nginx-multipath` scenarios.
#
#   tests/bench/sidroot.sh        print the tree's path (made or refreshed
#                                 when needed); exit 1 with the reason on
#                                 stderr when it cannot be had
#
# The programs are not run with chroot(2): run.sh starts the tree's binary
# through the tree's own dynamic loader and libraries
# (DIR/usr/lib64/ld-linux-x86-64.so.2 --library-path ...), so that they see
# the benchmark's work directory, sockets and certificate where run.sh put
# them, and nothing has to be bind-mounted into the tree.
#
# Cache: $BENCH_CACHE (default /var/cache/mptcp-frontd-tests)/sid-KEY, KEY a
# hash of the mirror, the suite and the package list, so a change of any of
# them makes a new tree.  A tree older than $BENCH_SID_MAX_DAYS (default 7)
# is remade into a new directory and swapped in with rename(2) under a
# lock; when remaking fails, the old tree is used and that is said.
# Environment: BENCH_SID_MIRROR overrides the mirror found in apt's sources.
set -u

cache=${BENCH_CACHE:-/var/cache/mptcp-frontd-tests}
max_days=${BENCH_SID_MAX_DAYS:-7}
suite=sid
packages=haproxy,nginx

note() { echo "sidroot: $*" >&2; }

# The Debian archive this machine's apt uses (deb822 .sources or
# one-line sources.list): its sid suite is what mmdebstrap asks for.
find_mirror() {
	local f
	for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list \
		/etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		awk '
			/^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }
			/^deb / { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }
		' "$f"
	done | head -n 1
}

# fresh DIR: made completely, and recently enough?
fresh() {
	[ -f "$1/.bench-made" ] && [ -x "$1/usr/sbin/haproxy" ] &&
		[ -x "$1/usr/sbin/nginx" ] &&
		[ -z "$(find "$1/.bench-made" -mtime +"$max_days" 2>/dev/null)" ]
}

# unmounted DIR: nothing is mounted below it (so rm -rf stays inside).
unmounted() {
	! awk -v d="$1" 'index($2, d) == 1 { found = 1 } END { exit !found }' /proc/mounts
}

remove_tree() {
	[ -n "$1" ] && [ -d "$1" ] || return 0
	if unmounted "$1"; then
		rm -rf "$1"
	else
		note "not removing $1: something is mounted below it"
	fi
}

command -v mmdebstrap >/dev/null || { note "mmdebstrap is not installed"; exit 1; }
[ "$(id -u)" = 0 ] || { note "making the tree needs root (mmdebstrap root mode)"; exit 1; }
mirror=${BENCH_SID_MIRROR:-$(find_mirror)}
[ -n "$mirror" ] || { note "no Debian mirror found in /etc/apt/sources.list*"; exit 1; }
key=$(printf '%s %s %s essential\n' "$mirror" "$suite" "$packages" | sha256sum | cut -c1-12)
dir="$cache/sid-$key"

mkdir -p "$cache" || { note "cannot create $cache"; exit 1; }
exec 9>"$cache/sid.lock" || { note "cannot open $cache/sid.lock"; exit 1; }
# One maker at a time; a waiting run uses what the other one made.
flock -w 600 9 || { note "another run holds $cache/sid.lock for more than 10 minutes"; exit 1; }

if fresh "$dir"; then
	echo "$dir"
	exit 0
fi

new="$dir.new.$$"
remove_tree "$new"
note "making a Debian $suite tree with $packages from $mirror in $dir (about a minute)"
# sid's Release file may be past its Valid-Until on a snapshot mirror.
if mmdebstrap --variant=essential --include="$packages" \
	--aptopt='Acquire::Check-Valid-Until "false"' \
	"$suite" "$new" "$mirror" >"$cache/sid-$key.log" 2>&1 &&
	[ -x "$new/usr/sbin/haproxy" ] && [ -x "$new/usr/sbin/nginx" ]; then
	date -u +%Y-%m-%dT%H:%M:%SZ >"$new/.bench-made"
	old="$dir.old.$$"
	[ -d "$dir" ] && mv "$dir" "$old"
	mv "$new" "$dir" || { note "cannot rename $new to $dir"; exit 1; }
	remove_tree "$old"
	echo "$dir"
	exit 0
fi
note "mmdebstrap failed (log: $cache/sid-$key.log): $(tail -n 3 "$cache/sid-$key.log" | tr '\n' ' ')"
remove_tree "$new"
if [ -x "$dir/usr/sbin/haproxy" ] && [ -x "$dir/usr/sbin/nginx" ]; then
	note "using the older tree $dir (made $(cat "$dir/.bench-made" 2>/dev/null))"
	echo "$dir"
	exit 0
fi
exit 1
