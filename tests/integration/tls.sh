#!/bin/bash
# TLS termination in front of a real nginx: MPTCP clients (curl and
# openssl s_client under mptcpize, python's ssl over an IPPROTO_MPTCP
# socket) reach TLS listeners; the page from nginx arrives, with the
# client's own address in nginx's log; ALPN h2 and http/1.1 negotiate as
# configured (h2 reaching nginx's HTTP/2 listener); SNI picks each name's
# certificate and the default for the rest; a saved session is resumed
# (openssl s_client -sess_out / -sess_in: "Reused"); a reload re-reads
# the certificates, keeps an established TLS connection and rotates the
# ticket keys.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tls_lib.sh"

require_mptcp
# shellcheck disable=SC2119
require_nginx
require_cmd openssl curl mptcpize
require_frontd

PKI=$T/pki
make_pki "$PKI" || bail "cannot make the test certificates"
start_nginx tls.conf || bail "nginx did not start"
NGX_LOG=$NGINX_DIR/access.log
start_ppecho ppecho || bail "ppecho did not start"

write_frontd_conf() { # DEFAULT_CERT OTHER_CERT
	write_config frontd <<EOF
[global]
access_log = $T/access.log
stats = 127.0.0.1:0

[listener:h1]
bind = 127.0.0.1:0
backend = 127.0.0.1:$NGINX_PORT
tls_cert = $PKI/$1.crt, $PKI/$2.crt
tls_key = $PKI/$1.key, $PKI/$2.key
tls_alpn = http/1.1

[listener:h2]
bind = 127.0.0.1:0
backend = unix:$NGINX_DIR/h2.sock
tls_cert = $PKI/a.crt
tls_key = $PKI/a.key
tls_alpn = h2

[listener:echo]
bind = 127.0.0.1:0
backend = $PPECHO_ADDR
tls_cert = $PKI/a.crt
tls_key = $PKI/a.key
tls_alpn = h2, http/1.1
EOF
}
conf=$(write_frontd_conf a b)
start_frontd frontd "$conf" || bail "mptcp-frontd did not start"
H1=$(port_of "$(frontd_addr h1)")
H2=$(port_of "$(frontd_addr h2)")
ECHO=$(port_of "$(frontd_addr echo)")

grep -q 'listener h1: TLS with 2 certificates for a.test (default), b.test, \*.b.test' "$FRONTD_LOG"
tap_check $? "the daemon announces each TLS listener's certificates and names" "$FRONTD_LOG"

# curl_get NAME PORT NAME_TO_RESOLVE [CURL_OPTS...]: GET / over MPTCP;
# stdout: body, then "local-ip local-port http-version".
curl_get() {
	local name=$1 port=$2 host=$3
	shift 3
	timeout 20 mptcpize run curl -sS --cacert "$PKI/ca.crt" \
		--resolve "$host:$port:127.0.0.1" "$@" \
		-w '%{local_ip} %{local_port} %{http_version}\n' \
		"https://$host:$port/" >"$T/$name.out" 2>"$T/$name.err"
}

# ---- HTTP/1.1 and HTTP/2 through to nginx
for v in 1.1 2; do
	if [ "$v" = 1.1 ]; then port=$H1 opt=--http1.1 want=HTTP/1.1
	else port=$H2 opt=--http2 want=HTTP/2.0; fi
	curl_get "curl$v" "$port" a.test "$opt"
	rc=$?
	read -r cip cport cver <<<"$(tail -n 1 "$T/curl$v.out")"
	tap_check "$rc" "curl --http$v over MPTCP through TLS: the page arrives" \
		"$T/curl$v.err" "$FRONTD_LOG"
	tap_is "$cver" "$v" "curl negotiated HTTP/$v (curl $opt, ALPN)" \
		"$T/curl$v.out"
	tap_is "$(head -n 1 "$T/curl$v.out")" "client $cip $cport $want" \
		"nginx's \$remote_addr:\$remote_port is curl's own ($cip:$cport), over $want" \
		"$NGX_LOG"
	wait_for_file_line "$NGX_LOG" " remote=$cip:$cport " 5
	tap_like "$(grep -F " remote=$cip:$cport " "$NGX_LOG")" \
		"^pp=$cip:$cport remote=$cip:$cport proto=$want " \
		"nginx log: PROXY address = real client address, $want" "$NGX_LOG"
	wait_for_file_line "$T/access.log" "client=$cip:$cport " 5
	tap_like "$(grep -F "client=$cip:$cport " "$T/access.log")" \
		"proto=mptcp .* end=(client_close|backend_close) tls=TLSv1.3 tls_resumed=0( |$)" \
		"access log: the TLS connection was MPTCP, TLSv1.3, closed cleanly" \
		"$T/access.log"
done

# ---- ALPN: our order wins; no common protocol fails the handshake
tlsclient alpn-both 127.0.0.1 "$ECHO" echo 'x\n' --mptcp --expect-mptcp \
	--alpn http/1.1,h2
tap_is "$(report alpn-both alpn)" h2 \
	"ALPN: a client offering http/1.1, h2 gets h2 (our preference)" "$T/alpn-both.err"
tlsclient alpn-h1 127.0.0.1 "$ECHO" echo 'x\n' --mptcp --alpn http/1.1
tap_is "$(report alpn-h1 alpn)" http/1.1 \
	"ALPN: a client offering only http/1.1 gets it" "$T/alpn-h1.err"
