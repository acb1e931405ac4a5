#!/bin/bash
# The command line and configuration checking: bad configurations through
# -t print exactly their "FILE:LINE: [section] key: reason" lines and exit
# 78 (EX_CONFIG); a good one prints "configuration OK" and exits 0; bad
# options exit 64 (EX_USAGE); -V prints the version.  No network needed.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

require_frontd

_case=0

# bad_config DESC EXPECTED_LINE...: config on stdin; `$FRONTD -t` must exit
# 78, print nothing on stdout and exactly the EXPECTED_LINEs (with @F@ for
# the file name) on stderr.
bad_config() {
	local desc=$1 f rc want
	shift
	_case=$((_case + 1))
	f=$T/case$_case.ini
	cat >"$f"
	"$FRONTD" -t -c "$f" >"$T/case$_case.stdout" 2>"$T/case$_case.stderr"
	rc=$?
	tap_is "$rc" 78 "$desc: -t exits 78" "$T/case$_case.stderr"
	want=$(printf '%s\n' "$@" | sed "s|@F@|$f|g")
	if [ "$(cat "$T/case$_case.stderr")" = "$want" ] &&
		[ ! -s "$T/case$_case.stdout" ]; then
		tap_ok "$desc: exact error lines on stderr"
	else
		tap_fail "$desc: exact error lines on stderr"
		tap_diag "want:" "$want" "got:"
		tap_diag_file "$T/case$_case.stderr" "$T/case$_case.stdout"
	fi
}

# --- a good configuration
cat >"$T/good.ini" <<'EOF'
; every key, with values of each kind
[global]
log_level = info
log = stderr
access_log = off
max_connections = 1000
shutdown_timeout = 5s

[listener:web]
bind = 127.0.0.1:0, [::1]:0
v6only = on
mptcp = on
backend = 127.0.0.1:8080, [::1]:8080, unix:/run/nginx.sock
proxy_protocol = v2
connect_timeout = 500ms
idle_timeout = 10m
max_connections = 100

[listener:dual]
bind = [::]:0
mptcp = required
backend = unix:/run/nginx.sock
proxy_protocol = v1
EOF
"$FRONTD" -t -c "$T/good.ini" >"$T/good.stdout" 2>"$T/good.stderr"
rc=$?
tap_is "$rc" 0 "good configuration: -t exits 0" "$T/good.stderr"
tap_is "$(cat "$T/good.stdout")" "$T/good.ini: configuration OK" \
	"good configuration: 'FILE: configuration OK' on stdout, naming the file" \
	"$T/good.stderr"
# What start would say goes to stderr as log lines: warnings and notes only
# (the unix: backends do not exist here).
! grep -vqE '^[0-9T:.-]+Z (warn|info): ' "$T/good.stderr"
tap_check $? "good configuration: only warnings and notes on stderr" "$T/good.stderr"

# --- one mistake at a time
bad_config "unknown key near a known one" \
	'@F@:4: [listener:web] backnd: unknown key; did you mean "backend"?' <<'EOF'
[listener:web]
bind = 127.0.0.1:8080
backend = 127.0.0.1:80
backnd = 127.0.0.1:81
EOF

bad_config "unknown key with no near match" \
	'@F@:3: [global] colour: unknown key' <<'EOF'
[global]
log_level = info
colour = blue
[listener:web]
bind = 127.0.0.1:8080
backend = 127.0.0.1:80
EOF

bad_config "bad duration" \
	'@F@:4: [listener:web] connect_timeout: bad duration "5x": expected a number with ms, s, m or h' <<'EOF'
[listener:web]
bind = 127.0.0.1:8080
backend = 127.0.0.1:80
connect_timeout = 5x
EOF

bad_config "missing backend" \
	'@F@:2: [listener:web]: missing required key "backend"' <<'EOF'
; a listener with nowhere to send clients
[listener:web]
bind = 127.0.0.1:8080
EOF

bad_config "the same bind twice in one listener" \
	'@F@:2: [listener:web] bind: 127.0.0.1:8080 is listed twice' <<'EOF'
[listener:web]
bind = 127.0.0.1:8080, 127.0.0.1:8080
backend = 127.0.0.1:80
EOF

bad_config "the same bind in two listeners" \
	'@F@:6: [listener:b] bind: 127.0.0.1:8080 is already bound by [listener:a] on line 2' <<'EOF'
[listener:a]
bind = 127.0.0.1:8080
backend = 127.0.0.1:80

[listener:b]
bind = 127.0.0.1:8080
backend = 127.0.0.1:81
EOF

bad_config "unknown section" \
	'@F@:5: [listner:web]: unknown section; did you mean [listener:web]?' <<'EOF'
[listener:ok]
bind = 127.0.0.1:8081
backend = 127.0.0.1:80

