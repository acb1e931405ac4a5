/* A connection's backend side: connect to the listener's backends in
 * failover order, each within connect_timeout, then queue the PROXY
 * header and start relaying. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "backend_health.h"
#include "clock.h"
#include "config.h"
#include "conn_internal.h"
#include "log.h"
#include "pp_build.h"
#include "ratelimit.h"
#include "stats.h"
#include "tls_xport.h"

#define UNIX_RETRY_MS 5         /* unix backend backlog full: retry period */

/* struct conn's `tried` has a bit per backend. */
_Static_assert(CONFIG_MAX_BACKENDS <= 16, "conn.tried is 16 bits");

static const struct addr *backend_of(const struct conn *c)
{
	return &c->owner->cfg->backends[c->backend_idx];
}

/* The header this listener owes the backend, queued ahead of the client's
 * bytes.  Returns 0, or -1 when it cannot be built. */
static int queue_header(struct conn *c)
{
	const struct listener_cfg *cfg = c->owner->cfg;
	uint8_t hdr[PP_BUILD_MAX];
	struct pp_tls_facts facts;
	struct pp_build_in in = {
		.mode = cfg->proxy_protocol,
		.tlvs = cfg->pp_tlvs,
		.how = c->how == MPTCP_HOW_MPTCP      ? PP_HOW_MPTCP
		       : c->how == MPTCP_HOW_FALLBACK ? PP_HOW_FALLBACK
		                                      : PP_HOW_TCP,
		.fwd = c->fwd_tlvs,
		.fwd_len = c->fwd_len,
		.src = &c->client.sa,
		.dst = &c->local.sa,
	};
	int n;

	if (cfg->tls_ctx != NULL && cfg->proxy_protocol == PP_MODE_V2) {
		tls_xport_facts(&c->cx, cfg->tls_ctx, &facts);
		in.tls = &facts;
	}
	n = pp_build(hdr, sizeof(hdr), &in);
	/* The balancer's TLVs are in the header now (or never will be). */
	free(c->fwd_tlvs);
	c->fwd_tlvs = NULL;
	return n < 0 || (n > 0 && relay_queue(&c->up, hdr, (size_t)n) < 0)
	       ? -1 : 0;
}

/* Failover order and health (backend_health.h): the first backend not
 * tried yet that is not known to be down; -1 when none is left. */
static int next_backend(const struct conn *c, uint64_t now_ms)
{
	const struct listener_cfg *cfg = c->owner->cfg;

	return health_pick(c->owner->health, cfg->nbackends, c->tried, now_ms,
	                   cfg->backend_retry_ms);
}

static void connected(struct conn *c)
{
	struct backend_health *h = c->owner->health[c->backend_idx];

	if (health_ok(h, clock_now_us() - c->connect_us) == HEALTH_CAME_UP)
		log_info("listener %s: backend %s is up again after %.1f s "
		         "down (%llu failed connects meanwhile)",
		         c->owner->cfg->name, h->addr,
		         (double)(clock_now_ms() - atomic_load(&h->down_since_ms))
		         / 1000,
		         (unsigned long long)atomic_load(&h->down_failures));
	c->state = CONN_RELAYING;
	conn_arm(c, &c->bev, c->bx.fd, &c->bmask, 0, NULL, NULL);
	if (queue_header(c) < 0) {
		log_warn("listener %s: cannot build the PROXY header",
		         c->owner->cfg->name);
		c->cx.failed = 1;
		conn_end(c, END_ERROR, 1, 1);
		return;
	}
	/* Header first, with whatever the client already sent. */
	if (conn_pump(c, 1) < 0)
		return;
	conn_relay(c, 0, 0);
}

/* Failures that say nothing about the backend: we are short of
 * descriptors, memory or local ports.  Counted, but the backend is not
 * marked down for them. */
static int our_fault(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS ||
	       err == ENOMEM || err == EADDRNOTAVAIL;
}

static const char *err_text(int err)
{
	return err == ETIMEDOUT ? "timed out" : strerror(err);
}

/* The client ends with no backend: logged once per RATELIMIT_LOG_MS per
 * listener, with how many others it stands for (each one is in the
 * access log and in connections_closed_total). */