tlsclient alpn-none 127.0.0.1 "$ECHO" echo 'x\n' --mptcp
tap_is "$(report alpn-none alpn)" - "ALPN: a client offering none gets none" \
	"$T/alpn-none.err"
tlsclient alpn-foo 127.0.0.1 "$ECHO" echo 'x\n' --mptcp --alpn foo
rc=$?
tap_is "$rc" 4 "ALPN: a client offering only an unknown protocol fails the handshake" \
	"$T/alpn-foo.err"
tap_like "$(report alpn-foo handshake-error)" "NO_APPLICATION_PROTOCOL|no application protocol" \
	"... with the no_application_protocol alert (RFC 7301)" "$T/alpn-foo.err"

# ---- SNI: each name its certificate, the rest the default
for case in a.test:a.test b.test:b.test www.b.test:b.test other.test:a.test :a.test; do
	sni=${case%%:*} cn=${case#*:}
	got=$(s_client_subject "$H1" "$sni")
	tap_is "$got" "CN=$cn" "SNI '${sni:-(none)}' gets the certificate of $cn"
done
tlsclient sni-verify 127.0.0.1 "$H1" http / --mptcp --expect-mptcp \
	--sni www.b.test --ca "$PKI/ca.crt"
tap_check $? "python ssl with verification and SNI www.b.test: the chain and name verify, the page arrives" \
	"$T/sni-verify.err"

# ---- Session resumption
# s_client_sess NAME -sess_out|-sess_in FILE: GET / on h1 with openssl
# s_client over MPTCP, reading until nginx closes (so that the session
# tickets, sent before the answer, are in when it saves the session).
s_client_sess() {
	printf 'GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n' |
		timeout 10 mptcpize run openssl s_client -ign_eof \
			-connect "127.0.0.1:$H1" -servername a.test "$2" "$3" \
			>"$T/$1.out" 2>&1
}
rm -f "$T/sess.pem"
s_client_sess sess1 -sess_out "$T/sess.pem"
tap_like "$(grep -E '^(New|Reused),' "$T/sess1.out")" '^New, TLSv1.3' \
	"openssl s_client -sess_out: a new TLS 1.3 session" "$T/sess1.out"
s_client_sess sess2 -sess_in "$T/sess.pem"
tap_like "$(grep -E '^(New|Reused),' "$T/sess2.out")" '^Reused, TLSv1.3' \
	"openssl s_client -sess_in: the session is resumed (\"Reused\")" "$T/sess2.out"
grep -q '^client 127.0.0.1 [0-9]* HTTP/1.1' "$T/sess2.out"
tap_check $? "... and the page arrives over the resumed session" "$T/sess2.out"
tlsclient resume 127.0.0.1 "$ECHO" resume 'again\n' --mptcp
tap_is "$(sed -n 's/^reused //p' "$T/resume.err" | tr '\n' ' ')" "0 1 " \
	"python ssl: the second connection resumes the first one's session" \
	"$T/resume.err"
wait_for_file_line "$T/access.log" "tls_resumed=1" 5
tap_check $? "access log shows tls_resumed=1" "$T/access.log"
STATS=$(frontd_stats_addr)
curl -s "http://$STATS/metrics" >"$T/metrics1.txt"
res=$(metric "$T/metrics1.txt" mptcp_frontd_tls_handshakes_total listener=h1 type=resumed)/$(metric "$T/metrics1.txt" mptcp_frontd_tls_handshakes_total listener=echo type=resumed)
tap_is "$res" 1/1 \
	"/metrics: tls_handshakes_total{type=\"resumed\"} counts the resumptions" \
	"$T/metrics1.txt"

# ---- Reload: new default certificate, established connection kept,
# new ticket keys
rm -f "$T/go"
CLIENT_TIMEOUT=60 tlsclient pause 127.0.0.1 "$ECHO" pause 'before and after\n' \
	--mptcp --go "$T/go" --timeout 30 &
pause_pid=$!
wait_for_file_line "$T/pause.err" '^echo round 1 ok' 10
tap_check $? "a TLS connection is established and echoing before the reload" \
	"$T/pause.err"
write_frontd_conf b a >/dev/null
kill -HUP "$FRONTD_PID"
wait_for_file_line "$FRONTD_LOG" 'configuration generation 2 active on all workers' 10
tap_check $? "SIGHUP: configuration generation 2 active" "$FRONTD_LOG"
tap_is "$(s_client_subject "$H1" "")" "CN=b.test" \
	"after the reload a client without SNI gets the new default certificate"
tap_is "$(s_client_subject "$H1" a.test)" "CN=a.test" \
	"... and a.test still gets its own"
touch "$T/go"
wait "$pause_pid"
rc=$?
tap_check "$rc" "the connection established before the reload still echoes after it, and closes cleanly" \
	"$T/pause.err" "$FRONTD_LOG"
s_client_sess sess3 -sess_in "$T/sess.pem"
tap_like "$(grep -E '^(New|Reused),' "$T/sess3.out")" '^New,' \
	"a session from before the reload is not resumed: the ticket keys rotated" \
	"$T/sess3.out"

kill -0 "$FRONTD_PID" 2>/dev/null
tap_check $? "daemon still running" "$FRONTD_LOG"
