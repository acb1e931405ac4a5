#!/usr/bin/env python3
"""notify_listen: stands in for the service manager's notify socket.

    notify_listen.py --socket PATH|@NAME --log FILE [--ready-file FILE]

Binds an AF_UNIX datagram socket (a path, or "@NAME" in the abstract
namespace, as $NOTIFY_SOCKET spells it) and appends one line per datagram
to FILE, flushed at once:

    MS pid=PID uid=UID KEY=VALUE KEY=VALUE ...

MS is milliseconds since the epoch at receipt, PID and UID are the
sender's (SCM_CREDENTIALS), and the datagram's newline-separated
assignments follow, space-separated.  --ready-file is written once the
socket is bound.  Runs until killed.  Python 3 standard library only.
"""

import argparse
import socket
import struct
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--ready-file")
    a = ap.parse_args()

    addr = "\0" + a.socket[1:] if a.socket.startswith("@") else a.socket
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    s.bind(addr)
    if a.ready_file:
        with open(a.ready_file, "w") as f:
            f.write(a.socket + "\n")
    ucred = struct.calcsize("3i")
    with open(a.log, "a") as log:
        while True:
            data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(ucred))
            pid = uid = -1
            for level, kind, payload in anc:
                if level == socket.SOL_SOCKET and \
                        kind == socket.SCM_CREDENTIALS:
                    pid, uid, _ = struct.unpack("3i", payload[:ucred])
            text = data.decode("utf-8", "replace").strip("\n")
            log.write("%d pid=%d uid=%d %s\n" % (
                time.time() * 1000, pid, uid, text.replace("\n", " ")))
            log.flush()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
