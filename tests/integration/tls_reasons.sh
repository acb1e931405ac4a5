#!/bin/bash
# Client-caused TLS failures end with reasons of their own (issue 15,
# item 6), never `error`, which is kept for the daemon's own faults: a
# TLS 1.2 client that asks to renegotiate (openssl s_client's `R`) ends
# `tls_protocol`; resets in the middle of the handshake and after it end
# `client_reset`.  The access log and connections_closed_total agree, and
# nothing is logged as a warning.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tls_lib.sh"

require_cmd openssl curl
require_frontd

PKI=$T/pki
make_pki "$PKI" || bail "cannot make the test certificates"
start_ppecho pp --expect v2 || bail "ppecho did not start"
conf=$(write_config reasons <<EOF2
[global]
stats = 127.0.0.1:0
access_log = $T/access.log

[listener:tls]
bind = 127.0.0.1:0
backend = $PPECHO_ADDR
tls_cert = $PKI/a.crt
tls_key = $PKI/a.key
EOF2
)
start_frontd reasons "$conf" || bail "mptcp-frontd did not start"
ADDR=$(frontd_addr tls)
STATS=$(frontd_stats_addr)

# end_of N: the end= of the Nth access-log line (waits up to 5 s for it).
end_of() {
	wait_for_count "$T/access.log" " end=" "$1" 5
	sed -n "$1s/.* end=\([a-z_]*\).*/\1/p" "$T/access.log"
}

# ---- renegotiation: s_client reads `R` at the start of a line as "ask
# to renegotiate" (not with -quiet or -ign_eof); the data before it is
# echoed, the daemon refuses and closes.
(printf 'hello\n'; sleep 1; printf 'R\n'; sleep 2) |
	timeout 10 openssl s_client -tls1_2 -connect "$ADDR" \
		-servername a.test >"$T/reneg.out" 2>&1
grep -q '^RENEGOTIATING' "$T/reneg.out"
tap_check $? "s_client asked to renegotiate" "$T/reneg.out"
tap_is "$(end_of 1)" tls_protocol "a TLS 1.2 renegotiation attempt ends tls_protocol" \
	"$T/access.log" "$FRONTD_LOG"

# ---- resets: mid-ClientHello, after a whole ClientHello, after the
# handshake (one byte relayed first).
"$PYTHON" - "$(port_of "$ADDR")" >"$T/resets.out" 2>&1 <<'PY'
import socket, ssl, struct, sys, time
port = int(sys.argv[1])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
inb, outb = ssl.MemoryBIO(), ssl.MemoryBIO()
try:
    ctx.wrap_bio(inb, outb).do_handshake()
except ssl.SSLWantReadError:
    pass
hello = outb.read()

def reset(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    time.sleep(0.3)

for part in (hello[:50], hello):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(part)
    time.sleep(0.3)
    reset(s)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5))
s.sendall(b"x")
assert s.recv(1) == b"x"
reset(s)
print("done")
PY
rc=$?
tap_check $rc "the resetting clients ran" "$T/resets.out"
tap_is "$(end_of 2)" client_reset "a reset in the middle of a ClientHello ends client_reset" "$T/access.log"
tap_is "$(end_of 3)" client_reset "a reset after the ClientHello ends client_reset" "$T/access.log"
tap_is "$(end_of 4)" client_reset "a reset after the handshake ends client_reset" "$T/access.log"

curl -s --max-time 5 "http://$STATS/metrics" >"$T/metrics"
tap_is "$(metric "$T/metrics" mptcp_frontd_connections_closed_total listener=tls reason=tls_protocol)" 1 \
	"connections_closed_total counts tls_protocol" "$T/metrics"
tap_is "$(metric "$T/metrics" mptcp_frontd_connections_closed_total listener=tls reason=client_reset)" 3 \
	"connections_closed_total counts the resets" "$T/metrics"
tap_is "$(metric "$T/metrics" mptcp_frontd_connections_closed_total listener=tls reason=error)" 0 \
	"no client made an error" "$T/metrics"
grep -a ' warn: ' "$FRONTD_LOG" | grep -aq 'listener tls'
tap_check $((!$?)) "no warning was logged for what clients did" "$FRONTD_LOG"

tap_done
