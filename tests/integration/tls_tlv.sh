#!/bin/bash
# What a TLS listener tells its backend, seen by a backend that decodes
# PROXY v2 (ppecho): the ALPN, AUTHORITY (SNI), SSL (version, cipher, our
# certificate's signature and key algorithms) and MPTCP TLVs with the
# values the client negotiated, over IPv4 and IPv6; client certificates:
# `required` rejects a client without one (and the daemon keeps serving),
# the CN reaches the backend; `optional` passes the verification result,
# failed or not; a resumed session says the certificate came with the
# session.  Also: the default TLV set, and bytes through TLS unchanged
# both ways with half-close.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tls_lib.sh"

require_mptcp
require_cmd openssl
require_frontd

PKI=$T/pki
make_pki "$PKI" || bail "cannot make the test certificates"
start_ppecho ppecho --expect v2 || bail "ppecho did not start"
PP=$PPECHO_LOG

conf=$(write_config frontd <<EOF
[global]
access_log = $T/access.log

[listener:all]
bind = 127.0.0.1:0, [::1]:0
backend = $PPECHO_ADDR
tls_cert = $PKI/a.crt, $PKI/b.crt
tls_key = $PKI/a.key, $PKI/b.key
tls_alpn = h2, http/1.1
proxy_protocol_tlvs = mptcp, alpn, authority, ssl

[listener:default]
bind = 127.0.0.1:0
backend = $PPECHO_ADDR
tls_cert = $PKI/a.crt
tls_key = $PKI/a.key
tls_alpn = h2, http/1.1

[listener:required]
bind = 127.0.0.1:0
backend = $PPECHO_ADDR
tls_cert = $PKI/a.crt
tls_key = $PKI/a.key
tls_verify = required
tls_client_ca = $PKI/ca.crt
proxy_protocol_tlvs = ssl

[listener:optional]
bind = 127.0.0.1:0
backend = $PPECHO_ADDR
tls_cert = $PKI/a.crt
tls_key = $PKI/a.key
tls_verify = optional
tls_client_ca = $PKI/ca.crt
proxy_protocol_tlvs = ssl
EOF
)
start_frontd frontd "$conf" || bail "mptcp-frontd did not start"
ALL4=$(port_of "$(frontd_addr all '^127')")
ALL6=$(port_of "$(frontd_addr all '^\[')")
DEF=$(port_of "$(frontd_addr default)")
REQ=$(port_of "$(frontd_addr required)")
OPT=$(port_of "$(frontd_addr optional)")

grep -q "warn: listener all: the PROXY v2 header can reach" "$FRONTD_LOG"
tap_check $? "a TLV set that can exceed 107 bytes is warned about at start" "$FRONTD_LOG"
! grep -q "warn: listener default: the PROXY v2 header" "$FRONTD_LOG"
tap_check $? "... the default set is not" "$FRONTD_LOG"

# sel NAME: the ppecho record of the connection tlsclient NAME made.
sel() {
	printf 'sport=%s\n' "$(port_of "$(report "$1" local)")"
}

