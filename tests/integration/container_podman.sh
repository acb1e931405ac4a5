#!/bin/bash
# conf/container/ with a real container engine: Debian 12's podman (runc,
# cgroupfs, catatonit), no registry.
#  1. base images from Debian packages: conf/container/base-image.sh
#     (mmdebstrap) for debian:12-slim, Containerfile.nginx-standin (Debian's
#     nginx) for the nginx:1.27 that the pod names;
#  2. conf/container/Dockerfile built as it is (default target and
#     mptcp-setup): the image is small and holds exactly the binary, the
#     libraries its loader resolves inside the image, the configuration,
#     passwd/group/nsswitch and the libraries' copyright files (no shell);
#     it answers -t on a read-only root; run alone (its own USER, no
#     capabilities) in a namespace of the test's with a TLS listener, it
#     is uid 10001, healthy by its HEALTHCHECK, completes a TLS handshake
#     and stops with 0; without the port sysctl its non-root start on 443
#     is refused;
#  3. the sidecar pod from conf/container/pod.yaml with podman play kube
#     (three things podman 4.3 cannot express are rewritten, see below),
#     on a bridge of its own with documentation addresses, a client in a
#     network namespace on the same bridge: an MPTCP client and a plain TCP
#     client get nginx's page, nginx's log in its container shows each
#     client's address; the sidecar has uid 10001, no capabilities and a
#     read-only root; the health check runs and is healthy; podman kill
#     --signal HUP reloads; podman stop drains a held connection and the
#     container exits 0.
# Everything podman keeps is private to this test: its own storage (the
# cache, below), its own run and network-configuration directories, the
# bridge "mfd-test0" with no address on the host, so nothing here touches
# the host's routes, firewall or the system's podman.
#
# Cache (MPTCP_FRONTD_PODMAN_CACHE, default /var/cache/mptcp-frontd-tests/
# podman): the image store.  The base image is reused while its label
# matches the hash of base-image.sh and the apt sources it reads, and is
# under 7 days old (security updates); podman build's own layer cache
# reuses a step only when its instruction, its base and, for COPY, the
# content of the files copied are the same, so a changed source tree or
# Dockerfile rebuilds what depends on it.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

require_root
require_cmd podman runc catatonit mmdebstrap ip flock openssl chroot
require_mptcp
require_netns
"$PYTHON" -c 'import yaml' 2>/dev/null || skip_all "needs python3-yaml (a YAML parser)"

SRCDIR=$(cd "${top_srcdir:-$TESTS_DIR/../..}" && pwd)
CDIR=$SRCDIR/conf/container
CACHE=${MPTCP_FRONTD_PODMAN_CACHE:-/var/cache/mptcp-frontd-tests/podman}
RUNROOT=/run/mptcp-frontd-tests/podman
BRIDGE=mfd-test0
POD_V4=198.51.100.10
POD_V6=2001:db8:1::10
CLI_V4=198.51.100.1
CLI_V6=2001:db8:1::1
IMAGE=mptcp-frontd:0.1.0
# Bounds: the largest image this test accepts (bytes).  The runtime
# stage is FROM scratch: 8.3 MB, libcrypto 4.7 MB of it; a Debian base
# would add 75 MB.
MAX_IMAGE_BYTES=${MAX_IMAGE_BYTES:-20000000}

mkdir -p "$CACHE" "$RUNROOT" "$T/cni" "$T/ipam" || bail "cannot create podman's directories"
# One run at a time uses the store, the bridge and the pod name.
exec 9>"$CACHE/lock"
flock -w 900 9 || bail "$CACHE/lock held for 900 s by another run"

# What this host needs (conf/container/README.md): runc (crun refuses the
# hybrid cgroup mount), cgroupfs (no systemd as PID 1), explicit ulimits
# (podman's default asks for more descriptors than the hard limit).
cat >"$T/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
tmp_dir = "$RUNROOT/libpod"
[network]
network_config_dir = "$T/cni"
EOF
cat >"$T/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$CACHE/storage"
runroot = "$RUNROOT/storage"
EOF
export CONTAINERS_CONF=$T/containers.conf CONTAINERS_STORAGE_CONF=$T/storage.conf

