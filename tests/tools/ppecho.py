#!/usr/bin/env python3
"""ppecho: a test backend that decodes and checks a PROXY protocol header,
records it, then echoes everything else back.

Listens on 127.0.0.1:0 (or --bind ADDR, or --unix PATH) and announces its
real address ("127.0.0.1:40123", "[::1]:40123" or "unix:/path") on stdout
line 1 and, with --ready-file, in that file (written atomically).

Per connection it reads the PROXY header (v1 text or v2 binary, checked
strictly against haproxy's doc/proxy-protocol.txt), appends one JSON object
per connection to --log, then echoes the remaining bytes until the peer's
EOF, after which it finishes echoing and shuts down its write side (or,
with --reset-after N, resets the connection once it has echoed N bytes).  A
malformed or unexpected header is logged with "error" set and the
connection is closed without echoing.

JSON fields: conn (sequence number from 1), peer (who connected to us),
version (1, 2 or null), command ("PROXY", "LOCAL" or null), family
("TCP4", "TCP6", "UNKNOWN" (v1), "UNSPEC", "UNIX" or "0xNN" (v2)), src,
sport, dst, dport (null when the header carries none), tlvs (list of
{"type": "0xNN", "value": HEX}), header_len, error (null when well-formed).

Exit codes: 0 on SIGTERM/SIGINT, 2 on bad usage or when it cannot listen.
Python 3 standard library only.
"""

import argparse
import json
import os
import signal
import socket
import struct
import sys
import threading

IPPROTO_MPTCP = 262
PP2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"
PP1_MAX = 107           # whole v1 line including CRLF
HEADER_TIMEOUT = 10.0   # seconds allowed for the header to arrive
BUFSZ = 256 * 1024

V2_FAMILIES = {0x00: "UNSPEC", 0x11: "TCP4", 0x12: "UDP4", 0x21: "TCP6",
               0x22: "UDP6", 0x31: "UNIX", 0x32: "UNIXDGRAM"}


class HeaderError(Exception):
    pass


class Incomplete(Exception):
    """More bytes are needed before the header can be judged."""


def parse_port(s):
    if not s.isdigit() or (len(s) > 1 and s[0] == "0"):
        raise HeaderError("bad port %r" % s)
    v = int(s)
    if v > 65535:
        raise HeaderError("port out of range %r" % s)
    return v


def parse_v1(buf):
    """Returns (record, header_len) or raises Incomplete / HeaderError."""
    end = buf.find(b"\r\n", 0, PP1_MAX)
    if end < 0:
        if len(buf) >= PP1_MAX:
            raise HeaderError("v1 line longer than %d bytes" % PP1_MAX)
        if b"\n" in buf:
            raise HeaderError("v1 line ends in LF without CR")
        raise Incomplete()
    line = buf[:end]
    try:
        text = line.decode("ascii")
    except UnicodeDecodeError:
        raise HeaderError("v1 line is not ASCII")
    parts = text.split(" ")
    rec = {"version": 1, "command": "PROXY", "family": None, "src": None,
           "sport": None, "dst": None, "dport": None, "tlvs": []}
    if len(parts) < 2 or parts[0] != "PROXY":
        raise HeaderError("v1 line does not start with 'PROXY '")
    fam = parts[1]
    rec["family"] = fam
    if fam == "UNKNOWN":
        return rec, end + 2
    if fam not in ("TCP4", "TCP6"):
        raise HeaderError("v1 unknown protocol %r" % fam)
    if len(parts) != 6:
        raise HeaderError("v1 %s line has %d fields, want 6" % (fam, len(parts)))
    af = socket.AF_INET if fam == "TCP4" else socket.AF_INET6
    for a in parts[2:4]:
        try:
            canon = socket.inet_ntop(af, socket.inet_pton(af, a))
        except OSError:
            raise HeaderError("v1 %r is not an %s address" % (a, fam))
        if canon != a:
            raise HeaderError("v1 address %r not in canonical form %r"
                              % (a, canon))
    rec["src"], rec["dst"] = parts[2], parts[3]
    rec["sport"] = parse_port(parts[4])
    rec["dport"] = parse_port(parts[5])
    return rec, end + 2


