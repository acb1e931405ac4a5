#!/bin/bash
# accept_proxy: PROXY headers from an upstream load balancer.  A header
# from a source in accept_proxy_from becomes the address nginx sees (v1,
# v2 over IPv4 and IPv6, MPTCP or not, and on a TLS listener, where the
# client's ClientHello follows the header); LOCAL keeps the real address.
# A source outside the list, a missing, malformed, truncated or oversized
# header and one sent byte by byte past accept_proxy_timeout are each
# closed and counted (access log end=, /metrics closed_total{reason=}),
# never reach nginx, and other clients keep being served meanwhile.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tls_lib.sh"

require_mptcp
# shellcheck disable=SC2119  # no modules needed for http
require_nginx
require_frontd
require_cmd openssl curl

start_nginx http.conf || bail "nginx (http) did not start"
NGX_LOG=$NGINX_DIR/access.log
make_pki "$T/pki" || bail "cannot make the test certificates"
start_ppecho pp --expect v2 || bail "ppecho did not start"

conf=$(write_config frontd <<EOF
[global]
access_log = $T/access.log
stats = 127.0.0.1:0

[listener:lb]
bind = 127.0.0.1:0, [::1]:0
backend = 127.0.0.1:$NGINX_PORT
proxy_protocol = v2
accept_proxy = on
accept_proxy_from = 127.0.0.0/8, ::1
accept_proxy_timeout = 1s

[listener:strict]
bind = 127.0.0.1:0
backend = 127.0.0.1:$NGINX_PORT
proxy_protocol = v1
accept_proxy = on
accept_proxy_from = 192.0.2.0/24, 2001:db8::/32

[listener:fwd]
bind = 127.0.0.1:0
backend = $PPECHO_ADDR
accept_proxy = on
accept_proxy_from = 127.0.0.1
proxy_protocol_tlvs = mptcp, upstream

[listener:nofwd]
bind = 127.0.0.1:0
backend = $PPECHO_ADDR
accept_proxy = on
accept_proxy_from = 127.0.0.1

[listener:tls]
bind = 127.0.0.1:0
backend = 127.0.0.1:$NGINX_PORT
accept_proxy = on
accept_proxy_from = 127.0.0.1
tls_cert = $T/pki/a.crt
tls_key = $T/pki/a.key
EOF
)
start_frontd frontd "$conf" || bail "mptcp-frontd did not start"
LB=$(frontd_addr lb '^127')
LB6=$(frontd_addr lb '^\[::1\]')
STRICT=$(frontd_addr strict)
TLS=$(frontd_addr tls)
FWD=$(frontd_addr fwd)
NOFWD=$(frontd_addr nofwd)
STATS=$(frontd_stats_addr)

# send NAME ADDR ARGS...: ppsend.py to ADDR; returns its status.
send() {
	local name=$1 addr=$2
	shift 2
	timeout -k 5 30 "$PYTHON" "$TOOLS/ppsend.py" "$@" \
		"$(host_of "$addr")" "$(port_of "$addr")" \
		>"$T/$name.out" 2>"$T/$name.err"
}

sent() { sed -n "s/^$2 //p" "$T/$1.err" | head -n 1; }

hex() { od -An -v -tx1 | tr -d ' \n'; }

# forwarded NAME ADDR HEADER_ARGS WANT_HOST WANT_PORT DESC: the page and
# nginx's log show the address the header carried.
forwarded() {
	local name=$1 addr=$2 hdr=$3 host=$4 port=$5 desc=$6 rc
	# shellcheck disable=SC2086  # HEADER_ARGS is a word list
	send "$name" "$addr" $hdr
	rc=$?
	tap_like "$(tail -n 1 "$T/$name.out")" "^client $host $port\$" \
		"$desc: nginx's \$remote_addr is the forwarded $host port $port (status $rc)" \
		"$T/$name.err"
	wait_for_file_line "$NGX_LOG" "^pp=$host:$port " 5
	tap_check $? "$desc: nginx log has \$proxy_protocol_addr:port $host:$port" \
		"$NGX_LOG"
}

forwarded v1 "$LB" "--v1 203.0.113.7:4242>192.0.2.1:443" 203.0.113.7 4242 \
	"v1 header from a listed source"
forwarded v2 "$LB" "--v2 198.51.100.9:5353>192.0.2.1:443" 198.51.100.9 5353 \
	"v2 IPv4 header from a listed source"
forwarded v2-mptcp "$LB" "--mptcp --v2 203.0.113.8:6000>192.0.2.1:443" \
	203.0.113.8 6000 "v2 header over an MPTCP connection"
forwarded v2-6 "$LB6" "--v2 [2001:db8::7]:4243>[2001:db8::1]:443" \
	2001:db8::7 4243 "v2 IPv6 header, balancer reaching us over IPv6 (::1 listed)"
forwarded v2-tlv "$LB" \
	"--v2 203.0.113.9:7000>192.0.2.1:443 --tlv 0x05=6964 --tlv 0xea=00" \
	203.0.113.9 7000 "v2 header with TLVs of other kinds (skipped)"

