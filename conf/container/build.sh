#!/bin/sh
# Build mptcp-frontd and stage an installed tree, as the container image's
# build stage does.  Run from the top of a source tree (a git checkout or
# an unpacked release tarball):
#
#   sh conf/container/build.sh DESTDIR
#
# JOBS=N limits make's parallel jobs (default: the number of CPUs).
#
# The Dockerfile runs this in its build stage; the final stage copies what
# it needs out of DESTDIR.  tests/integration/container.sh runs the same
# script in a fresh copy of the sources, because no container engine is
# available where the tests run.
set -eu

destdir=${1:?usage: build.sh DESTDIR}
case $destdir in
/*) ;;
*) echo "build.sh: DESTDIR must be absolute" >&2; exit 2 ;;
esac
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}

# Always regenerate: a checkout has no configure, and a tarball's is
# rebuilt the same way so that both contexts give the same image.
autoreconf -fi
./configure --prefix=/usr --sysconfdir=/etc --localstatedir=/var \
	--with-systemdsystemunitdir=no --disable-dependency-tracking
make -j"$jobs"
make install-strip DESTDIR="$destdir"