def parse_tlvs(data):
    tlvs = []
    i = 0
    while i < len(data):
        if len(data) - i < 3:
            raise HeaderError("v2 truncated TLV header at offset %d" % i)
        t, ln = data[i], struct.unpack("!H", data[i + 1:i + 3])[0]
        if i + 3 + ln > len(data):
            raise HeaderError("v2 TLV 0x%02x length %d overruns header" % (t, ln))
        tlvs.append({"type": "0x%02x" % t, "value": data[i + 3:i + 3 + ln].hex()})
        i += 3 + ln
    return tlvs


def parse_v2(buf):
    if len(buf) < 16:
        raise Incomplete()
    ver_cmd, fam, ln = buf[12], buf[13], struct.unpack("!H", buf[14:16])[0]
    if ver_cmd >> 4 != 2:
        raise HeaderError("v2 version nibble %d, want 2" % (ver_cmd >> 4))
    cmd = ver_cmd & 0x0F
    if cmd not in (0, 1):
        raise HeaderError("v2 unknown command %d" % cmd)
    if len(buf) < 16 + ln:
        raise Incomplete()
    body = buf[16:16 + ln]
    rec = {"version": 2, "command": "PROXY" if cmd == 1 else "LOCAL",
           "family": V2_FAMILIES.get(fam, "0x%02x" % fam), "src": None,
           "sport": None, "dst": None, "dport": None, "tlvs": []}
    if fam not in V2_FAMILIES:
        raise HeaderError("v2 unknown family byte 0x%02x" % fam)
    alen = 0
    if fam in (0x11, 0x12):
        alen = 12
        if ln < alen:
            raise HeaderError("v2 length %d too short for IPv4" % ln)
        rec["src"] = socket.inet_ntop(socket.AF_INET, body[0:4])
        rec["dst"] = socket.inet_ntop(socket.AF_INET, body[4:8])
        rec["sport"], rec["dport"] = struct.unpack("!HH", body[8:12])
    elif fam in (0x21, 0x22):
        alen = 36
        if ln < alen:
            raise HeaderError("v2 length %d too short for IPv6" % ln)
        rec["src"] = socket.inet_ntop(socket.AF_INET6, body[0:16])
        rec["dst"] = socket.inet_ntop(socket.AF_INET6, body[16:32])
        rec["sport"], rec["dport"] = struct.unpack("!HH", body[32:36])
    elif fam in (0x31, 0x32):
        alen = 216
        if ln < alen:
            raise HeaderError("v2 length %d too short for unix" % ln)
        rec["src"] = body[0:108].split(b"\0", 1)[0].decode("utf-8", "replace")
        rec["dst"] = body[108:216].split(b"\0", 1)[0].decode("utf-8", "replace")
    rec["tlvs"] = parse_tlvs(body[alen:])
    return rec, 16 + ln


def parse_header(buf, expect):
    """Returns (record, header_len); raises Incomplete or HeaderError."""
    if expect == "none":
        return {"version": None, "command": None, "family": None, "src": None,
                "sport": None, "dst": None, "dport": None, "tlvs": []}, 0
    n = min(len(buf), 12)
    if buf[:n] == PP2_SIG[:n]:
        if n < 12:
            raise Incomplete()
        if expect == "v1":
            raise HeaderError("got a v2 header, expected v1")
        return parse_v2(buf)
    n = min(len(buf), 6)
    if buf[:n] == b"PROXY "[:n]:
        if n < 6:
            raise Incomplete()
        if expect == "v2":
            raise HeaderError("got a v1 header, expected v2")
        return parse_v1(buf)
    raise HeaderError("no PROXY header: first bytes %s" % buf[:16].hex())


