#!/bin/bash
# conf/container/ tested without a container engine (our machines have
# none):
#  1. the Dockerfile's stages, packages, user, health check and entry
#     point, read with a small Dockerfile parser: the runtime stage is
#     FROM scratch and only copies the tree the build stage laid out;
#  2. its build stage for real: conf/container/build.sh and
#     runtime-root.sh (the scripts the Dockerfile runs) in a fresh copy of
#     the build context, the files Dockerfile.dockerignore lets through;
#     every COPY --from=build source is produced, the staged binary accepts
#     the image's configuration; the runtime tree holds exactly the
#     libraries ldd names and the fixed files, no shell, and (as root) the
#     daemon runs from it alone (chroot) as the image's user;
#  3. pod.yaml and compose.yaml parsed with a YAML parser: containers,
#     shared network namespace, sysctls, capabilities, configuration
#     mounts, all consistent with the Dockerfile and the .ini;
#  4. the pod's network namespace replayed in a private netns (root,
#     MPTCP): the pod's sysctls, the init container's script, nginx with
#     conf/container/nginx.conf, the staged binary as the image's user with
#     no capabilities on port 443, the image's health check command inside
#     the runtime tree (chroot), and an MPTCP client
#     whose address reaches nginx; without the pod's sysctl, port 443 is
#     refused (so the sysctl, not a capability, is what makes it work).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

require_cmd tar autoreconf make dpkg-query
"$PYTHON" -c 'import yaml' 2>/dev/null || skip_all "needs python3-yaml (a YAML parser)"

SRCDIR=$(cd "${top_srcdir:-$TESTS_DIR/../..}" && pwd)
CDIR=$SRCDIR/conf/container
FACTS=$T/facts.json

# report FILE: turn "ok|DESC" / "not ok|DESC|WHY" lines into TAP points.
report() {
	local status desc why
	while IFS='|' read -r status desc why; do
		if [ "$status" = ok ]; then
			tap_ok "$desc"
		else
			tap_fail "$desc"
			[ -n "$why" ] && tap_diag "$why"
		fi
	done <"$1"
}

# fact KEY: a value the static checks extracted (lists one item a line).
fact() {
	"$PYTHON" - "$FACTS" "$1" <<'PY'
import json, sys
v = json.load(open(sys.argv[1])).get(sys.argv[2], "")
print("\n".join(map(str, v)) if isinstance(v, list) else v)
PY
}

# ------------------------------------------------------------ 1 + 3: static

"$PYTHON" - "$CDIR" "$FACTS" >"$T/static.txt" 2>"$T/static.err" <<'PY'
import configparser, json, os, re, shlex, sys
import yaml

cdir, facts_path = sys.argv[1], sys.argv[2]
facts = {}
def check(cond, desc, why=""):
    print(("ok|%s" % desc) if cond else ("not ok|%s|%s" % (desc, why)))
    return cond

# ---- Dockerfile: instructions with continuations joined, comments dropped.
def dockerfile(path):
    instrs, buf = [], ""
    for line in open(path):
        s = line.rstrip("\n")
        if not buf and (s.lstrip().startswith("#") or not s.strip()):
            continue
        if s.lstrip().startswith("#"):        # comment inside a continuation
            continue
        if s.endswith("\\"):
            buf += s[:-1] + " "
            continue
        buf += s
        word, _, rest = buf.strip().partition(" ")
        instrs.append((word.upper(), rest.strip()))
        buf = ""
    return instrs

instrs = dockerfile(os.path.join(cdir, "Dockerfile"))
args, stages = {}, []
for word, rest in instrs:
    if word == "ARG" and not stages:
        k, _, v = rest.partition("=")
        args[k] = v
    elif word == "FROM":
        m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?$", rest, re.I)
        image = re.sub(r"\$\{(\w+)\}", lambda g: args.get(g.group(1), ""), m.group(1))
        stages.append({"name": m.group(2), "image": image, "instrs": []})
    else:
        stages[-1]["instrs"].append((word, rest))
