#!/usr/bin/env python3
"""Mixed traffic through the daemon to an echo backend, for a bounded time:
short exchanges, long transfers checked end to end, client resets
mid-transfer and half-closes.  Prints one "KIND ok N failed N" line per
kind and "total ok N failed N bytes N"; exit 0 only when no exchange that
should have succeeded failed.  Usage: soak.py HOST PORT SECONDS [--threads N]
[--mptcp] [--seed N]"""
import argparse
import hashlib
import random
import socket
import struct
import sys
import threading
import time

IPPROTO_MPTCP = getattr(socket, "IPPROTO_MPTCP", 262)


def connect(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM,
                      IPPROTO_MPTCP if a.mptcp else 0)
    s.settimeout(20)
    s.connect((a.host, a.port))
    return s


def echo(a, rng, size, half_close):
    """Send size random bytes while reading the echo; compare digests."""
    data = rng.randbytes(size)
    s = connect(a)
    got = hashlib.sha256()
    received = 0
    err = []

    def reader():
        nonlocal received
        try:
            while received < size:
                chunk = s.recv(262144)
                if not chunk:
                    break
                got.update(chunk)
                received += len(chunk)
        except OSError as e:
            err.append(e)

    t = threading.Thread(target=reader)
    t.start()
    try:
        s.sendall(data)
        if half_close:
            s.shutdown(socket.SHUT_WR)
    except OSError as e:
        err.append(e)
    t.join(30)
    if half_close and not err:
        # After our FIN the echo must end with the backend's EOF.
        try:
            if s.recv(1) != b"":
                err.append("data after the echo")
        except OSError as e:
            err.append(e)
    s.close()
    return not err and received == size and \
        got.digest() == hashlib.sha256(data).digest(), size * 2


def reset(a, rng):
    """Send part of a transfer, then cut the connection with RST."""
    s = connect(a)
    s.sendall(rng.randbytes(rng.randint(1, 512) * 1024))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    return True, 0


KINDS = ("short", "long", "halfclose", "reset")


def worker(a, seed, stop, results, lock):
    rng = random.Random(seed)
    while time.monotonic() < stop:
        kind = rng.choices(KINDS, weights=(70, 10, 10, 10))[0]
        try:
            if kind == "short":
                ok, n = echo(a, rng, rng.randint(1, 4096), False)
            elif kind == "long":
                ok, n = echo(a, rng, rng.randint(4, 16) << 20, False)
            elif kind == "halfclose":
                ok, n = echo(a, rng, rng.randint(1, 1024) << 10, True)
            else:
                ok, n = reset(a, rng)
        except OSError as e:
            print("%s: %s" % (kind, e), file=sys.stderr)
            ok, n = False, 0
        with lock:
            results[kind][0 if ok else 1] += 1
            results["bytes"] += n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("seconds", type=float)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--mptcp", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    results = {k: [0, 0] for k in KINDS}
    results["bytes"] = 0
    lock = threading.Lock()
    stop = time.monotonic() + a.seconds
    threads = [threading.Thread(target=worker,
                                args=(a, a.seed * 1000 + i, stop, results, lock))
               for i in range(a.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(a.seconds + 60)
    ok = sum(results[k][0] for k in KINDS)
    failed = sum(results[k][1] for k in KINDS)
    for k in KINDS:
        print("%s ok %d failed %d" % (k, results[k][0], results[k][1]))
    print("total ok %d failed %d bytes %d" % (ok, failed, results["bytes"]))
    return 0 if failed == 0 and ok > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
