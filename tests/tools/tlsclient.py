#!/usr/bin/env python3
"""tlsclient: a TLS test client for mptcp-frontd, over MPTCP or plain TCP.

    tlsclient.py [options] HOST PORT MODE [mode arguments]

Diagnostics go to stderr, one "key value" line each, so scripts can grep
them; payload goes to stdout:
    local 127.0.0.1:54321        our address, as the server sees it
    mptcp active | fallback | off
    tls TLSv1.3                  negotiated version
    cipher TLS_AES_256_GCM_SHA384
    alpn h2                      (or "alpn -")
    peer-cn a.test               the server certificate's subject CN
    reused 0|1                   whether the session was resumed
    handshake-error TEXT         the handshake (or the first read) failed

Modes:
    echo TEXT       send TEXT, half-close (close_notify), read to EOF and
                    print it; exit 1 when the echo differs
    read [TEXT]     send TEXT (if any), half-close, print what arrives
                    until the server's close (a server that talks first)
    integrity MIB   send MIB MiB of seeded pseudo-random bytes while
                    reading the echo concurrently, then close_notify and
                    read to EOF; compare sizes and sha256 both ways
    http PATH       GET PATH (HTTP/1.1, Connection: close), body on stdout;
                    exit 0 on 200
    resume TEXT     "echo" twice, the second time offering the first
                    connection's session: "reused 1" on the second
    hold            handshake, then wait until the server closes; report
                    "closed-after-ms N" and "closed eof|reset|error"
    pause TEXT      echo TEXT, wait until --go FILE exists, then echo it
                    again on the same connection and half-close: the
                    connection survives whatever happened meanwhile
    flood MIB       send up to MIB MiB without ever reading (the echo
                    piles up); stop when a send blocks for 0.5 s; report
                    "sent-before-block N" (bytes), then close
    raw KIND        no TLS: send bad input and wait for the server to
                    close; KIND is http (a plain HTTP request), random
                    (300 random bytes), hello-part (the first 60 bytes of
                    a real ClientHello, then silence), hello-part-fin (the
                    same, then FIN) or silent (nothing); report
                    "closed-after-ms N", "received N" and "closed eof|reset"

TLS options: --sni NAME (default: none), --alpn LIST (comma-separated),
--ca FILE (verify the server against it; default: no verification),
--cert FILE --key FILE (a client certificate).

Exit codes: 0 success; 1 a check failed; 2 usage; 3 connect failed;
4 the TLS handshake failed (or the server ended the connection at the
first read, as TLS 1.3 servers do when they reject a client
certificate); 5 other I/O error or timeout.
Python 3 standard library only.
"""

import argparse
import errno
import hashlib
import os
import random
import select
import socket
import ssl
import sys
import time

IPPROTO_MPTCP = 262
SOL_MPTCP = 284
MPTCP_INFO = 1
MIB = 1024 * 1024
CHUNK = 64 * 1024


class CheckFailed(Exception):
    pass


class HandshakeFailed(Exception):
    pass


def info(key, value):
    sys.stderr.write("%s %s\n" % (key, value))
    sys.stderr.flush()


def errname(e):
    return errno.errorcode.get(e.errno, str(e.errno)) if e.errno else str(e)


def fmt_addr(family, sa):
    if family == socket.AF_INET6:
        return "[%s]:%d" % (sa[0], sa[1])
    return "%s:%d" % (sa[0], sa[1])


def make_context(args):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if args.ca:
        ctx.load_verify_locations(args.ca)
        ctx.check_hostname = bool(args.sni)
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if args.alpn:
        ctx.set_alpn_protocols(args.alpn.split(","))
    if args.cert:
        ctx.load_cert_chain(args.cert, args.key)
    if args.max_version:
        ctx.maximum_version = getattr(ssl.TLSVersion, args.max_version)
    return ctx


