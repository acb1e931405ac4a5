#!/bin/bash
# Bad input and slow peers on a TLS listener: plain HTTP, random bytes, a
# truncated ClientHello (with and without FIN) and a client that stalls
# mid-handshake past tls_handshake_timeout each close only that
# connection, while a good client is served meanwhile; a client that never
# reads is held back (bounded buffers: the daemon's memory does not grow
# with it); idle TLS sessions are closed after idle_timeout with a
# close_notify; SIGTERM drains TLS sessions like plain ones.  /metrics
# counts the handshake failures and timeouts.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tls_lib.sh"

require_mptcp
require_cmd openssl curl
require_frontd

PKI=$T/pki
make_pki "$PKI" || bail "cannot make the test certificates"
start_ppecho ppecho || bail "ppecho did not start"

conf=$(write_config frontd <<EOF
[global]
access_log = $T/access.log
stats = 127.0.0.1:0
shutdown_timeout = 1s

[listener:tls]
bind = 127.0.0.1:0
backend = $PPECHO_ADDR
tls_cert = $PKI/a.crt
tls_key = $PKI/a.key
tls_handshake_timeout = 1s
idle_timeout = 1500ms
EOF
)
# Under AddressSanitizer freed buffers wait in a quarantine (256 MB by
# default) and RSS would track the traffic; a 1 MB one keeps the memory
# check below meaningful.
if [ -n "${ASAN_OPTIONS+x}" ]; then
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1"
fi
start_frontd frontd "$conf" || bail "mptcp-frontd did not start"
P=$(port_of "$(frontd_addr tls)")
STATS=$(frontd_stats_addr)

# end_of NAME: the access log's end= for the connection tlsclient NAME made.
end_of() {
	local lp
	lp=$(port_of "$(report "$1" local)")
	wait_for_file_line "$T/access.log" "client=127.0.0.1:$lp " 5
	kv "$(grep -F "client=127.0.0.1:$lp " "$T/access.log")" end
}

# A stalled handshake in the background while everything else runs.
CLIENT_TIMEOUT=30 tlsclient stall 127.0.0.1 "$P" raw silent --mptcp --timeout 10 &
stall_pid=$!

for kind in http random hello-part-fin; do
	tlsclient "bad-$kind" 127.0.0.1 "$P" raw "$kind" --mptcp --timeout 10
	rc=$?
	took=$(report "bad-$kind" closed-after-ms)
	tap_check "$rc" "$kind: the daemon closes the connection" "$T/bad-$kind.err"
	tap_like "$took" '^[0-9]{1,3}$' "$kind: ... at once (${took} ms, before the 1 s handshake timeout)"
	tap_like "$(end_of "bad-$kind")" '^(tls_handshake_failed|client_close)$' \
		"$kind: logged as a failed handshake (or the client's close)" "$T/access.log"
	tlsclient "good-after-$kind" 127.0.0.1 "$P" echo 'still here\n' --mptcp --expect-mptcp
	tap_check $? "$kind: a good client is served right after" "$T/good-after-$kind.err"
done
[ "$(report bad-http received)" = 0 ] || grep -q '^first-bytes 15' "$T/bad-http.err"
tap_check $? "plain HTTP gets no HTTP answer (nothing, or a TLS alert)" "$T/bad-http.err"

tlsclient hello-part 127.0.0.1 "$P" raw hello-part --mptcp --timeout 10
rc=$?
ms=$(report hello-part closed-after-ms)
tap_check "$rc" "truncated ClientHello, then silence: closed by the daemon" "$T/hello-part.err"
tap_like "$ms" '^(9[0-9][0-9]|1[0-9][0-9][0-9])$' \
	"... after the handshake timeout (${ms} ms for 1 s)"
tap_is "$(end_of hello-part)" tls_handshake_timeout \
	"... logged as end=tls_handshake_timeout" "$T/access.log"

wait "$stall_pid"
tap_check $? "a silent client is closed (it stalled the whole time others were served)" \
	"$T/stall.err"
