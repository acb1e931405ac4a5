#!/usr/bin/env python3
"""client: a test client for mptcp-frontd, over MPTCP or plain TCP.

    client.py [options] HOST PORT MODE [mode options]

Diagnostics go to stderr, one "key value" line each, so scripts can grep
them; payload (an HTTP body, bytes read) goes to stdout:
    local 127.0.0.1:54321        our own address, as the server sees it
    peer 127.0.0.1:40000
    mptcp active subflows=0      (--mptcp, MPTCP_INFO readable)
    mptcp fallback (errno ...)   (--mptcp, the connection fell back to TCP)
    mptcp off                    (plain TCP socket)

Modes:
    integrity --mib N   send N MiB of seeded pseudo-random bytes while
                        reading the echo concurrently, half-close, read to
                        EOF; compare sizes and sha256 both ways; with
                        --mptcp also report the most subflows seen
                        ("mptcp-max subflows=N", all subflows counted)
    halfclose --mib N   send N MiB, shutdown(SHUT_WR), only then read the
                        whole echo to EOF and compare
    reset               send some bytes, wait for some echo, close with
                        SO_LINGER {1, 0} (RST) mid-transfer
    http PATH           GET PATH (HTTP/1.0), body on stdout; exit 0 on 200
    send TEXT           send TEXT (\\r \\n escapes), then read like "read"
    read                read until EOF (or --lines N lines); print it
    chat STEP...        steps "send:TEXT" or "expect:REGEX" (waits until
                        a received line matches); prints everything read
    hold                stay connected until the server closes; report
                        how long that took and whether it was EOF or RST
                        ("closed eof after S s"), print what was read;
                        --send TEXT first, with --drip SECONDS one byte
                        every SECONDS (a slow client; "unsent N" reports
                        what was never sent)
    connect             connect, then close
    get PATH            GET PATH (HTTP/1.0) and stream the body without
                        keeping it: report "status ...", "body N sha256 HEX",
                        "elapsed-ms N" (request to EOF), "rate-mbit X",
                        "stall-max-ms N at-byte M" (the longest wait between
                        two reads that returned data, first byte onwards)
                        and, with --mptcp, "mptcp-max subflows=N" and a
                        "subflow LOCAL>REMOTE" line for every subflow seen
                        (sampled every MiB, MPTCP_SUBFLOW_ADDRS); with
                        --progress FILE also append "MS BYTES SUBFLOWS"
                        lines (about every 50 ms) for a script to act on
                        mid-transfer, with --stalls FILE "MS BYTES GAP_MS"
                        for each wait of 10 ms or more (MS, the time since
                        the request, matches --progress); exit 0 on 200
                        with the whole Content-Length received

Exit codes: 0 success; 1 a check failed (mismatch, fallback under
--expect-mptcp, non-200, expectation not met, --max exceeded); 2 usage;
3 connect failed (the errno name is printed, e.g. "connect ECONNREFUSED");
4 I/O error or timeout after connecting.
Python 3 standard library only.
"""

import argparse
import codecs
import errno
import hashlib
import random
import re
import socket
import struct
import sys
import threading
import time

IPPROTO_MPTCP = 262
SOL_MPTCP = 284
MPTCP_INFO = 1
MIB = 1024 * 1024
CHUNK = 64 * 1024
PP2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"


class CheckFailed(Exception):
    pass


def info(key, value):
    sys.stderr.write("%s %s\n" % (key, value))
    sys.stderr.flush()


def errname(e):
    return errno.errorcode.get(e.errno, str(e.errno)) if e.errno else str(e)


def fmt_addr(family, sa):
    if family == socket.AF_INET6:
        return "[%s]:%d" % (sa[0], sa[1])
    if family == socket.AF_INET:
        return "%s:%d" % (sa[0], sa[1])
    return "unix:%s" % sa


def make_proxy_header(version, sock):
    """A hand-made header (src = our address, dst = the server's): lets a
    test talk to nginx directly to check the nginx side on its own."""
    fam = sock.family
    src, dst = sock.getsockname(), sock.getpeername()
    if version == "v1":
        proto = "TCP6" if fam == socket.AF_INET6 else "TCP4"
        return ("PROXY %s %s %s %d %d\r\n" % (proto, src[0], dst[0], src[1],
                                              dst[1])).encode()
    body = (socket.inet_pton(fam, src[0]) + socket.inet_pton(fam, dst[0])
            + struct.pack("!HH", src[1], dst[1]))
    famb = 0x21 if fam == socket.AF_INET6 else 0x11
    return PP2_SIG + bytes([0x21, famb]) + struct.pack("!H", len(body)) + body


