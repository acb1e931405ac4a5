/* `announce`: signal endpoints and the C-flag sysctl for a node behind an
 * L4 load balancer.  See include/fleet.h.
 *
 * Ownership: an endpoint is ours only when this process added it; one
 * that existed before (the operator's, or another daemon's) is used and
 * never deleted.  Likewise the sysctl is put back only when we changed it
 * and nobody changed it since. */
#include "auto-config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "fleet.h"
#include "log.h"
#include "mptcp_pm.h"

static struct {
	/* Main thread only. */
	struct cidr added[CONFIG_MAX_ANNOUNCE]; /* endpoints we created */
	size_t nadded;
	int saved_sysctl;                       /* -1: not changed by us */
	/* Read by the workers' accept path, under lock. */
	pthread_mutex_t lock;
	struct cidr announced[CONFIG_MAX_ANNOUNCE];
	size_t nannounced;
	atomic_int active;                      /* nannounced > 0 */
	atomic_int warned;
} fl = { .saved_sysctl = -1, .lock = PTHREAD_MUTEX_INITIALIZER };

static const char *text(const struct cidr *c, char *buf, size_t size)
{
	if (inet_ntop(c->family, c->addr, buf, (socklen_t)size) == NULL)
		snprintf(buf, size, "?");
	return buf;
}

static bool listed(const struct cidr *list, size_t n, const struct cidr *c)
{
	for (size_t i = 0; i < n; i++)
		if (cidr_equal(&list[i], c))
			return true;
	return false;
}

static void why_netlink(int err, const char *what)
{
	if (err == EPERM || err == EACCES)
		log_error("announce: %s: %s: changing the MPTCP path manager "
		          "needs CAP_NET_ADMIN (start as root; with user = ..., "
		          "the capability is kept only when announce is set at "
		          "start), or remove announce and configure it with "
		          "`ip mptcp endpoint add ADDR signal`", what,
		          strerror(err));
	else if (err == ENOENT)
		log_error("announce: %s: this kernel has no MPTCP path manager "
		          "(no mptcp_pm netlink family)", what);
	else
		log_error("announce: %s: %s", what, strerror(err));
}

static void publish(const struct config *cfg)
{
	pthread_mutex_lock(&fl.lock);
	memcpy(fl.announced, cfg->announce, sizeof(fl.announced));
	fl.nannounced = cfg->nannounce;
	atomic_store(&fl.active, cfg->nannounce > 0);
	pthread_mutex_unlock(&fl.lock);
}

/* Delete our endpoint for address a, if it is still there (by address:
 * ids may have been reassigned). */
static int del_ours(struct mptcp_nl_sock *s, const struct mptcp_nl_state *st,
                    const struct cidr *a)
{
	const struct mptcp_nl_endpoint *ep = mptcp_pm_find(st, a);
	char buf[INET6_ADDRSTRLEN];
	int rc;

	if (ep == NULL || !(ep->flags & MPTCP_NL_FLAG_SIGNAL)) {
		log_info("announce: endpoint %s already gone",
		         text(a, buf, sizeof(buf)));
		return 0;
	}
	rc = mptcp_pm_del(s, ep->id);
	if (rc < 0) {
		why_netlink(-rc, "cannot delete the signal endpoint");
		return -1;
	}
	log_info("announce: deleted signal endpoint id %u (%s)",
	         (unsigned)ep->id, text(a, buf, sizeof(buf)));
	return 0;
}

/* Add the missing endpoints of want[]; record the ones we add in
 * fl.added.  On failure the ones added by this call are deleted again. */
static int add_missing(struct mptcp_nl_sock *s, struct mptcp_nl_state *st,
                       const struct cidr *want, size_t nwant)
{
	size_t before = fl.nadded;
	char buf[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < nwant; i++) {
		const struct mptcp_nl_endpoint *ep = mptcp_pm_find(st, &want[i]);
		int rc;

		if (listed(fl.added, fl.nadded, &want[i]))
			continue;
		text(&want[i], buf, sizeof(buf));
		if (ep != NULL && (ep->flags & MPTCP_NL_FLAG_SIGNAL)) {
			log_info("announce: %s already has signal endpoint id %u "
			         "(not ours: left at exit)", buf, (unsigned)ep->id);
			continue;
		}
		if (ep != NULL) {
			log_error("announce: %s has endpoint id %u without "
			          "`signal`, so the kernel does not announce it: "
			          "run `ip mptcp endpoint del id %u` (this daemon "
			          "then adds it as signal), or remove %s from "
			          "announce", buf, (unsigned)ep->id,
			          (unsigned)ep->id, buf);
			goto undo;
		}
		rc = mptcp_pm_signal_add(s, &want[i]);
		if (rc < 0) {
			char what[96];

			snprintf(what, sizeof(what), "cannot add signal endpoint "
			         "%s", buf);
			why_netlink(-rc, what);
			goto undo;
		}
		fl.added[fl.nadded++] = want[i];
		log_info("announce: added signal endpoint %s", buf);
	}
	return 0;
undo:
	if (mptcp_nl_endpoints(s, st) == 0)
		while (fl.nadded > before)
			del_ours(s, st, &fl.added[--fl.nadded]);
	return -1;
}

