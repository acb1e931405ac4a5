#!/bin/bash
# What an operator reaches for in the configuration (issue 11, items 1, 4,
# 10, 11): '#' comments after values (the log, access log and pidfile get
# exactly the named files); -t refusing what start or a later reload would
# refuse (directories missing or not writable by `user`, a file `user`
# cannot read), printing start's warnings and naming the file; include =
# PATTERN and ${NAME} references with their errors at FILE:LINE; -T's
# output loading back to the same configuration; -V's versions; /metrics'
# build_info and reload counters after a good and a bad SIGHUP.
# Loopback only.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tls_lib.sh"

require_root            # -t checks file access as `user`
require_frontd
require_cmd curl openssl id

NOBODY=$(id -un nobody) || bail "no user nobody"
chmod 755 "$T"

# expect_t DESC CONF RC LINE...: `-t -c CONF` exits RC with exactly the
# LINEs on stderr (RC 78) or, for RC 0, the OK line on stdout.
expect_t() {
	local desc=$1 conf=$2 want_rc=$3 rc want
	shift 3
	"$FRONTD" -t -c "$conf" >"$T/t.out" 2>"$T/t.err"
	rc=$?
	tap_is "$rc" "$want_rc" "$desc: -t exits $want_rc" "$T/t.err" "$conf"
	want=$(printf '%s\n' "$@")
	if [ "$want_rc" = 78 ]; then
		tap_is "$(cat "$T/t.err")" "$want" "$desc: the message" "$T/t.err"
	else
		tap_is "$(cat "$T/t.out")" "$want" "$desc: the OK line" "$T/t.out"
	fi
}

start_ppecho pp --expect v2 || bail "ppecho did not start"
PP=$PPECHO_ADDR

# ------------------------------------------------------------ 1. comments
mkdir "$T/logs"
conf=$(write_config comments <<EOF
# full-line comment
[global]   # after a header
log = $T/logs/f.log   # main log
access_log = $T/logs/access.log	; the access log
pidfile = $T/logs/f.pid # for logrotate
[listener:web]
bind = 127.0.0.1:0 # any port
mptcp = off   # plain TCP here
backend = $PP ; ppecho
EOF
)
start_bg comments "$FRONTD" -f -c "$conf"
pid=$BG_PID
wait_for_file_line "$T/logs/f.log" 'ready \(pid' 10 "$pid"
tap_check $? "values followed by '# comment' start the daemon" "$T/comments.err" \
	"$T/logs/f.log"
tap_is "$(cd "$T/logs" && ls | sort | tr '\n' ' ')" "access.log f.log f.pid " \
	"log, access_log and pidfile are exactly the files named before the comment"
stop_pid "$pid"

# ------------------------------------------------------------ 4. -t as start
mkdir "$T/mine" "$T/rootonly"
chown "$NOBODY" "$T/mine"
chmod 755 "$T/rootonly"
base() { # extra [global] lines on stdin
	printf '[global]\nuser = %s\n' "$NOBODY"
	cat
	printf '[listener:web]\nbind = 127.0.0.1:0\nbackend = %s\n' "$PP"
}
conf=$(printf 'log = %s/nodir/f.log\n' "$T" | base | write_config nodir)
expect_t "log in a directory that does not exist" "$conf" 78 \
	"$conf: [global] log: directory $T/nodir: No such file or directory"
conf=$(printf 'access_log = %s/rootonly/a.log\n' "$T" | base | write_config ro_access)
expect_t "access_log in a directory $NOBODY cannot write" "$conf" 78 \
	"$conf: [global] access_log: directory $T/rootonly is not writable by user $NOBODY (Permission denied; after logrotate, SIGUSR1 reopens the log there)"
conf=$(printf 'pidfile = %s/rootonly/f.pid\n' "$T" | base | write_config ro_pid)
expect_t "pidfile in a directory $NOBODY cannot write" "$conf" 78 \
	"$conf: [global] pidfile: directory $T/rootonly is not writable by user $NOBODY (Permission denied; the pidfile is removed there at exit)"
timeout -k 2 10 "$FRONTD" -f -c "$conf" >"$T/start_ro.out" 2>"$T/start_ro.err"
tap_is "$?:$(cat "$T/start_ro.err")" \
	"78:$conf: [global] pidfile: directory $T/rootonly is not writable by user $NOBODY (Permission denied; the pidfile is removed there at exit)" \
	"start refuses the same file with the same message"