def mptcp_status(sock, args):
    if not args.mptcp:
        info("mptcp", "off")
        return
    try:
        raw = sock.getsockopt(SOL_MPTCP, MPTCP_INFO, 256)
    except OSError as e:
        info("mptcp", "fallback (%s)" % errname(e))
        if args.expect_mptcp:
            raise CheckFailed("connection fell back to plain TCP")
        return
    subflows = raw[0] if raw else -1
    info("mptcp", "active subflows=%d info_len=%d" % (subflows, len(raw)))
    if args.expect_fallback:
        raise CheckFailed("connection is MPTCP, expected a fallback")


def connect(args):
    host = args.host
    if host.startswith("unix:"):
        fam, target = socket.AF_UNIX, host[5:]
    else:
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        target = (host, args.port)
    proto = IPPROTO_MPTCP if args.mptcp else 0
    try:
        s = socket.socket(fam, socket.SOCK_STREAM, proto)
    except OSError as e:
        info("error", "socket %s" % errname(e))
        sys.exit(3)
    s.settimeout(args.timeout)
    try:
        s.connect(target)
    except OSError as e:
        info("connect", errname(e) if not isinstance(e, socket.timeout)
             else "ETIMEDOUT")
        sys.exit(3)
    if fam != socket.AF_UNIX:
        info("local", fmt_addr(fam, s.getsockname()))
        info("peer", fmt_addr(fam, s.getpeername()))
        mptcp_status(s, args)
    if args.send_proxy:
        s.sendall(make_proxy_header(args.send_proxy, s))
    return s


def stream_bytes(mib, seed):
    """Yields the pseudo-random payload in CHUNK pieces; every chunk differs
    so reordering or duplication of whole chunks changes the digest."""
    total = int(mib * MIB)
    gen = random.Random(seed)
    while total > 0:
        n = min(CHUNK, total)
        yield gen.randbytes(n)
        total -= n


def paced(it, rate_mibps):
    if not rate_mibps:
        yield from it
        return
    start = time.monotonic()
    sent = 0
    for chunk in it:
        yield chunk
        sent += len(chunk)
        ahead = sent / (rate_mibps * MIB) - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)   # rate limiting, not a readiness wait


def subflows_total(sock):
    """All subflows of an MPTCP connection now (mptcpi_subflows_total on
    6.8+, else mptcpi_subflows + 1), or 0 when MPTCP_INFO is unreadable."""
    try:
        raw = sock.getsockopt(SOL_MPTCP, MPTCP_INFO, 256)
    except OSError:
        return 0
    if len(raw) > 80 and raw[80]:
        return raw[80]
    return raw[0] + 1 if raw else 0


MPTCP_SUBFLOW_ADDRS = 3
SS_SIZE = 128           # struct __kernel_sockaddr_storage


def _sockaddr_text(raw):
    fam = struct.unpack_from("=H", raw)[0]
    port = struct.unpack_from("!H", raw, 2)[0]
    if fam == socket.AF_INET:
        return "%s:%d" % (socket.inet_ntop(fam, raw[4:8]), port)
    if fam == socket.AF_INET6:
        return "[%s]:%d" % (socket.inet_ntop(fam, raw[8:24]), port)
    return "family%d" % fam


def subflow_addrs(sock, most=8):
    """The subflows of an MPTCP connection now, as "LOCAL>REMOTE" strings
    (MPTCP_SUBFLOW_ADDRS: the kernel reads a struct mptcp_subflow_data
    header from the buffer, which Python's getsockopt cannot pass, hence
    ctypes).  Empty when the option is unavailable."""
    import ctypes
    hdr = struct.pack("=IIII", 16, 0, 0, 2 * SS_SIZE)
    buf = ctypes.create_string_buffer(hdr, 16 + most * 2 * SS_SIZE)
    ln = ctypes.c_uint32(len(buf))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.getsockopt(sock.fileno(), SOL_MPTCP, MPTCP_SUBFLOW_ADDRS, buf,
                       ctypes.byref(ln)) != 0:
        return []
    raw = buf.raw
    num, _, size = struct.unpack_from("=III", raw, 4)
    out = []
    for i in range(min(num, most)):
        off = 16 + i * size
        out.append("%s>%s" % (_sockaddr_text(raw[off:off + SS_SIZE]),
                               _sockaddr_text(raw[off + SS_SIZE:
                                                  off + 2 * SS_SIZE])))
    return out