static int set_sysctl(bool want_zero)
{
	int cur = mptcp_pm_sysctl_get(FLEET_SYSCTL), rc;

	if (want_zero && fl.saved_sysctl < 0) {
		if (cur < 0) {
			log_warn("announce: net.mptcp.%s is missing (Linux "
			         "before 5.17): clients may still send joins to "
			         "the balanced address", FLEET_SYSCTL);
			return 0;
		}
		if (cur == 0)
			return 0;       /* already so: not ours to put back */
		rc = mptcp_pm_sysctl_set(FLEET_SYSCTL, 0);
		if (rc < 0) {
			log_error("announce: cannot set net.mptcp.%s = 0: %s%s",
			          FLEET_SYSCTL, strerror(-rc),
			          rc == -EROFS ? " (/proc/sys is mounted read-only "
			                         "here: a container?)"
			          : rc == -EPERM || rc == -EACCES
			                  ? " (needs CAP_NET_ADMIN)" : "");
			return -1;
		}
		fl.saved_sysctl = cur;
		log_info("announce: net.mptcp.%s = 0 (was %d): clients join "
		         "only announced addresses", FLEET_SYSCTL, cur);
	} else if (!want_zero && fl.saved_sysctl >= 0) {
		if (cur == 0) {
			rc = mptcp_pm_sysctl_set(FLEET_SYSCTL, fl.saved_sysctl);
			if (rc < 0) {
				log_error("announce: cannot put back net.mptcp.%s "
				          "= %d: %s", FLEET_SYSCTL,
				          fl.saved_sysctl, strerror(-rc));
				return -1;
			}
			log_info("announce: net.mptcp.%s = %d again",
			         FLEET_SYSCTL, fl.saved_sysctl);
		}
		fl.saved_sysctl = -1;
	}
	return 0;
}

/* What the path manager should look like: endpoints for want[] (ours for
 * the ones we add), none of ours beyond them. */
static int converge(const struct cidr *want, size_t nwant)
{
	static struct mptcp_nl_state st;        /* large: not on the stack */
	struct mptcp_nl_sock s;
	int rc;

	rc = mptcp_nl_open(&s);
	if (rc == 0)
		rc = mptcp_nl_endpoints(&s, &st);
	if (rc < 0) {
		why_netlink(-rc, "cannot read the MPTCP endpoints");
		mptcp_nl_close(&s);
		return -1;
	}
	for (size_t i = 0; i < fl.nadded;) {
		if (listed(want, nwant, &fl.added[i])) {
			i++;
			continue;
		}
		if (del_ours(&s, &st, &fl.added[i]) < 0) {
			mptcp_nl_close(&s);
			return -1;
		}
		fl.added[i] = fl.added[--fl.nadded];
	}
	rc = add_missing(&s, &st, want, nwant);
	mptcp_nl_close(&s);
	return rc;
}

int fleet_apply(const struct config *cfg)
{
	bool same = cfg->nannounce == fl.nannounced;

	for (size_t i = 0; same && i < cfg->nannounce; i++)
		same = listed(fl.announced, fl.nannounced, &cfg->announce[i]);
	if (same)
		return 0;       /* nothing changes: do not touch the kernel */
	if (converge(cfg->announce, cfg->nannounce) < 0)
		return -1;
	if (set_sysctl(cfg->nannounce > 0) < 0) {
		/* Undo to what was announced before this call. */
		converge(fl.announced, fl.nannounced);
		return -1;
	}
	publish(cfg);
	atomic_store(&fl.warned, 0);
	return 0;
}

bool fleet_needs_net_admin(const struct config *cfg)
{
	return cfg->nannounce > 0 || fl.nadded > 0 || fl.saved_sysctl >= 0;
}

void fleet_restore(void)
{
	if (fl.nadded > 0)
		converge(NULL, 0);
	set_sysctl(false);
}

bool fleet_local_is_announced(const struct sockaddr *local)
{
	bool hit;

	if (!atomic_load(&fl.active))
		return false;
	pthread_mutex_lock(&fl.lock);
	hit = cidr_match(fl.announced, fl.nannounced, local) != 0;
	pthread_mutex_unlock(&fl.lock);
	return hit;
}

void fleet_check_accept(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char buf[ADDR_STRLEN];

	if (!atomic_load_explicit(&fl.active, memory_order_relaxed) ||
	    atomic_load_explicit(&fl.warned, memory_order_relaxed))
		return;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0 ||
	    !fleet_local_is_announced((struct sockaddr *)&ss))
		return;
	if (atomic_exchange(&fl.warned, 1))
		return;
	/* IPv4 on a dual-stack socket is printed as IPv4. */
	addr_format((struct sockaddr *)&ss, len, buf, sizeof(buf));
	log_warn("announce: a connection arrived addressed to %s, which is "
	         "announced: the kernel never announces the address a "
	         "connection already uses, so its client gets no second path "
	         "(a NAT balancer sending to the node's own address does "
	         "this); fix: announce another address of this node, not the "
	         "one the balancer sends to (logged once)", buf);
}