class TlsConn:
    """TLS over a socket through memory BIOs, so that the client can send
    its close_notify and keep reading (a TLS 1.3 half-close), which
    ssl.SSLSocket cannot."""

    def __init__(self, sock, ctx, sni, session):
        self.sock = sock
        self.inc = ssl.MemoryBIO()
        self.out = ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.inc, self.out, server_side=False,
                                server_hostname=sni, session=session)

    def _flush(self):
        data = self.out.read()
        if data:
            self.sock.sendall(data)

    def _fill(self):
        data = self.sock.recv(CHUNK)
        if not data:
            self.inc.write_eof()
            return False
        self.inc.write(data)
        return True

    def handshake(self):
        while True:
            try:
                self.obj.do_handshake()
                self._flush()
                return
            except ssl.SSLWantReadError:
                self._flush()
                if not self._fill():
                    raise ssl.SSLEOFError("EOF during the handshake")

    def send(self, data):
        self.obj.write(data)
        self._flush()

    def recv(self):
        """Some bytes, or b"" at the server's close_notify or EOF."""
        while True:
            try:
                return self.obj.read(CHUNK)
            except ssl.SSLWantReadError:
                self._flush()
                if not self._fill():
                    try:
                        return self.obj.read(CHUNK)
                    except (ssl.SSLEOFError, ssl.SSLZeroReturnError,
                            ssl.SSLWantReadError):
                        return b""
            except ssl.SSLZeroReturnError:
                return b""

    def close_notify(self):
        try:
            self.obj.unwrap()
        except ssl.SSLWantReadError:
            pass            # ours is sent; the server's comes later
        self._flush()

    def close(self):
        self.sock.close()


def connect(args, ctx, session=None, report=True):
    host = args.host.strip("[]")
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        raw = socket.socket(fam, socket.SOCK_STREAM,
                            IPPROTO_MPTCP if args.mptcp else 0)
        raw.settimeout(args.timeout)
        raw.connect((host, args.port))
    except OSError as e:
        info("connect", errname(e) if not isinstance(e, socket.timeout)
             else "ETIMEDOUT")
        sys.exit(3)
    if report:
        info("local", fmt_addr(fam, raw.getsockname()))
        if args.mptcp:
            try:
                raw.getsockopt(SOL_MPTCP, MPTCP_INFO, 256)
                info("mptcp", "active")
            except OSError as e:
                info("mptcp", "fallback (%s)" % errname(e))
                if args.expect_mptcp:
                    raise CheckFailed("connection fell back to plain TCP")
        else:
            info("mptcp", "off")
    c = TlsConn(raw, ctx, args.sni or None, session)
    try:
        c.handshake()
    except (ssl.SSLError, OSError) as e:
        raw.close()
        raise HandshakeFailed(str(e))
    o = c.obj
    if report:
        info("tls", o.version())
        info("cipher", o.cipher()[0])
        info("alpn", o.selected_alpn_protocol() or "-")
        cert = o.getpeercert() if args.ca else None
        if cert:
            cn = [v for rdn in cert.get("subject", ()) for k, v in rdn
                  if k == "commonName"]
            info("peer-cn", cn[0] if cn else "-")
        info("reused", 1 if o.session_reused else 0)
    return c


def read_all(c):
    data = b""
    while True:
        try:
            chunk = c.recv()
        except ssl.SSLError as e:
            # TLS 1.3 servers reject a client certificate after the
            # client's side of the handshake is done: it shows here.
            if not data:
                raise HandshakeFailed(str(e))
            raise
        if not chunk:
            break
        data += chunk
    return data


def do_echo(args, ctx, text, session=None):
    """Send, close_notify, read the echo to the end: the half-close goes
    through the daemon both ways."""
    c = connect(args, ctx, session)
    payload = text.encode().decode("unicode_escape").encode("latin-1")
    c.send(payload)
    c.close_notify()
    data = read_all(c)
    sys.stdout.buffer.write(data)
    sys.stdout.flush()
    sess = c.obj.session
    c.close()
    if data != payload:
        raise CheckFailed("echo differs: sent %d bytes, got %d"
                          % (len(payload), len(data)))
    return sess


