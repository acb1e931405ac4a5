#!/bin/sh
# Lay out the whole file tree of the runtime image (the Dockerfile's last
# stage is FROM scratch and copies this tree): the daemon, exactly the
# shared libraries it loads and the dynamic loader, each at the path the
# loader finds it, the configuration, passwd and group entries for the
# unprivileged user, and the copyright files of the libraries.  No shell,
# no package manager, no other program: the health check is the binary's
# own --health-check.  Run from the top of the source tree, in the build
# stage after build.sh:
#
#   sh conf/container/runtime-root.sh STAGING ROOTFS
#
# STAGING is build.sh's DESTDIR.  tests/integration/container.sh runs it
# too and starts the daemon inside ROOTFS (chroot), which proves that the
# tree is complete.
#
# What is left out on purpose:
# - OpenSSL's configuration: Debian 12's openssl.cnf changes no default
#   (its openssl_init section is empty); without the file OpenSSL uses the
#   same built-in defaults, and certificates and keys are configured by
#   path (tls_cert, tls_key, tls_client_ca), mounted like the .ini.
# - A temporary directory: the daemon writes no file but its optional
#   pidfile and logs, wherever the configuration says.
# - The dynamic loader's cache (/etc/ld.so.cache): each library lies in
#   the multiarch directory the loader searches by default.
set -eu

staging=${1:?usage: runtime-root.sh STAGING ROOTFS}
root=${2:?usage: runtime-root.sh STAGING ROOTFS}
bin=/usr/sbin/mptcp-frontd
uid=10001
gid=10001

[ -x "$staging$bin" ] || { echo "runtime-root.sh: no $staging$bin" >&2; exit 1; }
if ldd "$staging$bin" | grep 'not found' >&2; then
	echo "runtime-root.sh: $bin needs libraries this system lacks" >&2
	exit 1
fi
rm -rf "$root"
install -d -m 755 "$root/usr/sbin" "$root/etc/mptcp-frontd"
install -m 755 "$staging$bin" "$root$bin"

# ldd names each library at the path the loader resolved ("libssl.so.3
# => /lib/x86_64-linux-gnu/libssl.so.3 (0x...)") and the loader itself by
# the path in the binary's PT_INTERP ("/lib64/ld-linux-x86-64.so.2
# (0x...)"); the vDSO has no file.  Each is copied (symlinks followed) to
# that same path.
libs=$(ldd "$staging$bin" | sed -n \
	-e 's/^.* => \(\/[^ ]*\) (0x[0-9a-f]*)$/\1/p' \
	-e 's/^[[:space:]]*\(\/[^ ]*\) (0x[0-9a-f]*)$/\1/p')
for lib in $libs; do
	install -d -m 755 "$root${lib%/*}"
	install -m 644 "$lib" "$root$lib"
	# The library's package's copyright file (licences that ask for
	# their notice to go with binary copies).
	# dpkg knows it by the path its package ships (/lib/... or
	# /usr/lib/... under merged /usr).
	pkg=$( (dpkg -S "$lib" || dpkg -S "$(readlink -f "$lib")") 2>/dev/null |
		sed -n '1s/:.*//p')
	if [ -n "$pkg" ] && [ -f "/usr/share/doc/$pkg/copyright" ]; then
		install -d -m 755 "$root/usr/share/doc/$pkg"
		install -m 644 "/usr/share/doc/$pkg/copyright" "$root/usr/share/doc/$pkg/copyright"
	fi
done
# The loader must be executable, as PT_INTERP.
chmod 755 "$root$(ldd "$staging$bin" | sed -n 's/^[[:space:]]*\(\/[^ ]*\) (0x[0-9a-f]*)$/\1/p')"

install -m 644 conf/container/mptcp-frontd.ini "$root/etc/mptcp-frontd/mptcp-frontd.ini"

# The start-up check looks its own user up (getpwuid), so do log lines
# and tools; root for a "--user 0" run of --check.  nsswitch.conf: the
# files above, and DNS for a backend given by name (glibc has both
# built in; resolv.conf and hosts come from the container engine).
printf '%s\n' "root:x:0:0:root:/nonexistent:/nonexistent" \
	"mptcp-frontd:x:$uid:$gid:mptcp-frontd:/nonexistent:/nonexistent" \
	>"$root/etc/passwd"
printf '%s\n' "root:x:0:" "mptcp-frontd:x:$gid:" >"$root/etc/group"
printf '%s\n' "passwd: files" "group: files" "hosts: files dns" \
	>"$root/etc/nsswitch.conf"
chmod 644 "$root/etc/passwd" "$root/etc/group" "$root/etc/nsswitch.conf"
