#!/usr/bin/env python3
"""Measurement helpers for tests/bench/run.sh (python3 standard library only).

run.sh owns the processes (nginx, HAProxy, mptcp-frontd) and their
lifetimes; this file runs one measurement at a time and appends one JSON
record per measurement to a results file, then renders the report.

Subcommands:
  ports N                 print N currently free TCP ports on 127.0.0.1
  mptcp-listen-exec       create an MPTCP listening socket, keep it across
                          exec, put its fd number in an environment
                          variable and exec a program (HAProxy `bind fd@`)
  wrk                     one wrk run (keep-alive, one connection per
                          request, or one TLS handshake per request), parsed,
                          with an MPTCP counter check (and, over TLS, a
                          check of the proxy's full/resumed handshake counts);
                          the server's CPU time and context switches per
                          request
  syscalls                a short wrk run with the server's system calls
                          counted (perf's raw_syscalls tracepoints, or
                          strace -c -f): per request, failed ones, by name
  tls-probe               one TLS connection with openssl s_client: what the
                          proxy negotiates (version, suite, group, signature,
                          tickets), so the two proxies are seen to match
  bulk                    N downloads with curl: Gbit/s and the proxy's
                          CPU seconds per GiB
  idle                    hold idle MPTCP connections, measure the proxy's
                          RSS growth and check a fresh request is answered
  report                  markdown table + JSON from the results file
"""

import argparse
import json
import os
import platform
import re
import resource
import select
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

IPPROTO_MPTCP = 262
SOL_MPTCP = 284
MPTCP_INFO = 1
CLK_TCK = os.sysconf("SC_CLK_TCK")
GIB = 1 << 30

# Server-side MPTcpExt counters: a passive MP_CAPABLE handshake bumps
# SYNRX then ACKRX; a client that falls back shows up in the Fallback ones.
MPTCP_KEYS = ("MPCapableSYNRX", "MPCapableACKRX",
              "MPCapableFallbackACK", "MPCapableFallbackSYNACK")


def log(msg):
    print(msg, flush=True)


