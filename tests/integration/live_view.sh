#!/bin/bash
# The live view on the stats listener: GET /connections (JSON of the live
# connections of every worker, newest first, bounded by ?limit=) and the
# status page on / and /status, in a real headless Chromium.  The daemon
# runs with two workers in the server namespace of the two-path topology
# (lib.sh mp_two_paths), with an MPTCP listener in front of nginx and a
# plain one in front of ppecho.  What it shows:
#  - /connections is JSON python reads, says how many workers answered,
#    and a bad limit (0, 1001, abc, empty) is a 400;
#  - connections of both workers are listed (tools/pin_worker.py holds one
#    on each);
#  - limit=2 of five connections opened 50 ms apart gives the last two,
#    newest first, and says it is truncated;
#  - during a two-path MPTCP download the connection is listed with two
#    subflows (and, when the connection reports them, a subflows array
#    with two paths);
#  - the status page, loaded by Chromium during that download, raises no
#    exception, console error or failed load, refreshes itself, and its
#    text shows the live two-subflow connection and each listener's
#    figures (tools/browser.py, the DevTools protocol); the same check
#    fails on a page that throws.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

require_netns
require_mptcp
require_cmd tc curl chromium
require_nginx
require_frontd

# Slow paths (server egress): the download lasts while the page is read;
# the script stops it when done.
mp_shaped_paths 20mbit || bail "two shaped paths: setup failed"

mkdir -p "$T/www" || bail "mkdir"
truncate -s 512M "$T/www/big.bin" || bail "cannot make the download file"
start_nginx_ns "$S" files.conf ROOT="$T/www" || bail "nginx did not start"
PPECHO_NS=$S start_ppecho pp --expect v2 || bail "ppecho did not start"

conf=$(write_config frontd <<EOF
[global]
workers = 2
stats = 127.0.0.1:0

[listener:web]
bind = [::]:0
mptcp = required
backend = unix:$NGINX_DIR/http.sock
proxy_protocol = v2

[listener:echo]
bind = 127.0.0.1:0
mptcp = off
backend = $PPECHO_ADDR
proxy_protocol = v2
EOF
)
FRONTD_NS=$S start_frontd frontd "$conf" || bail "mptcp-frontd did not start"
WEB=$(port_of "$(frontd_addr web)") ECHO=$(frontd_addr echo)
STATS=$(frontd_stats_addr)
[ -n "$WEB" ] && [ -n "$ECHO" ] && [ -n "$STATS" ] ||
	bail "no 'listening on' or 'stats: serving' lines"

# get NAME PATH: GET http://$STATS/PATH in the server namespace; body in
# $T/NAME, "STATUS CONTENT_TYPE" on stdout.
get() {
	ip netns exec "$S" curl -s --max-time 5 -o "$T/$1" \
		-w '%{http_code} %{content_type}\n' "http://$STATS/$2"
}

# conns FILE EXPR: a Python expression over the /connections document d
# read from $T/FILE by the json module (c = d["connections"]).
conns() {
	"$PYTHON" - "$T/$1" "$2" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
c = d["connections"]
print(eval(sys.argv[2]))
EOF
}

# active LISTENER: its connections_active now.
active() {
	ip netns exec "$S" curl -s --max-time 5 "http://$STATS/metrics" \
		>"$T/active.prom"
	metric "$T/active.prom" mptcp_frontd_connections_active listener="$1"
}

# wait_active LISTENER N: until LISTENER has N connections (5 s at most).
wait_active() {
	local deadline=$(($(now_ms) + 5000))
	while [ "$(active "$1")" != "$2" ]; do
		[ "$(now_ms)" -ge "$deadline" ] && return 1
		sleep 0.05
	done
}

# browse NAME URL N: tools/browser.py (Chromium) in the server namespace
# until the page has refreshed N times; its report in $T/browser.json,
# its errors in $T/NAME.err.  Returns browser.py's status.
browse() {
	ip netns exec "$S" timeout -k 5 90 "$PYTHON" "$TOOLS/browser.py" \
		--timeout 30 --out "$T/browser.json" \
		--wait "Number(document.body.dataset.refreshes || 0) >= $3" \
		"$2" 2>"$T/$1.err"
}