by_name = {s["name"]: s for s in stages}
check([s["name"] for s in stages] == ["build", "mptcp-setup", "runtime"],
      "Dockerfile stages: build, mptcp-setup, runtime (the default, last)",
      str([s["name"] for s in stages]))
check([s["image"] for s in stages] == ["debian:12-slim", "debian:12-slim", "scratch"],
      "build and mptcp-setup are FROM debian:12-slim, runtime FROM scratch",
      str([s["image"] for s in stages]))

def apt_packages(stage):
    pkgs = []
    for word, rest in stage["instrs"]:
        if word != "RUN":
            continue
        for cmd in re.split(r"&&|;", rest):
            toks = shlex.split(cmd)
            if "apt-get" in toks and "install" in toks:
                pkgs += [t for t in toks[toks.index("install") + 1:]
                         if not t.startswith("-")]
    return pkgs

build, runtime = by_name.get("build"), by_name.get("runtime")
facts["build_packages"] = apt_packages(build)
facts["setup_packages"] = apt_packages(by_name["mptcp-setup"])
check("iproute2" in facts["setup_packages"], "mptcp-setup stage has iproute2 (ip mptcp)")
# FROM scratch has no shell: a RUN there could not even start.
check(not [w for w, r in runtime["instrs"] if w == "RUN"], "runtime stage runs nothing (no RUN)")

runs = [r for w, r in build["instrs"] if w == "RUN" and "conf/container/build.sh" in r]
staging = shlex.split(runs[0])[-1] if runs else ""
check(len(runs) == 1 and staging.startswith("/"),
      "build stage runs conf/container/build.sh DESTDIR", str(runs))
facts["staging"] = staging
runs = [shlex.split(r) for w, r in build["instrs"]
        if w == "RUN" and "conf/container/runtime-root.sh" in r]
rootfs = runs[0][-1] if len(runs) == 1 and len(runs[0]) == 4 else ""
check(rootfs.startswith("/") and runs[0][-2] == staging,
      "build stage then runs conf/container/runtime-root.sh DESTDIR ROOTFS", str(runs))
facts["rootfs"] = rootfs
workdir = [r for w, r in build["instrs"] if w == "WORKDIR"]
check(("COPY", ". .") in build["instrs"] and workdir,
      "build stage copies the whole context into its WORKDIR")

copies_build, copies_ctx = [], []
for word, rest in runtime["instrs"]:
    if word != "COPY":
        continue
    toks = rest.split()
    if toks[0].startswith("--from="):
        copies_build.append(toks[1:])
    else:
        copies_ctx.append(toks)
facts["copy_from_build"] = [" ".join(c) for c in copies_build]
check(copies_build == [[rootfs.rstrip("/") + "/", "/"]] and not copies_ctx,
      "runtime stage copies ROOTFS from the build stage to / and nothing else",
      str(copies_build + copies_ctx))

user = [r for w, r in runtime["instrs"] if w == "USER"]
uid = user[-1].split(":")[0] if user else "0"
check(uid.isdigit() and int(uid) != 0, "runtime stage runs as a numeric non-root USER", str(user))
facts["uid"], facts["gid"] = uid, (user[-1].split(":") + [uid])[1] if user else "0"

def exec_form(word):
    v = [r for w, r in runtime["instrs"] if w == word]
    try:
        return json.loads(v[-1]) if v else []
    except ValueError:
        return None
entry, cmd = exec_form("ENTRYPOINT"), exec_form("CMD")
# Part 2 checks that these paths exist in the runtime tree.
check(entry == ["/usr/sbin/mptcp-frontd"], "ENTRYPOINT is the binary", str(entry))
check(cmd and "-f" in cmd and "-c" in cmd, "CMD: foreground, -c a configuration file", str(cmd))
facts["image_config"] = cmd[cmd.index("-c") + 1] if cmd and "-c" in cmd else ""
hc = [r for w, r in runtime["instrs"] if w == "HEALTHCHECK"]
hc_cmd = json.loads(hc[0].split(" CMD ", 1)[1]) if hc and " CMD " in hc[0] else []
check(hc_cmd[:2] == entry[:1] + ["--health-check"] and len(hc_cmd) == 3,
      "HEALTHCHECK runs the binary's --health-check ADDR (exec form)", str(hc))