def do_read(args, ctx, text):
    c = connect(args, ctx)
    if text:
        c.send(text.encode().decode("unicode_escape").encode("latin-1"))
    c.close_notify()
    data = read_all(c)
    sys.stdout.buffer.write(data)
    sys.stdout.flush()
    c.close()
    info("received", len(data))


def do_integrity(args, ctx, mib):
    c = connect(args, ctx)
    total = int(float(mib) * MIB)
    gen = random.Random(1234)
    sent_h = hashlib.sha256()
    got_h = hashlib.sha256()
    got_n = 0
    left = total
    pending = memoryview(b"")
    # One thread (the memory BIOs are not shared): send a chunk, take
    # what has arrived, so that neither side's buffers fill up for good.
    c.sock.setblocking(False)
    while left > 0 or pending:
        if not pending:
            n = min(CHUNK, left)
            chunk = gen.randbytes(n)
            sent_h.update(chunk)
            c.obj.write(chunk)
            left -= n
            pending = memoryview(c.out.read())
        try:
            k = c.sock.send(pending)
            pending = pending[k:]
        except BlockingIOError:
            select.select([c.sock], [c.sock], [], args.timeout)
        got_n += drain(c, got_h)
    c.sock.setblocking(True)
    c.sock.settimeout(args.timeout)
    c.close_notify()
    while True:
        chunk = c.recv()
        if not chunk:
            break
        got_h.update(chunk)
        got_n += len(chunk)
    c.close()
    info("sent", "%d %s" % (total, sent_h.hexdigest()))
    info("received", "%d %s" % (got_n, got_h.hexdigest()))
    if got_n != total or got_h.digest() != sent_h.digest():
        raise CheckFailed("echo differs")


def drain(c, h):
    """Take whatever arrived (non-blocking socket); returns bytes read."""
    n = 0
    while True:
        try:
            data = c.sock.recv(4 * CHUNK)
        except BlockingIOError:
            break
        if not data:
            break
        c.inc.write(data)
    while True:
        try:
            chunk = c.obj.read(CHUNK)
        except ssl.SSLWantReadError:
            break
        if not chunk:
            break
        h.update(chunk)
        n += len(chunk)
    return n


def do_http(args, ctx, path):
    c = connect(args, ctx)
    sni = args.sni or args.host
    c.send(("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
            % (path, sni)).encode())
    data = read_all(c)
    c.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].decode("latin-1")
    info("status", status)
    sys.stdout.buffer.write(body)
    if " 200 " not in status + " ":
        raise CheckFailed("status %r" % status)


def do_hold(args, ctx):
    c = connect(args, ctx)
    t0 = time.monotonic()
    how = "eof"
    try:
        while c.recv():
            pass
    except (ssl.SSLError, OSError) as e:
        how = "reset" if getattr(e, "errno", None) == errno.ECONNRESET \
            else "error (%s)" % e
    info("closed-after-ms", int((time.monotonic() - t0) * 1000))
    info("closed", how)
    c.close()


def do_pause(args, ctx, text):
    c = connect(args, ctx)
    payload = text.encode().decode("unicode_escape").encode("latin-1")
    for round_ in (1, 2):
        c.send(payload)
        got = b""
        while len(got) < len(payload):
            chunk = c.recv()
            if not chunk:
                raise CheckFailed("connection ended in round %d" % round_)
            got += chunk
        if got != payload:
            raise CheckFailed("echo differs in round %d" % round_)
        info("echo", "round %d ok" % round_)
        if round_ == 1:
            deadline = time.monotonic() + args.timeout
            while not os.path.exists(args.go):
                if time.monotonic() > deadline:
                    raise CheckFailed("no --go file after %gs" % args.timeout)
                time.sleep(0.02)
    c.close_notify()
    if read_all(c):
        raise CheckFailed("unexpected bytes after the echo")
    c.close()


