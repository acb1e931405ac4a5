#!/usr/bin/env python3
"""sockact_launch: socket activation as a service manager does it, for tests.

    sockact_launch.py [options] -- COMMAND [ARGS...]

Creates listening sockets, places them at descriptors 3, 4, ... in order,
sets LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES and execs COMMAND in this
very process, so LISTEN_PID is COMMAND's own PID (what a service manager
guarantees after its fork).

    --sock NAME=KIND:HOST  a socket, in descriptor order; KIND is tcp,
                           mptcp (IPPROTO_MPTCP) or bound (tcp, bound but
                           not listening); HOST an IPv4 or IPv6 address;
                           the port is chosen by the kernel
    --names TEXT           LISTEN_FDNAMES as given (default: the NAMEs
                           joined by ':'); "-" leaves it unset
    --pid N                LISTEN_PID=N instead of our own PID
    --template IN --config OUT
                           copy IN to OUT replacing each @NAME@ by that
                           socket's address ("127.0.0.1:PORT", "[::1]:PORT")
    --info FILE            one line per socket: "NAME ADDRESS INODE"

Python 3 standard library only.
"""

import argparse
import os
import socket
import sys

IPPROTO_MPTCP = 262
FIRST_FD = 3


def fmt(sock):
    host, port = sock.getsockname()[:2]
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)


def make(spec):
    name, _, rest = spec.partition("=")
    kind, _, host = rest.partition(":")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    proto = IPPROTO_MPTCP if kind == "mptcp" else socket.IPPROTO_TCP
    if kind not in ("tcp", "mptcp", "bound") or not name or not host:
        sys.exit("sockact_launch: bad --sock %r" % spec)
    s = socket.socket(family, socket.SOCK_STREAM, proto)
    s.bind((host, 0))
    if kind != "bound":
        s.listen(128)
    return name, s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sock", action="append", default=[])
    ap.add_argument("--names")
    ap.add_argument("--pid", type=int)
    ap.add_argument("--template")
    ap.add_argument("--config")
    ap.add_argument("--info")
    ap.add_argument("command", nargs="+")
    a = ap.parse_args()

    socks = [make(spec) for spec in a.sock]
    if a.template:
        text = open(a.template).read()
        for name, s in socks:
            text = text.replace("@%s@" % name, fmt(s))
        with open(a.config, "w") as f:
            f.write(text)
    if a.info:
        with open(a.info, "w") as f:
            for name, s in socks:
                f.write("%s %s %d\n" % (name, fmt(s),
                                        os.fstat(s.fileno()).st_ino))

    # Park them high first, so that moving one to 3 + i never closes
    # another still waiting to move.
    for i, (_, s) in enumerate(socks):
        os.dup2(s.fileno(), 100 + i)
        s.close()
    for i in range(len(socks)):
        os.dup2(100 + i, FIRST_FD + i, inheritable=True)
        os.close(100 + i)

    env = dict(os.environ)
    env["LISTEN_FDS"] = str(len(socks))
    env["LISTEN_PID"] = str(a.pid if a.pid is not None else os.getpid())
    names = a.names if a.names is not None else \
        ":".join(name for name, _ in socks)
    if names != "-":
        env["LISTEN_FDNAMES"] = names
    else:
        env.pop("LISTEN_FDNAMES", None)
    os.execvpe(a.command[0], a.command, env)


if __name__ == "__main__":
    main()