facts["healthcheck_cmd"] = hc_cmd

# ---- the image's configuration and nginx's
ini = configparser.ConfigParser(inline_comment_prefixes=(" ;",), comment_prefixes=(";", "#"))
ini.read(os.path.join(cdir, "mptcp-frontd.ini"))
listeners = [s for s in ini.sections() if s.startswith("listener:")]
check(len(listeners) == 1, "container configuration has one listener", str(listeners))
lst = ini[listeners[0]]
port = int(lst["bind"].rsplit(":", 1)[1])
facts["listen_port"] = port
facts["backend"] = lst["backend"]
stats = ini["global"].get("stats", "")
check(stats == (hc_cmd[2] if len(hc_cmd) > 2 else "127.0.0.1:9090"),
      "the health check asks the configuration's stats address", stats)
facts["stats"] = stats
ngx = open(os.path.join(cdir, "nginx.conf")).read()
check(re.search(r"listen\s+%s\s+proxy_protocol;" % re.escape(lst["backend"]), ngx)
      and "real_ip_header proxy_protocol;" in ngx,
      "nginx.conf listens on the backend address with proxy_protocol and realip")

# ---- pod.yaml
docs = [d for d in yaml.safe_load_all(open(os.path.join(cdir, "pod.yaml"))) if d]
cms = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ConfigMap"}
pods = [d for d in docs if d["kind"] == "Pod"]
check(len(pods) == 1, "pod.yaml: one Pod")
pod = pods[0]["spec"]
ctrs = {c["name"]: c for c in pod["containers"]}
check(sorted(ctrs) == ["mptcp-frontd", "nginx"], "pod: containers nginx and mptcp-frontd", str(sorted(ctrs)))
check(not pod.get("hostNetwork"), "pod: containers share the pod's own network namespace (no hostNetwork)")
nginx, frontd = ctrs.get("nginx", {}), ctrs.get("mptcp-frontd", {})
check(re.match(r"nginx:[\w.-]+$", nginx.get("image", "")) and "command" not in nginx
      and "args" not in nginx, "pod: nginx is the official image, run unmodified", nginx.get("image"))
sysctls = {s["name"]: s["value"] for s in pod.get("securityContext", {}).get("sysctls", [])}
check(sysctls.get("net.mptcp.enabled") == "1", "pod sysctl net.mptcp.enabled=1")
check(int(sysctls.get("net.ipv4.ip_unprivileged_port_start", "1024")) <= port,
      "pod sysctl ip_unprivileged_port_start lets a non-root user bind port %d" % port)
facts["pod_sysctls"] = ["%s=%s" % kv for kv in sysctls.items()]

sc = frontd.get("securityContext", {})
check(sc.get("runAsNonRoot") is True and str(sc.get("runAsUser")) == uid
      and sc.get("allowPrivilegeEscalation") is False,
      "pod: mptcp-frontd runs as the image's non-root user, no privilege escalation", str(sc))
check(sc.get("capabilities", {}).get("drop") == ["ALL"] and not sc.get("capabilities", {}).get("add"),
      "pod: mptcp-frontd drops every capability and adds none", str(sc.get("capabilities")))
check(any(p.get("containerPort") == port for p in frontd.get("ports", [])),
      "pod: mptcp-frontd exposes the listener's port %d" % port)

vols = {v["name"]: v for v in pod.get("volumes", [])}
def mounted_configmap(ctr, path):
    for m in ctr.get("volumeMounts", []):
        if m["mountPath"] == path:
            return vols.get(m["name"], {}).get("configMap", {}).get("name")
fargs = frontd.get("args", [])
cpath = fargs[fargs.index("-c") + 1] if "-c" in fargs else ""
facts["pod_args"] = fargs
cm = mounted_configmap(frontd, os.path.dirname(cpath))
key = os.path.basename(cpath)
check(cm in cms and key in cms[cm].get("data", {}),
      "pod: -c %s is a key of the ConfigMap mounted there" % cpath, "configMap %s" % cm)