[listner:web]
bind = 127.0.0.1:8080
backend = 127.0.0.1:80
EOF

bad_config "bad mptcp value" \
	'@F@:3: [listener:web] mptcp: bad value "maybe": expected on, off or required' <<'EOF'
[listener:web]
bind = 127.0.0.1:8080
mptcp = maybe
backend = 127.0.0.1:80
EOF

bad_config "bad proxy_protocol value" \
	'@F@:4: [listener:web] proxy_protocol: bad value "v3": expected v1, v2 or off' <<'EOF'
[listener:web]
bind = 127.0.0.1:8080
backend = 127.0.0.1:80
proxy_protocol = v3
EOF

bad_config "relative unix backend path" \
	'@F@:3: [listener:web] backend: bad address "unix:nginx.sock": unix socket path must be absolute' <<'EOF'
[listener:web]
bind = 127.0.0.1:8080
backend = unix:nginx.sock
EOF

# --- every mistake of a file is reported, in line order, in one run
bad_config "several mistakes: all reported at once" \
	'@F@:2: [global] shutdown_timeout: bad duration "5x": expected a number with ms, s, m or h' \
	'@F@:4: [listener:web]: missing required key "backend"' \
	'@F@:6: [listener:web] backnd: unknown key; did you mean "backend"?' \
	'@F@:7: [listener:web] mptcp: bad value "maybe": expected on, off or required' \
	'@F@:11: [listener:b] bind: 127.0.0.1:8080 is already bound by [listener:web] on line 5' \
	'@F@:13: [listner:c]: unknown section; did you mean [listener:c]?' <<'EOF'
[global]
shutdown_timeout = 5x

[listener:web]
bind = 127.0.0.1:8080
backnd = 127.0.0.1:80
mptcp = maybe

[listener:b]
backend = 127.0.0.1:80
bind = 127.0.0.1:8080

[listner:c]
bind = 127.0.0.1:8081
EOF

# --- a missing file is a configuration error too
"$FRONTD" -t -c "$T/does-not-exist.ini" >"$T/nofile.stdout" 2>"$T/nofile.stderr"
rc=$?
tap_is "$rc" 78 "nonexistent configuration file: -t exits 78" "$T/nofile.stderr"
tap_is "$(cat "$T/nofile.stderr")" "$T/does-not-exist.ini: cannot open: No such file or directory" \
	"nonexistent configuration file: the error names the file and the reason"

# --- starting (not -t) with a bad configuration fails the same way
timeout -k 2 10 "$FRONTD" -f -c "$T/case1.ini" >"$T/start.stdout" 2>"$T/start.stderr"
rc=$?
tap_is "$rc" 78 "starting with a bad configuration exits 78" "$T/start.stderr"
grep -qF "$T/case1.ini:4: [listener:web] backnd: unknown key" "$T/start.stderr" &&
	! grep -q 'ready (pid' "$T/start.stderr"
tap_check $? "starting with a bad configuration prints the error and never gets ready" \
	"$T/start.stderr"

# --- options
# bad_option DESC ARGS...: exit 64 and a usage line last on stderr.
bad_option() {
	local desc=$1 rc
	shift
	"$FRONTD" "$@" >"$T/opt.stdout" 2>"$T/opt.stderr"
	rc=$?
	tap_is "$rc" 64 "$desc: exits 64" "$T/opt.stderr"
	tap_like "$(tail -n 1 "$T/opt.stderr")" '^usage: mptcp-frontd ' \
		"$desc: ends with a one-line usage hint" "$T/opt.stderr"
}
bad_option "unknown long option --bogus" --bogus -t -c "$T/good.ini"
bad_option "unknown short option -x" -x -t -c "$T/good.ini"
bad_option "bad log level -l loud" -l loud -t -c "$T/good.ini"
bad_option "-c without its argument" -c
bad_option "stray argument" -t -c "$T/good.ini" extra-argument

"$FRONTD" -V >"$T/version.stdout" 2>&1
rc=$?
tap_is "$rc" 0 "-V exits 0"
want=$(sed -n 's/^AC_INIT(\[mptcp-frontd\], \[\([^]]*\)\].*/\1/p' \
	"${top_srcdir:-$TESTS_DIR/../..}/configure.ac" 2>/dev/null)
tap_is "$(head -n 1 "$T/version.stdout")" "mptcp-frontd ${want:-?}" \
	"-V prints 'mptcp-frontd VERSION' first (the version configure.ac declares)"

"$FRONTD" -h >"$T/help.stdout" 2>&1
rc=$?
tap_is "$rc" 0 "-h exits 0"
grep -q -- '-t, --test' "$T/help.stdout"
tap_check $? "-h describes the options" "$T/help.stdout"