# ---- every TLV, IPv4 and IPv6
for fam in 4 6; do
	if [ "$fam" = 4 ]; then host=127.0.0.1 port=$ALL4; else host=::1 port=$ALL6; fi
	tlsclient "all$fam" "$host" "$port" echo 'tlv\n' --mptcp --expect-mptcp \
		--sni www.b.test --alpn http/1.1,h2 --ca "$PKI/ca.crt"
	tap_check $? "IPv$fam: TLS echo through the daemon (SNI www.b.test, verified)" \
		"$T/all$fam.err"
	wait_for_count "$PP" . "$([ "$fam" = 4 ] && echo 1 || echo 2)" 5
	s=$(sel "all$fam")
	tap_is "$(pplog "$PP" "$s" family)" "TCP$fam" "IPv$fam: PROXY v2 family TCP$fam" "$PP"
	tap_is "$(pp_tlv "$PP" "$s" 0x01)" h2 "IPv$fam: ALPN TLV (0x01) = h2, what was negotiated" "$PP"
	tap_is "$(pp_tlv "$PP" "$s" 0x02)" www.b.test "IPv$fam: AUTHORITY TLV (0x02) = the SNI" "$PP"
	tap_is "$(pp_tlv "$PP" "$s" 0xe0)" mptcp "IPv$fam: MPTCP TLV (0xE0) = mptcp" "$PP"
	tap_is "$(pp_ssl_field "$PP" "$s" client)" 0x01 \
		"IPv$fam: SSL TLV client = PP2_CLIENT_SSL (no client certificate)" "$PP"
	tap_like "$(pp_ssl_field "$PP" "$s" verify)" '^[1-9]' \
		"IPv$fam: SSL TLV verify is non-zero (nothing verified)" "$PP"
	tap_is "$(pp_ssl_field "$PP" "$s" 0x21)" "$(report "all$fam" tls)" \
		"IPv$fam: SSL_VERSION sub-TLV = the negotiated version" "$PP"
	tap_is "$(pp_ssl_field "$PP" "$s" 0x23)" "$(report "all$fam" cipher)" \
		"IPv$fam: SSL_CIPHER sub-TLV = the negotiated cipher" "$PP"
	tap_is "$(pp_ssl_field "$PP" "$s" 0x24)/$(pp_ssl_field "$PP" "$s" 0x25)" \
		"ecdsa-with-SHA256/EC256" \
		"IPv$fam: SSL_SIG_ALG / SSL_KEY_ALG describe the certificate presented" "$PP"
	tap_is "$(pp_ssl "$PP" "$s" | grep -c '^0x22 ')" 0 \
		"IPv$fam: no SSL_CN without a client certificate" "$PP"
done
tlsclient tls12 127.0.0.1 "$ALL4" echo 'v12\n' --mptcp --max-version TLSv1_2
wait_for_count "$PP" . 3 5
tap_is "$(pp_ssl_field "$PP" "$(sel tls12)" 0x21)/$(pp_ssl_field "$PP" "$(sel tls12)" 0x23)" \
	"TLSv1.2/$(report tls12 cipher)" \
	"TLS 1.2: version and cipher sub-TLVs follow the connection" "$PP"
tap_is "$(pp_tlv "$PP" "$(sel tls12)" 0x02)" "" \
	"no SNI sent: no AUTHORITY TLV" "$PP"

# ---- the default set: MPTCP and ALPN only
tlsclient def 127.0.0.1 "$DEF" echo 'default\n' --mptcp --expect-mptcp \
	--sni a.test --alpn http/1.1
wait_for_count "$PP" . 4 5
tap_is "$(pplog "$PP" "$(sel def)" tlvs | "$PYTHON" -c \
	'import json,sys; print(" ".join(t["type"] for t in json.load(sys.stdin)))')" \
	"0xe0 0x01" "default proxy_protocol_tlvs: the MPTCP and ALPN TLVs only" "$PP"
tap_is "$(pp_tlv "$PP" "$(sel def)" 0x01)" http/1.1 "... ALPN http/1.1" "$PP"

# ---- bytes unchanged both ways, half-close both ways
tlsclient integrity 127.0.0.1 "$DEF" integrity 16 --mptcp --expect-mptcp
tap_check $? "16 MiB each way through TLS: sizes and sha256 match, close_notify passed both ways" \
	"$T/integrity.err"

# ---- client certificates
tlsclient req-none 127.0.0.1 "$REQ" echo 'x\n' --mptcp
tap_is "$?" 4 "tls_verify = required: a client without a certificate is refused" \
	"$T/req-none.err"
tlsclient req-rogue 127.0.0.1 "$REQ" echo 'x\n' --mptcp \
	--cert "$PKI/rogue.crt" --key "$PKI/rogue.key"
tap_is "$?" 4 "tls_verify = required: a certificate from another CA is refused" \
	"$T/req-rogue.err"