class Server:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.seq = 0
        self.logf = open(args.log, "a", encoding="utf-8") if args.log else None

    def record(self, rec):
        line = json.dumps(rec, sort_keys=True)
        with self.lock:
            if self.logf:
                self.logf.write(line + "\n")
                self.logf.flush()
            if self.args.verbose:
                sys.stderr.write("ppecho: %s\n" % line)

    def next_seq(self):
        with self.lock:
            self.seq += 1
            return self.seq

    def handle(self, conn, peer):
        seq = self.next_seq()
        rec = {"conn": seq, "peer": peer, "error": None}
        try:
            conn.settimeout(HEADER_TIMEOUT)
            buf = b""
            while True:
                try:
                    hdr, hlen = parse_header(buf, self.args.expect)
                    break
                except Incomplete:
                    pass
                chunk = conn.recv(4096)
                if not chunk:
                    raise HeaderError("EOF after %d bytes, header incomplete"
                                      % len(buf))
                buf += chunk
            rec.update(hdr)
            rec["header_len"] = hlen
            self.record(rec)
        except HeaderError as e:
            rec["error"] = str(e)
            self.record(rec)
            conn.close()
            return
        except OSError as e:
            rec["error"] = "socket error before header complete: %s" % e
            self.record(rec)
            conn.close()
            return
        conn.settimeout(None)
        reset_after = self.args.reset_after
        try:
            rest = buf[hlen:]
            echoed = 0
            while True:
                data = rest or conn.recv(BUFSZ)
                rest = b""
                if not data:
                    break
                if reset_after is not None and echoed + len(data) >= reset_after:
                    conn.sendall(data[:reset_after - echoed])
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                    struct.pack("ii", 1, 0))
                    return      # close() in finally sends the RST
                conn.sendall(data)
                echoed += len(data)
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass    # resets are part of the tests; the header was recorded
        finally:
            conn.close()

    def serve(self, lsock):
        while True:
            conn, peer = lsock.accept()
            t = threading.Thread(target=self.handle,
                                 args=(conn, fmt_addr(lsock.family, peer)),
                                 daemon=True)
            t.start()


def fmt_addr(family, sa):
    if family == socket.AF_INET:
        return "%s:%d" % (sa[0], sa[1])
    if family == socket.AF_INET6:
        return "[%s]:%d" % (sa[0], sa[1])
    return "unix:" + (sa if isinstance(sa, str) and sa else "")


def split_hostport(s):
    if s.startswith("["):
        host, _, port = s[1:].partition("]:")
        return socket.AF_INET6, host, int(port)
    host, _, port = s.rpartition(":")
    return socket.AF_INET, host, int(port)


def listen(args):
    if args.unix:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            os.unlink(args.unix)
        except FileNotFoundError:
            pass
        s.bind(args.unix)
        s.listen(128)
        return s, "unix:" + args.unix
    fam, host, port = split_hostport(args.bind)
    s = socket.socket(fam, socket.SOCK_STREAM,
                      IPPROTO_MPTCP if args.mptcp else 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((host, port))
    s.listen(128)
    return s, fmt_addr(fam, s.getsockname())


def main():
    ap = argparse.ArgumentParser(
        description="PROXY-protocol-checking echo backend for mptcp-frontd "
                    "tests.  Prints its address on stdout line 1.")
    ap.add_argument("--bind", default="127.0.0.1:0",
                    help="address to listen on (default 127.0.0.1:0; "
                         "IPv6 as [::1]:0)")
    ap.add_argument("--unix", metavar="PATH",
                    help="listen on a unix stream socket instead")
    ap.add_argument("--mptcp", action="store_true",
                    help="listen with IPPROTO_MPTCP (to try the tools "
                         "without the daemon)")
    ap.add_argument("--expect", choices=("any", "v1", "v2", "none"),
                    default="any",
                    help="which header to require (default any; none = "
                         "plain echo, no header)")
    ap.add_argument("--log", metavar="FILE",
                    help="append one JSON line per connection")
    ap.add_argument("--reset-after", type=int, metavar="BYTES",
                    help="echo BYTES, then close with RST (SO_LINGER 0)")
    ap.add_argument("--ready-file", metavar="FILE",
                    help="also write the listening address to FILE")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="copy records to stderr")
    args = ap.parse_args()

    try:
        lsock, addr = listen(args)
    except (OSError, ValueError) as e:
        sys.stderr.write("ppecho: cannot listen: %s\n" % e)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = Server(args)
    if args.ready_file:
        tmp = args.ready_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(addr + "\n")
        os.rename(tmp, args.ready_file)
    sys.stdout.write(addr + "\n")
    sys.stdout.flush()
    try:
        server.serve(lsock)
    except KeyboardInterrupt:
        pass
    finally:
        if args.unix:
            try:
                os.unlink(args.unix)
            except OSError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