static void unreachable(struct conn *c, uint64_t now_ms, int err)
{
	const struct listener_cfg *cfg = c->owner->cfg;
	char caddr[ADDR_STRLEN], more[80];
	uint64_t held;
	int n = __builtin_popcount(c->tried);

	conn_client_text(c, caddr, sizeof(caddr));
	if (ratelimit_due(&c->owner->stats->unreachable_log, now_ms,
	                  RATELIMIT_LOG_MS, &held))
		log_warn("listener %s: client %s: no backend reachable (tried "
		         "%d of %zu, last: %s), closing%s", cfg->name, caddr, n,
		         cfg->nbackends, err_text(err),
		         ratelimit_held_text(held, "client", more,
		                             sizeof(more)));
	else
		log_debug("listener %s: client %s: no backend reachable (tried "
		          "%d of %zu), closing", cfg->name, caddr, n,
		          cfg->nbackends);
	conn_end(c, END_CONNECT_FAILED, 0, 0);
}

static void backend_failed(struct conn *c, int err)
{
	const struct listener_cfg *cfg = c->owner->cfg;
	struct backend_health *h = c->owner->health[c->backend_idx];
	uint64_t now = clock_now_ms();
	int next;

	stats_add(&c->owner->stats->connect_failures, 1);
	if (our_fault(err))
		stats_add(&h->failures, 1);
	else if (health_failed(h, now, cfg->backend_retry_ms) ==
	         HEALTH_WENT_DOWN) {
		if (cfg->backend_retry_ms != 0)
			log_warn("listener %s: backend %s is down (connect "
			         "failed: %s): skipping it for %llu ms "
			         "(backend_retry)", cfg->name, h->addr,
			         err_text(err),
			         (unsigned long long)cfg->backend_retry_ms);
		else
			log_warn("listener %s: backend %s is down (connect "
			         "failed: %s)", cfg->name, h->addr,
			         err_text(err));
	}
	if (log_get_level() >= LOG_LEVEL_DEBUG) {
		char caddr[ADDR_STRLEN];

		log_debug("listener %s: client %s: backend %s: connect failed: "
		          "%s", cfg->name,
		          conn_client_text(c, caddr, sizeof(caddr)), h->addr,
		          err_text(err));
	}
	conn_arm(c, &c->bev, c->bx.fd, &c->bmask, 0, NULL, NULL);
	xport_close(&c->bx, 0);
	next = next_backend(c, now);
	if (next < 0) {
		unreachable(c, now, err);
		return;
	}
	c->backend_idx = (uint8_t)next;
	c->tried |= (uint16_t)(1u << next);
	c->deadline_ms = 0;
	conn_try_backend(c);
}

void conn_on_backend(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	int err;

	if (c->state == CONN_RELAYING) {
		conn_touch(c);
		conn_relay(c, 0, what);
		return;
	}
	if (c->bmask == CONN_MASK_TIMER) {      /* unix retry */
		conn_try_backend(c);
		return;
	}
	err = (what & EV_TIMEOUT) ? ETIMEDOUT
	                          : backend_connect_result(c->bx.fd);
	if (err != 0)
		backend_failed(c, err);
	else
		connected(c);
}

void conn_try_backend(struct conn *c)
{
	uint64_t now = clock_now_ms(), left;
	struct timeval tv;
	int err = 0, fd = -1;

	if (c->tried == 0) {
		/* The first backend; the header's or the handshake's
		 * deadline is over. */
		int first = next_backend(c, now);
		c->backend_idx = (uint8_t)first;        /* never -1 here */
		c->tried = (uint16_t)(1u << first);
		c->deadline_ms = 0;
	}
	if (c->deadline_ms == 0) {
		c->deadline_ms = now + c->owner->cfg->connect_timeout_ms;
		c->connect_us = clock_now_us();
	}
	if (now >= c->deadline_ms) {
		backend_failed(c, ETIMEDOUT);
		return;
	}
	left = c->deadline_ms - now;
	switch (backend_connect(backend_of(c), &fd, &err)) {
	case BACKEND_CONNECTED:
		xport_init(&c->bx, fd);
		connected(c);
		return;
	case BACKEND_IN_PROGRESS:
		xport_init(&c->bx, fd);
		tv = clock_tv(left);
		conn_arm(c, &c->bev, c->bx.fd, &c->bmask, EV_WRITE,
		         conn_on_backend, &tv);
		break;
	case BACKEND_RETRY:
		tv = clock_tv(left < UNIX_RETRY_MS ? left : UNIX_RETRY_MS);
		conn_arm(c, &c->bev, -1, &c->bmask, CONN_MASK_TIMER,
		         conn_on_backend, &tv);
		break;
	case BACKEND_FAILED:
		backend_failed(c, err);
		return;
	}
	conn_check(c);
}
