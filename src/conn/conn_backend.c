/* A connection's backend side: connect to the listener's backends in
 * failover order, each within connect_timeout, then queue the PROXY
 * header and start relaying. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "clock.h"
#include "config.h"
#include "conn_internal.h"
#include "log.h"
#include "pp_build.h"
#include "stats.h"
#include "tls_xport.h"

#define UNIX_RETRY_MS 5         /* unix backend backlog full: retry period */

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

static void connected(struct conn *c)
{
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

static void backend_failed(struct conn *c, int err)
{
	const struct listener_cfg *cfg = c->owner->cfg;
	const struct addr *b = backend_of(c);
	char caddr[ADDR_STRLEN], baddr[ADDR_STRLEN];

	conn_client_text(c, caddr, sizeof(caddr));
	addr_format((const struct sockaddr *)&b->ss, b->len, baddr,
	            sizeof(baddr));
	stats_add(&c->owner->stats->connect_failures, 1);
	log_warn("listener %s: client %s: backend %s: connect failed: %s",
	         cfg->name, caddr, baddr,
	         err == ETIMEDOUT ? "timed out" : strerror(err));
	conn_arm(c, &c->bev, c->bx.fd, &c->bmask, 0, NULL, NULL);
	xport_close(&c->bx, 0);
	if ((size_t)c->backend_idx + 1 >= cfg->nbackends) {
		log_warn("listener %s: client %s: no backend reachable "
		         "(tried %zu), closing", cfg->name, caddr,
		         cfg->nbackends);
		conn_end(c, END_CONNECT_FAILED, 0, 0);
		return;
	}
	c->backend_idx++;
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

	if (c->deadline_ms == 0)
		c->deadline_ms = now + c->owner->cfg->connect_timeout_ms;
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