check(cm in cms and cms[cm]["data"].get(key) == open(os.path.join(cdir, "mptcp-frontd.ini")).read(),
      "pod: its ConfigMap carries conf/container/mptcp-frontd.ini unchanged")
ncm = mounted_configmap(nginx, "/etc/nginx/conf.d")
check(ncm in cms and cms[ncm]["data"].get("default.conf") == ngx,
      "pod: nginx mounts conf/container/nginx.conf as conf.d/default.conf")
probes = [frontd.get(p, {}).get("exec", {}).get("command") for p in ("readinessProbe", "livenessProbe")]
check(all(p == hc_cmd for p in probes), "pod: probes run the image's health check", str(probes))

inits = pod.get("initContainers", [])
check(len(inits) == 1, "pod: one init container sets up MPTCP")
init = inits[0] if inits else {}
isc = init.get("securityContext", {})
check(isc.get("capabilities", {}).get("add") == ["NET_ADMIN"],
      "init container: NET_ADMIN only", str(isc.get("capabilities")))
script = init.get("command", [])[-1] if init.get("command") else ""
check("ip mptcp limits set" in script and re.search(r"ip mptcp endpoint add .* signal", script),
      "init container sets MPTCP limits and signal endpoints")
facts["init_script"] = script
facts["init_env"] = [e["name"] for e in init.get("env", [])]
check(init.get("image", "").startswith("mptcp-frontd-setup:"),
      "init container uses the mptcp-setup image", init.get("image"))

# ---- compose.yaml
comp = yaml.safe_load(open(os.path.join(cdir, "compose.yaml")))
svc = comp.get("services", {})
check(sorted(svc) == ["mptcp-frontd", "mptcp-setup", "nginx"],
      "compose: services nginx, mptcp-setup, mptcp-frontd", str(sorted(svc)))
f, s, n = svc.get("mptcp-frontd", {}), svc.get("mptcp-setup", {}), svc.get("nginx", {})
check(f.get("network_mode") == "service:nginx" and s.get("network_mode") == "service:nginx",
      "compose: mptcp-frontd and mptcp-setup join nginx's network namespace")
check(not f.get("sysctls") and not s.get("sysctls") and not f.get("ports"),
      "compose: sysctls and ports only on nginx, the namespace's owner")
ns = n.get("sysctls", {})
check(str(ns.get("net.mptcp.enabled")) == "1"
      and int(ns.get("net.ipv4.ip_unprivileged_port_start", 1024)) <= port,
      "compose: nginx sets net.mptcp.enabled=1 and the unprivileged port start", str(ns))
check(any(str(p).split(":")[0] == str(port) for p in n.get("ports", [])),
      "compose: port %d published" % port, str(n.get("ports")))
check(s.get("cap_add") == ["NET_ADMIN"] and "ip mptcp limits set" in " ".join(s.get("command", [])),
      "compose: mptcp-setup has NET_ADMIN and sets the MPTCP limits")
check(f.get("cap_drop") == ["ALL"] and not f.get("cap_add")
      and str(f.get("user", "")).split(":")[0] == uid and f.get("read_only") is True,
      "compose: mptcp-frontd as the image's user, no capabilities, read-only")
dep = f.get("depends_on", {})
check(isinstance(dep, dict) and dep.get("mptcp-setup", {}).get("condition")
      == "service_completed_successfully", "compose: mptcp-frontd starts after mptcp-setup completed")
for name, target in (("mptcp-frontd", None), ("mptcp-setup", "mptcp-setup")):
    b = svc.get(name, {}).get("build", {})
    df = os.path.normpath(os.path.join(cdir, b.get("context", ""), b.get("dockerfile", "")))
    check(df == os.path.normpath(os.path.join(cdir, "Dockerfile"))
          and b.get("target") == target and (target is None or target in by_name),
          "compose: %s builds conf/container/Dockerfile (target %s)" % (name, target or "default"))
check((f.get("healthcheck") or {}).get("test") == ["CMD"] + hc_cmd,
      "compose: mptcp-frontd's healthcheck is the image's HEALTHCHECK command",
      str(f.get("healthcheck")))