# A header that takes its time (a byte every 10 ms, about 0.45 s) but
# arrives within the timeout is served; the access log's duration counts
# from accept, the wait included.
send slowok "$LB" --byte-delay 0.01 --v1 "203.0.113.12:9100>192.0.2.1:443"
tap_like "$(tail -n 1 "$T/slowok.out")" '^client 203\.0\.113\.12 9100$' \
	"a header sent byte by byte within the timeout is served" "$T/slowok.err"
wait_for_file_line "$T/access.log" "client=203\.0\.113\.12:9100 " 5
dur=$(kv "$(grep -F 'client=203.0.113.12:9100 ' "$T/access.log")" duration_ms)
tap_check "$([ "${dur:-0}" -ge 300 ] && echo 0 || echo 1)" \
	"... and its access-log duration includes the header's wait (${dur:-?} ms)" \
	"$T/access.log"

send local "$LB" --v2-local
self=$(sent local local)
tap_like "$(tail -n 1 "$T/local.out")" "^client $(host_of "$self") $(port_of "$self")\$" \
	"v2 LOCAL (a balancer's health check): nginx sees the real connection $self" \
	"$T/local.err"

# The whole header is consumed, and nothing after it: the ClientHello
# right behind it reaches OpenSSL intact.
send tls "$TLS" --tls --sni a.test --v1 "203.0.113.10:8000>192.0.2.1:443"
tap_like "$(tail -n 1 "$T/tls.out")" '^client 203\.0\.113\.10 8000$' \
	"TLS listener: header, then TLS; nginx sees the forwarded address" \
	"$T/tls.err" "$FRONTD_LOG"

