#!/bin/bash
# max_connections_per_source (issue 15, item 7): connections from one
# source beyond the limit are refused at accept (end=source_limit, access
# log and /metrics) while another source is served at once; the limit
# holds exactly across two workers, for IPv4 addresses, for IPv6 /64s
# (several 2001:db8:1::/64 addresses in a namespace count as one source,
# 2001:db8:2:: is another) and behind a trusted PROXY header (the header's
# client is the source).  The issue's scenario: 3,000 idle TLS clients
# from one address against max_connections = 1000 cannot hold every slot;
# clients from elsewhere are served at once.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tls_lib.sh"

require_netns
require_cmd curl openssl
require_frontd

PKI=$T/pki
make_pki "$PKI" || bail "cannot make the test certificates"
start_ppecho pp --expect v2 || bail "ppecho did not start"
conf=$(write_config limit <<EOF2
[global]
workers = 2
stats = 127.0.0.1:0
access_log = $T/access.log

[listener:v4]
bind = 127.0.0.1:0
backend = $PPECHO_ADDR
max_connections_per_source = 5

[listener:lb]
bind = 127.0.0.1:0
backend = $PPECHO_ADDR
accept_proxy = on
accept_proxy_from = 127.0.0.1
max_connections_per_source = 3

[listener:tls]
bind = 127.0.0.1:0
backend = $PPECHO_ADDR
tls_cert = $PKI/a.crt
tls_key = $PKI/a.key
tls_handshake_timeout = 60s
max_connections = 1000
max_connections_per_source = 100
EOF2
)
start_frontd limit "$conf" || bail "mptcp-frontd did not start"
V4=$(frontd_addr v4)
LB=$(frontd_addr lb)
TLS=$(frontd_addr tls)
STATS=$(frontd_stats_addr)

# probe NAME ADDR [--source A] [--proxy "HEADER"] [--tls]: one echo
# exchange; prints the milliseconds it took, fails when not echoed in 3 s.
# In namespace $CLIENT_NS when set.
probe() {
	local name=$1
	shift
	ns_prefix "${CLIENT_NS:-}"
	"${NS_PREFIX[@]}" "$PYTHON" - "$@" >"$T/$name.out" 2>"$T/$name.err" <<'PY'
import argparse, socket, ssl, sys, time
ap = argparse.ArgumentParser()
ap.add_argument("addr")
ap.add_argument("--source")
ap.add_argument("--proxy", default="")
ap.add_argument("--tls", action="store_true")
a = ap.parse_args()
host, port = a.addr.rsplit(":", 1)
host = host.strip("[]")
t0 = time.monotonic()
s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
s.settimeout(3)
if a.source:
    s.bind((a.source, 0))
s.connect((host, int(port)))
if a.proxy:
    s.sendall(a.proxy.encode() + b"\r\n")
if a.tls:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s = ctx.wrap_socket(s)
s.sendall(b"ping\n")
got = b""
while len(got) < 5:
    d = s.recv(64)
    if not d:
        break
    got += d
if got != b"ping\n":
    sys.exit("echo: %r" % got)
print(int((time.monotonic() - t0) * 1000))
PY
}
metrics() {
	curl -s --max-time 5 "http://$STATS/metrics" >"$T/metrics"
}
# closed_of LISTENER REASON / active_of LISTENER: from a fresh scrape.
closed_of() {
	metrics && metric "$T/metrics" mptcp_frontd_connections_closed_total \
		"listener=$1" "reason=$2"
}
active_of() {
	metrics && metric "$T/metrics" mptcp_frontd_connections_active "listener=$1"
}
# wait_closed LISTENER REASON N: until N are counted (at most 10 s).
wait_closed() {
	for _ in $(seq 1 100); do
		[ "$(closed_of "$1" "$2")" = "$3" ] && return 0
		sleep 0.1
	done
	return 1
}

# ---- IPv4: 8 from 127.0.0.1 against 5 per source.
hold h4 "$V4" 8 || bail "the IPv4 connections were not made"
wait_closed v4 source_limit 3
tap_is "$(closed_of v4 source_limit)" 3 "IPv4: 3 of 8 connections from one address refused (limit 5)" "$T/metrics"
tap_is "$(active_of v4)" 5 "IPv4: exactly 5 open"
probe p4 "$V4" --source 127.0.0.2
tap_check $? "IPv4: another address is served at once ($(cat "$T/p4.out") ms)" "$T/p4.err"
tap_is "$(grep -c 'listener=v4 client=127.0.0.1:.* end=source_limit' "$T/access.log")" 3 \
	"IPv4: each refusal is access-logged with end=source_limit"
