#!/usr/bin/env python3
"""authhttp: a stand-in for nginx mail's auth_http server.

Listens on 127.0.0.1:0, announces "127.0.0.1:PORT" on stdout line 1 (and in
--ready-file), appends the request headers of every auth request as one
JSON object to --log (so a test can read the Client-IP nginx saw), and
always refuses: "Auth-Status: relay refused by test" with
"Auth-Error-Code: 550 5.7.1", which nginx passes on to the SMTP client.

Exit codes: 0 on SIGTERM/SIGINT, 2 when it cannot listen.
Python 3 standard library only.
"""

import argparse
import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    log_path = None

    def do_GET(self):
        rec = {k: v for k, v in self.headers.items()}
        rec["path"] = self.path
        with LOCK:
            with open(self.log_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(rec, sort_keys=True) + "\n")
        self.send_response(200)
        self.send_header("Auth-Status", "relay refused by test")
        self.send_header("Auth-Error-Code", "550 5.7.1")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    ap = argparse.ArgumentParser(
        description="Records nginx mail auth_http requests and refuses them.")
    ap.add_argument("--log", required=True, metavar="FILE",
                    help="append one JSON line of request headers per request")
    ap.add_argument("--ready-file", metavar="FILE",
                    help="also write the listening address to FILE")
    args = ap.parse_args()
    Handler.log_path = args.log
    try:
        srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    except OSError as e:
        sys.stderr.write("authhttp: cannot listen: %s\n" % e)
        return 2
    srv.daemon_threads = True
    addr = "%s:%d" % srv.server_address[:2]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if args.ready_file:
        with open(args.ready_file + ".tmp", "w") as f:
            f.write(addr + "\n")
        os.rename(args.ready_file + ".tmp", args.ready_file)
    print(addr, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
