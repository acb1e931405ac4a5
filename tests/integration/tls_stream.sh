#!/bin/bash
# The default TLV set of a TLS listener fits the 107 bytes of PROXY header
# that nginx before 1.23.2 (Debian 12 ships 1.22) reads in its stream and
# mail modules: Debian's nginx `stream` with `listen ... proxy_protocol`
# accepts it from an IPv6 MPTCP client with the longest default ALPN
# protocol (the worst case), and the header a decoding backend receives
# measures at most 107 bytes.  This test fails if the default grows past
# the limit.  A set that can exceed it is warned about at start, and (on
# nginx < 1.23.2) does get refused, which shows the check can fail.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tls_lib.sh"

require_mptcp
require_nginx stream
require_cmd openssl
require_frontd

PKI=$T/pki
make_pki "$PKI" || bail "cannot make the test certificates"
start_nginx stream.conf || bail "nginx (stream) did not start"
start_ppecho ppecho --expect v2 || bail "ppecho did not start"
NGX_VERSION=$("$NGINX" -v 2>&1 | sed -n 's|.*nginx/\([0-9.]*\).*|\1|p')

conf=$(write_config frontd <<EOF
[listener:default]
bind = [::1]:0
backend = 127.0.0.1:$NGINX_PORT
tls_cert = $PKI/a.crt
tls_key = $PKI/a.key
tls_alpn = h2, http/1.1

[listener:probe]
bind = [::1]:0
backend = $PPECHO_ADDR
tls_cert = $PKI/a.crt
tls_key = $PKI/a.key
tls_alpn = h2, http/1.1

[listener:long]
bind = [::1]:0
backend = 127.0.0.1:$NGINX_PORT
tls_cert = $PKI/a.crt
tls_key = $PKI/a.key
tls_alpn = h2, http/1.1
proxy_protocol_tlvs = mptcp, alpn, authority, ssl
EOF
)
start_frontd frontd "$conf" || bail "mptcp-frontd did not start"
DEF=$(port_of "$(frontd_addr default)")
PROBE=$(port_of "$(frontd_addr probe)")
LONG=$(port_of "$(frontd_addr long)")

! grep -qE "warn: listener (default|probe): the PROXY v2 header" "$FRONTD_LOG"
tap_check $? "no size warning for the default TLV set" "$FRONTD_LOG"
grep -qE "warn: listener long: the PROXY v2 header can reach [0-9]+ bytes .* over 107 bytes" "$FRONTD_LOG"
tap_check $? "a warning at start for mptcp, alpn, authority, ssl" "$FRONTD_LOG"

# Worst case for the default set: IPv6 addresses, MPTCP, "http/1.1".
tlsclient probe ::1 "$PROBE" echo 'probe\n' --mptcp --expect-mptcp \
	--alpn http/1.1 --sni a.test
tap_check $? "IPv6 MPTCP client, ALPN http/1.1, through the default set to a decoding backend" \
	"$T/probe.err"
wait_for_count "$PPECHO_LOG" . 1 5
hlen=$(pplog "$PPECHO_LOG" 1 header_len)
tap_is "$(pplog "$PPECHO_LOG" 1 family)" TCP6 "the header carries IPv6 addresses" "$PPECHO_LOG"
tap_check "$([ "${hlen:-999}" -le 107 ] && echo 0 || echo 1)" \
	"the default header is at most 107 bytes ($hlen)" "$PPECHO_LOG"

tlsclient default ::1 "$DEF" read --mptcp --expect-mptcp --alpn http/1.1 \
	--sni a.test
cl=$(report default local)
tap_is "$(cat "$T/default.out")" "$(host_of "$cl"):$(port_of "$cl")" \
	"nginx $NGX_VERSION stream accepts the default set: it answers with the client's address" \
	"$T/default.err" "$NGINX_DIR/error.log"

# A 60-character SNI with every TLV: well past 107 bytes.
long_sni=$(printf 'x%.0s' $(seq 1 53)).a.test
tlsclient long ::1 "$LONG" read --mptcp --alpn http/1.1 --sni "$long_sni"
case $NGX_VERSION in
0.* | 1.[0-9].* | 1.1[0-9].* | 1.2[0-2].* | 1.23.[01])
	wait_for_file_line "$NGINX_DIR/error.log" "header is too large while reading PROXY protocol" 5
	rc=$?
	[ ! -s "$T/long.out" ] && [ "$rc" = 0 ]
	tap_check $? "nginx $NGX_VERSION stream refuses a header past 107 bytes (so the check above can fail)" \
		"$T/long.err" "$NGINX_DIR/error.log"
	;;
*)
	tap_skip "nginx $NGX_VERSION stream refuses a header past 107 bytes" \
		"nginx >= 1.23.2 reads longer headers"
	;;
esac

tlsclient after ::1 "$DEF" read --mptcp --alpn http/1.1
tap_like "$(cat "$T/after.out")" '^::1:[0-9]+$' "the daemon keeps serving" "$T/after.err"
