#!/usr/bin/env python3
"""Open and close COUNT connections to HOST PORT as fast as possible,
WIDTH at a time, each optionally sending BYTES first: a hostile client's
connection flood.  Prints "done N failed M" and exits 0 when at most 1% of
the connects failed, 1 otherwise (2: usage).  Bounded by --max seconds."""
import argparse
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("count", type=int)
    ap.add_argument("--width", type=int, default=50)
    ap.add_argument("--send", default="", help="bytes to send on each")
    ap.add_argument("--source", help="bind each connection to this address")
    ap.add_argument("--max", type=float, default=120.0)
    a = ap.parse_args()
    fam = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    deadline = time.monotonic() + a.max
    done = failed = 0
    data = a.send.encode()
    while done < a.count and time.monotonic() < deadline:
        batch = []
        for _ in range(min(a.width, a.count - done)):
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.settimeout(5)
            try:
                if a.source:
                    s.bind((a.source, 0))
                s.connect((a.host, a.port))
                if data:
                    s.sendall(data)
            except OSError:
                failed += 1
            batch.append(s)
            done += 1
        for s in batch:
            s.close()
    print("done %d failed %d" % (done, failed), flush=True)
    return 0 if done == a.count and failed * 100 <= a.count else 1


if __name__ == "__main__":
    sys.exit(main())