def fail(msg):
    print(f"bench.py: error: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


# ---------------------------------------------------------------- probes

def mptcp_counters():
    """MPTcpExt counters of this network namespace (what `nstat` reads)."""
    rows = []
    with open("/proc/net/netstat", encoding="ascii") as f:
        rows = [line.split() for line in f if line.startswith("MPTcpExt:")]
    if len(rows) < 2:
        return {}
    return dict(zip(rows[0][1:], (int(v) for v in rows[1][1:])))


class MptcpCheck:
    """Counter deltas around one client run, turned into a verdict."""

    def __init__(self):
        self.before = mptcp_counters()

    def finish(self, scenario, test, expect, mptcp):
        after = mptcp_counters()
        delta = {k: after.get(k, 0) - self.before.get(k, 0)
                 for k in MPTCP_KEYS}
        if not after:
            ok, verdict = False, "no MPTcpExt counters in /proc/net/netstat"
        elif not mptcp:
            # Plain TCP by design (direct): informative only; other
            # processes on the host may add MPTCP connections meanwhile.
            ok, verdict = True, "plain TCP by design"
        elif delta["MPCapableACKRX"] >= expect:
            ok, verdict = True, "MPTCP"
        else:
            ok, verdict = False, "NOT all MPTCP"
        line = (f"MPTCP check {scenario:<16} {test:<11} expected "
                f"{expect if mptcp else 0:>7} MPTCP connections: "
                f"MPCapableSYNRX +{delta['MPCapableSYNRX']}, "
                f"MPCapableACKRX +{delta['MPCapableACKRX']}, "
                f"fallback +{delta['MPCapableFallbackACK']}"
                f"/+{delta['MPCapableFallbackSYNACK']}: "
                f"{'ok' if ok else 'FAIL'} ({verdict})")
        log("  " + line)
        return {"expected": expect if mptcp else 0, "mptcp": mptcp,
                "delta": delta, "ok": ok, "line": line}


def pid_list(text):
    """--pid: one PID or several, comma-separated (0 or empty: none)."""
    return [int(p) for p in str(text).split(",") if p.strip() not in ("", "0")]


def proc_cpu_ticks(pids):
    """utime + stime of whole processes (all their threads), in ticks."""
    total = 0
    for pid in pid_list(pids):
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total


def proc_ctx_switches(pids):
    """Voluntary + involuntary context switches of every thread."""
    total = 0
    for pid in pid_list(pids):
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for t in tasks:
            try:
                with open(f"/proc/{pid}/task/{t}/status",
                          encoding="ascii") as f:
                    for line in f:
                        if line.startswith(("voluntary_ctxt_switches:",
                                            "nonvoluntary_ctxt_switches:")):
                            total += int(line.split()[1])
            except OSError:
                continue  # a thread that ended meanwhile
    return total


def proc_rss_kib(pid):
    """Resident set of a process; smaps_rollup when there, else status."""
    for path, key in ((f"/proc/{pid}/smaps_rollup", "Rss:"),
                      (f"/proc/{pid}/status", "VmRSS:")):
        try:
            with open(path, encoding="ascii") as f:
                for line in f:
                    if line.startswith(key):
                        return int(line.split()[1])
        except OSError:
            continue
    raise OSError(f"cannot read the RSS of pid {pid}")


def slab_kib():
    """Kernel slab memory of the whole host (sockets live there)."""
    with open("/proc/meminfo", encoding="ascii") as f:
        for line in f:
            if line.startswith("Slab:"):
                return int(line.split()[1])
    return 0


def nginx_active(url):
    """`Active connections` from nginx stub_status (includes this one)."""
    with urllib.request.urlopen(url, timeout=3) as r:
        m = re.search(rb"Active connections:\s*(\d+)", r.read())
    if not m:
        raise ValueError(f"no stub_status answer at {url}")
    return int(m.group(1))


def parse_addr(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


def fresh_request(addr, path="/small", timeout=5.0):
    """One HTTP request over a new MPTCP connection; True on a 200."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM,
                           IPPROTO_MPTCP) as s:
            s.settimeout(timeout)
            s.connect(addr)
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: bench\r\n"
                      "Connection: close\r\n\r\n".encode())
            data = b""
            while len(data) < 65536:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        return data.startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def is_mptcp(sock):
    """MPTCP_INFO only answers while the connection is really MPTCP."""
    try:
        sock.getsockopt(SOL_MPTCP, MPTCP_INFO, 256)
        return True
    except OSError:
        return False


def append_record(path, rec):
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(rec, sort_keys=True) + "\n")


# ---------------------------------------------------------------- ports

def cmd_ports(a):
    socks = []
    try:
        for _ in range(a.n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        print(" ".join(str(s.getsockname()[1]) for s in socks))
    finally:
        for s in socks:
            s.close()


# ------------------------------------------------ MPTCP listener + exec

def cmd_mptcp_listen_exec(a):
    """Give a program an already bound MPTCP listening socket.

    HAProxy 2.6 cannot create MPTCP sockets itself; handed this one with
    `bind fd@N`, it accepts MPTCP while its backend sockets stay plain TCP
    (what HAProxy 3.1's native `mptcp@` does).  Wrapping HAProxy in
    mptcpize instead would turn its backend sockets into MPTCP as well.
    """
    if not a.argv:
        fail("mptcp-listen-exec: no program given")
    argv = a.argv[1:] if a.argv[0] == "--" else a.argv
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
    if s.getsockopt(socket.SOL_SOCKET, socket.SO_PROTOCOL) != IPPROTO_MPTCP:
        fail("the kernel did not create an MPTCP socket")
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", a.port))
    s.listen(a.backlog)
    s.set_inheritable(True)
    os.environ[a.env] = str(s.fileno())
    tmp = a.portfile + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write(f"{s.getsockname()[1]}\n")
    os.rename(tmp, a.portfile)
    sys.stdout.flush()
    os.execvp(argv[0], argv)


# ---------------------------------------------------------------- wrk

UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}


# wrk's done() hook: the percentiles --latency does not print (p99.9).
LATENCY_LUA = """
done = function(summary, latency, requests)
  for _, p in ipairs({50, 90, 99, 99.9}) do
    io.write(string.format("pctl %g %d\\n", p, latency:percentile(p)))
  end
end
"""


def latency_script(out):
    path = os.path.join(os.path.dirname(os.path.abspath(out)), "latency.lua")
    if not os.path.exists(path):
        with open(path, "w", encoding="ascii") as f:
            f.write(LATENCY_LUA)
    return path


def wrk_argv(a, script=None):
    argv = ["wrk", "-t2", f"-c{a.connections}", f"-d{a.duration}s",
            "--latency"]
    if script:
        argv += ["-s", script]
    if a.kind != "keepalive":
        argv += ["-H", "Connection: close"]
    argv.append(a.url)
    if a.preload:
        # mptcpize run sets LD_PRELOAD to its own library (replacing any
        # value): add ours after it, inside the wrapped environment.
        argv = ["sh", "-c", 'LD_PRELOAD="${LD_PRELOAD:+$LD_PRELOAD }$0" '
                'exec "$@"', a.preload] + argv
    if a.mptcp:
        argv = ["mptcpize", "run"] + argv
    return argv


def parse_wrk(out):
    res = {}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    res["rps"] = float(m.group(1)) if m else None
    for pct, val, unit in re.findall(
            r"^\s+(50|75|90|99)(?:\.\d+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$",
            out, re.M):
        res[f"p{pct}_ms"] = round(float(val) * UNIT_MS[unit], 3)
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+),", out)
    res["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), "
                  r"write (\d+), timeout (\d+)", out)
    res["socket_errors"] = sum(map(int, m.groups())) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    res["non_2xx"] = int(m.group(1)) if m else 0
    for pct, usec in re.findall(r"^pctl ([\d.]+) (\d+)$", out, re.M):
        res[f"p{pct.replace('.', '_')}_ms"] = round(int(usec) / 1000, 3)
    return res


def cmd_wrk(a):
    argv = wrk_argv(a, latency_script(a.out))
    tls_before = tls_handshakes(a) if a.kind.startswith("tls") else None
    check = MptcpCheck()
    rec = {"scenario": a.scenario, "test": a.kind, "cmd": " ".join(argv)}
    t0 = proc_cpu_ticks(a.pid)
    cs0 = proc_ctx_switches(a.pid)
    try:
        p = subprocess.run(argv, capture_output=True, text=True,
                           timeout=a.duration + 30, check=False)
        out = p.stdout
        rec["rc"] = p.returncode
        if p.returncode != 0:
            rec["error"] = (p.stderr or p.stdout).strip()[-300:]
    except subprocess.TimeoutExpired:
        out, rec["error"] = "", "wrk did not finish in time"
    t1 = proc_cpu_ticks(a.pid)
    cs1 = proc_ctx_switches(a.pid)
    rec.update(parse_wrk(out))
    if pid_list(a.pid) and rec["requests"]:
        # The proxy's CPU time (all threads) per request answered: with
        # one connection per request, per TLS handshake as well.  For the
        # direct rows, nginx's worker: the server's own cost.
        rec["proxy_cpu_s"] = (t1 - t0) / CLK_TCK
        rec["cpu_us_per_req"] = round(rec["proxy_cpu_s"] * 1e6
                                      / rec["requests"], 1)
        rec["ctx_per_req"] = round((cs1 - cs0) / rec["requests"], 3)
    expect = a.connections if a.kind == "keepalive" else rec["requests"]
    rec["mptcp_check"] = check.finish(a.scenario, a.kind, expect, a.mptcp)
    if tls_before is not None:
        rec["tls_check"] = tls_check(a, tls_before, rec)
    if not rec["rps"] or rec["requests"] == 0:
        rec["error"] = rec.get("error") or "wrk reported no requests"
    elif rec["non_2xx"] or rec["socket_errors"]:
        rec["warning"] = (f"{rec['non_2xx']} non-2xx responses, "
                          f"{rec['socket_errors']} socket errors")
    log(f"  {a.scenario:<16} {a.kind:<11} "
        + (f"{rec['rps']:>10.0f} req/s  p50 {rec.get('p50_ms')} ms  "
           f"p99 {rec.get('p99_ms')} ms  p99.9 {rec.get('p99_9_ms')} ms"
           if rec.get("rps") else "FAILED")
        + (f"  CPU {rec['cpu_us_per_req']:.0f} µs/req, "
           f"{rec['ctx_per_req']:.2f} cs/req"
           if "cpu_us_per_req" in rec else "")
        + (f"  ({rec['warning']})" if rec.get("warning") else "")
        + (f"  ({rec['error']})" if rec.get("error") else ""))
    append_record(a.out, rec)
    return 0 if "error" not in rec else 1


# ---------------------------------------------------------------- syscalls

# Counted by name with perf (each named tracepoint costs perf about 40 ms
# to open per thread, so not all of them); the rest shows as "other".
SYSCALL_NAMES = ("accept4", "epoll_wait", "epoll_pwait", "epoll_ctl", "read",
                 "write", "readv", "writev", "recvfrom", "sendto", "recvmsg",
                 "sendmsg", "splice", "close", "socket", "connect",
                 "setsockopt", "getsockopt", "getsockname", "getpeername",
                 "pipe2", "shutdown", "fcntl", "ioctl", "clock_gettime")


class PerfCounter:
    """perf stat on running processes, started disabled and switched on
    and off through its control FIFO, so that the count covers exactly the
    client run and none of perf's own (slow) setup."""

    def __init__(self, pids, workdir):
        self.ctl = os.path.join(workdir, f"perf-ctl.{os.getpid()}")
        self.ack = self.ctl + ".ack"
        self.outf = self.ctl + ".out"
        for f in (self.ctl, self.ack):
            if os.path.exists(f):
                os.unlink(f)
            os.mkfifo(f)
        events = ["-e", "raw_syscalls:sys_enter",
                  "-e", "raw_syscalls:sys_exit", "--filter", "ret < 0",
                  "-e", ",".join(f"syscalls:sys_enter_{n}"
                                 for n in SYSCALL_NAMES)]
        self.proc = subprocess.Popen(
            ["perf", "stat", "-x,", "-o", self.outf, "-D", "-1", "--control",
             f"fifo:{self.ctl},{self.ack}", "-p",
             ",".join(map(str, pid_list(pids)))] + events,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # Opened read-write so that neither side blocks in open().
        self.ctl_fd = os.open(self.ctl, os.O_RDWR)
        self.ack_fd = os.open(self.ack, os.O_RDWR)

    def _command(self, word):
        os.write(self.ctl_fd, word.encode() + b"\n")
        deadline = time.monotonic() + 60
        data = b""
        while b"ack" not in data and time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise OSError("perf stat exited: "
                              + self.proc.stderr.read().decode()[-300:])
            if select.select([self.ack_fd], [], [], 0.5)[0]:
                data += os.read(self.ack_fd, 64)
        if b"ack" not in data:
            raise OSError(f"perf stat did not acknowledge '{word}'")

    def start(self):
        self._command("enable")

    def stop(self):
        self._command("disable")
        self.proc.send_signal(2)
        self.proc.wait(timeout=30)
        os.close(self.ctl_fd)
        os.close(self.ack_fd)
        counts = {}
        with open(self.outf, encoding="utf-8") as f:
            for line in f:
                parts = line.strip().split(",")
                if len(parts) < 3 or line.startswith("#"):
                    continue
                val = int(parts[0]) if parts[0].isdigit() else 0
                name = parts[2].split(":", 1)[-1]
                if name == "sys_exit":
                    counts["failed"] = val
                elif name == "sys_enter":
                    counts["total"] = val
                else:
                    counts[name.replace("sys_enter_", "")] = val
        for f in (self.ctl, self.ack, self.outf):
            os.unlink(f)
        return counts


class StraceCounter:
    """strace -c -f on running processes: slower (it stops the process on
    every call), but it also says which calls failed."""

    def __init__(self, pids, workdir):
        self.outf = os.path.join(workdir, f"strace.{os.getpid()}.out")
        argv = ["strace", "-c", "-f", "-qq", "-o", self.outf]
        for pid in pid_list(pids):
            argv += ["-p", str(pid)]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)

    def start(self):
        time.sleep(1.0)  # attached to every thread by then

    def stop(self):
        self.proc.send_signal(2)
        self.proc.wait(timeout=30)
        counts = {"total": 0, "failed": 0, "errors": {}}
        with open(self.outf, encoding="utf-8") as f:
            for line in f:
                # % time  seconds  usecs/call  calls  [errors]  syscall
                parts = line.split()
                if len(parts) < 5 or not parts[3].isdigit():
                    continue
                name, calls = parts[-1], int(parts[3])
                errors = int(parts[4]) if len(parts) == 6 else 0
                if name == "total":
                    counts["total"], counts["failed"] = calls, errors
                else:
                    counts[name] = calls
                    if errors:
                        counts["errors"][name] = errors
        os.unlink(self.outf)
        return counts


def cmd_syscalls(a):
    """System calls per request (keep-alive) or per connection (one
    request per connection) over a short wrk run; wrk's requests are the
    divisor, so the connections still open at its end add up to 50 to the
    count (well under 1% of a run)."""
    rec = {"scenario": a.scenario, "test": f"{a.kind}-syscalls",
           "tool": a.tool}
    workdir = os.path.dirname(os.path.abspath(a.out))
    argv = wrk_argv(a)
    rec["cmd"] = " ".join(argv)
    counter = None
    try:
        counter = (PerfCounter if a.tool == "perf" else StraceCounter)(
            a.pid, workdir)
        counter.start()
        p = subprocess.run(argv, capture_output=True, text=True,
                           timeout=a.duration + 30, check=False)
        counts = counter.stop()
        counter = None
        res = parse_wrk(p.stdout)
        n = res["requests"]
        if not n:
            raise ValueError("wrk reported no requests")
        rec["requests"] = n
        rec["syscalls_per_req"] = round(counts.pop("total") / n, 2)
        rec["failed_per_req"] = round(counts.pop("failed") / n, 2)
        errors = counts.pop("errors", {})
        named = {k: round(v / n, 2) for k, v in counts.items()
                 if round(v / n, 2)}
        other = rec["syscalls_per_req"] - sum(named.values())
        if a.tool == "perf" and other > 0.005:
            named["other"] = round(other, 2)
        rec["by_name"] = dict(sorted(named.items(), key=lambda kv: -kv[1]))
        if errors:
            rec["errors_per_req"] = {k: round(v / n, 2)
                                     for k, v in errors.items()}
    except (OSError, ValueError, subprocess.SubprocessError) as e:
        rec["error"] = f"{type(e).__name__}: {e}"
        if counter is not None:
            counter.proc.kill()
            counter.proc.wait()
    unit = "request" if a.kind == "keepalive" else "connection"
    log(f"  {a.scenario:<16} {a.kind:<11} "
        + (f"{rec['syscalls_per_req']:.2f} syscalls/{unit} "
           f"({rec['failed_per_req']:.2f} failed; {a.tool}): "
           + ", ".join(f"{k} {v:g}" for k, v in rec["by_name"].items())
           + ("; errors: " + ", ".join(f"{k} {v:g}" for k, v in
                                        rec["errors_per_req"].items())
              if rec.get("errors_per_req") else "")
           if "error" not in rec else f"FAILED ({rec['error']})"))
    append_record(a.out, rec)
    return 0 if "error" not in rec else 1


# ---------------------------------------------------------------- TLS

def haproxy_cmd(sock_path, cmd):
    """One command on HAProxy's stats socket; the whole answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(sock_path)
        s.sendall(cmd.encode() + b"\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return data.decode("utf-8", "replace")


def tls_handshakes(a):
    """(full, resumed) TLS handshakes the proxy has completed so far.

    mptcp-frontd: mptcp_frontd_tls_handshakes_total{type=full|resumed}
    from its stats endpoint.  HAProxy: the frontend's ssl_sess (sessions
    established by a full handshake: it does not move on a resumption)
    and ssl_reused_sess from `show stat typed`.
    """
    if a.frontd_stats:
        with urllib.request.urlopen(a.frontd_stats, timeout=5) as r:
            text = r.read().decode("utf-8", "replace")
        got = {}
        for m in re.finditer(r'^mptcp_frontd_tls_handshakes_total\{[^}]*'
                             r'type="(full|resumed)"[^}]*\}\s+(\d+)',
                             text, re.M):
            got[m.group(1)] = got.get(m.group(1), 0) + int(m.group(2))
        if "full" not in got:
            raise ValueError(f"no TLS handshake counters at {a.frontd_stats}")
        return got["full"], got.get("resumed", 0)
    if a.haproxy_sock:
        text = haproxy_cmd(a.haproxy_sock, "show stat typed")
        got = {}
        # Frontend lines: F.<proxy id>.<obj>.<field pos>.<name>.<proc>:...
        for m in re.finditer(r"^F\.\d+\.\d+\.\d+\.(ssl_sess|ssl_reused_sess)"
                             r"\.\d+:[^:]*:[^:]*:(\d+)", text, re.M):
            got[m.group(1)] = got.get(m.group(1), 0) + int(m.group(2))
        if "ssl_sess" not in got:
            raise ValueError("no ssl_sess counter on HAProxy's stats socket")
        return got["ssl_sess"], got.get("ssl_reused_sess", 0)
    raise ValueError("no TLS counter source given")


def tls_check(a, before, rec):
    """Did the run measure what its name says: full handshakes only, or
    (nearly) only resumed ones?"""
    try:
        after = tls_handshakes(a)
    except (OSError, ValueError) as e:
        line = (f"TLS check   {a.scenario:<16} {a.kind:<11} cannot read "
                f"the handshake counters: {e}: FAIL")
        log("  " + line)
        return {"ok": False, "line": line}
    full, resumed = after[0] - before[0], after[1] - before[1]
    requests = rec.get("requests", 0)
    if a.kind == "tls-full":
        # Every response needs a handshake; none may be a resumption.
        ok = resumed == 0 and full >= requests > 0
        want = f">= {requests} full, 0 resumed"
    else:
        # Each of wrk's connection slots makes one full handshake (its
        # first, or after an error); every later one must resume.
        slack = a.connections + rec.get("socket_errors", 0)
        ok = requests > 0 and resumed >= requests - slack
        want = f">= {max(requests - slack, 0)} resumed"
    line = (f"TLS check   {a.scenario:<16} {a.kind:<11} expected {want}: "
            f"{full} full, {resumed} resumed handshakes: "
            f"{'ok' if ok else 'FAIL'}")
    log("  " + line)
    return {"ok": ok, "full": full, "resumed": resumed, "line": line}


def cmd_tls_probe(a):
    """What a proxy negotiates, as openssl s_client reports it."""
    host, port = parse_addr(a.addr)
    argv = ["openssl", "s_client", "-connect", f"{host}:{port}",
            "-servername", a.servername, "-ign_eof"]
    if a.mptcp:
        argv = ["mptcpize", "run"] + argv
    rec = {"scenario": a.scenario, "test": "tls-probe", "cmd": " ".join(argv)}
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=15,
                           input="GET /small HTTP/1.0\r\nHost: bench\r\n\r\n",
                           check=False)
        out = p.stdout + p.stderr
    except subprocess.TimeoutExpired:
        out, rec["error"] = "", "openssl s_client did not finish in time"
    pats = {"protocol": r"^New, (TLSv[\d.]+), Cipher is",
            "cipher": r"^New, TLSv[\d.]+, Cipher is (\S+)",
            "group": r"^Server Temp Key: ([^,\n]+)",
            "signature": r"^Peer signature type: (\S+)",
            "digest": r"^Peer signing digest: (\S+)",
            "key": r"^Server public key is (\d+) bit"}
    for k, pat in pats.items():
        m = re.search(pat, out, re.M)
        rec[k] = m.group(1) if m else None
    rec["tickets"] = len(re.findall(r"^Post-Handshake New Session Ticket",
                                    out, re.M))
    rec["http_ok"] = bool(re.search(r"^HTTP/1\.[01] 200", out, re.M))
    if not rec.get("error") and (rec["protocol"] is None or not rec["http_ok"]):
        rec["error"] = ("no TLS session or no HTTP answer: "
                        + out.strip()[-300:].replace("\n", " | "))
    rec["line"] = (f"TLS probe   {a.scenario:<16} {rec['protocol']}, "
                   f"{rec['cipher']}, group {rec['group']}, "
                   f"signature {rec['signature']}+{rec['digest']} "
                   f"({rec['key']}-bit key), {rec['tickets']} session "
                   f"ticket(s) per full handshake, HTTP "
                   f"{'200' if rec['http_ok'] else 'FAILED'}")
    log("  " + rec["line"])
    append_record(a.out, rec)
    return 0 if "error" not in rec else 1


# ---------------------------------------------------------------- bulk

def cmd_bulk(a):
    argv = ["curl", "-sS", "-o", "/dev/null", "--max-time", str(a.timeout),
            "-w", "%{http_code} %{size_download} %{time_total}", a.url]
    if a.url.startswith("https:"):
        # The throwaway self-signed certificate; HTTP/1.1 as with wrk.
        argv[1:1] = ["-k", "--http1.1"]
    if a.mptcp:
        argv = ["mptcpize", "run"] + argv
    check = MptcpCheck()
    rec = {"scenario": a.scenario, "test": "bulk", "size": a.size,
           "cmd": " ".join(argv), "runs": []}
    ticks = 0
    bytes_total = 0
    for _ in range(a.runs):
        t0 = proc_cpu_ticks(a.pid)
        p = subprocess.run(argv, capture_output=True, text=True,
                           timeout=a.timeout + 10, check=False)
        t1 = proc_cpu_ticks(a.pid)
        fields = p.stdout.split()
        if p.returncode != 0 or len(fields) != 3 or fields[0] != "200" \
                or int(fields[1]) != a.size:
            rec["error"] = (f"download failed: rc {p.returncode}, "
                            f"'{p.stdout.strip()}' {p.stderr.strip()[-200:]}")
            break
        secs = float(fields[2])
        rec["runs"].append({"gbps": round(a.size * 8 / secs / 1e9, 3),
                            "seconds": secs,
                            "cpu_s": (t1 - t0) / CLK_TCK})
        ticks += t1 - t0
        bytes_total += a.size
    if rec["runs"]:
        rec["gbps"] = round(statistics.median(
            r["gbps"] for r in rec["runs"]), 3)
        if pid_list(a.pid):
            rec["cpu_s_per_gib"] = round(ticks / CLK_TCK
                                         / (bytes_total / GIB), 3)
    rec["mptcp_check"] = check.finish(a.scenario, "bulk", len(rec["runs"]),
                                      a.mptcp)
    log(f"  {a.scenario:<16} bulk        "
        + (f"{rec['gbps']:>7.2f} Gbit/s (median of {len(rec['runs'])})"
           + (f"  proxy CPU {rec['cpu_s_per_gib']:.2f} s/GiB"
              if "cpu_s_per_gib" in rec else "")
           if rec["runs"] else "FAILED")
        + (f"  ({rec['error']})" if rec.get("error") else ""))
    append_record(a.out, rec)
    return 0 if "error" not in rec else 1


# ---------------------------------------------------------------- idle

def wait_backend(status_url, want, deadline):
    """Poll nginx's active count until it reaches `want` and holds still."""
    last, same = -1, 0
    active = nginx_active(status_url)
    while time.monotonic() < deadline:
        active = nginx_active(status_url)
        same = same + 1 if active == last else 0
        last = active
        if active >= want and same >= 2:
            break
        time.sleep(0.2)
    return active


def cmd_idle(a):
    counts = sorted(int(c) for c in a.counts.split(","))
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # Our own sockets need their own descriptors: raise the soft limit
    # to the hard one (20,000 on the benchmark hosts, not raisable).
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard != resource.RLIM_INFINITY and counts[-1] + 64 > hard:
        fail(f"open-file limit {hard} is too low to hold {counts[-1]}")
    addr = parse_addr(a.addr)
    rec = {"scenario": a.scenario, "test": "memory", "steps": []}
    try:
        base_active = wait_backend(a.status, 0, time.monotonic() + 3)
        base_rss = proc_rss_kib(a.pid)
    except (OSError, ValueError) as e:
        fail(f"{a.scenario}: cannot take the baseline: {e}")
    rec["base_rss_kib"] = base_rss
    base_slab = slab_kib()
    check = MptcpCheck()
    socks = []
    try:
        for n in counts:
            t0 = time.monotonic()
            while len(socks) < n:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM,
                                  IPPROTO_MPTCP)
                socks.append(s)
                s.settimeout(10)
                s.connect(addr)
            # The proxy connects to nginx as soon as it accepts: wait for
            # nginx to see every one of them, and for the count to settle.
            active = wait_backend(a.status, base_active + n,
                                  time.monotonic() + 20 + n / 300)
            time.sleep(0.3)
            rss = proc_rss_kib(a.pid)
            slab = slab_kib() - base_slab
            step = {
                "held": n,
                "backend_connected": active - base_active,
                "mptcp_sockets": sum(1 for s in socks if is_mptcp(s)),
                "rss_kib": rss,
                "kib_per_conn": round((rss - base_rss) / n, 3),
                # Client, proxy and nginx sockets together, whole host.
                "slab_kib_per_conn": round(slab / n, 2),
                "fresh_request_ok": fresh_request(addr),
                "seconds": round(time.monotonic() - t0, 2),
            }
            rec["steps"].append(step)
            log(f"  {a.scenario:<16} memory      {n:>5} idle held "
                f"({step['mptcp_sockets']} MPTCP, "
                f"{step['backend_connected']} reached nginx): "
                f"RSS +{rss - base_rss} KiB = {step['kib_per_conn']:.2f} "
                f"KiB/conn (kernel slab, whole host: "
                f"{step['slab_kib_per_conn']:.1f} KiB/conn); fresh request "
                f"{'answered' if step['fresh_request_ok'] else 'FAILED'}")
            notes = []
            if step["backend_connected"] < n:
                notes.append(f"only {step['backend_connected']} of {n} "
                             "held connections reached nginx")
            if step["mptcp_sockets"] < n:
                notes.append(f"only {step['mptcp_sockets']} of {n} held "
                             "sockets are MPTCP")
            if not step["fresh_request_ok"]:
                notes.append(f"no answer to a fresh request with {n} held")
            if notes:
                rec["warning"] = "; ".join(
                    ([rec["warning"]] if "warning" in rec else []) + notes)
    except (OSError, ValueError) as e:
        rec["error"] = f"{type(e).__name__}: {e} (with {len(socks)} open)"
        log(f"  {a.scenario:<16} memory      FAILED: {rec['error']}")
    finally:
        opened = len(socks)
        for s in socks:
            s.close()
    # The fresh-request probes are MPTCP too; only the held ones count.
    rec["mptcp_check"] = check.finish(a.scenario, "memory", opened, True)
    # Let the proxy and nginx drop them before the next measurement.
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline \
                and nginx_active(a.status) > base_active + 5:
            time.sleep(0.2)
    except (OSError, ValueError):
        pass
    append_record(a.out, rec)
    return 0 if "error" not in rec else 1


# ---------------------------------------------------------------- report

SYSTEMS = ("direct", "limit", "haproxy", "haproxy3", "frontd")
HEADS = ("direct", "limit", "HAProxy 2.6", "HAProxy 3", "mptcp-frontd")
BACKENDS = ("tcp", "unix")


def scenario_name(system, backend, family="", limit="nginx-multipath"):
    """The scenario behind a table cell; TLS rows have no direct ones."""
    if system in ("direct", "limit"):
        if family == "tls":
            return None
        return limit if system == "limit" else system
    return f"{system}-{family}-{backend}" if family else f"{system}-{backend}"


def fmt(v, digits):
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "NO"
    return f"{v:,.{digits}f}"


WRK_KEYS = ("rps", "p50_ms", "p99_ms", "p99_9_ms", "cpu_us_per_req",
            "ctx_per_req")


def figures(records):
    """{scenario: {figure_key: value}} from the raw records."""
    out = {}
    for r in records:
        f = out.setdefault(r["scenario"], {})
        t = r["test"]
        if t in ("keepalive", "close", "tls-full", "tls-resumed"):
            for k in WRK_KEYS:
                f[f"{t}.{k}"] = r.get(k) if "error" not in r else None
        elif t.endswith("-syscalls"):
            for k in ("syscalls_per_req", "failed_per_req"):
                f[f"{t}.{k}"] = r.get(k)
        elif t == "bulk":
            f["bulk.gbps"] = r.get("gbps")
            f["bulk.cpu_s_per_gib"] = r.get("cpu_s_per_gib")
        elif t == "memory":
            if "base_rss_kib" in r:
                f["memory.base_rss_mib"] = r["base_rss_kib"] / 1024
            for i, s in enumerate(r.get("steps", [])):
                tag = "small" if i == 0 else "large"
                f[f"memory.{tag}.held"] = s["held"]
                f[f"memory.{tag}.kib_per_conn"] = s["kib_per_conn"]
                f[f"memory.{tag}.rss_mib"] = s["rss_kib"] / 1024
                f[f"memory.{tag}.slab_kib_per_conn"] = \
                    s.get("slab_kib_per_conn")
                f[f"memory.{tag}.fresh_ok"] = s["fresh_request_ok"]
    return out


def ratio(a, b):
    if a is None or b is None or isinstance(a, bool) or not b:
        return None
    return a / b


# Targets: (against, kind, value); against is the column the ratio is
# taken to ("haproxy3": issue 14's targets; "haproxy": the older issue 3
# and 6 ones against HAProxy 2.6; None: an absolute bound), or a dict per
# backend.  LIM: the row also gets mptcp-frontd ÷ the no-proxy limit (rates
# and latencies; for CPU, memory and system calls the direct and limit
# columns show nginx's own figures, which is no ratio to aim at).
LIM = "limit"
ROWS = (
    # (label, figure key, digits, target[, family][, LIM])
    ("keep-alive req/s", "keepalive.rps", 0, ("haproxy", ">=", 1.1), "", LIM),
    ("keep-alive p50 ms", "keepalive.p50_ms", 2, None, "", LIM),
    ("keep-alive p99 ms", "keepalive.p99_ms", 2, ("haproxy3", "<=", 1.0),
     "", LIM),
    ("keep-alive p99.9 ms", "keepalive.p99_9_ms", 2, None, "", LIM),
    ("keep-alive CPU µs/request", "keepalive.cpu_us_per_req", 1,
     ("haproxy3", "<=", 0.8)),
    ("keep-alive syscalls/request", "keepalive-syscalls.syscalls_per_req", 2,
     None),
    ("keep-alive context switches/request", "keepalive.ctx_per_req", 3,
     None),
    ("new conn/request req/s", "close.rps", 0, ("haproxy3", ">=", 1.1), "",
     LIM),
    ("new conn/request p50 ms", "close.p50_ms", 2, None, "", LIM),
    ("new conn/request p99 ms", "close.p99_ms", 2, ("haproxy", "<=", 1.0),
     "", LIM),
    ("new conn/request p99.9 ms", "close.p99_9_ms", 2, None, "", LIM),
    ("new conn/request CPU µs/request", "close.cpu_us_per_req", 1,
     ("haproxy3", "<=", 0.7)),
    ("new conn syscalls/connection", "close-syscalls.syscalls_per_req", 2,
     (None, "<=", 15)),
    ("new conn failed syscalls/connection", "close-syscalls.failed_per_req",
     2, None),
    ("new conn context switches/request", "close.ctx_per_req", 3, None),
    ("bulk Gbit/s (median)", "bulk.gbps", 2,
     {"tcp": ("haproxy", ">=", 1.5), "unix": ("haproxy", ">=", 1.0)}, "",
     LIM),
    ("bulk CPU s/GiB", "bulk.cpu_s_per_gib", 2,
     {"tcp": ("haproxy", "<=", 0.7), "unix": ("haproxy3", "<=", 0.7)}),
    ("proxy RSS at start MiB", "memory.base_rss_mib", 1, None),
    ("idle RSS KiB/conn @{small}", "memory.small.kib_per_conn", 2,
     (None, "abs<=", 1.0)),
    ("fresh request @{small} held", "memory.small.fresh_ok", 0,
     (None, "true", None)),
    ("idle RSS KiB/conn @{large}", "memory.large.kib_per_conn", 2,
     (None, "abs<=", 1.0)),
    ("fresh request @{large} held", "memory.large.fresh_ok", 0,
     (None, "true", None)),
    ("proxy RSS @{large} held MiB", "memory.large.rss_mib", 1, None),
    ("kernel slab KiB/conn @{large} (host)",
     "memory.large.slab_kib_per_conn", 1, None),
    # Each request on a new connection: one TLS 1.3 handshake per request.
    ("TLS full handshakes/s", "tls-full.rps", 0, ("haproxy", ">=", 1.0),
     "tls"),
    ("TLS full handshake p99 ms", "tls-full.p99_ms", 2, None, "tls"),
    ("TLS full handshake p99.9 ms", "tls-full.p99_9_ms", 2, None, "tls"),
    ("TLS full handshake CPU µs", "tls-full.cpu_us_per_req", 0,
     ("haproxy3", "<=", 0.9), "tls"),
    ("TLS full handshake context switches", "tls-full.ctx_per_req", 3, None,
     "tls"),
    ("TLS resumed handshakes/s", "tls-resumed.rps", 0, ("haproxy", ">=", 1.0),
     "tls"),
    ("TLS resumed handshake p99 ms", "tls-resumed.p99_ms", 2, None, "tls"),
    ("TLS resumed handshake CPU µs", "tls-resumed.cpu_us_per_req", 0,
     None, "tls"),
    ("TLS bulk Gbit/s (median)", "bulk.gbps", 2, ("haproxy", ">=", 1.0),
     "tls"),
    ("TLS bulk CPU s/GiB", "bulk.cpu_s_per_gib", 2, ("haproxy3", "<=", 0.8),
     "tls"),
)
TARGET_REF = {"haproxy": " H2.6", "haproxy3": " H3", None: ""}


def judge(target, vals):
    """(target text, met) of one cell row."""
    if target is None:
        return "", ""
    ref, kind, val = target
    fd = vals["frontd"]
    if kind == "true":
        return "answered", ("" if fd is None else "yes" if fd else "NO")
    if ref is None:
        sign = "≤" if kind in ("<=", "abs<=") else "≥"
        text = f"{sign} {val:g}" + (" KiB" if kind == "abs<=" else "")
        if fd is None:
            return text, ""
        return text, "yes" if (fd <= val if sign == "≤" else fd >= val) \
            else "no"
    text = f"{'≥' if kind == '>=' else '≤'} {val:g}×{TARGET_REF[ref]}"
    r = ratio(fd, vals[ref])
    if r is None:
        return text, ""
    met = r >= val if kind == ">=" else r <= val
    return text, "yes" if met else "no"


def cmd_report(a):
    records = []
    with open(a.results, encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    meta = json.loads(a.meta) if a.meta else {}
    fig = figures(records)
    small = meta.get("idle_counts", ["small", "large"])[0]
    large = meta.get("idle_counts", ["small", "large"])[-1]
    limit = meta.get("limit", "nginx-multipath")
    table = []
    lines = [
        "| figure | backend | " + " | ".join(HEADS)
        + " | frontd ÷ H2.6 | frontd ÷ H3 | frontd ÷ limit | target | met |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|---|",
    ]
    for row in ROWS:
        label, key, digits, target = row[:4]
        family = row[4] if len(row) > 4 else ""
        with_limit = len(row) > 5 and row[5] == LIM
        label = label.format(small=f"{small:,}", large=f"{large:,}")
        for backend in BACKENDS:
            vals = {s: fig.get(scenario_name(s, backend, family, limit),
                               {}).get(key)
                    for s in SYSTEMS}
            rs = {"haproxy": ratio(vals["frontd"], vals["haproxy"]),
                  "haproxy3": ratio(vals["frontd"], vals["haproxy3"]),
                  "limit": ratio(vals["frontd"], vals["limit"])
                           if with_limit else None}
            tgt = target.get(backend) if isinstance(target, dict) else target
            ttext, met = judge(tgt, vals)
            table.append({"figure": label, "key": key, "backend": backend,
                          **{s: vals[s] for s in SYSTEMS},
                          **{f"ratio_frontd_{k}":
                             round(v, 3) if v is not None else None
                             for k, v in rs.items()},
                          "target": ttext, "met": met})
            lines.append(
                f"| {label} | {backend} | "
                + " | ".join(fmt(vals[s], digits) for s in SYSTEMS)
                + "".join(f" | {fmt(v, 2) + '×' if v is not None else '—'}"
                          for v in rs.values())
                + f" | {ttext} | {met} |")
    checks = [r["mptcp_check"] for r in records if "mptcp_check" in r]
    tls_checks = [r["tls_check"] for r in records if "tls_check" in r]
    probes = [r for r in records if r["test"] == "tls-probe"]
    problems = [f"{r['scenario']} {r['test']}: {r['error']}"
                for r in records if r.get("error")]
    problems += [f"{r['scenario']} {r['test']}: {r['warning']}"
                 for r in records if r.get("warning")]
    # Same certificate, version, suite and group on both proxies, or the
    # TLS rows compare different work.
    negotiated = {tuple(p.get(k) for k in ("protocol", "cipher", "group",
                                           "signature", "digest", "key"))
                  for p in probes if not p.get("error")}
    tls_same = len(negotiated) <= 1
    if not tls_same:
        problems.append("the TLS proxies negotiated different parameters: "
                        + "; ".join(p["line"].split(None, 3)[-1]
                                    for p in probes))
    head = [
        f"# mptcp-frontd benchmark ({meta.get('mode', '?')})",
        "",
        f"{meta.get('date', '')} · {platform.node()} · Linux "
        f"{platform.release()} · {os.cpu_count()} CPUs · "
        + " · ".join(meta.get("versions", [])),
        "",
        f"Client: wrk -t2 -c50 {meta.get('duration', '?')}s --latency "
        f"(MPTCP via mptcpize except `direct`); bulk: "
        f"{meta.get('bulk_mib', '?')} MiB with curl, median of "
        f"{meta.get('bulk_runs', '?')}; memory: "
        f"{small:,} then {large:,} idle MPTCP connections held. "
        f"Limit: `{meta.get('limit', '?')}` ({meta.get('limit_what', '?')}), "
        "no proxy. CPU µs, system calls and context switches per request "
        "are the proxy's own (all threads; for `direct` and the limit, "
        "nginx's worker); system calls counted with "
        f"{meta.get('syscall_tool') or 'nothing (no perf, no strace)'} in a "
        "separate short run. Ratios: mptcp-frontd ÷ HAProxy 2.6, ÷ HAProxy "
        "3 and ÷ the limit (lower is better for ms, µs, s/GiB, KiB and "
        "counts). Load average at start "
        f"{meta.get('loadavg_start', '?')}, at end "
        f"{meta.get('loadavg_end', '?')} (the run's own load included).",
        "",
    ]
    if meta.get("tls"):
        head[-1:-1] = ["", meta["tls"]]
    tail = []
    sysrecs = [r for r in records if r["test"].endswith("-syscalls")
               and "by_name" in r]
    if sysrecs:
        tail += ["", "System calls per request (keep-alive) and per "
                 "connection (new connection per request), by name:", ""]
        for r in sysrecs:
            tail.append(
                f"    {r['scenario']:<16} {r['test']:<18} "
                f"{r['syscalls_per_req']:6.2f} ({r['failed_per_req']:.2f} "
                "failed): " + ", ".join(f"{k} {v:g}"
                                        for k, v in r["by_name"].items()))
    tail += ["", "MPTCP checks (server-side MPTcpExt counter deltas):", ""]
    tail += [f"    {c['line']}" for c in checks]
    if probes or tls_checks:
        tail += ["", "TLS as negotiated (openssl s_client), and the proxies' "
                 "full/resumed handshake counters around each TLS wrk run:",
                 ""]
        tail += [f"    {p['line']}" for p in probes]
        tail += [f"    {c['line']}" for c in tls_checks]
    if problems:
        tail += ["", "Problems:", ""] + [f"- {p}" for p in problems]
    md = "\n".join(head + lines + tail) + "\n"
    print(md)
    if a.md:
        os.makedirs(os.path.dirname(os.path.abspath(a.md)), exist_ok=True)
        with open(a.md, "w", encoding="utf-8") as f:
            f.write(md)
    ok = all(c["ok"] for c in checks + tls_checks) and tls_same and not any(
        r.get("error") for r in records)
    if a.json:
        doc = {"meta": meta, "host": {"kernel": platform.release(),
                                      "cpus": os.cpu_count()},
               "table": table, "records": records,
               "mptcp_checks_ok": all(c["ok"] for c in checks),
               "tls_checks_ok": all(c["ok"] for c in tls_checks) and tls_same,
               "complete": ok}
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=1, sort_keys=True)
            f.write("\n")
    return 0 if ok else 1


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("ports")
    p.add_argument("n", type=int)
    p.set_defaults(fn=cmd_ports)

    p = sub.add_parser("mptcp-listen-exec")
    p.add_argument("--env", required=True,
                   help="environment variable that receives the fd number")
    p.add_argument("--portfile", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--backlog", type=int, default=4096)
    p.add_argument("argv", nargs=argparse.REMAINDER)
    p.set_defaults(fn=cmd_mptcp_listen_exec)

    p = sub.add_parser("wrk")
    p.add_argument("--scenario", required=True)
    p.add_argument("--kind", required=True,
                   choices=("keepalive", "close", "tls-full", "tls-resumed"))
    p.add_argument("--url", required=True)
    p.add_argument("--duration", type=int, required=True)
    p.add_argument("--connections", type=int, default=50)
    p.add_argument("--mptcp", action="store_true")
    p.add_argument("--pid", default="",
                   help="PID[,PID...] whose CPU time and context switches "
                   "per request are counted")
    p.add_argument("--preload", default="",
                   help="a library added to wrk's LD_PRELOAD (noresume.so)")
    p.add_argument("--frontd-stats", default="",
                   help="mptcp-frontd /metrics URL (TLS handshake counts)")
    p.add_argument("--haproxy-sock", default="",
                   help="HAProxy stats socket (TLS handshake counts)")
    p.add_argument("--out", required=True)
    p.set_defaults(fn=cmd_wrk)

    p = sub.add_parser("syscalls")
    p.add_argument("--scenario", required=True)
    p.add_argument("--kind", required=True, choices=("keepalive", "close"))
    p.add_argument("--url", required=True)
    p.add_argument("--duration", type=int, required=True)
    p.add_argument("--connections", type=int, default=50)
    p.add_argument("--mptcp", action="store_true")
    p.add_argument("--pid", required=True,
                   help="PID[,PID...] whose system calls are counted")
    p.add_argument("--tool", choices=("perf", "strace"), default="perf")
    p.add_argument("--out", required=True)
    p.set_defaults(fn=cmd_syscalls, preload="")

    p = sub.add_parser("tls-probe")
    p.add_argument("--scenario", required=True)
    p.add_argument("--addr", required=True, help="proxy HOST:PORT")
    p.add_argument("--servername", default="bench.invalid")
    p.add_argument("--mptcp", action="store_true")
    p.add_argument("--out", required=True)
    p.set_defaults(fn=cmd_tls_probe)

    p = sub.add_parser("bulk")
    p.add_argument("--scenario", required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--runs", type=int, required=True)
    p.add_argument("--pid", default="",
                   help="PID[,PID...] whose CPU time is counted (0: none)")
    p.add_argument("--timeout", type=int, default=60)
    p.add_argument("--mptcp", action="store_true")
    p.add_argument("--out", required=True)
    p.set_defaults(fn=cmd_bulk)

    p = sub.add_parser("idle")
    p.add_argument("--scenario", required=True)
    p.add_argument("--addr", required=True, help="proxy HOST:PORT")
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--status", required=True, help="nginx stub_status URL")
    p.add_argument("--counts", required=True, help="e.g. 2000,9000")
    p.add_argument("--out", required=True)
    p.set_defaults(fn=cmd_idle)

    p = sub.add_parser("report")
    p.add_argument("--results", required=True)
    p.add_argument("--meta", default="")
    p.add_argument("--md", default="")
    p.add_argument("--json", default="")
    p.set_defaults(fn=cmd_report)

    a = ap.parse_args()
    sys.exit(a.fn(a) or 0)


if __name__ == "__main__":
    main()
