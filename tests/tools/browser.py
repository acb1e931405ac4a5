#!/usr/bin/env python3
"""browser: load a page in a real headless Chromium and report what it
shows and every error it raised, through the DevTools protocol.

    browser.py [--chromium PATH] [--wait JS] [--timeout S] [--out FILE] URL

Starts Chromium headless (no sandbox, no GPU, no background networking, a
fresh profile in a temporary directory, DevTools on a loopback port it
picks), opens URL in a new tab and polls the JavaScript expression --wait
(default: the document is loaded) every 100 ms until it is true.  Then
writes one JSON object to --out (default stdout):

    {"ok": true, "waited_ms": 2140, "errors": [...],
     "text": document.body.innerText, "html": the DOM as markup}

errors lists every uncaught exception (Runtime.exceptionThrown, promise
rejections included), console.error and console.assert failures
(Runtime.consoleAPICalled) and error-level browser log entries
(Log.entryAdded: a resource that failed to load, a blocked request...).
Chromium is stopped before the script exits (its process group, which the
script created).

Exit: 0 when --wait became true and nothing was in errors; 1 when there
were errors or --wait timed out (the JSON says which); 2 on usage errors
or when Chromium could not be started or reached.
Python 3 standard library only."""
import argparse
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--remote-debugging-port=0"]


class WebSocket:
    """The client side of RFC 6455, text messages only: enough for the
    DevTools protocol."""

    def __init__(self, port, path, timeout):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((
            "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n" % (path, port, key)).encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise OSError("websocket handshake refused: %r" % head[:200])

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("DevTools connection closed")
        self.buf += chunk

    def _take(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _frame(self, opcode, data):
        mask = os.urandom(4)
        head = bytearray([0x80 | opcode])
        n = len(data)
        if n < 126:
            head.append(0x80 | n)
        elif n < 65536:
            head.append(0x80 | 126)
            head += n.to_bytes(2, "big")
        else:
            head.append(0x80 | 127)
            head += n.to_bytes(8, "big")
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(bytes(head) + mask + body)

    def send(self, text):
        self._frame(0x1, text.encode())

    def recv(self):
        message = b""
        while True:
            b0, b1 = self._take(2)
            n = b1 & 0x7F
            if n == 126:
                n = int.from_bytes(self._take(2), "big")
            elif n == 127:
                n = int.from_bytes(self._take(8), "big")
            mask = self._take(4) if b1 & 0x80 else None
            data = self._take(n)
            if mask:
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
            opcode = b0 & 0x0F
            if opcode == 0x8:
                raise EOFError("DevTools closed the websocket")
            if opcode == 0x9:
                self._frame(0xA, data)
                continue
            if opcode == 0xA:
                continue
            message += data
            if b0 & 0x80:
                return message.decode()


class DevTools:
    """Commands with ids; the events that arrive meanwhile are collected."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0
        self.errors = []

    def call(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise OSError("%s: %s" % (method, reply["error"]))
                return reply.get("result", {})
            self.event(reply)

    def event(self, ev):
        method, p = ev.get("method"), ev.get("params", {})
        if method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            desc = d.get("exception", {}).get("description") or d.get("text")
            self.errors.append("exception: %s (%s:%s)" % (
                desc, d.get("url", "?"), d.get("lineNumber", "?")))
        elif method == "Runtime.consoleAPICalled" and \
                p.get("type") in ("error", "assert"):
            args = [a.get("value", a.get("description", "")) for a in
                    p.get("args", [])]
            self.errors.append("console.%s: %s" % (
                p["type"], " ".join(str(a) for a in args)))
        elif method == "Log.entryAdded" and \
                p.get("entry", {}).get("level") == "error":
            e = p["entry"]
            self.errors.append("log (%s): %s %s" % (
                e.get("source"), e.get("text"), e.get("url", "")))


def evaluate(dt, session, expr):
    r = dt.call("Runtime.evaluate", {"expression": expr,
                                     "returnByValue": True}, session)
    if "exceptionDetails" in r:
        return None
    return r.get("result", {}).get("value")


def devtools_port(profile, proc, timeout):
    """Chromium writes its DevTools port and browser path to a file in the
    profile once it listens."""
    path = os.path.join(profile, "DevToolsActivePort")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return None
        try:
            with open(path) as f:
                lines = f.read().split("\n")
            if len(lines) >= 2 and lines[0].isdigit() and lines[1]:
                return int(lines[0]), lines[1]
        except OSError:
            pass
        time.sleep(0.05)
    return None


def stop(proc):
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        proc.wait()


def run(a, profile):
    log = open(os.path.join(profile, "chromium.log"), "w")
    proc = subprocess.Popen(
        [a.chromium] + FLAGS + ["--user-data-dir=" + profile, "about:blank"],
        stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        start_new_session=True)
    try:
        where = devtools_port(profile, proc, 30)
        if where is None:
            log.flush()
            with open(log.name) as f:
                tail = f.read()[-2000:]
            print("browser: Chromium did not open DevTools:\n" + tail,
                  file=sys.stderr)
            return 2, None
        dt = DevTools(WebSocket(where[0], where[1], 30))
        target = dt.call("Target.createTarget", {"url": "about:blank"})
        session = dt.call("Target.attachToTarget", {
            "targetId": target["targetId"], "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Page"):
            dt.call(domain + ".enable", session=session)
        t0 = time.monotonic()
        dt.call("Page.navigate", {"url": a.url}, session)
        ready = False
        while time.monotonic() - t0 < a.timeout:
            if evaluate(dt, session, "Boolean(%s)" % a.wait):
                ready = True
                break
            time.sleep(0.1)
        waited = int((time.monotonic() - t0) * 1000)
        text = evaluate(dt, session, "document.body ? document.body.innerText : ''")
        html = evaluate(dt, session, "document.documentElement.outerHTML")
        report = {"ok": ready and not dt.errors, "ready": ready,
                  "waited_ms": waited, "errors": dt.errors,
                  "text": text or "", "html": html or ""}
        try:
            dt.call("Browser.close")
        except (OSError, EOFError):
            pass
        return (0 if report["ok"] else 1), report
    except (OSError, EOFError, ValueError) as e:
        print("browser: DevTools: %s" % e, file=sys.stderr)
        return 2, None
    finally:
        stop(proc)
        log.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("url")
    ap.add_argument("--chromium", default="chromium")
    ap.add_argument("--wait", default="document.readyState === 'complete'",
                    help="JavaScript expression to wait for")
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--out", help="write the JSON report here")
    a = ap.parse_args()
    if shutil.which(a.chromium) is None:
        print("browser: %s not found" % a.chromium, file=sys.stderr)
        return 2
    profile = tempfile.mkdtemp(prefix="frontd-chromium.")
    try:
        rc, report = run(a, profile)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    if report is not None:
        text = json.dumps(report, indent=1)
        if a.out:
            with open(a.out, "w") as f:
                f.write(text + "\n")
        else:
            print(text)
        if report["errors"]:
            print("browser: errors:\n  " + "\n  ".join(report["errors"]),
                  file=sys.stderr)
        if not report["ready"]:
            print("browser: --wait not true after %.0f s" % a.timeout,
                  file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main())