def do_flood(args, ctx, mib):
    c = connect(args, ctx)
    total = int(float(mib) * MIB)
    chunk = b"\x5a" * CHUNK
    sent = 0
    c.sock.settimeout(0.5)
    try:
        while sent < total:
            c.obj.write(chunk)
            c.sock.sendall(c.out.read())
            sent += len(chunk)
    except (socket.timeout, BlockingIOError):
        pass
    info("sent-before-block", sent)
    c.close()


def client_hello():
    """The bytes of a real TLS 1.3 ClientHello."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="a.test")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def do_raw(args, kind):
    host = args.host.strip("[]")
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM,
                      IPPROTO_MPTCP if args.mptcp else 0)
    s.settimeout(args.timeout)
    s.connect((host, args.port))
    info("local", fmt_addr(fam, s.getsockname()))
    if kind == "http":
        s.sendall(b"GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")
    elif kind == "random":
        s.sendall(random.Random(7).randbytes(300))
    elif kind in ("hello-part", "hello-part-fin"):
        s.sendall(client_hello()[:60])
        if kind == "hello-part-fin":
            s.shutdown(socket.SHUT_WR)
    elif kind != "silent":
        raise CheckFailed("unknown raw kind %r" % kind)
    t0 = time.monotonic()
    got = b""
    how = "eof"
    try:
        while True:
            chunk = s.recv(CHUNK)
            if not chunk:
                break
            got += chunk
    except ConnectionResetError:
        how = "reset"
    except socket.timeout:
        how = "timeout"
    info("closed-after-ms", int((time.monotonic() - t0) * 1000))
    info("received", len(got))
    if got:
        info("first-bytes", got[:8].hex())
    info("closed", how)
    s.close()
    if how == "timeout":
        raise CheckFailed("the server did not close within %gs"
                          % args.timeout)


def main():
    ap = argparse.ArgumentParser(description="TLS test client")
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("mode", choices=("echo", "read", "integrity", "http",
                                     "resume",
                                     "hold", "pause", "raw", "flood"))
    ap.add_argument("arg", nargs="?", default="")
    ap.add_argument("--mptcp", action="store_true")
    ap.add_argument("--expect-mptcp", action="store_true")
    ap.add_argument("--sni")
    ap.add_argument("--alpn")
    ap.add_argument("--ca")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--max-version", choices=("TLSv1_2", "TLSv1_3"))
    ap.add_argument("--go", metavar="FILE", help="pause: continue once "
                    "FILE exists")
    ap.add_argument("--timeout", type=float, default=20.0)
    args = ap.parse_args()
    ctx = make_context(args)
    try:
        if args.mode == "echo":
            do_echo(args, ctx, args.arg or "hello\n")
        elif args.mode == "read":
            do_read(args, ctx, args.arg)
        elif args.mode == "integrity":
            do_integrity(args, ctx, args.arg or "1")
        elif args.mode == "http":
            do_http(args, ctx, args.arg or "/")
        elif args.mode == "resume":
            sess = do_echo(args, ctx, args.arg or "first\n")
            if sess is None:
                raise CheckFailed("no session to resume")
            do_echo(args, ctx, args.arg or "first\n", session=sess)
        elif args.mode == "hold":
            do_hold(args, ctx)
        elif args.mode == "pause":
            do_pause(args, ctx, args.arg or "ping\n")
        elif args.mode == "flood":
            do_flood(args, ctx, args.arg or "256")
        elif args.mode == "raw":
            do_raw(args, args.arg)
    except CheckFailed as e:
        info("check-failed", e)
        return 1
    except HandshakeFailed as e:
        info("handshake-error", e)
        return 4
    except (OSError, ssl.SSLError) as e:
        info("error", e)
        return 5
    return 0


if __name__ == "__main__":
    sys.exit(main())