# The pod's network: a bridge without an address on the host (no gateway,
# no masquerading, no port mapping: nothing in the host's firewall), with
# fixed documentation addresses for the pod.
cat >"$T/cni/mfd-test.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "mfd-test",
  "plugins": [{
    "type": "bridge", "bridge": "$BRIDGE",
    "isGateway": false, "ipMasq": false, "hairpinMode": false,
    "ipam": {
      "type": "host-local", "dataDir": "$T/ipam",
      "ranges": [
        [{"subnet": "198.51.100.0/24", "rangeStart": "$POD_V4", "rangeEnd": "$POD_V4"}],
        [{"subnet": "2001:db8:1::/64", "rangeStart": "$POD_V6", "rangeEnd": "$POD_V6"}]
      ]
    }
  }]
}
EOF

# A run that was killed may have left its pod and bridge behind.
podman pod rm -f -t 0 web >/dev/null 2>&1
podman rm -f -t 0 mfd-image >/dev/null 2>&1
ip link del "$BRIDGE" 2>/dev/null
at_exit "podman pod rm -f -t 5 web >/dev/null 2>&1; podman rm -f -t 5 mfd-image >/dev/null 2>&1"
at_exit "podman image unmount $IMAGE >/dev/null 2>&1; ip link del $BRIDGE 2>/dev/null"

# proc_status CTR: the Uid, capability and NoNewPrivs lines of the
# container's main process, on one line, read from the host (the image
# has no shell to read them inside).
proc_status() {
	local pid
	pid=$(podman inspect --format '{{.State.Pid}}' "$1") &&
		grep -E '^(Uid|CapPrm|CapEff|CapBnd|NoNewPrivs):' "/proc/$pid/status" |
		tr '\t\n' '  '
}

# podman_logs CTR FILE: the container's log (stdout and stderr) into FILE.
podman_logs() {
	podman logs "$1" >"$2" 2>&1
}

# wait_log CTR REGEX TIMEOUT_S: poll the container's log for REGEX.
wait_log() {
	local deadline=$(($(now_ms) + $3 * 1000))
	while :; do
		podman_logs "$1" "$T/$1.log"
		grep -Eq -- "$2" "$T/$1.log" && return 0
		[ "$(now_ms)" -ge "$deadline" ] && return 1
		sleep 0.2
	done
}

# ------------------------------------------------------------ 1: base images

t_all=$(now_ms)
sources=/etc/apt/sources.list.d/debian.sources
[ -f "$sources" ] || sources=/dev/null
key=$(cat "$CDIR/base-image.sh" "$sources" | sha256sum | cut -c1-16)
have=$(podman image inspect --format '{{index .Labels "mptcp-frontd.base-key"}} {{.Created.Unix}}' \
	debian:12-slim 2>/dev/null)