fcmd = f.get("command", [])
fconf = fcmd[fcmd.index("-c") + 1] if "-c" in fcmd else ""
mounts = [v.split(":") for v in f.get("volumes", [])]
check(any(m[1] == fconf and os.path.isfile(os.path.join(cdir, m[0])) and m[-1] == "ro" for m in mounts),
      "compose: -c %s is a read-only mount of a file that exists" % fconf, str(mounts))
check(all(os.path.isfile(os.path.join(cdir, v.split(":")[0])) for v in n.get("volumes", [])),
      "compose: nginx's mounted files exist")

json.dump(facts, open(facts_path, "w"), indent=1)
PY
rc=$?
report "$T/static.txt"
if [ "$rc" -ne 0 ]; then
	tap_fail "static checks ran to the end"
	tap_diag_file "$T/static.err"
	exit 1
fi

# ------------------------------------------------------------ 2: build stage

# The build context as docker would send it: the source tree minus what
# Dockerfile.dockerignore excludes (Go-style patterns, ** and !negation; a
# pattern matching a parent directory excludes what is inside).
CTX=$T/ctx
mkdir -p "$CTX"
"$PYTHON" - "$SRCDIR" "$CDIR/Dockerfile.dockerignore" >"$T/context.list" <<'PY'
import os, re, sys
root, ignore = sys.argv[1], sys.argv[2]
pats = []
for line in open(ignore):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    neg = line.startswith("!")
    p = line[1:] if neg else line
    p = p.strip("/")
    rx, i = "", 0
    while i < len(p):
        if p.startswith("**/", i):
            rx += "(?:.*/)?"; i += 3
        elif p.startswith("**", i):
            rx += ".*"; i += 2
        elif p[i] == "*":
            rx += "[^/]*"; i += 1
        elif p[i] == "?":
            rx += "[^/]"; i += 1
        else:
            rx += re.escape(p[i]); i += 1
    pats.append((re.compile(rx + "$"), neg))
def excluded(rel):
    parts = rel.split("/")
    prefixes = ["/".join(parts[:k]) for k in range(1, len(parts) + 1)]
    out = False
    for rx, neg in pats:
        if any(rx.match(x) for x in prefixes):
            out = not neg
    return out
for d, dirs, files in os.walk(root):
    for f in files:
        rel = os.path.relpath(os.path.join(d, f), root)
        if not excluded(rel):
            sys.stdout.write(rel + "\0")
PY
tar -C "$SRCDIR" --null -T "$T/context.list" -cf - | tar -C "$CTX" -xf -
rc=$?
tap_check "$rc" "build context copied ($(tr -cd '\0' <"$T/context.list" | wc -c) files)"
stale=$(cd "$CTX" && find . \( -name '*.o' -o -name '*.a' -o -name config.status \
	-o -name Makefile -o -name configure -o -path ./src/mptcp-frontd \) | head -5)
tap_is "$stale" "" "build context holds no build products of the source tree"
[ -x "$CTX/conf/container/build.sh" ]
tap_check $? "build context includes conf/container/build.sh, executable"

missing=
for p in $(fact build_packages) $(fact setup_packages); do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
tap_is "$missing" "" "every package the Dockerfile installs is a Debian package installed here"

STAGING=$T/staging
ROOTFS=$T/rootfs
# Like "RUN sh conf/container/build.sh /staging" and "RUN sh
# conf/container/runtime-root.sh /staging /rootfs" in WORKDIR /src, one
# job at a time so that the tests running beside it keep their CPU.
t0=$(now_ms)
(cd "$CTX" && JOBS=1 sh conf/container/build.sh "$STAGING") >"$T/build.log" 2>&1
rc=$?
tap_check "$rc" "build stage: build.sh builds and stages in a fresh copy ($((($(now_ms) - t0) / 1000)) s)" \
	"$T/build.log"
[ "$rc" -eq 0 ] || exit 1
(cd "$CTX" && sh conf/container/runtime-root.sh "$STAGING" "$ROOTFS") >"$T/rootfs.log" 2>&1
tap_check $? "build stage: runtime-root.sh lays out the runtime image's tree" "$T/rootfs.log" ||
	exit 1

