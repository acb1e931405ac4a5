#!/bin/bash
# Silent TLS connections (issue 15, item 1): 3,000 clients connect to a
# TLS listener and send nothing.  No OpenSSL object exists before a
# ClientHello byte is readable, so each costs at most 2 KB of the
# daemon's RSS while held; after they close (at the handshake deadline
# or by the client), the freed memory goes back to the system: RSS comes
# back within 10% of what it was before.  A real client is still served
# while they are held, and afterwards.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tls_lib.sh"

require_cmd openssl curl
require_frontd

N=${SILENT_COUNT:-3000}
# Under AddressSanitizer each connection comes from ASan's malloc (slabs
# are off there, so that every use after free is seen), about 1 KB with
# its redzones: the 2 KB bound still holds.  But ASan's allocator keeps
# the pages of freed chunks whatever it is told (measured: +15% after the
# burst with quarantine_size_mb=0 and allocator_release_to_os_interval_ms
# =100), so whether memory goes back is a property of the production
# allocator, checked in the plain build only.
ASAN=0
[ -n "${ASAN_OPTIONS+x}" ] && ASAN=1
PKI=$T/pki
make_pki "$PKI" || bail "cannot make the test certificates"
start_ppecho pp --expect v2 || bail "ppecho did not start"
# Two workers: glibc gives each thread its own malloc arena, and memory
# must be given back from all of them.
conf=$(write_config silent <<EOF
[global]
workers = 2
stats = 127.0.0.1:0
access_log = $T/access.log
max_connections = 20000

[listener:tls]
bind = 127.0.0.1:0
backend = $PPECHO_ADDR
tls_cert = $PKI/a.crt
tls_key = $PKI/a.key
tls_handshake_timeout = 60s
EOF
)
start_frontd silent "$conf" || bail "mptcp-frontd did not start"
ADDR=$(frontd_addr tls)
STATS=$(frontd_stats_addr)

rss_kib() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}
active() {
	curl -s --max-time 2 "http://$STATS/metrics" >"$T/metrics" &&
		metric "$T/metrics" mptcp_frontd_connections_active listener=tls
}
# wait_active N: until the daemon counts N open connections (at most 30 s).
wait_active() {
	local i
	for i in $(seq 1 300); do
		[ "$(active)" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
# One real exchange: TLS handshake, bytes through the echo backend.
real_client() {
	tlsclient "$1" "$(host_of "$ADDR")" "$(port_of "$ADDR")" echo hello \
		--ca "$PKI/ca.crt" --sni a.test
}

# Warm up: a few real exchanges, so what OpenSSL and the allocator set up
# once per process is in the baseline.
for i in 1 2 3 4; do real_client "warm$i"; done
sleep 1
rss0=$(rss_kib "$FRONTD_PID")

hold silent "$ADDR" "$N" || bail "the $N silent connections were not all accepted"
wait_active "$N" || bail "the daemon does not count $N open connections ($(active))"
sleep 1
rss1=$(rss_kib "$FRONTD_PID")
per=$(((rss1 - rss0) * 1024 / N))
tap_diag "RSS before: $rss0 KiB; with $N silent TLS connections: $rss1 KiB" \
	"(${per} bytes each)"
desc="a silent TLS connection costs at most 2 KB ($per bytes)"
if [ "$per" -le 2048 ]; then tap_ok "$desc"; else tap_fail "$desc"; fi

real_client during
rc=$?
tap_check $rc "a real TLS client is served while they are held" "$T/during.err"

release_hold
wait_active 0 || tap_diag "still open after the release: $(active)"
# The worker's periodic sweep gives freed memory back after a burst of
# closes: RSS comes down within seconds.
rss2=$rss1
for _ in $(seq 1 50); do
	rss2=$(rss_kib "$FRONTD_PID")
	[ $((rss2 * 100)) -le $((rss0 * 110)) ] && break
	sleep 0.2
done
tap_diag "RSS after they closed: $rss2 KiB (before: $rss0 KiB)"
desc="RSS after the burst is within 10% of its start"
if [ "$ASAN" = 1 ]; then
	tap_skip "$desc" "ASan keeps freed pages; the plain build checks it"
elif [ $((rss2 * 100)) -le $((rss0 * 110)) ]; then
	tap_ok "$desc"
else
	tap_fail "$desc"
fi

real_client after
rc=$?
tap_check $rc "a real TLS client is served after them" "$T/after.err"

tap_done
