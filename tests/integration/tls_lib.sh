# Helpers for the TLS integration tests (tls*.sh), sourced after lib.sh.
#
#  - make_pki DIR: a throwaway CA and certificates made with openssl
#    req/x509 in DIR (inside $T, removed at exit; nothing is committed):
#      ca.crt/key        the CA that signs everything below
#      a.crt/key         CN a.test, SAN DNS:a.test
#      b.crt/key         CN b.test, SAN DNS:b.test, DNS:*.b.test
#      client.crt/key    CN "client one", a client certificate
#      rogue-ca.crt/key  another CA, and rogue.crt/key (CN rogue) from it
#    EC P-256 keys: quick to make.
#  - tlsclient NAME ARGS...: tests/tools/tlsclient.py, stdout in
#    $T/NAME.out, its "key value" report in $T/NAME.err; returns its exit
#    status.  In namespace $CLIENT_NS when set.
#  - report NAME KEY: a value from that report.
#  - pp_tlv LOG SELECTOR TYPE: the value of TLV TYPE (e.g. 0x01) of a
#    ppecho record, as text; pp_ssl LOG SELECTOR: the PP2_TYPE_SSL TLV
#    decoded, one "client 0x07", "verify 0", "0x21 TLSv1.3"... per line.
#  - s_client_subject PORT SNI: the subject of the certificate the daemon
#    presents for SNI (none when SNI is empty), via openssl s_client over
#    MPTCP (mptcpize).

# shellcheck disable=SC2034

_pki_cert() { # DIR NAME SUBJECT EXTENSIONS CA
	local d=$1 n=$2 subj=$3 ext=$4 ca=$5
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$d/$n.key" -out "$d/$n.csr" -subj "$subj" \
		2>>"$d/openssl.log" &&
		printf '%s\n' "$ext" >"$d/$n.ext" &&
		openssl x509 -req -in "$d/$n.csr" -CA "$d/$ca.crt" \
			-CAkey "$d/$ca.key" -CAcreateserial -days 2 \
			-extfile "$d/$n.ext" -out "$d/$n.crt" 2>>"$d/openssl.log"
}

_pki_ca() { # DIR NAME SUBJECT
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$1/$2.key" -out "$1/$2.crt" -days 2 -subj "$3" \
		-addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign \
		2>>"$1/openssl.log"
}

make_pki() {
	local d=$1
	mkdir -p "$d" || return 1
	_pki_ca "$d" ca "/CN=frontd test CA" &&
		_pki_cert "$d" a "/CN=a.test" "subjectAltName=DNS:a.test" ca &&
		_pki_cert "$d" b "/CN=b.test" \
			"subjectAltName=DNS:b.test,DNS:*.b.test" ca &&
		_pki_cert "$d" client "/CN=client one" \
			"extendedKeyUsage=clientAuth" ca &&
		_pki_ca "$d" rogue-ca "/CN=rogue CA" &&
		_pki_cert "$d" rogue "/CN=rogue" "extendedKeyUsage=clientAuth" \
			rogue-ca || {
		tap_diag_file "$d/openssl.log"
		return 1
	}
}

tlsclient() {
	local name=$1
	shift
	ns_prefix "${CLIENT_NS:-}"
	"${NS_PREFIX[@]}" timeout -k 5 "${CLIENT_TIMEOUT:-60}" "$PYTHON" \
		"$TOOLS/tlsclient.py" "$@" >"$T/$name.out" 2>"$T/$name.err"
}

report() {
	sed -n "s/^$2 //p" "$T/$1.err" | head -n 1
}

pp_tlv() {
	local tlvs
	tlvs=$(pplog "$1" "$2" tlvs) || return 1
	printf '%s\n' "$tlvs" | "$PYTHON" -c '
import json, sys
want = sys.argv[1]
for t in json.loads(sys.stdin.read() or "[]"):
    if t["type"] == want:
        print(bytes.fromhex(t["value"]).decode("utf-8", "replace"))
        break' "$3"
}

pp_ssl() {
	local tlvs
	tlvs=$(pplog "$1" "$2" tlvs) || return 1
	printf '%s\n' "$tlvs" | "$PYTHON" -c '
import json, struct, sys
for t in json.loads(sys.stdin.read() or "[]"):
    if t["type"] != "0x20":
        continue
    v = bytes.fromhex(t["value"])
    print("client 0x%02x" % v[0])
    print("verify %d" % struct.unpack("!I", v[1:5])[0])
    i = 5
    while i + 3 <= len(v):
        typ, ln = v[i], struct.unpack("!H", v[i + 1:i + 3])[0]
        print("0x%02x %s" % (typ, v[i + 3:i + 3 + ln].decode("utf-8",
                                                            "replace")))
        i += 3 + ln
    if i != len(v):
        print("malformed")'
}

# pp_ssl_field LOG SELECTOR KEY: one line of pp_ssl's output.
pp_ssl_field() {
	pp_ssl "$1" "$2" | sed -n "s/^$3 //p" | head -n 1
}

s_client_subject() {
	local port=$1 sni=$2 args=()
	[ -n "$sni" ] && args=(-servername "$sni")
	timeout 10 mptcpize run openssl s_client -connect "127.0.0.1:$port" \
		"${args[@]}" </dev/null 2>/dev/null |
		openssl x509 -noout -subject 2>/dev/null |
		sed 's/^subject= *//; s/ = /=/g'
}