bad=
while read -r src _; do
	[ -e "$ROOTFS${src#"$(fact rootfs)"}" ] || bad="$bad $src"
done < <(fact copy_from_build)
tap_is "$bad" "" "every COPY --from=build source exists (the runtime tree)"
bad=
for f in "$(fact image_config)" $(fact healthcheck_cmd | head -n 1) /usr/sbin/mptcp-frontd; do
	[ -f "$ROOTFS$f" ] || bad="$bad $f"
done
tap_is "$bad" "" "the entry point, the health check's program and -c's file are in the runtime tree"

BIN=$STAGING/usr/sbin/mptcp-frontd
cmp -s "$BIN" "$ROOTFS/usr/sbin/mptcp-frontd"
tap_check $? "the runtime tree's binary is the staged one"
out=$("$BIN" -t -c "$ROOTFS$(fact image_config)" 2>/dev/null)
rc=$?
tap_is "$rc:$out" "0:$ROOTFS$(fact image_config): configuration OK" \
	"staged binary -t against the image's configuration"

# The runtime tree is FROM scratch's whole image: the libraries are
# exactly the files ldd names for the binary (and the loader, at the
# binary's PT_INTERP path), the rest a fixed list; in particular no shell.
(cd "$ROOTFS" && find . ! -type d | sed 's|^\.||' | LC_ALL=C sort) >"$T/rootfs.files"
tap_diag "runtime tree ($(du -sk "$ROOTFS" | cut -f1) KiB): $(tr '\n' ' ' <"$T/rootfs.files")"
ldd "$BIN" >"$T/ldd.log" 2>&1
{
	sed -n -e 's/^.* => \(\/[^ ]*\) (0x[0-9a-f]*)$/\1/p' \
		-e 's/^[[:space:]]*\(\/[^ ]*\) (0x[0-9a-f]*)$/\1/p' "$T/ldd.log"
	printf '%s\n' /usr/sbin/mptcp-frontd "$(fact image_config)" \
		/etc/passwd /etc/group /etc/nsswitch.conf
	grep -E '^/usr/share/doc/[^/]+/copyright$' "$T/rootfs.files"
} | LC_ALL=C sort -u >"$T/rootfs.expected"
tap_is "$(diff "$T/rootfs.expected" "$T/rootfs.files" | grep '^[<>]' | tr '\n' ' ')" "" \
	"the runtime tree holds the binary, the libraries ldd names, the loader, the configuration, passwd, group, nsswitch.conf and copyright files, nothing else"
lib_pkgs=$(sed -n 's/^.* => \(\/[^ ]*\) (0x.*/\1/p' "$T/ldd.log" | while read -r lib; do
	dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null
done | sed 's/:.*//' | LC_ALL=C sort -u | tr '\n' ' ')
tap_is "$(sed -n 's|^/usr/share/doc/\([^/]*\)/copyright$|\1|p' "$T/rootfs.files" | tr '\n' ' ')" \
	"$lib_pkgs" "a copyright file for each package of those libraries ($lib_pkgs)"
tap_is "$(cut -d: -f1,3,4 "$ROOTFS/etc/passwd" | tr '\n' ' ')|$(cut -d: -f1,3 "$ROOTFS/etc/group" | tr '\n' ' ')" \
	"root:0:0 mptcp-frontd:$(fact uid):$(fact gid) |root:0 mptcp-frontd:$(fact gid) " \
	"passwd and group name the image's user $(fact uid):$(fact gid)"

# ------------------------------------------------------------ 4: the pod

if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null || ! command -v setpriv >/dev/null ||
	! "$PYTHON" -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262).close()' 2>/dev/null ||
	! command -v "$NGINX" >/dev/null; then
	[ "${CI:-}" = true ] && bail "the pod replay needs root, ip, setpriv, nginx and MPTCP (required when CI=true)"
	tap_skip "pod network namespace replay" "needs root, ip, setpriv, nginx and MPTCP"
	exit 0
