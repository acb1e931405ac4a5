/* `mptcp-frontd --check`: facts about this host's MPTCP set-up turned into
 * findings with plain advice.  Everything here is pure except
 * mptcp_check_print() and mptcp_check_run(); the facts are read in
 * mptcp_check_gather.c.
 *
 * Only what stops this host serving MPTCP is an error (and decides the
 * exit status); what only stops connections from using more than one path
 * is a warning. */
#include "auto-config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "compat.h"
#include "mptcp_check.h"
#include "mptcp_check_internal.h"

#define LIMITS_FIX "run `ip mptcp limits set subflow 2 add_addr_accepted 2`"

/* Short names for the many findings below. */
#define add(...) mptcp_check_add(__VA_ARGS__)
#define fix(...) mptcp_check_fix(__VA_ARGS__)

struct mptcp_check_finding *mptcp_check_add(struct mptcp_check_report *r,
                                            enum mptcp_check_level level,
                                            const char *fmt, ...)
{
	struct mptcp_check_finding *f;
	va_list ap;

	if (level == MPTCP_CHECK_ERROR)
		r->n_errors++;
	if (r->n == MPTCP_CHECK_MAX_FINDINGS) {
		r->n_dropped++;
		return NULL;
	}
	f = &r->f[r->n++];
	f->level = level;
	f->section = r->section;
	f->fix[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(f->text, sizeof(f->text), fmt, ap);
	va_end(ap);
	return f;
}

void mptcp_check_fix(struct mptcp_check_finding *f, const char *fmt, ...)
{
	va_list ap;

	if (f == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(f->fix, sizeof(f->fix), fmt, ap);
	va_end(ap);
}

/* strerror() with the symbolic name operators search for. */
static void errno_text(int err, char *buf, size_t size)
{
	static const struct {
		int err;
		const char *name;
	} names[] = {
		{ ENOPROTOOPT, "ENOPROTOOPT" }, { EPROTONOSUPPORT, "EPROTONOSUPPORT" },
		{ EAFNOSUPPORT, "EAFNOSUPPORT" }, { EINVAL, "EINVAL" },
		{ EPERM, "EPERM" }, { EACCES, "EACCES" }, { ENOENT, "ENOENT" },
		{ EMFILE, "EMFILE" }, { ENFILE, "ENFILE" }, { ENOMEM, "ENOMEM" },
		{ ENOBUFS, "ENOBUFS" }, { ETIMEDOUT, "ETIMEDOUT" },
		{ EBADMSG, "EBADMSG" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].err == err) {
			snprintf(buf, size, "%s (%s)", strerror(err), names[i].name);
			return;
		}
	snprintf(buf, size, "%s (errno %d)", strerror(err), err);
}

/* A kernel without MPTCP has neither the sysctls nor the netlink family. */
static int no_mptcp_kernel(const struct mptcp_check_facts *f)
{
	return f->enabled < 0 && f->nl.limits_err == ENOENT &&
	       f->sock4.err != 0 && f->sock6.err != 0;
}

static void judge_enabled(const struct mptcp_check_facts *f,
                          struct mptcp_check_report *r)
{
	struct mptcp_check_finding *x;

	if (no_mptcp_kernel(f)) {
		x = add(r, MPTCP_CHECK_ERROR,
		        "this kernel has no MPTCP: no net.mptcp sysctls and no "
		        "mptcp_pm netlink family");
		fix(x, "use Linux 5.6 or later built with CONFIG_MPTCP=y "
		       "(5.15 or later recommended)");
	} else if (f->enabled < 0) {
		add(r, MPTCP_CHECK_WARN, "net.mptcp.enabled cannot be read "
		    "(is /proc/sys mounted?)");
	} else if (f->enabled == 0) {
		x = add(r, MPTCP_CHECK_ERROR, "net.mptcp.enabled = 0: MPTCP is "
		        "disabled in this network namespace");
		fix(x, "run `sysctl -w net.mptcp.enabled=1` (and set it in "
		       "/etc/sysctl.d/ to keep it)");
	} else {
		add(r, MPTCP_CHECK_OK, "net.mptcp.enabled = %d", f->enabled);
	}
}

/* Unconfirmed (SO_PROTOCOL unreadable) counts as working. */
static int sock_works(const struct mptcp_check_sock *s)
{
	return s->err == 0 && (s->protocol == IPPROTO_MPTCP || s->protocol < 0);
}

static void judge_socket(const struct mptcp_check_facts *f,
                         const struct mptcp_check_sock *s, const char *fam,
                         int other_works, struct mptcp_check_report *r)
{
	/* One family working is enough to serve (if only half of it). */
	enum mptcp_check_level bad =
		other_works ? MPTCP_CHECK_WARN : MPTCP_CHECK_ERROR;
	struct mptcp_check_finding *x;
	char why[96];

	if (s->err == 0 && s->protocol == IPPROTO_MPTCP) {
		add(r, MPTCP_CHECK_OK, "socket(%s, SOCK_STREAM, IPPROTO_MPTCP) "
		    "works (SO_PROTOCOL = %d)", fam, s->protocol);
		return;
	}
	if (s->err == 0 && s->protocol < 0) {
		add(r, MPTCP_CHECK_WARN, "socket(%s, SOCK_STREAM, IPPROTO_MPTCP) "
		    "works, but SO_PROTOCOL cannot be read to confirm it", fam);
		return;
	}
	if (s->err == 0) {
		x = add(r, bad, "socket(%s, SOCK_STREAM, IPPROTO_MPTCP) gives a "
		        "socket whose SO_PROTOCOL is %d, not %d", fam,
		        s->protocol, IPPROTO_MPTCP);
		fix(x, "something between this program and the kernel (an "
		       "LD_PRELOAD library, a seccomp filter) rewrites the protocol");
		return;
	}
	errno_text(s->err, why, sizeof(why));
	x = add(r, bad, "socket(%s, SOCK_STREAM, IPPROTO_MPTCP) fails: %s", fam,
	        why);
	if (f->enabled == 0 || no_mptcp_kernel(f))
		fix(x, "see net.mptcp.enabled above");
	else if (s->err == EAFNOSUPPORT)
		fix(x, "%s is not available on this host (IPv6 disabled?)", fam);
	else if (s->err == EACCES || s->err == EPERM)
		fix(x, "a security policy (seccomp, SELinux, AppArmor) denies "
		       "MPTCP sockets to this process");
	else if (s->err == ENOPROTOOPT || s->err == EPROTONOSUPPORT)
		fix(x, "the kernel refuses MPTCP here: check net.mptcp.enabled "
		       "and CONFIG_MPTCP%s", strcmp(fam, "AF_INET6") == 0
		                                     ? "_IPV6" : "");
}

int mptcp_check_pm_in_kernel(const struct mptcp_check_facts *f)
{
	return f->pm == MPTCP_CHECK_PM_KERNEL || f->pm == MPTCP_CHECK_PM_UNKNOWN;
}

static void judge_pm(const struct mptcp_check_facts *f,
                     struct mptcp_check_report *r)
{
	if (f->pm == MPTCP_CHECK_PM_UNKNOWN) {
		add(r, MPTCP_CHECK_OK, "path manager: in-kernel (this kernel has "
		    "no other)");
	} else if (f->pm == MPTCP_CHECK_PM_KERNEL) {
		add(r, MPTCP_CHECK_OK, "path manager: in-kernel (%s)",
		    f->pm_setting);
	} else if (f->pm == MPTCP_CHECK_PM_OTHER) {
		add(r, MPTCP_CHECK_OK, "path manager: %s (not judged by this "
		    "version)", f->pm_setting);
	} else if (f->mptcpd_running) {
		add(r, MPTCP_CHECK_OK, "path manager: userspace (%s), mptcpd is "
		    "running; the limits and endpoints below apply to the "
		    "in-kernel path manager only", f->pm_setting);
	} else {
		struct mptcp_check_finding *x;

		x = add(r, MPTCP_CHECK_WARN, "path manager: userspace (%s) and "
		        "no mptcpd is running: the kernel refuses extra "
		        "subflows, connections stay single-path", f->pm_setting);
		fix(x, "start mptcpd, or use the in-kernel path manager: "
		       "`sysctl -w %s`", f->pm_via_type
		                               ? "net.mptcp.pm_type=0"
		                               : "net.mptcp.path_manager=kernel");
	}
}

static void judge_limits(const struct mptcp_check_facts *f,
                         struct mptcp_check_report *r)
{
	const struct mptcp_nl_limits *l = &f->nl.limits;
	struct mptcp_check_finding *x;

	if (f->nl.limits_err != 0) {
		char why[96];

		errno_text(f->nl.limits_err, why, sizeof(why));
		x = add(r, MPTCP_CHECK_WARN, "cannot read the path manager "
		        "limits over netlink: %s", why);
		if (f->nl.limits_err == EPERM || f->nl.limits_err == EACCES)
			fix(x, "run --check as root");
		else if (f->nl.limits_err == ENOENT)
			fix(x, "the kernel has no mptcp_pm netlink family "
			       "(older than 5.7?)");
		return;
	}
	if (!l->have_subflows || !l->have_add_addr_accepted) {
		add(r, MPTCP_CHECK_WARN, "the kernel did not report the path "
		    "manager limits");
		return;
	}
	if (!mptcp_check_pm_in_kernel(f)) {
		add(r, MPTCP_CHECK_OK, "limits (unused by the userspace path "
		    "manager): subflow %u add_addr_accepted %u",
		    l->subflows, l->add_addr_accepted);
	} else if (l->subflows == 0) {
		x = add(r, MPTCP_CHECK_WARN, "subflow limit is 0: clients cannot "
		        "add paths to a connection (add_addr_accepted %u)",
		        l->add_addr_accepted);
		fix(x, "%s", LIMITS_FIX);
	} else {
		add(r, MPTCP_CHECK_OK, "limits: subflow %u add_addr_accepted %u "
		    "(each connection may gain up to %u more subflow%s)",
		    l->subflows, l->add_addr_accepted, l->subflows,
		    l->subflows == 1 ? "" : "s");
	}
}

/* "signal,backup,0x40" */
static void flags_text(uint32_t flags, char *buf, size_t size)
{
	static const char *const names[] = {
		"signal", "subflow", "backup", "fullmesh", "implicit",
	};
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (flags & (1u << i)) {
			used += (size_t)snprintf(buf + used, size - used, "%s%s",
			                         used ? "," : "", names[i]);
			if (used >= size)
				return;
			flags &= ~(1u << i);
		}
	if (flags != 0)
		snprintf(buf + used, size - used, "%s0x%x", used ? "," : "",
		         (unsigned)flags);
	else if (used == 0)
		snprintf(buf, size, "no flags");
}

static void judge_endpoint(const struct mptcp_nl_endpoint *ep,
                           struct mptcp_check_report *r)
{
	char addr[INET6_ADDRSTRLEN] = "?", flags[64], port[16] = "", dev[48] = "";

	if (ep->family == AF_INET || ep->family == AF_INET6)
		inet_ntop(ep->family, &ep->addr, addr, sizeof(addr));
	flags_text(ep->flags, flags, sizeof(flags));
	if (ep->port != 0)
		snprintf(port, sizeof(port), " port %u", (unsigned)ep->port);
	if (ep->ifname[0] != '\0')
		snprintf(dev, sizeof(dev), " dev %s (ifindex %d)", ep->ifname,
		         (int)ep->ifindex);
	else if (ep->ifindex != 0)
		snprintf(dev, sizeof(dev), " ifindex %d", (int)ep->ifindex);
	add(r, MPTCP_CHECK_OK, "endpoint id %u: %s%s %s%s", (unsigned)ep->id,
	    addr, port, flags, dev);
	if ((ep->flags & MPTCP_NL_FLAG_SUBFLOW) && ep->ifindex == 0) {
		struct mptcp_check_finding *x;

		x = add(r, MPTCP_CHECK_WARN, "endpoint id %u (%s) is `subflow` "
		        "without a device: its subflows may leave through the "
		        "wrong interface", (unsigned)ep->id, addr);
		fix(x, "run `ip mptcp endpoint del id %u` and add it again "
		       "with `dev IFNAME`", (unsigned)ep->id);
	}
}

static void judge_endpoints(const struct mptcp_check_facts *f,
                            struct mptcp_check_report *r)
{
	if (f->nl.endpoints_err != 0) {
		/* Without limits the same cause was already reported. */
		if (f->nl.limits_err == 0) {
			char why[96];

			errno_text(f->nl.endpoints_err, why, sizeof(why));
			add(r, MPTCP_CHECK_WARN, "cannot list the MPTCP endpoints "
			    "over netlink: %s", why);
		}
		return;
	}
	if (f->nl.n_endpoints == 0) {
		add(r, MPTCP_CHECK_OK, "no MPTCP endpoints: a server needs none "
		    "to accept extra subflows from clients; `signal` endpoints "
		    "(ip mptcp endpoint add ADDR dev IF signal) let it announce "
		    "more of its addresses");
		return;
	}
	for (size_t i = 0; i < f->nl.n_endpoints; i++)
		judge_endpoint(&f->nl.ep[i], r);
	if (f->nl.n_dropped > 0)
		add(r, MPTCP_CHECK_OK, "... and %zu more endpoints not shown",
		    f->nl.n_dropped);
}

int mptcp_check_evaluate(const struct mptcp_check_facts *f,
                         struct mptcp_check_report *r)
{
	int v4 = sock_works(&f->sock4), v6 = sock_works(&f->sock6);

	memset(r, 0, sizeof(*r));
	if (f->kernel[0] != '\0')
		add(r, MPTCP_CHECK_OK, "kernel: Linux %s", f->kernel);
	judge_enabled(f, r);
	judge_socket(f, &f->sock4, "AF_INET", v6, r);
	judge_socket(f, &f->sock6, "AF_INET6", v4, r);
	if (!no_mptcp_kernel(f)) {
		judge_pm(f, r);
		judge_limits(f, r);
		judge_endpoints(f, r);
		mptcp_check_balancer(f, r);
	}
	return r->n_errors == 0;
}

void mptcp_check_print(const struct mptcp_check_report *r, int can_serve,
                       FILE *out)
{
	static const char *const prefix[] = { "ok", "warn", "error" };

	for (size_t i = 0; i < r->n; i++) {
		const char *sec = r->f[i].section;

		if (sec != NULL && (i == 0 || r->f[i - 1].section != sec))
			fprintf(out, "== %s ==\n", sec);
		fprintf(out, "%s: %s\n", prefix[r->f[i].level], r->f[i].text);
		if (r->f[i].fix[0] != '\0')
			fprintf(out, "  fix: %s\n", r->f[i].fix);
	}
	if (r->n_dropped > 0)
		fprintf(out, "warn: %zu more findings not shown\n", r->n_dropped);
	fprintf(out, "verdict: this host %s MPTCP\n",
	        can_serve ? "can serve" : "cannot serve");
}

int mptcp_check_run(FILE *out)
{
	struct mptcp_check_facts *f = calloc(1, sizeof(*f));
	struct mptcp_check_report *r = calloc(1, sizeof(*r));
	int can_serve = 0;

	if (f == NULL || r == NULL) {
		fprintf(out, "error: out of memory\n"
		             "verdict: this host cannot serve MPTCP\n");
	} else {
		mptcp_check_gather(f);
		can_serve = mptcp_check_evaluate(f, r);
		mptcp_check_print(r, can_serve, out);
	}
	free(f);
	free(r);
	return can_serve ? 0 : 1;
}