tlsclient req-ok 127.0.0.1 "$REQ" echo 'x\n' --mptcp --expect-mptcp \
	--cert "$PKI/client.crt" --key "$PKI/client.key"
tap_check $? "tls_verify = required: the daemon keeps serving; a client with a good certificate gets through" \
	"$T/req-ok.err"
wait_for_file_line "$PP" "\"sport\": $(port_of "$(report req-ok local)")" 5
s=$(sel req-ok)
tap_is "$(pp_ssl_field "$PP" "$s" client) $(pp_ssl_field "$PP" "$s" verify)" \
	"0x07 0" "required: SSL TLV client = SSL|CERT_CONN|CERT_SESS, verify = 0" "$PP"
tap_is "$(pp_ssl_field "$PP" "$s" 0x22)" "client one" \
	"required: SSL_CN sub-TLV = the client certificate's CN" "$PP"
grep -E "client=127.0.0.1:$(port_of "$(report req-none local)") .* end=tls_handshake_failed" \
	"$T/access.log" >/dev/null
tap_check $? "the refused client is logged with end=tls_handshake_failed" "$T/access.log"

for who in none rogue client; do
	args=()
	[ "$who" != none ] && args=(--cert "$PKI/$who.crt" --key "$PKI/$who.key")
	tlsclient "opt-$who" 127.0.0.1 "$OPT" echo 'x\n' --mptcp "${args[@]}"
	tap_check $? "tls_verify = optional: a client with $([ "$who" = none ] && echo "no certificate" || echo "the $who certificate") gets through" \
		"$T/opt-$who.err"
	wait_for_file_line "$PP" "\"sport\": $(port_of "$(report "opt-$who" local)")" 5
done
tap_is "$(pp_ssl_field "$PP" "$(sel opt-none)" client)" 0x01 \
	"optional, no certificate: client = PP2_CLIENT_SSL only" "$PP"
tap_like "$(pp_ssl_field "$PP" "$(sel opt-none)" verify)" '^[1-9]' \
	"optional, no certificate: verify non-zero" "$PP"
tap_is "$(pp_ssl_field "$PP" "$(sel opt-rogue)" client)/$(pp_ssl_field "$PP" "$(sel opt-rogue)" 0x22)" \
	"0x07/rogue" "optional, untrusted certificate: presented, CN rogue" "$PP"
tap_like "$(pp_ssl_field "$PP" "$(sel opt-rogue)" verify)" '^[1-9]' \
	"optional, untrusted certificate: the failed verification is passed on (non-zero)" "$PP"
tap_is "$(pp_ssl_field "$PP" "$(sel opt-client)" verify)" 0 \
	"optional, good certificate: verify = 0" "$PP"

# A resumed session: the certificate came with the session, not on this
# connection.
tlsclient opt-resume 127.0.0.1 "$OPT" resume 'r\n' --mptcp \
	--cert "$PKI/client.crt" --key "$PKI/client.key"
tap_is "$(sed -n 's/^reused //p' "$T/opt-resume.err" | tr '\n' ' ')" "0 1 " \
	"optional: a client with a certificate resumes its session" "$T/opt-resume.err"
second=$(sed -n 's/^local //p' "$T/opt-resume.err" | tail -n 1)
wait_for_file_line "$PP" "\"sport\": $(port_of "$second")" 5
tap_is "$(pp_ssl_field "$PP" "sport=$(port_of "$second")" client)/$(pp_ssl_field "$PP" "sport=$(port_of "$second")" verify)/$(pp_ssl_field "$PP" "sport=$(port_of "$second")" 0x22)" \
	"0x05/0/client one" \
	"resumed: client = SSL|CERT_SESS (not CERT_CONN), verify 0, CN from the session" "$PP"

tap_is "$(grep -c '"error": "' "$PP")" 0 "ppecho found every PROXY header well-formed" "$PP"
kill -0 "$FRONTD_PID" 2>/dev/null
tap_check $? "daemon still running" "$FRONTD_LOG"