fi

# The runtime tree alone runs the daemon: its loader, libraries and
# passwd entry suffice (nothing from the host: chroot), as the image's
# user.
out=$(chroot --userspec="$(fact uid):$(fact gid)" "$ROOTFS" /usr/sbin/mptcp-frontd \
	-t -c "$(fact image_config)" 2>"$T/chroot-t.err")
rc=$?
tap_is "$rc:$out" "0:$(fact image_config): configuration OK" \
	"in the runtime tree alone (chroot, uid $(fact uid)), -t: configuration OK" "$T/chroot-t.err"

make_netns POD || bail "cannot create a network namespace"
# The pod's eth0 (one end of a veth pair whose other end stays in the
# namespace too: nothing leaves it), with two documentation addresses
# standing in for status.podIPs.
if ! { ip -n "$POD" link add eth0 type veth peer name eth0-peer &&
	ip -n "$POD" link set eth0 up &&
	ip -n "$POD" link set eth0-peer up &&
	ip -n "$POD" addr add 192.0.2.10/24 dev eth0 &&
	ip -n "$POD" addr add 2001:db8::10/64 dev eth0 nodad; }; then
	bail "cannot set up eth0 in the pod namespace"
fi

bad=
for kv in $(fact pod_sysctls); do
	ip netns exec "$POD" sysctl -qw "$kv" >>"$T/sysctl.log" 2>&1 || bad="$bad $kv"
done
tap_is "$bad" "" "the pod's sysctls apply in a fresh network namespace" "$T/sysctl.log"

tap_is "$(fact init_env)" POD_IPS "init container's only input is POD_IPS"
fact init_script >"$T/init.sh"
POD_IPS=192.0.2.10,2001:db8::10 ip netns exec "$POD" sh -ec "$(cat "$T/init.sh")" \
	>"$T/init.out" 2>&1
rc=$?
tap_check "$rc" "the init container's script runs" "$T/init.out"
tap_like "$(ip -n "$POD" mptcp limits show)" 'add_addr_accepted 4 subflows 4' \
	"after it, the pod's MPTCP limits are raised"
eps=$(ip -n "$POD" mptcp endpoint show)
printf '%s\n' "$eps" | grep -q '^192\.0\.2\.10 .*signal' &&
	printf '%s\n' "$eps" | grep -q '^2001:db8::10 .*signal'
tap_check $? "after it, both pod addresses are signal endpoints" "$T/init.out"

# nginx with the pod's default.conf inside a stand-in for the official
# image's nginx.conf (its http block includes conf.d/*.conf).
NG=$T/nginx
mkdir -p "$NG/tmp" "$NG/html"
echo "hello from the pod" >"$NG/html/index.html"
sed "s|root /usr/share/nginx/html;|root $NG/html;|" "$CDIR/nginx.conf" >"$NG/default.conf"
cat >"$NG/nginx.conf" <<EOF
user root;
worker_processes 1;
pid $NG/nginx.pid;
error_log $NG/error.log info;
events { worker_connections 64; }
http {
	client_body_temp_path $NG/tmp/body;
	proxy_temp_path $NG/tmp/proxy;
	fastcgi_temp_path $NG/tmp/fastcgi;
	uwsgi_temp_path $NG/tmp/uwsgi;
	scgi_temp_path $NG/tmp/scgi;
	log_format pod 'remote=\$remote_addr peer=\$realip_remote_addr status=\$status';
	access_log $NG/access.log pod;
	include $NG/default.conf;
}
EOF
start_bg nginx ip netns exec "$POD" "$NGINX" -p "$NG/" -c "$NG/nginx.conf" \
	-e "$NG/error.log" -g 'daemon off;'
wait_for_file_line "$NG/nginx.pid" '^[0-9]+$' 10 "$BG_PID"
tap_check $? "nginx runs the pod's default.conf" "$NG/error.log" "$T/nginx.err"