tap_like "$(report stall closed-after-ms)" '^(9[0-9][0-9]|1[0-9][0-9][0-9])$' \
	"... after the handshake timeout ($(report stall closed-after-ms) ms)"

# ---- a client that never reads: bounded buffers, backpressure
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$FRONTD_PID/status"; }
rss0=$(rss_kib)
tlsclient flood 127.0.0.1 "$P" flood 256 --mptcp
sent=$(report flood sent-before-block)
rss1=$(rss_kib)
tap_like "$sent" '^[0-9]+$' "a client that never reads gets held back (its sends block)" \
	"$T/flood.err"
tap_check "$([ "${sent:-0}" -lt $((128 * 1024 * 1024)) ] && echo 0 || echo 1)" \
	"... after $((${sent:-0} / 1024)) KiB, well short of the 256 MiB it tried"
tap_check "$([ $((rss1 - rss0)) -lt 8192 ] && echo 0 || echo 1)" \
	"... and the daemon's memory did not follow (RSS +$((rss1 - rss0)) KiB)"
tlsclient good-after-flood 127.0.0.1 "$P" echo 'ok\n' --mptcp
tap_check $? "a good client is served after the flood" "$T/good-after-flood.err"

# ---- idle timeout
tlsclient idle 127.0.0.1 "$P" hold --mptcp --timeout 10
tap_is "$(report idle closed)" eof \
	"an idle TLS session is closed cleanly (close_notify, then EOF)" "$T/idle.err"
tap_like "$(report idle closed-after-ms)" '^(1[4-9][0-9][0-9]|2[0-9][0-9][0-9])$' \
	"... after idle_timeout 1.5 s ($(report idle closed-after-ms) ms)"
tap_is "$(end_of idle)" idle_timeout "... logged as end=idle_timeout" "$T/access.log"

# ---- /metrics
curl -s "http://$STATS/metrics" >"$T/metrics.txt"
failed=$(metric "$T/metrics.txt" mptcp_frontd_connections_closed_total listener=tls reason=tls_handshake_failed)
timedout=$(metric "$T/metrics.txt" mptcp_frontd_connections_closed_total listener=tls reason=tls_handshake_timeout)
full=$(metric "$T/metrics.txt" mptcp_frontd_tls_handshakes_total listener=tls type=full)
tap_like "$failed" '^[2-9]$|^[1-9][0-9]+$' \
	"/metrics: closed reason=\"tls_handshake_failed\" counts the bad inputs ($failed)" "$T/metrics.txt"
tap_is "$timedout" 2 "/metrics: closed reason=\"tls_handshake_timeout\" counts the two stalls" \
	"$T/metrics.txt"
tap_like "$full" '^[5-9]$|^[1-9][0-9]+$' \
	"/metrics: tls_handshakes_total{type=\"full\"} counts the good handshakes ($full)" \
	"$T/metrics.txt"
tap_is "$(metric "$T/metrics.txt" mptcp_frontd_connections_active listener=tls)" 0 \
	"/metrics: no connection left open" "$T/metrics.txt"

# ---- drain on SIGTERM
CLIENT_TIMEOUT=30 tlsclient drain 127.0.0.1 "$P" hold --mptcp --timeout 20 &
drain_pid=$!
wait_for_file_line "$T/drain.err" '^reused ' 10
t0=$(now_ms)
kill -TERM "$FRONTD_PID"
wait_pid_exit "$FRONTD_PID" 5000
tap_check $? "SIGTERM with a TLS session open: the daemon exits after shutdown_timeout" "$FRONTD_LOG"
took=$(($(now_ms) - t0))
tap_like "$took" '^(9[0-9][0-9]|[1-2][0-9][0-9][0-9])$' "... of 1 s (${took} ms)"
wait "$drain_pid"
tap_is "$(report drain closed)" eof "... and the held TLS client saw a clean close" "$T/drain.err"
tap_is "$(end_of drain)" shutdown "... logged as end=shutdown" "$T/access.log"