release_hold
for _ in $(seq 1 50); do [ "$(active_of v4)" = 0 ] && break; sleep 0.1; done
probe p4b "$V4"
tap_check $? "IPv4: the source is served again once its connections closed" "$T/p4b.err"

# ---- behind a trusted PROXY header: the header's client is the source.
HDR="PROXY TCP4 203.0.113.9 198.51.100.1 5555 443"
hold hp "$LB" 5 --send "$HDR\r\n" || bail "the PROXY connections were not made"
wait_closed lb source_limit 2
tap_is "$(closed_of lb source_limit)" 2 "PROXY: 2 of 5 connections for one forwarded client refused (limit 3)" "$T/metrics"
tap_is "$(active_of lb)" 3 "PROXY: exactly 3 open"
probe pp1 "$LB" --proxy "PROXY TCP4 203.0.113.10 198.51.100.1 5555 443"
tap_check $? "PROXY: another forwarded client from the same balancer is served at once ($(cat "$T/pp1.out") ms)" "$T/pp1.err"
grep -q 'listener=lb client=203.0.113.9:5555 .*end=source_limit' "$T/access.log"
tap_check $? "PROXY: the refusal is access-logged with the forwarded client" "$T/access.log"
release_hold

# ---- the issue's scenario: 3,000 idle TLS clients from 127.0.0.1
# against max_connections = 1000 and 100 per source.
hold idle "$TLS" 3000 || bail "the 3,000 idle TLS connections were not made"
wait_closed tls source_limit 2900
tap_is "$(closed_of tls source_limit)" 2900 "TLS: 2,900 of 3,000 idle connections refused" "$T/metrics"
tap_is "$(active_of tls)" 100 "TLS: exactly 100 held by the idle source"
ok=0 worst=0
for i in 1 2 3; do
	if probe "legit$i" "$TLS" --source "127.0.0.$((i + 1))" --tls; then
		ok=$((ok + 1))
		ms=$(cat "$T/legit$i.out")
		[ "$ms" -gt "$worst" ] && worst=$ms
	fi
done
tap_is "$ok" 3 "TLS: 3 legitimate clients from other sources served (slowest $worst ms)"
desc="TLS: served at once (slowest under 1 s)"
if [ "$worst" -lt 1000 ]; then tap_ok "$desc"; else tap_fail "$desc"; fi
release_hold

# ---- IPv6 /64, in a namespace with addresses of two /64s on lo.
{
	make_netns NS || bail "cannot create a namespace"
	for a in 2001:db8:1::1 2001:db8:1::2 2001:db8:1::3 2001:db8:2::1; do
		ip -n "$NS" addr add "$a/128" dev lo nodad || bail "cannot add $a"
	done
	kill -TERM "$FRONTD_PID"
	wait_pid_exit "$FRONTD_PID" 10000
	PPECHO_NS=$NS start_ppecho pp6 --expect v2 || bail "ppecho (namespace) did not start"
	conf6=$(write_config limit6 <<EOF2
[global]
stats = [2001:db8:1::1]:0
access_log = $T/access6.log

[listener:v6]
bind = [2001:db8:1::1]:0
backend = $PPECHO_ADDR
max_connections_per_source = 4
EOF2
)
	FRONTD_NS=$NS start_frontd limit6 "$conf6" || bail "mptcp-frontd (namespace) did not start"
	V6=$(frontd_addr v6)
	STATS=$(frontd_stats_addr)
	metrics() {
		ip netns exec "$NS" curl -s --max-time 5 -g "http://$STATS/metrics" >"$T/metrics"
	}
	ns_hold() { # NAME SOURCE COUNT
		start_bg "$1" ip netns exec "$NS" "$PYTHON" "$TOOLS/hold.py" \
			--source "$2" --release-file "$T/v6.release" \
			"$(host_of "$V6")" "$(port_of "$V6")" "$3"
		wait_for_file_line "$T/$1.out" "^held $3\$" 30 "$BG_PID"
	}
	ns_hold a6 2001:db8:1::2 3 && ns_hold b6 2001:db8:1::3 3 ||
		bail "the IPv6 connections were not made"
	wait_closed v6 source_limit 2
	tap_is "$(closed_of v6 source_limit)" 2 "IPv6: 2 of 6 connections from two addresses of one /64 refused (limit 4)" "$T/metrics"
	tap_is "$(active_of v6)" 4 "IPv6: exactly 4 open for the /64"
	CLIENT_NS=$NS probe p6 "$V6" --source 2001:db8:2::1
	tap_check $? "IPv6: a client of another /64 is served at once ($(cat "$T/p6.out") ms)" "$T/p6.err"
	: >"$T/v6.release"
}

tap_done