# row KIND KEY: the text of the table row data-KIND="KEY" in the DOM
# Chromium had, cells separated by " | ", blank-separated words inside.
row() {
	"$PYTHON" - "$T/browser.json" "$1" "$2" <<'EOF'
import html.parser, json, sys
page = json.load(open(sys.argv[1]))
attr, key = "data-" + sys.argv[2], sys.argv[3]
class Rows(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.depth, self.cells, self.found = 0, [], None
    def handle_starttag(self, tag, attrs):
        if tag == "tr" and dict(attrs).get(attr) == key and self.found is None:
            self.depth, self.cells = 1, []
        elif self.depth and tag == "tr":
            self.depth += 1
        elif self.depth and tag == "td" and self.depth == 1:
            self.cells.append("")
        elif self.depth and tag == "div" and self.cells:
            self.cells[-1] += " "
    def handle_endtag(self, tag):
        if self.depth and tag == "tr":
            self.depth -= 1
            if self.depth == 0:
                self.found = self.cells
    def handle_data(self, data):
        if self.depth and self.cells:
            self.cells[-1] += data + " "
p = Rows()
p.feed(page["html"])
print(" | ".join(" ".join(c.split()) for c in (p.found or [])))
EOF
}

# ---------------------------------------------------------------- the document
out=$(get empty connections)
tap_is "$out" "200 application/json" "GET /connections: 200, application/json"
tap_is "$(conns empty '(d["total"], len(c), d["truncated"], d["limit"], d["workers"], d["workers_answered"])')" \
	"(0, 0, False, 100, 2, 2)" \
	"no connection: json reads it; total 0, default limit 100, both workers answered" \
	"$T/empty"
bad=""
for v in 0 1001 abc ""; do
	bad="$bad $(get bad connections?limit=$v | cut -d' ' -f1)"
done
tap_is "$bad" " 400 400 400 400" "limit=0, 1001, abc and empty are 400"
tap_like "$(cat "$T/bad")" '^400 Bad Request: limit: .*1 to 1000' \
	"the 400 says what limit takes"

# ---------------------------------------------------------------- both workers
# One connection held on each worker (echo listener, plain TCP).
for wk in 0 1; do
	start_bg "pin$wk" ip netns exec "$S" "$PYTHON" "$TOOLS/pin_worker.py" \
		"$(host_of "$ECHO")" "$(port_of "$ECHO")" "http://$STATS/metrics" \
		"$wk" --release-file "$T/pins.release"
	pin_pid[wk]=$BG_PID
	wait_for_file_line "$T/pin$wk.out" '^(pinned|not|no)' 60 "$BG_PID" ||
		bail "pin_worker $wk did not report"
	grep -q '^pinned' "$T/pin$wk.out" || bail "no connection on worker $wk"
done
wait_active echo 2 || bail "the pins' rejected tries did not close"
get workers "connections?limit=10" >/dev/null
tap_is "$(conns workers '(d["total"], sorted(x["listener"] for x in c))')" \
	"(2, ['echo', 'echo'])" \
	"workers = 2: the connection held on worker 0 and the one on worker 1 are both listed" \
	"$T/workers"
: >"$T/pins.release"
for wk in 0 1; do
	wait_pid_exit "${pin_pid[wk]}" 10000
done
wait_active echo 0 || bail "the pinned connections did not close"

# ---------------------------------------------------------------- limit, order
start_bg hold5 ip netns exec "$S" "$PYTHON" "$TOOLS/hold.py" --echo --list \
	--gap 0.05 --release-file "$T/hold5.release" \
	"$(host_of "$ECHO")" "$(port_of "$ECHO")" 5
hold_pid=$BG_PID
wait_for_file_line "$T/hold5.out" '^held 5$' 30 "$hold_pid" ||
	bail "hold.py did not open 5 connections"
newest=$(sed -n 's/^local //p' "$T/hold5.out" | tail -n 2 | tac | paste -sd' ')
get lim2 "connections?limit=2" >/dev/null
got=$(conns lim2 '" ".join(x["client"] for x in c)')
tap_is "$got" "$newest" "limit=2 of 5 gives the two newest, newest first" "$T/lim2"
tap_is "$(conns lim2 '(len(c), d["total"], d["truncated"])')" "(2, 5, True)" \
	"... and says 5 in total, truncated" "$T/lim2"
get lim1000 "connections?limit=1000&_=1" >/dev/null
tap_is "$(conns lim1000 '(len(c), d["truncated"], [x["age_ms"] for x in c] == sorted(x["age_ms"] for x in c))')" \
	"(5, False, True)" "limit=1000 gives all 5, youngest first, not truncated" \
	"$T/lim1000"
: >"$T/hold5.release"
wait_pid_exit "$hold_pid" 10000
wait_active echo 0 || bail "the held connections did not close"

# ---------------------------------------------------------------- two subflows
ip -n "$C" mptcp endpoint add "$MP_CLI_B4" dev cli_b subflow ||
	bail "cannot add the client's path B endpoint"
start_bg dl ip netns exec "$C" timeout -k 5 120 "$PYTHON" "$TOOLS/client.py" \
	--expect-mptcp "$MP_SRV_A4" "$WEB" get /big.bin --progress "$T/dl.progress"
dl_pid=$BG_PID
wait_for_subflows "$T/dl.progress" 2 20 "$dl_pid"
tap_check $? "the client's download has two subflows" "$T/dl.err"
client_addr=$(client_report dl local)
# The daemon learns the join at its next probe (about every second).
deadline=$(($(now_ms) + 5000))
while :; do
	get mp "connections" >/dev/null
	n=$(conns mp '[len(x["subflows"]) if isinstance(x["subflows"], list) else x["subflows"] for x in c if x["client"] == "'"$client_addr"'"]')
	[ "$n" = "[2]" ] && break
	[ "$(now_ms)" -ge "$deadline" ] && break
	sleep 0.2
done
tap_is "$n" "[2]" \
	"/connections lists the download from $client_addr with 2 subflows" "$T/mp"
tap_is "$(conns mp '[(x["listener"], x["state"], x.get("how", x["proto"]), x["bytes_out"] > 0) for x in c]')" \
	"[('web', 'relaying', 'mptcp', True)]" \
	"... on listener web, relaying, mptcp, bytes flowing out" "$T/mp"
paths=$(conns mp '"absent" if not isinstance(c[0]["subflows"], list) else len({(p["local"], p["remote"]) for p in c[0]["subflows"]})')
if [ "$paths" = absent ]; then
	tap_skip "the subflows array lists two paths" \
		"this build's connection JSON has no subflows array"
else
	tap_is "$paths" 2 "the subflows array lists two paths (two address pairs)" "$T/mp"
fi
tap_diag "/connections during the download:" "$(cat "$T/mp")"

# ---------------------------------------------------------------- the page
out=$(get page "")
get status status >/dev/null
cmp -s "$T/page" "$T/status"
tap_check $? "/ and /status serve the same page ($out)"
tap_like "$(grep -Eio '<(script|link|img|iframe)[^>]*(src|href)="[^"]*"' "$T/page" | grep -v 'href="data:,"')" \
	'^$' "the page loads nothing from elsewhere (no src/href but the empty icon)"

browse browser "http://$STATS/status" 2
rc=$?
tap_is "$rc" 0 "Chromium: the page refreshed twice with no exception, console error or failed load" \
	"$T/browser.err"
web=$(row listener web)
echo_row=$(row listener echo)
conn=$(row client "$client_addr")
tap_diag "page text:" "$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["text"])' "$T/browser.json")"
# listener | active | accepted | MPTCP share | fallback | histogram | family | relayed
tap_like "$web" '^web \| 1 \| 1 \(1 mptcp\) \| 100% \| ' \
	"the page: listener web, 1 active, 1 accepted (mptcp), MPTCP share 100%" "$T/browser.json"
tap_like "$echo_row" '^echo \| 0 \| [0-9]+ \(0 mptcp\) \| 0% \| ' \
	"the page: listener echo, 0 active, none of its connections mptcp: share 0%" "$T/browser.json"
tap_like "$web" '\| 1 [^|]* 2 [^|]* 3 [^|]* > 8 [^|]*\|' \
	"the page: web's subflow-count histogram" "$T/browser.json"
# listener | client | backend | how | state | subflows | age | in / out | paths
tap_like "$conn" "^web \| $client_addr \| unix:.* \| mptcp \| relaying \| 2( \(2 up\))? \| [0-9.]+ (s|min) .*MiB" \
	"the page: the live download from $client_addr with 2 subflows and MiB out" "$T/browser.json"
stop_pid "$dl_pid"
ip -n "$C" mptcp endpoint flush

# The series and fields the path record adds (how a client connected,
# bytes by family, the subflows array) may not be in this build yet: the
# same page, served by python's http.server with a fixed /metrics and
# /connections in that shape, must show them.
mkdir -p "$T/fixed" || bail "mkdir"
cp "$top_srcdir/src/daemon/status_page.html" "$T/fixed/status.html" || bail "cp"
cat >"$T/fixed/metrics" <<'EOF2'
mptcp_frontd_connections_accepted_total{listener="web",proto="mptcp"} 6
mptcp_frontd_connections_accepted_total{listener="web",proto="tcp"} 4
mptcp_frontd_connections_total{listener="web",how="mptcp"} 6
mptcp_frontd_connections_total{listener="web",how="tcp"} 2
mptcp_frontd_connections_total{listener="web",how="fallback"} 2
mptcp_frontd_connections_active{listener="web"} 1
mptcp_frontd_subflows_bucket{listener="web",le="1"} 1
mptcp_frontd_subflows_bucket{listener="web",le="2"} 5
mptcp_frontd_subflows_bucket{listener="web",le="+Inf"} 5
mptcp_frontd_mptcp_bytes_total{listener="web",family="ipv4",direction="backend_to_client"} 3221225472
mptcp_frontd_mptcp_bytes_total{listener="web",family="ipv6",direction="backend_to_client"} 1073741824
EOF2
cat >"$T/fixed/connections" <<'EOF2'
{"now_ms":5000,"limit":100,"total":1,"truncated":false,"omitted":0,"workers":2,"workers_answered":2,
 "connections":[{"listener":"web","state":"relaying","client":"192.0.2.1:40000","local":"192.0.2.2:443",
 "backend":"127.0.0.1:8080","proto":"mptcp","how":"mptcp","age_ms":4000,"idle_ms":1,"bytes_in":100,"bytes_out":4000000,
 "subflows":[
  {"id":1,"local":"192.0.2.2:443","remote":"192.0.2.1:40000","established_ms":0,"closed_ms":null,"end":"up",
   "bytes_sent":3000000,"bytes_acked":3000000,"bytes_received":100,"srtt_us":1500,"cwnd":20,"retrans":0},
  {"id":2,"local":"198.51.100.2:443","remote":"198.51.100.1:40001","established_ms":20,"closed_ms":null,"end":"up",
   "bytes_sent":1000100,"bytes_acked":1000100,"bytes_received":0,"srtt_us":2500,"cwnd":10,"retrans":3}]}]}
EOF2
start_bg fixed ip netns exec "$S" "$PYTHON" -u -m http.server --bind 127.0.0.1 \
	--directory "$T/fixed" 0
wait_for_file_line "$T/fixed.out" 'port [0-9]+' 10 "$BG_PID" ||
	bail "http.server did not start"
fixed=$(sed -n 's/.* port \([0-9]*\) .*/\1/p' "$T/fixed.out" | head -n 1)
browse fixed-browser "http://127.0.0.1:$fixed/status.html" 1
rc=$?
tap_is "$rc" 0 "Chromium, fixed data: no exception, console error or failed load" \
	"$T/fixed-browser.err"
web=$(row listener web)
conn=$(row client 192.0.2.1:40000)
tap_diag "listener row: $web" "connection row: $conn"
tap_like "$web" '^web \| 1 \| 10 \(6 mptcp\) \| 60% \| 25% \| ' \
	"fixed data: MPTCP share 60% and fallback rate 25% from connections_total{how}" \
	"$T/browser.json"
tap_like "$web" '\| 1 1 2 4 > 2 0 \|' \
	"fixed data: the histogram's buckets (1: 1, 2: 4, more: 0)" "$T/browser.json"
tap_like "$web" 'IPv4 3.0 GiB \(75%\) IPv6 1.0 GiB \(25%\)' \
	"fixed data: MPTCP bytes by family, IPv4 75% and IPv6 25%" "$T/browser.json"
tap_like "$conn" '\| 2 \(2 up\) \|.*192.0.2.2:443 > 192.0.2.1:40000 75% .*rtt 1.5 ms .*198.51.100.2:443 > 198.51.100.1:40001 25% .*retrans 3' \
	"fixed data: a row per path with its share of the bytes (75% and 25%)" "$T/browser.json"
tap_like "$(tr -d '\n' <"$T/browser.json" | grep -o 'style=\\"width: [0-9.]*%;\\"' | tail -n 2 | paste -sd' ')" \
	'width: 75%;.*width: 25%;' \
	"fixed data: the two path bars are 75% and 25% wide" "$T/browser.json"
stop_pid "$BG_PID"

# The check itself: a page that throws must fail it.
ip netns exec "$S" timeout -k 5 60 "$PYTHON" "$TOOLS/browser.py" --timeout 10 \
	--out "$T/throws.json" 'data:text/html,<p>x</p><script>null.f()</script>' \
	2>"$T/throws.err"
rc=$?
tap_is "$rc/$(grep -c 'exception: TypeError' "$T/throws.err")" 1/1 \
	"tools/browser.py fails on a page that throws, naming the exception" \
	"$T/throws.err"