conf=$(printf 'log = %s/mine/f.log\npidfile = %s/mine/f.pid\n' "$T" "$T" | base |
	write_config unreadable)
chmod 600 "$conf"
expect_t "a configuration file $NOBODY cannot read" "$conf" 78 \
	"$conf: cannot be read by user $NOBODY (Permission denied): every reload (SIGHUP) would fail"
chmod 644 "$conf"
expect_t "the same file, readable, logs and pidfile where $NOBODY writes" \
	"$conf" 0 "$conf: configuration OK"

# Start's warnings: running as root without user, the descriptor limit, a
# missing unix: backend, a PROXY header too long for old nginx.
make_pki "$T/pki"
conf=$(write_config warn <<EOF
[global]
max_connections = 5000
[listener:tls]
bind = 127.0.0.1:0
backend = unix:$T/no-such.sock
tls_cert = $T/pki/a.crt
tls_key = $T/pki/a.key
proxy_protocol_tlvs = mptcp, alpn, authority, ssl
EOF
)
(ulimit -Sn 1000 && ulimit -Hn 1000 && exec "$FRONTD" -t -c "$conf") \
	>"$T/warn.out" 2>"$T/warn.err"
tap_is "$?:$(cat "$T/warn.out")" "0:$conf: configuration OK" \
	"-t with warnings: exit 0, the OK line names the file" "$T/warn.err"
for rx in 'warn: running as root with no user in \[global\]' \
	'info: max_connections = 5000 needs about 10064 descriptors; the limit is 1000' \
	"warn: listener tls: backend unix:$T/no-such.sock: No such file or directory" \
	'warn: listener tls: the PROXY v2 header can reach [0-9]+ bytes'; do
	grep -qE -- "$rx" "$T/warn.err"
	tap_check $? "-t prints what start prints: /$rx/" "$T/warn.err"
done

