#!/usr/bin/env python3
"""load: a bounded client load that counts every failure exactly.

    load.py [options] HOST PORT

THREADS threads each open a connection, make one short exchange, close,
and start over, until the stop file appears (--stop-file), --requests
exchanges were made in all, or --max-seconds passed; with --rate R, no
more than R exchanges start per second (all threads together).  Every exchange is
judged on its own, so one failure is one count (a benchmark tool such as
wrk reports socket errors in bulk and cannot say which request got what):

    --mode http   GET PATH (HTTP/1.0, Connection: close), read to EOF; ok
                  when the status is 200; the body is recorded
    --mode echo   send a short line, half-close, read to EOF; ok when the
                  same line came back

With --record FILE, one JSON object per exchange is written at the end:
t0 (wall-clock seconds before connect), t1 (after the last byte), ok,
body (http: the body, stripped; echo: null), error (null, or e.g.
"connect ECONNREFUSED", "recv ECONNRESET", "status 502"), local (our
address, "127.0.0.1:PORT", as the server's PROXY header names it).
t0/t1 are time.time(), the clock the daemon's log timestamps use.

With --progress FILE, "DONE FAILED" is rewritten (atomically) about every
20 ms, for a script to pace itself on the load.

The report on stderr is "key value" lines: requests N, failures N,
stopped (stop-file | requests | max-seconds), elapsed-ms N,
rate-per-s X, bodies {"A": n, ...} (http), errors {...} (when any).

Exit codes: 0 no failure (and not cut short by --max-seconds); 1 some
exchange failed or --max-seconds was reached; 2 usage.
Python 3 standard library only.
"""

import argparse
import errno
import json
import os
import socket
import sys
import threading
import time

IPPROTO_MPTCP = 262


def errname(e):
    if isinstance(e, socket.timeout):
        return "ETIMEDOUT"
    if getattr(e, "errno", None):
        return errno.errorcode.get(e.errno, str(e.errno))
    return str(e)


class Load:
    def __init__(self, a):
        self.a = a
        self.lock = threading.Lock()
        self.done = 0
        self.failed = 0
        self.started = 0
        self.records = []
        self.stop_reason = None
        self.start = time.monotonic()
        self.deadline = self.start + a.max_seconds
        host = a.host[1:-1] if a.host.startswith("[") else a.host
        self.family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.target = (host, a.port)

    def should_stop(self):
        """Claims the right to start one more exchange (waiting for its
        turn under --rate), or says stop."""
        with self.lock:
            if self.stop_reason:
                return True
            if self.a.stop_file and os.path.exists(self.a.stop_file):
                self.stop_reason = "stop-file"
            elif self.a.requests and self.started >= self.a.requests:
                self.stop_reason = "requests"
            elif time.monotonic() >= self.deadline:
                self.stop_reason = "max-seconds"
            else:
                due = (self.start + self.started / self.a.rate
                       if self.a.rate else 0)
                self.started += 1
            if self.stop_reason:
                return True
        ahead = due - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)   # rate limiting, not a readiness wait
        return False

    def exchange(self, n):
        a = self.a
        rec = {"t0": time.time(), "t1": None, "ok": False, "body": None,
               "error": None, "local": None}
        step = "socket"
        s = None
        try:
            s = socket.socket(self.family, socket.SOCK_STREAM,
                              IPPROTO_MPTCP if a.mptcp else 0)
            s.settimeout(a.timeout)
            step = "connect"
            s.connect(self.target)
            loc = s.getsockname()
            rec["local"] = ("[%s]:%d" if self.family == socket.AF_INET6
                            else "%s:%d") % (loc[0], loc[1])
            step = "send"
            if a.mode == "http":
                s.sendall(("GET %s HTTP/1.0\r\nHost: localhost\r\n"
                           "Connection: close\r\n\r\n" % a.path).encode())
            else:
                line = ("ping %d %s\n" % (n, rec["local"])).encode()
                s.sendall(line)
                s.shutdown(socket.SHUT_WR)
            step = "recv"
            chunks = []
            while True:
                d = s.recv(65536)
                if not d:
                    break
                chunks.append(d)
            rec["t1"] = time.time()
            resp = b"".join(chunks)
            if a.mode == "http":
                head, sep, body = resp.partition(b"\r\n\r\n")
                status = head.split(b"\r\n", 1)[0].split()
                if not sep or len(status) < 2:
                    rec["error"] = "no complete response (%d bytes)" % len(resp)
                elif status[1] != b"200":
                    rec["error"] = "status " + status[1].decode("latin-1")
                else:
                    rec["body"] = body.decode("latin-1").strip()
                    rec["ok"] = True
            elif resp != line:
                rec["error"] = "echo mismatch (%d bytes back)" % len(resp)
            else:
                rec["ok"] = True
        except OSError as e:
            rec["t1"] = time.time()
            rec["error"] = "%s %s" % (step, errname(e))
        finally:
            if s is not None:
                s.close()
        with self.lock:
            self.done += 1
            if not rec["ok"]:
                self.failed += 1
            self.records.append(rec)

    def worker(self):
        while not self.should_stop():
            self.exchange(self.started)

    def write_progress(self):
        tmp = self.a.progress + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d %d\n" % (self.done, self.failed))
        os.replace(tmp, self.a.progress)