# The sidecar: the staged binary with the pod's arguments, the ConfigMap
# mounted where -c points, as the image's user with no capabilities.
uid=$(fact uid)
gid=$(fact gid)
chmod 711 "$T"
chmod -R a+rX "$STAGING" "$CTX/conf"
args=()
mapfile -t pod_args < <(fact pod_args)
for a in "${pod_args[@]}"; do
	case $a in
	/etc/mptcp-frontd/*) args+=("$CTX/conf/container/${a##*/}") ;;
	*) args+=("$a") ;;
	esac
done
as_pod_user=(setpriv --reuid="$uid" --regid="$gid" --clear-groups
	--inh-caps=-all --bounding-set=-all --no-new-privs)
start_bg frontd ip netns exec "$POD" "${as_pod_user[@]}" "$BIN" "${args[@]}"
FRONTD_PID=$BG_PID
wait_for_file_line "$T/frontd.err" 'mptcp-frontd .* ready \(pid [0-9]+\)' 10 "$FRONTD_PID"
tap_check $? "mptcp-frontd starts with the pod's arguments as uid $uid without capabilities" \
	"$T/frontd.err"
port=$(fact listen_port)
tap_like "$(cat "$T/frontd.err")" "listening on \\[::\\]:$port \\(mptcp" \
	"it listens on [::]:$port with MPTCP" "$T/frontd.err"
status=$(cat "/proc/$FRONTD_PID/status" 2>/dev/null)
tap_like "$(printf '%s\n' "$status" | grep -E '^(Uid|CapPrm|CapEff):' | tr -s ' \t' ' ' | tr '\n' ' ')" \
	"^Uid: $uid $uid $uid $uid CapPrm: 0+ CapEff: 0+ \$" \
	"its process has uid $uid and no capabilities"

# The image's HEALTHCHECK command as the image runs it: inside the
# runtime tree alone (chroot), as the image's user.
mapfile -t hc_cmd < <(fact healthcheck_cmd)
in_image=(chroot --userspec="$uid:$gid" "$ROOTFS")
ip netns exec "$POD" "${in_image[@]}" "${hc_cmd[@]}" >"$T/hc.out" 2>&1
rc=$?
tap_like "$rc:$(cat "$T/hc.out")" "^0:mptcp-frontd: healthy: http://$(fact stats)/metrics: HTTP/1.1 200 OK" \
	"the image's health check, run in the runtime tree, passes against the running daemon" \
	"$T/hc.out"
ip netns exec "$POD" "${in_image[@]}" "${hc_cmd[@]:0:2}" 127.0.0.1:9 >"$T/hc-bad.out" 2>&1
rc=$?
tap_is "$rc:$(cat "$T/hc-bad.out")" \
	"1:mptcp-frontd: unhealthy: http://127.0.0.1:9/metrics: connect: Connection refused" \
	"it fails where nothing answers, with the reason" "$T/hc-bad.out"

# A client inside the pod's namespace on ::1: nginx must see ::1 (from the
# PROXY header) while its real peer is mptcp-frontd on 127.0.0.1.
ip netns exec "$POD" "$PYTHON" "$TOOLS/client.py" --mptcp --expect-mptcp --timeout 10 \
	::1 "$port" http / >"$T/client.out" 2>"$T/client.err"
rc=$?
tap_is "$rc:$(cat "$T/client.out")" "0:hello from the pod" \
	"an MPTCP client gets nginx's page through port $port" "$T/client.err"
wait_for_file_line "$NG/access.log" 'status=200' 5
tap_like "$(cat "$NG/access.log")" '^remote=::1 peer=127\.0\.0\.1 status=200$' \
	"nginx logs the client's address from the PROXY header" "$NG/access.log"

stop_pid "$FRONTD_PID"

# Without the pod's port sysctl the same non-root start must fail: the
# sysctl is what grants port 443, not a capability.
make_netns BARE || bail "cannot create a network namespace"
timeout -k 2 10 ip netns exec "$BARE" "${as_pod_user[@]}" "$BIN" "${args[@]}" \
	>"$T/bare.out" 2>"$T/bare.err"
rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -qi 'permission denied' "$T/bare.err"
tap_check $? "without the pod's sysctl, a non-root start on port $port fails (status $rc)" \
	"$T/bare.err"