# ------------------------------------------------------------ 11. include, ${NAME}
mkdir "$T/inc" "$T/inc/conf.d"
cat >"$T/inc/conf.d/10-web.ini" <<EOF
[listener:web]
bind = 127.0.0.1:\${FRONTD_T_PORT:-0}
mptcp = off
backend = \${FRONTD_T_BACKEND}
EOF
printf 'access_log = %s/inc/access.log\n' "$T" >"$T/inc/common.ini"
cat >"$T/inc/main.ini" <<'EOF'
[global]
include = common.ini
include = conf.d/*.ini
EOF
chmod 644 "$T/inc/main.ini" "$T/inc/common.ini" "$T/inc/conf.d/10-web.ini"
FRONTD_T_BACKEND=$PP "$FRONTD" -t -c "$T/inc/main.ini" >"$T/inc.out" 2>"$T/inc.err"
tap_is "$?:$(cat "$T/inc.out")" \
	"0:$T/inc/main.ini: configuration OK (with the files it includes)" \
	"include and \${NAME}: -t OK" "$T/inc.err"
FRONTD_T_BACKEND=$PP start_frontd inc "$T/inc/main.ini" ||
	bail "did not start with includes"
[ -n "$(frontd_addr web)" ] && [ -f "$T/inc/access.log" ]
tap_check $? "the daemon serves the included listener, with the included access_log" \
	"$FRONTD_LOG"
stop_pid "$FRONTD_PID"

unset FRONTD_T_BACKEND
expect_t "an unset variable without default" "$T/inc/main.ini" 78 \
	"$T/inc/conf.d/10-web.ini:4: [listener:web] backend: environment variable FRONTD_T_BACKEND is not set (write \${FRONTD_T_BACKEND:-default} to give a default)"
printf '[listener:bad]\nbind = 127.0.0.1:0\nbackend = %s\nbacknd = x\n' "$PP" \
	>"$T/inc/conf.d/20-bad.ini"
export FRONTD_T_BACKEND=$PP
expect_t "an error in an included file" "$T/inc/main.ini" 78 \
	"$T/inc/conf.d/20-bad.ini:4: [listener:bad] backnd: unknown key; did you mean \"backend\"?"
printf 'include = ../main.ini\n' >"$T/inc/conf.d/20-bad.ini"
expect_t "an include cycle" "$T/inc/main.ini" 78 \
	"$T/inc/conf.d/20-bad.ini:1: [global] include: $T/inc/conf.d/../main.ini: include cycle: this file is already being read"
rm "$T/inc/conf.d/20-bad.ini"

# ------------------------------------------------------------ 10. -T, -V
"$FRONTD" -T -c "$T/inc/main.ini" >"$T/dump1.ini" 2>"$T/dump1.err"
tap_is "$?:$(tail -n 1 "$T/dump1.err")" "0:$T/inc/main.ini: configuration OK (with the files it includes)" \
	"-T: exit 0, the verdict on stderr" "$T/dump1.err"
grep -qx 'max_connections = 65536' "$T/dump1.ini" &&
	grep -qx "backend = $PP" "$T/dump1.ini" && grep -qx "access_log = $T/inc/access.log" "$T/dump1.ini"
tap_check $? "-T prints defaults, included keys and expanded references" "$T/dump1.ini"
chmod 644 "$T/dump1.ini"
unset FRONTD_T_BACKEND
"$FRONTD" -T -c "$T/dump1.ini" >"$T/dump2.ini" 2>"$T/dump2.err"
rc=$?
diff <(tail -n +2 "$T/dump1.ini") <(tail -n +2 "$T/dump2.ini") >"$T/dump.diff"
tap_check $((rc + $?)) "-T's output, loaded again, gives the same configuration" \
	"$T/dump.diff" "$T/dump2.err"

"$FRONTD" -V >"$T/V.out" 2>&1
tap_check $? "-V exits 0" "$T/V.out"
grep -qE '^libevent: built with [0-9.]+-stable, running [0-9.]+-stable$' "$T/V.out" &&
	grep -qE '^OpenSSL: built with OpenSSL [0-9.]+.*, running OpenSSL [0-9.]+' "$T/V.out" &&
	grep -qE '^inih: built with [0-9]+ \(no run-time version\)$' "$T/V.out" &&
	grep -qE '^configure options:' "$T/V.out"
tap_check $? "-V: libevent, OpenSSL (built and running), inih, configure options" "$T/V.out"

# ------------------------------------------------------------ 10. /metrics
conf=$(write_config metrics <<EOF
[global]
stats = 127.0.0.1:0
[listener:web]
bind = 127.0.0.1:0
mptcp = off
backend = $PP
EOF
)
start_frontd metrics "$conf" || bail "did not start with stats"
STATS=$(frontd_stats_addr)
scrape() { curl -s --max-time 5 "http://$STATS/metrics" >"$T/$1.prom"; }
m() { metric "$T/$1.prom" "mptcp_frontd_$2" "${@:3}"; }
scrape m0
openssl_v=$(openssl version | awk '{print $2}')
tap_like "$(grep '^mptcp_frontd_build_info' "$T/m0.prom")" \
	"^mptcp_frontd_build_info\\{version=\"[0-9.]+\",openssl=\"$openssl_v\",libevent=\"[0-9.]+-stable\"\\} 1\$" \
	"/metrics: build_info with version, openssl and libevent" "$T/m0.prom"
tap_is "$(m m0 config_reloads_total result=ok)/$(m m0 config_reloads_total result=failed)/$(m m0 config_generation)/$(m m0 config_last_reload_successful)" \
	"0/0/1/1" "/metrics at start: no reload, generation 1, last load successful" "$T/m0.prom"
t0=$(m m0 config_last_reload_timestamp_seconds)

sleep 1.1       # so that the reload's timestamp is a later second
kill -HUP "$FRONTD_PID"
wait_for_file_line "$FRONTD_LOG" 'reloaded .*generation 2' 10 "$FRONTD_PID"
scrape m1
tap_is "$(m m1 config_reloads_total result=ok)/$(m m1 config_reloads_total result=failed)/$(m m1 config_generation)/$(m m1 config_last_reload_successful)" \
	"1/0/2/1" "after a good SIGHUP: ok 1, generation 2, successful" "$T/m1.prom"
t1=$(m m1 config_last_reload_timestamp_seconds)
[ "$t1" -gt "$t0" ]
tap_check $? "after a good SIGHUP: the last reload time moved on ($t0 -> $t1)"

printf 'bogus = 1\n' >>"$conf"
kill -HUP "$FRONTD_PID"
wait_for_file_line "$FRONTD_LOG" 'reload failed' 10 "$FRONTD_PID"
scrape m2
tap_is "$(m m2 config_reloads_total result=ok)/$(m m2 config_reloads_total result=failed)/$(m m2 config_generation)/$(m m2 config_last_reload_successful)" \
	"1/1/2/0" "after a bad SIGHUP: failed 1, still generation 2, not successful" \
	"$T/m2.prom"
stop_pid "$FRONTD_PID"

tap_done
