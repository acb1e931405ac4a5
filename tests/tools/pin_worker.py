#!/usr/bin/env python3
"""pin_worker: hold one connection that a given worker thread of the daemon
accepted.

    pin_worker.py HOST PORT METRICS_URL WORKER --release-file FILE

The kernel spreads connections over the workers' SO_REUSEPORT sockets by a
hash of the addresses: which worker takes a connection cannot be chosen
from outside.  So connect, read /metrics
(mptcp_frontd_worker_connections_accepted_total{worker="N"}) to see which
worker's count went up, keep the connection when it is WORKER's, close it
and try again otherwise (at most --tries times; each try is a coin flip
with two workers, so 40 tries fail once in 2^40 runs).  Prints
"pinned TRIES" once held, then holds until the release file exists or the
server closes the connection, and prints "closed by server" or "released".
Exit: 0 pinned (and ended either way), 1 not pinned, 2 usage.
Python 3 standard library only."""
import argparse
import os
import re
import select
import socket
import sys
import time
import urllib.request


def accepted(url):
    text = urllib.request.urlopen(url, timeout=5).read().decode()
    got = {}
    for m in re.finditer(r'^mptcp_frontd_worker_connections_accepted_total'
                         r'\{worker="(\d+)"\} (\d+)$', text, re.M):
        got[int(m.group(1))] = int(m.group(2))
    return got


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("metrics")
    ap.add_argument("worker", type=int)
    ap.add_argument("--release-file", required=True)
    ap.add_argument("--tries", type=int, default=40)
    ap.add_argument("--max", type=float, default=60.0)
    a = ap.parse_args()
    for i in range(1, a.tries + 1):
        before = accepted(a.metrics)
        s = socket.create_connection((a.host, a.port), timeout=5)
        s.sendall(b"pin\n")
        if s.recv(16) != b"pin\n":      # echoed: the daemon accepted it
            print("no echo", flush=True)
            return 1
        after = accepted(a.metrics)
        took = [w for w in after if after[w] != before.get(w, 0)]
        if took == [a.worker]:
            print("pinned %d" % i, flush=True)
            break
        s.close()
    else:
        print("not pinned after %d tries" % a.tries, flush=True)
        return 1
    deadline = time.monotonic() + a.max
    while time.monotonic() < deadline:
        if os.path.exists(a.release_file):
            print("released", flush=True)
            return 0
        r, _, _ = select.select([s], [], [], 0.05)
        if r and not s.recv(4096):
            print("closed by server", flush=True)
            return 0
    print("still open after %g s" % a.max, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
