#!/usr/bin/env python3
"""Open N connections and hold them open: the idle-connection load for the
descriptor, pipe and memory checks.

Writes "held N" to stdout once every connection is established (and, with
--echo, has round-tripped one byte through an echo backend), then holds
them until the --release-file exists (or, without it, until stdin reaches
EOF) or --max seconds pass.  With --gap, waits that long between two
connects (so the server sees them accepted at distinct times); with
--list, writes "local ADDR:PORT" for each connection, in connect order,
before "held N".  Exit: 0 ok, 1 a connection failed, 2 usage."""
import os
import argparse
import resource
import select
import socket
import sys
import time

IPPROTO_MPTCP = getattr(socket, "IPPROTO_MPTCP", 262)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("count", type=int)
    ap.add_argument("--mptcp", action="store_true")
    ap.add_argument("--echo", action="store_true",
                    help="send one byte on each connection and wait for it back")
    ap.add_argument("--source", help="bind each connection to this address")
    ap.add_argument("--send", default="",
                    help="send this first on each connection (\\r\\n "
                    "escapes allowed): a PROXY header, say")
    ap.add_argument("--release-file",
                    help="let go once this file exists (polled every 50 ms)")
    ap.add_argument("--max", type=float, default=120.0,
                    help="give up holding after this many seconds")
    ap.add_argument("--gap", type=float, default=0.0,
                    help="seconds to wait between two connects")
    ap.add_argument("--list", action="store_true",
                    help='print "local ADDR:PORT" per connection')
    a = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, a.count + 64)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    fam = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    proto = IPPROTO_MPTCP if a.mptcp else 0
    socks = []
    deadline = time.monotonic() + a.max
    try:
        for i in range(a.count):
            if i > 0 and a.gap > 0:
                time.sleep(a.gap)
            s = socket.socket(fam, socket.SOCK_STREAM, proto)
            s.settimeout(10)
            if a.source:
                s.bind((a.source, 0))
            s.connect((a.host, a.port))
            if a.send:
                s.sendall(a.send.encode().decode("unicode_escape").encode())
            socks.append(s)
        if a.echo:
            for s in socks:
                s.sendall(b"x")
            for s in socks:
                if s.recv(1) != b"x":
                    print("echo failed", file=sys.stderr)
                    return 1
    except OSError as e:
        print("connection %d: %s" % (len(socks) + 1, e), file=sys.stderr)
        return 1
    if a.list:
        for s in socks:
            print("local %s:%d" % s.getsockname()[:2])
    print("held %d" % len(socks), flush=True)
    while time.monotonic() < deadline:
        if a.release_file:
            if os.path.exists(a.release_file):
                break
            time.sleep(0.05)
            continue
        r, _, _ = select.select([sys.stdin], [], [], 0.5)
        if r and not sys.stdin.read(1):
            break
    for s in socks:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