def read_to_eof(s, h=None, watch=None):
    """Reads to EOF; with watch (a dict), samples the subflow count every
    MiB and keeps the largest in watch["max"]."""
    n = 0
    next_sample = 0
    while True:
        data = s.recv(256 * 1024)
        if not data:
            return n
        n += len(data)
        if h:
            h.update(data)
        if watch is not None and n >= next_sample:
            watch["max"] = max(watch.get("max", 0), subflows_total(s))
            next_sample = n + MIB


def compare(sent, sdig, got, gdig):
    info("sent", "%d sha256 %s" % (sent, sdig))
    info("received", "%d sha256 %s" % (got, gdig))
    if sent != got or sdig != gdig:
        raise CheckFailed("echo differs from what was sent")
    info("result", "match")


def mode_integrity(s, args):
    sh = hashlib.sha256()
    result = {}

    def sender():
        try:
            n = 0
            for chunk in paced(stream_bytes(args.mib, args.seed), args.rate):
                s.sendall(chunk)
                sh.update(chunk)
                n += len(chunk)
            s.shutdown(socket.SHUT_WR)
            result["sent"] = n
        except OSError as e:
            result["error"] = e

    t = threading.Thread(target=sender, daemon=True)
    t.start()
    rh = hashlib.sha256()
    watch = {} if args.mptcp else None
    got = read_to_eof(s, rh, watch)
    if watch:
        info("mptcp-max", "subflows=%d" % watch["max"])
    t.join(args.timeout)
    if "error" in result:
        raise result["error"]
    if "sent" not in result:
        raise CheckFailed("echo ended (%d bytes) before sending finished" % got)
    compare(result["sent"], sh.hexdigest(), got, rh.hexdigest())


def mode_halfclose(s, args):
    sh = hashlib.sha256()
    n = 0
    for chunk in stream_bytes(args.mib, args.seed):
        s.sendall(chunk)
        sh.update(chunk)
        n += len(chunk)
    s.shutdown(socket.SHUT_WR)
    info("shutdown", "SHUT_WR after %d bytes" % n)
    rh = hashlib.sha256()
    got = read_to_eof(s, rh)
    compare(n, sh.hexdigest(), got, rh.hexdigest())


def mode_reset(s, args):
    payload = b"x" * int(args.kib * 1024)
    s.sendall(payload)
    # Some echo proves the relay reached the backend; the rest stays unread
    # so the close is a reset mid-transfer.
    first = s.recv(4096)
    if not first:
        raise CheckFailed("server closed before echoing anything")
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    info("reset", "sent %d bytes, got %d back, closed with RST"
         % (len(payload), len(first)))


def mode_http(s, args):
    req = ("GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: frontd-test\r\n"
           "Connection: close\r\n\r\n" % (args.path, args.host_header))
    s.sendall(req.encode())
    chunks = []
    while True:
        d = s.recv(65536)
        if not d:
            break
        chunks.append(d)
    resp = b"".join(chunks)
    head, sep, body = resp.partition(b"\r\n\r\n")
    if not sep:
        raise CheckFailed("no complete HTTP response (%d bytes)" % len(resp))
    status = head.split(b"\r\n", 1)[0].decode("latin-1")
    info("status", status)
    sys.stdout.buffer.write(body)
    sys.stdout.flush()
    parts = status.split()
    if len(parts) < 2 or parts[1] != "200":
        raise CheckFailed("HTTP status is not 200")


def read_lines(s, nlines):
    buf = b""
    while nlines == 0 or buf.count(b"\n") < nlines:
        d = s.recv(65536)
        if not d:
            break
        buf += d
    sys.stdout.buffer.write(buf)
    sys.stdout.flush()
    if nlines and buf.count(b"\n") < nlines:
        raise CheckFailed("EOF after %d of %d lines" % (buf.count(b"\n"),
                                                        nlines))


