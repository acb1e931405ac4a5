#!/bin/sh
# Make a stand-in for the debian:12-slim base image from Debian's own
# packages, with no container registry: mmdebstrap builds a minimal
# bookworm tree from a Debian mirror, the container engine imports it.
#
#   sh conf/container/base-image.sh [ENGINE [TAG]]
#
# ENGINE: podman (the default) or docker; TAG: the name to give it
# (default debian:12-slim, the Dockerfile's DEBIAN_IMAGE).  Run as root
# (mmdebstrap's root mode).  MIRROR: a mirror URL or a deb822 .sources file
# (default: this host's /etc/apt/sources.list.d/debian.sources if there
# is one, else http://deb.debian.org/debian).  LABEL: an extra image label
# (key=value), tests/integration/container_podman.sh marks its cache key with it.
#
# What makes it like the official slim image: the minbase variant with a
# merged /usr, no documentation, manual pages or translations (dpkg
# path-exclude, kept for later apt-get installs too), and apt configured
# to keep neither its binary package caches nor downloaded packages, so
# "apt-get install ... && rm -rf /var/lib/apt/lists/*" in a Dockerfile
# leaves only the installed files in the layer.
set -eu

engine=${1:-podman}
tag=${2:-debian:12-slim}
if [ -z "${MIRROR:-}" ]; then
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		MIRROR=/etc/apt/sources.list.d/debian.sources
	else
		MIRROR=http://deb.debian.org/debian
	fi
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mmdebstrap --quiet --variant=minbase --format=tar \
	--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
	--dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-include=/usr/share/doc/*/copyright' \
	--dpkgopt='path-exclude=/usr/share/man/*' \
	--dpkgopt='path-exclude=/usr/share/info/*' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	--aptopt='APT::Install-Recommends "false"' \
	--aptopt='Dir::Cache::pkgcache ""' \
	--aptopt='Dir::Cache::srcpkgcache ""' \
	--aptopt='DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb || true"; }' \
	bookworm "$tmp/rootfs.tar" "$MIRROR"
set -- --change 'CMD ["bash"]'
[ -n "${LABEL:-}" ] && set -- "$@" --change "LABEL $LABEL"
"$engine" import "$@" "$tmp/rootfs.tar" "$tag"