def main():
    ap = argparse.ArgumentParser(
        description="Bounded short-request load that counts failures.",
        epilog="Exit: 0 no failure, 1 failures or --max-seconds reached, "
               "2 usage.")
    ap.add_argument("host", help="IPv4 or IPv6 address (brackets optional)")
    ap.add_argument("port", type=int)
    ap.add_argument("--mode", choices=("http", "echo"), default="http")
    ap.add_argument("--path", default="/", help="http: the path to GET")
    ap.add_argument("--mptcp", action="store_true",
                    help="create the sockets with IPPROTO_MPTCP")
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--requests", type=int, default=0,
                    help="stop after this many exchanges (0 = no limit)")
    ap.add_argument("--rate", type=float, default=0.0,
                    help="start at most this many exchanges per second "
                         "(0 = as fast as the threads go)")
    ap.add_argument("--max-seconds", type=float, default=60.0,
                    help="give up after this long (counts as a failure)")
    ap.add_argument("--stop-file", metavar="FILE",
                    help="stop once FILE exists")
    ap.add_argument("--progress", metavar="FILE",
                    help="keep 'DONE FAILED' in FILE while running")
    ap.add_argument("--record", metavar="FILE",
                    help="write one JSON line per exchange at the end")
    ap.add_argument("--timeout", type=float, default=10.0,
                    help="seconds allowed for each socket operation")
    a = ap.parse_args()
    if a.threads < 1:
        ap.error("--threads must be at least 1")

    load = Load(a)
    start = time.monotonic()
    threads = [threading.Thread(target=load.worker, daemon=True)
               for _ in range(a.threads)]
    for t in threads:
        t.start()
    while True:
        alive = [t for t in threads if t.is_alive()]
        if not alive:
            break
        if a.progress:
            load.write_progress()
        alive[0].join(0.02)
    elapsed = time.monotonic() - start
    if a.progress:
        load.write_progress()

    if a.record:
        with open(a.record, "w") as f:
            for r in sorted(load.records, key=lambda r: r["t0"]):
                f.write(json.dumps(r, sort_keys=True) + "\n")
    bodies, errors = {}, {}
    for r in load.records:
        if r["ok"] and a.mode == "http":
            bodies[r["body"]] = bodies.get(r["body"], 0) + 1
        if r["error"]:
            errors[r["error"]] = errors.get(r["error"], 0) + 1
    out = sys.stderr
    out.write("requests %d\n" % load.done)
    out.write("failures %d\n" % load.failed)
    out.write("stopped %s\n" % load.stop_reason)
    out.write("elapsed-ms %d\n" % (elapsed * 1000))
    out.write("rate-per-s %.0f\n" % (load.done / elapsed if elapsed else 0))
    if a.mode == "http":
        out.write("bodies %s\n" % json.dumps(bodies, sort_keys=True))
    if errors:
        out.write("errors %s\n" % json.dumps(errors, sort_keys=True))
    return 1 if load.failed or load.stop_reason == "max-seconds" else 0


if __name__ == "__main__":
    sys.exit(main())