def unescape(text):
    return codecs.decode(text, "unicode_escape").encode("latin-1")


def mode_send(s, args):
    s.sendall(unescape(args.text))
    read_lines(s, args.lines)


def mode_read(s, args):
    read_lines(s, args.lines)


def mode_chat(s, args):
    buf = b""
    consumed = 0    # lines before this offset were already matched
    for step in args.steps:
        kind, _, arg = step.partition(":")
        if kind == "send":
            s.sendall(unescape(arg))
        elif kind == "expect":
            rx = re.compile(arg.encode())
            while True:
                lines = buf[consumed:].split(b"\n")
                hit = None
                off = consumed
                for ln in lines[:-1]:
                    off += len(ln) + 1
                    if rx.search(ln):
                        hit = off
                        break
                if hit is not None:
                    consumed = hit
                    break
                d = s.recv(65536)
                if not d:
                    sys.stdout.buffer.write(buf)
                    raise CheckFailed("EOF before a line matched %r" % arg)
                buf += d
        else:
            raise CheckFailed("bad chat step %r" % step)
    sys.stdout.buffer.write(buf)
    sys.stdout.flush()


def mode_hold(s, args):
    start = time.monotonic()
    data = unescape(args.send) if args.send else b""
    if not args.drip:
        s.sendall(data)
        data = b""
    how = "eof"
    got = b""
    next_send = start
    try:
        while True:
            now = time.monotonic()
            if now - start >= args.max:
                raise socket.timeout()
            if data and now >= next_send:
                # --drip: one byte at a time, a slow sender
                s.sendall(data[:1])
                data = data[1:]
                next_send = now + args.drip
            wait = args.max - (now - start)
            if data:
                wait = min(wait, max(next_send - now, 0))
            s.settimeout(max(wait, 0.01))
            try:
                d = s.recv(65536)
            except socket.timeout:
                continue
            if not d:
                break
            got += d
    except socket.timeout:
        how = "timeout"
    except OSError as e:
        how = "reset" if e.errno == errno.ECONNRESET else errname(e)
    took = time.monotonic() - start
    sys.stdout.buffer.write(got)
    info("closed", "%s after %.3f s" % (how, took))
    info("unsent", "%d" % len(data))
    if how == "timeout":
        raise CheckFailed("still open after %.1f s" % args.max)


def mode_connect(s, args):
    s.close()


def mode_get(s, args):
    req = ("GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: frontd-test\r\n"
           "Connection: close\r\n\r\n" % (args.path, args.host_header))
    start = time.monotonic()
    s.sendall(req.encode())
    prog = open(args.progress, "a", buffering=1) if args.progress else None
    stalls = open(args.stalls, "a", buffering=1) if args.stalls else None
    head = b""
    while b"\r\n\r\n" not in head:
        d = s.recv(65536)
        if not d:
            raise CheckFailed("no complete HTTP header (%d bytes)" % len(head))
        head += d
    head, _, body = head.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    info("status", lines[0])
    length = None
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        if k.strip().lower() == "content-length":
            length = int(v.strip())
    h = hashlib.sha256(body)
    n = len(body)
    last = time.monotonic()
    stall, stall_at = 0.0, 0
    smax = subflows_total(s) if args.mptcp else 0
    seen = []           # every subflow seen, in order of appearance
    next_sample, next_prog = n + MIB, last
    while True:
        if prog and last >= next_prog:
            prog.write("%d %d %d\n" % ((last - start) * 1000, n,
                                       subflows_total(s)))
            next_prog = last + 0.05
        d = s.recv(256 * 1024)
        now = time.monotonic()
        if not d:
            break
        if now - last > stall:
            stall, stall_at = now - last, n
        if stalls and now - last >= 0.01:
            stalls.write("%d %d %d\n" % ((last - start) * 1000, n,
                                         (now - last) * 1000))
        last = now
        n += len(d)
        h.update(d)
        if args.mptcp and n >= next_sample:
            smax = max(smax, subflows_total(s))
            for sf in subflow_addrs(s):
                if sf not in seen:
                    seen.append(sf)
            next_sample = n + MIB
    elapsed = time.monotonic() - start
    if prog:
        prog.write("%d %d %d\n" % (elapsed * 1000, n, subflows_total(s)))
        prog.close()
    if stalls:
        stalls.close()
    info("body", "%d sha256 %s" % (n, h.hexdigest()))
    info("elapsed-ms", "%d" % (elapsed * 1000))
    info("rate-mbit", "%.1f" % (n * 8 / elapsed / 1e6 if elapsed else 0))
    info("stall-max-ms", "%d at-byte %d" % (stall * 1000, stall_at))
    if args.mptcp:
        info("mptcp-max", "subflows=%d" % smax)
        for sf in seen:
            info("subflow", sf)
    parts = lines[0].split()
    if len(parts) < 2 or parts[1] != "200":
        raise CheckFailed("HTTP status is not 200")
    if length is not None and n != length:
        raise CheckFailed("body has %d bytes, Content-Length %d" % (n, length))