# ---- the balancer's TLVs: passed on with proxy_protocol_tlvs = upstream
# (its 0xE0 replaced by ours, its CRC32C dropped), dropped otherwise.
tlv_args="--v2 203.0.113.20:1000>192.0.2.1:443 --tlv 0x05=6964 --tlv 0x02=612e74 --tlv 0xe0=6d70746370 --tlv 0xea=00ff"
# shellcheck disable=SC2086
send fwd "$FWD" $tlv_args --request 'x\n'
# shellcheck disable=SC2086
send nofwd "$NOFWD" $tlv_args --request 'y\n'
wait_for_count "$PPECHO_LOG" . 2 5
got=$(pplog "$PPECHO_LOG" sport=1000 tlvs | "$PYTHON" -c '
import json, sys
print(" ".join("%s=%s" % (t["type"], t["value"]) for t in json.load(sys.stdin)))')
tap_is "$got" "0xe0=746370 0x05=6964 0x02=612e74 0xea=00ff" \
	"upstream: the balancer's UNIQUE_ID, AUTHORITY and custom TLVs follow ours; its 0xE0 is replaced by ours (tcp)" \
	"$PPECHO_LOG"
tap_is "$(pplog "$PPECHO_LOG" 2 tlvs)" '[{"type": "0xe0", "value": "746370"}]' \
	"without upstream only our own TLV reaches the backend" "$PPECHO_LOG"

# ---- refusals: each closed without an answer, none reaches nginx

lines_before=$(wc -l <"$NGX_LOG")

# refused NAME ADDR REASON DESC ARGS...: closed with no answer, and the
# access log has end=REASON for this client.
refused() {
	local name=$1 addr=$2 reason=$3 desc=$4 rc port line
	shift 4
	send "$name" "$addr" "$@"
	rc=$?
	tap_is "$rc $(sent "$name" answer)" "1 0" \
		"$desc: closed without an answer" "$T/$name.err"
	port=$(port_of "$(sent "$name" local)")
	wait_for_file_line "$T/access.log" "client=[^ ]*:$port .* end=$reason" 5
	line=$(grep -E "client=[^ ]*:$port .*end=" "$T/access.log" | tail -n 1)
	tap_like "$line" "backend=- .* end=$reason( tls=- tls_resumed=0)?( |\$)" \
		"$desc: access log says end=$reason" "$T/access.log"
}

refused untrusted "$STRICT" proxy_untrusted \
	"valid header from a source not in accept_proxy_from" \
	--v1 "203.0.113.66:4242>192.0.2.1:443"
refused noheader "$LB" proxy_bad_header "no header (a bare HTTP request)"
refused tlshello "$TLS" proxy_bad_header \
	"no header, TLS straight away, on the TLS listener" --tls
refused garbage "$LB" proxy_bad_header "random bytes" \
	--raw "$(head -c 64 /dev/urandom | hex)"
refused badv1 "$LB" proxy_bad_header "v1 with a bad address" \
	--raw "$(printf 'PROXY TCP4 203.0.113.300 192.0.2.1 1 2\r\n' | hex)"
refused longv1 "$LB" proxy_bad_header "v1 line longer than 107 bytes" \
	--raw "$(printf 'PROXY TCP6 %0120d\r\n' 0 | hex)"
refused bigv2 "$LB" proxy_bad_header "v2 header claiming 4000 bytes" \
	--raw "0d0a0d0a000d0a515549540a21110fa0"
refused udp "$LB" proxy_bad_header "v2 header with the UDP4 family" \
	--raw "0d0a0d0a000d0a515549540a2112000ccb007107c0000201109201bb"
refused truncated "$LB" proxy_bad_header \
	"half a v2 header, then EOF (closed at EOF, not at the timeout)" \
	--raw "0d0a0d0a000d0a515549540a2111000c" --shut-after-header
tap_check "$([ "$(sent truncated closed-ms)" -lt 900 ] && echo 0 || echo 1)" \
	"truncated header closed in $(sent truncated closed-ms) ms, before the 1 s timeout"

# A slow sender (one byte every 150 ms: 50 bytes would take 7.5 s) is cut
# at accept_proxy_timeout = 1 s, and others are served meanwhile.
start_bg slow timeout -k 5 30 "$PYTHON" "$TOOLS/ppsend.py" --byte-delay 0.15 \
	--v1 "203.0.113.77:4242>192.0.2.1:443" "$(host_of "$LB")" "$(port_of "$LB")"
SLOW_PID=$BG_PID
forwarded during "$LB" "--v1 203.0.113.11:9000>192.0.2.1:443" 203.0.113.11 9000 \
	"while a slow header is pending, another client"
wait_pid_exit "$SLOW_PID" 10000
ms=$(sed -n 's/^closed-ms //p' "$T/slow.err")
tap_check "$([ "${ms:-0}" -ge 900 ] && [ "${ms:-0}" -lt 3000 ] && echo 0 || echo 1)" \
	"byte-at-a-time header closed at the 1 s timeout (after ${ms:-?} ms)" \
	"$T/slow.err"
tap_like "$(sed -n 's/^answer //p' "$T/slow.err")" '^0$' \
	"the slow sender got no answer" "$T/slow.err"
wait_for_file_line "$T/access.log" "end=proxy_timeout" 5
tap_check $? "access log says end=proxy_timeout" "$T/access.log"

# Of the refused ones, none reached nginx: only the one served meanwhile.
lines_after=$(wc -l <"$NGX_LOG")
tap_is "$((lines_after - lines_before))" 1 \
	"nginx saw none of the refused connections (only the client served meanwhile)" \
	"$NGX_LOG"
! grep -q '203\.0\.113\.66\|203\.0\.113\.77' "$NGX_LOG"
tap_check $? "no address from a refused header appears in nginx's log" "$NGX_LOG"

# ---- counted in /metrics
curl -s "http://$STATS/metrics" >"$T/metrics" || true
m() { metric "$T/metrics" mptcp_frontd_connections_closed_total "listener=$1" "reason=$2"; }
tap_is "$(m strict proxy_untrusted)" 1 "/metrics: 1 proxy_untrusted on strict" "$T/metrics"
tap_is "$(m lb proxy_bad_header)" 7 "/metrics: 7 proxy_bad_header on lb" "$T/metrics"
tap_is "$(m tls proxy_bad_header)" 1 "/metrics: 1 proxy_bad_header on tls" "$T/metrics"
tap_is "$(m lb proxy_timeout)" 1 "/metrics: 1 proxy_timeout on lb" "$T/metrics"
tap_is "$(metric "$T/metrics" mptcp_frontd_connections_accepted_total listener=lb proto=mptcp)" 1 \
	"/metrics: the MPTCP balancer connection is counted as mptcp" "$T/metrics"
tap_is "$(metric "$T/metrics" mptcp_frontd_connections_active listener=lb)" 0 \
	"/metrics: nothing left open on lb" "$T/metrics"

# ---- configuration errors through -t
bad=$(write_config bad <<EOF
[listener:a]
bind = 127.0.0.1:0
backend = 127.0.0.1:1
accept_proxy = on

[listener:b]
bind = 127.0.0.1:0
backend = 127.0.0.1:1
accept_proxy_from = 192.0.2.1/24, balancer
accept_proxy_timeout = 0s
EOF
)
"$FRONTD" -t -c "$bad" >"$T/bad.out" 2>&1
rc=$?
tap_is "$rc" 78 "-t: a bad accept_proxy configuration exits 78" "$T/bad.out"
tap_is "$(cat "$T/bad.out")" "$bad:4: [listener:a] accept_proxy: needs accept_proxy_from (the balancers allowed to send a PROXY header)
$bad:9: [listener:b] accept_proxy_from: bad prefix \"192.0.2.1/24\": host bits set below /24; the network is 192.0.2.0/24
$bad:9: [listener:b] accept_proxy_from: bad prefix \"balancer\": bad address (expected an IPv4 or IPv6 address, optionally with /PREFIX; no host names)
$bad:10: [listener:b] accept_proxy_timeout: bad duration \"0s\": must be greater than 0" \
	"-t: every accept_proxy error with its line" "$T/bad.out"

kill -0 "$FRONTD_PID" 2>/dev/null
tap_check $? "daemon still running" "$FRONTD_LOG"