t0=$(now_ms)
if [ "${have% *}" = "$key" ] && [ $(($(date +%s) - ${have#* })) -lt $((7 * 86400)) ]; then
	tap_ok "debian:12-slim stand-in reused from the cache (key $key)"
else
	LABEL="mptcp-frontd.base-key=$key" sh "$CDIR/base-image.sh" podman debian:12-slim \
		>"$T/base.log" 2>&1
	tap_check $? "debian:12-slim made from Debian packages with mmdebstrap" \
		"$T/base.log" || exit 1
fi
t_base=$((($(now_ms) - t0) / 1000))

# podman build keeps HEALTHCHECK only in the docker format (OCI has no
# such field); --network host: apt reaches the mirror without a bridge.
build() {
	podman build --format docker --network host "$@"
}
t0=$(now_ms)
build -f "$CDIR/Containerfile.nginx-standin" -t nginx:1.27 "$CDIR" >"$T/nginx-build.log" 2>&1
tap_check $? "nginx:1.27 stand-in built from Debian's nginx" "$T/nginx-build.log" || exit 1

# ------------------------------------------------------------ 2: the image

build -f "$CDIR/Dockerfile" -t "$IMAGE" "$SRCDIR" >"$T/build.log" 2>&1
tap_check $? "conf/container/Dockerfile builds $IMAGE" "$T/build.log" || exit 1
build -f "$CDIR/Dockerfile" --target mptcp-setup -t mptcp-frontd-setup:0.1.0 "$SRCDIR" \
	>"$T/setup-build.log" 2>&1
tap_check $? "conf/container/Dockerfile --target mptcp-setup builds" "$T/setup-build.log" || exit 1
t_build=$((($(now_ms) - t0) / 1000))

size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
tap_diag "image $IMAGE: $size bytes ($((size / 1000000)) MB)" \
	"layers: $(podman history --format '{{.Size}} {{.CreatedBy}}' "$IMAGE" |
		grep -v '^0 B' | cut -c1-70 | tr '\n' ';')"
[ "$size" -le "$MAX_IMAGE_BYTES" ]
tap_check $? "the image is at most $MAX_IMAGE_BYTES bytes ($size)"
cfg=$(podman image inspect --format '{{.Config.User}}|{{.Config.Healthcheck.Test}}' "$IMAGE")
tap_is "$cfg" "10001:10001|[CMD /usr/sbin/mptcp-frontd --health-check 127.0.0.1:9090]" \
	"image: user 10001:10001, HEALTHCHECK is the binary's --health-check (exec form)"

# What is in it: the image's tree, mounted.  Its libraries are exactly
# what its own loader resolves for the binary inside that tree (chroot:
# nothing from the host), and nothing else is there but the fixed files.
mnt=$(podman image mount "$IMAGE" 2>"$T/mount.log")
tap_check $? "podman image mount $IMAGE" "$T/mount.log" || exit 1
(cd "$mnt" && find . ! -type d | sed 's|^\.||' | LC_ALL=C sort) >"$T/image.files"
tap_diag "image files: $(tr '\n' ' ' <"$T/image.files")"
loader=$(grep -E '^/(usr/)?lib[^/]*/ld-linux[^/]*\.so\.[0-9]+$' "$T/image.files" | head -n 1)
chroot "$mnt" "${loader:-/no-loader}" --list /usr/sbin/mptcp-frontd >"$T/image-ldd.log" 2>&1
rc=$?
[ "$rc" -eq 0 ] && ! grep -q 'not found' "$T/image-ldd.log"
tap_check $? "inside the image, its own loader (${loader:-none}) resolves every library of the binary" \
	"$T/image-ldd.log"
{
	sed -n -e 's/^.* => \(\/[^ ]*\) (0x[0-9a-f]*)$/\1/p' \
		-e 's/^[[:space:]]*\(\/[^ ]*\) (0x[0-9a-f]*)$/\1/p' "$T/image-ldd.log"
	printf '%s\n' /usr/sbin/mptcp-frontd /etc/mptcp-frontd/mptcp-frontd.ini \
		/etc/passwd /etc/group /etc/nsswitch.conf
	grep -E '^/usr/share/doc/[^/]+/copyright$' "$T/image.files"
} | LC_ALL=C sort -u >"$T/image.expected"
tap_is "$(diff "$T/image.expected" "$T/image.files" | grep '^[<>]' | tr '\n' ' ')" "" \
	"the image holds the binary, those libraries, the configuration, passwd, group, nsswitch.conf and copyright files, nothing else"
tap_is "$(cut -d: -f1,3,4 "$mnt/etc/passwd" | tr '\n' ' ')" "root:0:0 mptcp-frontd:10001:10001 " \
	"its /etc/passwd has uid 10001 (and root)"
podman image unmount "$IMAGE" >/dev/null 2>&1

# The image alone (no pod securityContext): the configuration it carries
# is valid on a read-only root.  (podman's stderr has complaints about
# systemd timers for health checks: stdout only.)
out=$(podman run --rm --network none --read-only "$IMAGE" -t -c /etc/mptcp-frontd/mptcp-frontd.ini \
	2>"$T/run-t.log")
tap_is "$?:$out" "0:/etc/mptcp-frontd/mptcp-frontd.ini: configuration OK" \
	"podman run --read-only $IMAGE -t: configuration OK" "$T/run-t.log"

# OpenSSL needs no file of its own in the image: a TLS listener's
# certificate and key, mounted like the configuration, load and serve a
# handshake.  The image runs with its own USER and no capabilities, in a
# network namespace of the test's (so that a client can reach it).
TLSD=$T/tls
mkdir -p "$TLSD"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=image.test -keyout "$TLSD/key.pem" -out "$TLSD/cert.pem" 2>"$T/openssl.log" ||
	bail "openssl cannot make a test certificate"
printf '%s\n' '[global]' 'log = stderr' 'access_log = stderr' 'stats = 127.0.0.1:9090' \
	'[listener:tls]' 'bind = 127.0.0.1:8443' 'mptcp = on' 'backend = 127.0.0.1:8080' \
	'tls_cert = /etc/mptcp-frontd/cert.pem' 'tls_key = /etc/mptcp-frontd/key.pem' \
	>"$TLSD/mptcp-frontd.ini"
chmod 755 "$TLSD" && chmod 644 "$TLSD"/*
make_netns IMGNS || bail "cannot create a network namespace"
podman run -d --name mfd-image --network "ns:/run/netns/$IMGNS" --read-only --cap-drop ALL \
	-v "$TLSD:/etc/mptcp-frontd:ro" "$IMAGE" >"$T/image-run.log" 2>&1
tap_check $? "podman run $IMAGE alone, with a TLS listener" "$T/image-run.log"
wait_log mfd-image 'mptcp-frontd .* ready \(pid 1\)' 30
tap_check $? "it is ready, the container's PID 1" "$T/mfd-image.log"
tap_like "$(proc_status mfd-image)" \
	'^Uid: 10001 10001 10001 10001 CapPrm: 0+ CapEff: 0+ CapBnd: 0+ ' \
	"a process of the image runs as uid 10001 (its USER) with no capabilities"
podman healthcheck run mfd-image >"$T/image-hc.log" 2>&1
rc=$?
tap_is "$rc:$(podman inspect --format '{{.State.Health.Status}}' mfd-image)" "0:healthy" \
	"its HEALTHCHECK (mptcp-frontd --health-check) runs in it: healthy" "$T/image-hc.log"
ip netns exec "$IMGNS" timeout -k 2 10 openssl s_client -connect 127.0.0.1:8443 \
	-servername image.test </dev/null >"$T/s_client.log" 2>&1
grep -Eq '^(New|Reused), TLSv1\.3, Cipher is ' "$T/s_client.log" &&
	grep -q 'subject=CN = image.test' "$T/s_client.log"
tap_check $? "a TLS client completes a TLSv1.3 handshake with it and gets its certificate" \
	"$T/s_client.log"
podman exec mfd-image /bin/sh -c true >"$T/sh.log" 2>&1
rc=$?
[ "$rc" -ne 0 ] && grep -qi 'no such file or directory' "$T/sh.log"
tap_check $? "the image has no shell (podman exec /bin/sh: status $rc)" "$T/sh.log"
podman stop -t 10 mfd-image >"$T/image-stop.log" 2>&1
tap_is "$(podman inspect --format '{{.State.Status}} {{.State.ExitCode}}' mfd-image)" "exited 0" \
	"podman stop: it exits 0" "$T/image-stop.log"
podman rm -f mfd-image >/dev/null 2>&1

# Port 443 as non-root depends on the namespace's sysctl, not on a
# capability: in a fresh namespace (unprivileged ports from 1024) it fails.
timeout -k 5 60 podman run --rm --network none --read-only --cap-drop ALL "$IMAGE" \
	>"$T/bare.log" 2>&1
rc=$?
[ "$rc" -ne 0 ] && grep -qi 'permission denied' "$T/bare.log"
tap_check $? "without net.ipv4.ip_unprivileged_port_start, the non-root start on 443 fails (status $rc)" \
	"$T/bare.log"

# ------------------------------------------------------------ 3: the pod

# What podman 4.3 (Debian 12) cannot take from pod.yaml as it is:
# - env valueFrom fieldRef status.podIPs: not supported; POD_IPS gets the
#   pod's addresses as a literal value;
# - containerPort is published on the host's 0.0.0.0 (Kubernetes publishes
#   nothing without hostPort): the ports are dropped, clients reach the
#   pod's address on the bridge as they would reach a pod IP;
# - restartPolicy Always is given to the init container too, which podman
#   then restarts in a loop: OnFailure instead;
# - spec.securityContext.sysctls are ignored: the same sysctls go to
#   containers.conf's default_sysctls for the play kube run, which podman
#   applies to the pod's infra container, the owner of its network
#   namespace (containers that join it get none);
# - an exec livenessProbe becomes a CMD-SHELL health check, the command
#   joined with spaces and "|| exit 1" (or "|| kill 1") appended: it
#   needs /bin/sh, which the image does not have (Kubernetes runs exec
#   probes without a shell; readinessProbe podman ignores), and without
#   the probe the container has no health check at all (play kube does
#   not take the image's HEALTHCHECK).  The probes are dropped; the test
#   runs each one as the kubelet does, podman exec of its command.
"$PYTHON" - "$CDIR/pod.yaml" "$T/pod.yaml" "$POD_V4,$POD_V6" >"$T/sysctls" <<'PY' 2>"$T/pod-yaml.err"
import sys, yaml
docs = list(yaml.safe_load_all(open(sys.argv[1])))
for d in docs:
    if d.get("kind") != "Pod":
        continue
    spec = d["spec"]
    for s in spec["securityContext"].pop("sysctls"):
        print('"%s=%s"' % (s["name"], s["value"]))
    spec["restartPolicy"] = "OnFailure"
    for c in spec["containers"]:
        c.pop("ports", None)
        c.pop("livenessProbe", None)
        c.pop("readinessProbe", None)
    for c in spec["initContainers"]:
        for e in c.get("env", []):
            if e["name"] == "POD_IPS":
                e.pop("valueFrom")
                e["value"] = sys.argv[3]
yaml.safe_dump_all(docs, open(sys.argv[2], "w"), sort_keys=False)
PY
tap_check $? "pod.yaml rewritten for podman 4.3 (POD_IPS, ports, restartPolicy, sysctls, probes)" \
	"$T/pod-yaml.err" || exit 1
sed "s/^\[containers\]\$/&\ndefault_sysctls = [$(paste -sd, "$T/sysctls")]/" "$T/containers.conf" \
	>"$T/play.conf"

ip link add "$BRIDGE" type bridge && ip link set "$BRIDGE" up ||
	bail "cannot create the bridge $BRIDGE"
t0=$(now_ms)
CONTAINERS_CONF=$T/play.conf timeout -k 5 120 podman play kube --network mfd-test "$T/pod.yaml" >"$T/play.log" 2>&1
tap_check $? "podman play kube pod.yaml: pod web started" "$T/play.log" || exit 1
wait_log web-mptcp-frontd 'mptcp-frontd .* ready \(pid [0-9]+\)' 30
tap_check $? "mptcp-frontd is ready in the pod" "$T/web-mptcp-frontd.log" || exit 1
t_pod=$((($(now_ms) - t0) / 1000))

# podman removes an init container once it has run: its effect is read
# from the pod's network namespace (the infra container's).
infra=$(podman pod inspect --format '{{.InfraContainerID}}' web)
podns=$(podman inspect --format '{{.NetworkSettings.SandboxKey}}' "$infra")
{ nsenter --net="$podns" ip mptcp limits show && nsenter --net="$podns" ip mptcp endpoint show &&
	nsenter --net="$podns" sysctl net.mptcp.enabled net.ipv4.ip_unprivileged_port_start; } \
	>"$T/podns.log" 2>&1
grep -q "add_addr_accepted 4 subflows 4" "$T/podns.log" &&
	grep -q "^$POD_V4 .*signal" "$T/podns.log" && grep -q "^$POD_V6 .*signal" "$T/podns.log"
tap_check $? "the init container raised the pod's MPTCP limits and announced both pod addresses" \
	"$T/podns.log"
grep -q '^net.mptcp.enabled = 1$' "$T/podns.log" &&
	grep -q '^net.ipv4.ip_unprivileged_port_start = 443$' "$T/podns.log"
tap_check $? "the pod's network namespace has the pod's sysctls" "$T/podns.log"

tap_is "$(proc_status web-mptcp-frontd)" \
	"Uid: 10001 10001 10001 10001 CapPrm: 0000000000000000 CapEff: 0000000000000000 CapBnd: 0000000000000000 NoNewPrivs: 1 " \
	"the sidecar runs as uid 10001, no capabilities at all, no new privileges"
tap_is "$(podman inspect --format '{{.HostConfig.ReadonlyRootfs}}' web-mptcp-frontd)" true \
	"its root file system is read-only"
# Written from the host through the process's root: the container's
# mounts apply (the image has no shell to try it inside).
frontd_pid=$(podman inspect --format '{{.State.Pid}}' web-mptcp-frontd)
{ : >"/proc/$frontd_pid/root/probe"; } >"$T/rofs.log" 2>&1
rc=$?
[ "$rc" -ne 0 ] && grep -qi 'read-only' "$T/rofs.log"
tap_check $? "writing to it fails: read-only file system (status $rc)" "$T/rofs.log"
tap_like "$(cat "$T/web-mptcp-frontd.log")" "listening on \\[::\\]:443 \\(mptcp" \
	"it listens on [::]:443 with MPTCP as a non-root user" "$T/web-mptcp-frontd.log"

# The client: a namespace whose veth is on the pod's bridge.
make_netns CLI || bail "cannot create a network namespace"
ip link add mfd-test-c0 type veth peer name eth0 netns "$CLI" &&
	ip link set mfd-test-c0 master "$BRIDGE" up &&
	ip -n "$CLI" link set eth0 up &&
	ip -n "$CLI" addr add "$CLI_V4/24" dev eth0 &&
	ip -n "$CLI" addr add "$CLI_V6/64" dev eth0 nodad ||
	bail "cannot attach the client namespace to $BRIDGE"

fetch() {
	ip netns exec "$CLI" "$PYTHON" "$TOOLS/client.py" --timeout 10 "$@"
}
fetch --expect-mptcp "$POD_V4" 443 http / >"$T/mptcp.out" 2>"$T/mptcp.err"
rc=$?
tap_is "$rc:$(grep -c '<h1>Welcome to nginx!</h1>' "$T/mptcp.out")" "0:1" \
	"an MPTCP client ($CLI_V4) gets nginx's page from $POD_V4:443" "$T/mptcp.err"
fetch "$POD_V6" 443 http / >"$T/tcp.out" 2>"$T/tcp.err"
rc=$?
tap_is "$rc:$(grep -c '<h1>Welcome to nginx!</h1>' "$T/tcp.out")" "0:1" \
	"a plain TCP client ($CLI_V6) gets it from [$POD_V6]:443" "$T/tcp.err"
podman exec web-nginx cat /var/log/nginx/access.log >"$T/access.log" 2>&1
grep -q "^$CLI_V4 .*\"GET / HTTP/1\.[01]\" 200 " "$T/access.log" &&
	grep -q "^$CLI_V6 .*\"GET / HTTP/1\.[01]\" 200 " "$T/access.log" &&
	! grep -q '^127\.' "$T/access.log"
tap_check $? "nginx's access log in its container has each client's own address" "$T/access.log"
tap_diag_file "$T/access.log"

# The pod's probes, run as the kubelet runs an exec probe: the command
# in the container, no shell, healthy on status 0.  (The image's
# HEALTHCHECK, the same command, ran with podman healthcheck run above.)
for probe in livenessProbe readinessProbe; do
	mapfile -t probe_cmd < <("$PYTHON" - "$CDIR/pod.yaml" "$probe" <<'PY'
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d.get("kind") == "Pod":
        for c in d["spec"]["containers"]:
            if c["name"] == "mptcp-frontd":
                print("\n".join(c[sys.argv[2]]["exec"]["command"]))
PY
	)
	podman exec web-mptcp-frontd "${probe_cmd[@]}" >"$T/hc-$probe.log" 2>&1
	rc=$?
	tap_like "$rc:$(cat "$T/hc-$probe.log")" '^0:mptcp-frontd: healthy: http://127\.0\.0\.1:9090/metrics: HTTP/1\.1 200 OK' \
		"the pod's $probe (${probe_cmd[*]}) run in the sidecar: healthy" "$T/hc-$probe.log"
done
podman exec web-mptcp-frontd /usr/sbin/mptcp-frontd --health-check 127.0.0.1:9 >"$T/hc-bad.log" 2>&1
rc=$?
tap_is "$rc:$(cat "$T/hc-bad.log")" \
	"1:mptcp-frontd: unhealthy: http://127.0.0.1:9/metrics: connect: Connection refused" \
	"the health check fails where nothing answers, with its reason" "$T/hc-bad.log"

# Reload.
podman kill --signal HUP web-mptcp-frontd >"$T/hup.log" 2>&1
tap_check $? "podman kill --signal HUP" "$T/hup.log"
wait_log web-mptcp-frontd 'reloaded /etc/mptcp-frontd/mptcp-frontd.ini: configuration generation 2' 15
tap_check $? "the daemon's log says it reloaded (generation 2)" "$T/web-mptcp-frontd.log"
fetch --expect-mptcp "$POD_V4" 443 http / >"$T/mptcp2.out" 2>"$T/mptcp2.err"
tap_is "$?:$(grep -c '<h1>Welcome to nginx!</h1>' "$T/mptcp2.out")" "0:1" "the page still comes after the reload" \
	"$T/mptcp2.err"

# Stop: a held MPTCP connection keeps the container draining until it
# closes; then the daemon exits 0.
HOLD_NS=$CLI
start_bg hold ip netns exec "$HOLD_NS" "$PYTHON" "$TOOLS/hold.py" --mptcp \
	--release-file "$T/hold.release" --max 60 "$POD_V4" 443 1
HOLD_PID=$BG_PID
wait_for_file_line "$T/hold.out" '^held 1$' 15 "$HOLD_PID"
tap_check $? "a client holds one MPTCP connection" "$T/hold.err"
t0=$(now_ms)
start_bg stop podman stop -t 30 web-mptcp-frontd
STOP_PID=$BG_PID
wait_log web-mptcp-frontd 'SIGTERM: stopping: listeners closed, draining 1 connections' 15
tap_check $? "podman stop: the daemon drains the held connection" "$T/web-mptcp-frontd.log"
fetch "$POD_V4" 443 connect >"$T/late.out" 2>"$T/late.err"
tap_is "$?" 3 "a new connection is refused while it drains" "$T/late.err"
sleep 1
tap_like "$(podman inspect --format '{{.State.Status}}' web-mptcp-frontd)" '^(running|stopping)$' \
	"the container keeps running while the connection is open"
: >"$T/hold.release"
wait_pid_exit "$STOP_PID" 40000
wait "$STOP_PID"
rc=$?
tap_check "$rc" "podman stop returns once the connection closed ($((($(now_ms) - t0) / 1000)) s)" \
	"$T/stop.err"
tap_is "$(podman inspect --format '{{.State.Status}} {{.State.ExitCode}}' web-mptcp-frontd)" "exited 0" \
	"the container exited 0"
podman_logs web-mptcp-frontd "$T/web-mptcp-frontd.log"
tap_like "$(tail -n 1 "$T/web-mptcp-frontd.log")" 'stopped$' "its log ends with 'stopped'" \
	"$T/web-mptcp-frontd.log"

tap_diag "times: base image ${t_base} s, image builds ${t_build} s, pod start ${t_pod} s," \
	"whole test $((($(now_ms) - t_all) / 1000)) s"