def main():
    ap = argparse.ArgumentParser(
        description="MPTCP/TCP test client for mptcp-frontd.",
        epilog="Exit: 0 ok, 1 check failed, 2 usage, 3 connect failed, "
               "4 I/O error or timeout.")
    ap.add_argument("--mptcp", action="store_true",
                    help="create the socket with IPPROTO_MPTCP")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--expect-mptcp", action="store_true",
                   help="fail unless MPTCP_INFO is readable after connect "
                        "(no fallback); implies --mptcp")
    g.add_argument("--expect-fallback", action="store_true",
                   help="fail unless the MPTCP connection fell back to TCP; "
                        "implies --mptcp")
    ap.add_argument("--timeout", type=float, default=30.0,
                    help="seconds allowed for each socket operation")
    ap.add_argument("--send-proxy", choices=("v1", "v2"),
                    help="send a hand-made PROXY header first (to test a "
                         "backend without the daemon)")
    ap.add_argument("host", help="IPv4, IPv6 (brackets optional) or "
                                 "unix:/path")
    ap.add_argument("port", type=int)
    sub = ap.add_subparsers(dest="mode", required=True)
    p = sub.add_parser("integrity")
    p.add_argument("--mib", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=1, help="payload seed")
    p.add_argument("--rate", type=float, default=0.0,
                   help="send at most this many MiB/s (0 = unlimited)")
    p = sub.add_parser("halfclose")
    p.add_argument("--mib", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=1, help="payload seed")
    p = sub.add_parser("reset")
    p.add_argument("--kib", type=float, default=256.0)
    p = sub.add_parser("http")
    p.add_argument("path")
    p.add_argument("--host-header", default="localhost")
    p = sub.add_parser("send")
    p.add_argument("text")
    p.add_argument("--lines", type=int, default=0,
                   help="stop after N lines (0 = read to EOF)")
    p = sub.add_parser("read")
    p.add_argument("--lines", type=int, default=0)
    p = sub.add_parser("chat")
    p.add_argument("steps", nargs="+")
    p = sub.add_parser("hold")
    p.add_argument("--send", help="text to send first")
    p.add_argument("--drip", type=float, default=0.0, metavar="SECONDS",
                   help="send that text one byte every SECONDS instead")
    p.add_argument("--max", type=float, default=10.0,
                   help="fail if still open after this many seconds")
    sub.add_parser("connect")
    p = sub.add_parser("get")
    p.add_argument("path")
    p.add_argument("--host-header", default="localhost")
    p.add_argument("--progress", metavar="FILE",
                   help="append 'MS BYTES SUBFLOWS' lines while reading")
    p.add_argument("--stalls", metavar="FILE",
                   help="append 'MS BYTES GAP_MS' for every wait of 10 ms "
                        "or more between two reads (MS: when it began)")
    args = ap.parse_args()
    # Either expectation is about an MPTCP socket, so implies --mptcp.
    args.mptcp = args.mptcp or args.expect_mptcp or args.expect_fallback

    handler = globals()["mode_" + args.mode]
    s = None
    try:
        s = connect(args)
        handler(s, args)
    except CheckFailed as e:
        info("fail", str(e))
        return 1
    except socket.timeout:
        info("error", "timed out after %.1f s" % args.timeout)
        return 4
    except OSError as e:
        info("error", "%s %s" % (errname(e), e.strerror or e))
        return 4
    finally:
        if s is not None:
            try:
                s.close()
            except OSError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
