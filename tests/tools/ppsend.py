#!/usr/bin/env python3
"""ppsend: play an upstream load balancer (or a hostile client) in front of
a listener with accept_proxy = on.

    ppsend.py [options] HOST PORT

Connects (over MPTCP with --mptcp), sends a PROXY header, then a request,
and reads the answer until EOF.  The header is one of
    --v1 SRC:SPORT>DST:DPORT     a v1 line ("TCP4"/"TCP6" from the address)
    --v2 SRC:SPORT>DST:DPORT     a v2 PROXY header (IPv4 or IPv6 block)
    --v2-local                   a v2 LOCAL header (a balancer health check)
    --raw HEX                    these bytes, whatever they are
    (none)                       no header at all
IPv6 addresses go in brackets: [2001:db8::7]:4242>[2001:db8::1]:443.
--tlv TYPE=HEX (repeatable) appends TLVs to a v2 header.

Then:
    --request TEXT     sent after the header (\\r \\n escapes); default an
                       HTTP/1.0 GET /
    --tls              wrap the socket in TLS after the header (no
                       certificate check: the test owns both ends)
    --byte-delay S     send the header one byte at a time, S seconds apart
    --shut-after-header  shutdown(SHUT_WR) right after the header bytes
                       (a truncated header followed by EOF)

Report on stderr, one "key value" line each:
    local ADDR          our own address
    answer N            bytes received before EOF
    closed-ms N         from connect until the server closed
    end eof|reset       how the server ended it
The answer itself goes to stdout.  Exit 0 when the server sent an answer
(at least one byte), 1 when it closed without one, 3 when connecting
failed, 4 on a timeout (--timeout, default 20 s).
Python 3 standard library only.
"""

import argparse
import codecs
import ipaddress
import socket
import ssl
import struct
import sys
import time

IPPROTO_MPTCP = 262
PP2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def endpoint(text):
    host, _, port = text.rpartition(":")
    host = host.strip("[]")
    return ipaddress.ip_address(host), int(port)


def endpoints(spec):
    a, _, b = spec.partition(">")
    return endpoint(a), endpoint(b)


def header_v1(spec):
    (sa, sp), (da, dp) = endpoints(spec)
    fam = "TCP4" if sa.version == 4 else "TCP6"
    return ("PROXY %s %s %s %d %d\r\n" % (fam, sa, da, sp, dp)).encode()


def tlv_bytes(tlvs):
    out = b""
    for t in tlvs:
        typ, _, hexval = t.partition("=")
        val = bytes.fromhex(hexval)
        out += struct.pack("!BH", int(typ, 0), len(val)) + val
    return out


def header_v2(spec, tlvs, local=False):
    extra = tlv_bytes(tlvs)
    if local:
        return PP2_SIG + struct.pack("!BBH", 0x20, 0x00, len(extra)) + extra
    (sa, sp), (da, dp) = endpoints(spec)
    if sa.version == 4:
        block = sa.packed + da.packed + struct.pack("!HH", sp, dp)
        fam = 0x11
    else:
        block = sa.packed + da.packed + struct.pack("!HH", sp, dp)
        fam = 0x21
    body = block + extra
    return PP2_SIG + struct.pack("!BBH", 0x21, fam, len(body)) + body


def main():
    ap = argparse.ArgumentParser()
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--v1")
    g.add_argument("--v2")
    g.add_argument("--v2-local", action="store_true")
    g.add_argument("--raw")
    ap.add_argument("--tlv", action="append", default=[])
    ap.add_argument("--mptcp", action="store_true")
    ap.add_argument("--request", default="GET / HTTP/1.0\\r\\n\\r\\n")
    ap.add_argument("--tls", action="store_true")
    ap.add_argument("--sni", default=None)
    ap.add_argument("--byte-delay", type=float, default=0.0)
    ap.add_argument("--shut-after-header", action="store_true")
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    a = ap.parse_args()

    if a.v1:
        hdr = header_v1(a.v1)
    elif a.v2 or a.v2_local:
        hdr = header_v2(a.v2, a.tlv, local=a.v2_local)
    elif a.raw is not None:
        hdr = bytes.fromhex(a.raw)
    else:
        hdr = b""
    request = codecs.decode(a.request, "unicode_escape").encode("latin-1")

    host = a.host.strip("[]")
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM,
                      IPPROTO_MPTCP if a.mptcp else 0)
    s.settimeout(a.timeout)
    t0 = time.monotonic()
    try:
        s.connect((host, a.port))
    except OSError as e:
        print("connect %s" % e, file=sys.stderr)
        return 3
    loc = s.getsockname()
    print("local %s:%d" % (loc[0] if fam == socket.AF_INET
                           else "[%s]" % loc[0], loc[1]), file=sys.stderr)
    got = b""
    end = "eof"
    try:
        if a.byte_delay > 0:
            for i in range(len(hdr)):
                s.sendall(hdr[i:i + 1])
                time.sleep(a.byte_delay)
        elif hdr:
            s.sendall(hdr)
        if a.shut_after_header:
            s.shutdown(socket.SHUT_WR)
        else:
            conn = s
            if a.tls:
                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                conn = ctx.wrap_socket(s, server_hostname=a.sni)
            conn.sendall(request)
            s = conn
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    except (ConnectionResetError, BrokenPipeError):
        end = "reset"
    except ssl.SSLError as e:
        end = "tls-error %s" % e.reason
    except socket.timeout:
        print("timeout after %.1f s" % (time.monotonic() - t0),
              file=sys.stderr)
        return 4
    except OSError as e:
        end = "error %s" % e
    print("answer %d" % len(got), file=sys.stderr)
    print("closed-ms %d" % ((time.monotonic() - t0) * 1000), file=sys.stderr)
    print("end %s" % end, file=sys.stderr)
    sys.stdout.buffer.write(got)
    return 0 if got else 1


if __name__ == "__main__":
    sys.exit(main())
