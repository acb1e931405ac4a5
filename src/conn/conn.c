/* One client connection's life (include/conn.h): start, the PROXY header
 * of a balancer, the TLS handshake, the idle sweep and the one end.  The
 * backend connect is in conn_backend.c, the relay in conn_relay.c, the
 * access-log line in conn_log.c.
 *
 *   accept -> [PROXY_WAIT] -> [HANDSHAKE] -> CONNECTING -> RELAYING -> end
 *
 * PROXY_WAIT only with accept_proxy, HANDSHAKE only on a TLS listener.
 * Each socket has one event whose mask is derived from the state after
 * every step (conn_rearm), so what is being waited for is never stored
 * twice.  Any step may end the connection: after conn_end, c is gone. */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "conn_internal.h"
#include "log.h"
#include "proxy_accept.h"
#include "slab.h"
#include "stats.h"
#include "tls_xport.h"

/* Subflows are sampled on activity, every PROBE_EARLY_MS during the first
 * second (when joins usually happen), then every PROBE_MS, and once more
 * at close, into the path record (conn_paths.c); the most subflows seen
 * is what the access log and /metrics report. */
#define PROBE_EARLY_MS 100
#define PROBE_MS 1000
#define PROBE_CLOSE_BYTES (256 * 1024)

static void on_client(evutil_socket_t fd, short what, void *arg);

/* Connections of this thread (a worker runs its owners' connections on
 * its own thread): from slabs of their own, so that memory goes back to
 * the system when a burst of them has ended (include/slab.h). */
static __thread struct slab_cache conn_cache = { .size = sizeof(struct conn) };

/* ---- the owner's list (least recently active first) ---- */

static void list_unlink(struct conn *c)
{
	struct conn_owner *o = c->owner;

	if (c->prev)
		c->prev->next = c->next;
	else
		o->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		o->tail = c->prev;
	c->prev = c->next = NULL;
	o->count--;
}

static void list_append(struct conn *c)
{
	struct conn_owner *o = c->owner;

	c->prev = o->tail;
	c->next = NULL;
	if (o->tail)
		o->tail->next = c;
	else
		o->head = c;
	o->tail = c;
	o->count++;
}

static void probe_subflows(struct conn *c, uint64_t now, int final)
{
	c->next_probe_ms = now + (now - c->start_ms < 1000 ? PROBE_EARLY_MS
	                                                   : PROBE_MS);
	conn_paths_probe(c, now, final);
}

/* Activity: sample the subflows when due, move to the list's tail. */
void conn_touch(struct conn *c)
{
	c->last_ms = clock_now_ms();
	if (c->is_mptcp && c->last_ms >= c->next_probe_ms)
		probe_subflows(c, c->last_ms, 0);
	if (c->owner->tail != c) {
		list_unlink(c);
		list_append(c);
	}
}

/* ---- events ---- */

void conn_arm(struct conn *c, struct event *ev, int fd, short *cur,
              short want, event_callback_fn cb, const struct timeval *tv)
{
	if (*cur == want && tv == NULL)
		return;
	if (*cur != 0)
		event_del(ev);
	*cur = want;
	if (want == 0)
		return;
	if (want == CONN_MASK_TIMER)
		event_assign(ev, c->owner->base, -1, 0, cb, c);
	else
		event_assign(ev, c->owner->base, fd, want | EV_PERSIST, cb, c);
	event_add(ev, tv);
}

void conn_rearm(struct conn *c)
{
	short cm = 0, bm = 0;

	if (relay_wants_read(&c->up))
		cm |= conn_ev_of(c->cx.want_recv);
	if (relay_wants_write(&c->down))
		cm |= conn_ev_of(c->cx.want_send);
	if (relay_wants_read(&c->down))
		bm |= conn_ev_of(c->bx.want_recv);
	if (relay_wants_write(&c->up))
		bm |= conn_ev_of(c->bx.want_send);
	conn_arm(c, &c->cev, c->cx.fd, &c->cmask, cm, on_client, NULL);
	conn_arm(c, &c->bev, c->bx.fd, &c->bmask, bm, conn_on_backend, NULL);
	/* Bytes inside a transport do not make its socket readable. */
	if (c->up.more && (c->cmask & conn_ev_of(c->cx.want_recv)))
		event_active(&c->cev, conn_ev_of(c->cx.want_recv), 0);
	if (c->down.more && (c->bmask & conn_ev_of(c->bx.want_recv)))
		event_active(&c->bev, conn_ev_of(c->bx.want_recv), 0);
	conn_check(c);
}

const char *conn_client_text(const struct conn *c, char *buf, size_t len)
{
	return addr_format(&c->client.sa, sizeof(c->client), buf, len);
}

#ifdef FRONTD_CHECK_INVARIANTS
void conn_check(const struct conn *c)
{
	assert(c->cx.fd >= 0);
	switch ((enum conn_state)c->state) {
	case CONN_PROXY_WAIT:
	case CONN_HANDSHAKE:
		assert(c->bx.fd < 0 && c->bmask == 0);
		assert(c->up.bytes == 0 && c->down.bytes == 0);
		break;
	case CONN_CONNECTING:
		/* The client is not read until the backend answers. */
		assert(c->cmask == 0);
		break;
	case CONN_RELAYING:
		assert(c->bx.fd >= 0);
		assert(c->fwd_tlvs == NULL);
		assert(!(c->bmask & CONN_MASK_TIMER));
		break;
	case CONN_CLOSED:
		assert(0 && "a closed connection is never stepped");
		break;
	}
	if (c->owner->cfg->tls_ctx != NULL && c->state >= CONN_CONNECTING)
		assert(!xport_is_raw(&c->cx));
	else if (c->owner->cfg->tls_ctx == NULL)
		assert(xport_is_raw(&c->cx));
}
#endif

/* ---- ending ---- */

void conn_end(struct conn *c, enum end_reason why, int reset_client,
              int reset_backend)
{
	struct conn_owner *o = c->owner;
	uint64_t now = clock_now_ms();

	/* One last sample, except for short small exchanges (a request and
	 * its response) without a record: that is where a syscall per
	 * connection counts, and one that moved little did not need a second
	 * path (a join made one anyway: its event created the record). */
	if (c->is_mptcp && (c->paths != NULL ||
	                    now >= c->start_ms + PROBE_EARLY_MS ||
	                    c->up.bytes + c->down.bytes >= PROBE_CLOSE_BYTES))
		probe_subflows(c, now, 1);
	/* Closed by us (idle, shutdown): say so in the transport's terms
	 * too (TLS close_notify), once and without waiting; the close that
	 * follows carries the FIN. */
	if ((why == END_IDLE_TIMEOUT || why == END_SHUTDOWN) &&
	    c->state == CONN_RELAYING && !c->down.shut && !reset_client)
		xport_shutdown(&c->cx, 0);
	conn_log_access(c, why);
	/* A connection refused for its PROXY header never carried a client's
	 * bytes: not in the subflow histogram. */
	stats_closed(o->stats, why, c->is_mptcp && c->state != CONN_PROXY_WAIT,
	             c->subflows);
	conn_paths_end(c);
	conn_arm(c, &c->cev, c->cx.fd, &c->cmask, 0, NULL, NULL);
	conn_arm(c, &c->bev, c->bx.fd, &c->bmask, 0, NULL, NULL);
	xport_close(&c->cx, reset_client);
	xport_close(&c->bx, reset_backend);
	relay_release(&c->up);
	relay_release(&c->down);
	free(c->fwd_tlvs);
	if (c->source_held)
		conn_source_release(o, &c->client.sa);
	list_unlink(c);
	c->state = CONN_CLOSED;
	o->closed(o, c, why);
	slab_free(&conn_cache, c);
}

/* ---- TLS handshake ---- */

static void handshake_step(struct conn *c)
{
	const struct listener_cfg *cfg = c->owner->cfg;
	enum end_reason why;
	uint64_t now;
	struct timeval tv;

	switch (tls_xport_handshake(&c->cx)) {
	case TLS_HS_DONE:
		stats_add(tls_xport_resumed(&c->cx) ? &c->owner->stats->tls_resumed
		                                    : &c->owner->stats->tls_full, 1);
		c->state = CONN_CONNECTING;
		conn_arm(c, &c->cev, c->cx.fd, &c->cmask, 0, NULL, NULL);
		conn_try_backend(c);
		return;
	case TLS_HS_AGAIN:
		now = clock_now_ms();
		tv = clock_tv(c->deadline_ms > now ? c->deadline_ms - now : 0);
		conn_arm(c, &c->cev, c->cx.fd, &c->cmask,
		         conn_ev_of(c->cx.want_recv), on_client, &tv);
		conn_check(c);
		return;
	case TLS_HS_RESET:
		why = END_CLIENT_RESET;
		break;
	case TLS_HS_CLOSED:
		why = END_CLIENT_CLOSE;
		break;
	case TLS_HS_FAILED:
	default:
		why = END_TLS_HANDSHAKE;
		break;
	}
	if (log_get_level() >= LOG_LEVEL_DEBUG) {
		char caddr[ADDR_STRLEN], reason[256];
		int err = errno;

		log_debug("listener %s: client %s: TLS handshake: %s", cfg->name,
		          conn_client_text(c, caddr, sizeof(caddr)),
		          xport_error(&c->cx, err, reason, sizeof(reason)));
	}
	conn_end(c, why, 0, 0);
}

/* The client's socket is readable: only when a byte of its ClientHello
 * is there does the connection get its SSL object (tens of KB with
 * OpenSSL's buffers), so a client that connects and says nothing, or
 * closes or resets without a word, costs no more than struct conn. */
static void begin_handshake(struct conn *c)
{
	char byte;
	ssize_t n = recv(c->cx.fd, &byte, 1, MSG_PEEK);
	int err = errno;

	if (n < 0 && (err == EAGAIN || err == EINTR))
		return;         /* still armed, deadline unchanged */
	if (n <= 0) {
		char caddr[ADDR_STRLEN];

		log_debug("listener %s: client %s: TLS handshake: %s",
		          c->owner->cfg->name,
		          conn_client_text(c, caddr, sizeof(caddr)),
		          n == 0 ? "closed before a word" : strerror(err));
		conn_end(c, n == 0 ? END_CLIENT_CLOSE : END_CLIENT_RESET, 0, 0);
		return;
	}
	if (tls_xport_start(&c->cx, c->owner->cfg->tls_ctx) < 0) {
		conn_end(c, END_ERROR, 0, 0);
		return;
	}
	handshake_step(c);
}

/* The handshake gets its whole timeout from when it can begin (after a
 * balancer's header), the wait for the ClientHello included.  The
 * transport stays raw until that arrives (begin_handshake). */
static void start_tls(struct conn *c)
{
	const struct listener_cfg *cfg = c->owner->cfg;
	struct timeval tv = clock_tv(cfg->tls.handshake_timeout_ms);

	c->state = CONN_HANDSHAKE;
	c->deadline_ms = clock_now_ms() + cfg->tls.handshake_timeout_ms;
	conn_arm(c, &c->cev, c->cx.fd, &c->cmask, EV_READ, on_client, &tv);
	conn_check(c);
}

static void handshake_timeout(struct conn *c)
{
	if (log_get_level() >= LOG_LEVEL_DEBUG) {
		char caddr[ADDR_STRLEN];

		log_debug("listener %s: client %s: TLS handshake not done after "
		          "%llu ms", c->owner->cfg->name,
		          conn_client_text(c, caddr, sizeof(caddr)),
		          (unsigned long long)c->owner->cfg->tls.handshake_timeout_ms);
	}
	c->cx.failed = 1;
	conn_end(c, END_TLS_TIMEOUT, 0, 0);
}

/* After the header or at accept: on to TLS or to the backend. */
static void proceed(struct conn *c)
{
	if (c->owner->cfg->tls_ctx != NULL) {
		start_tls(c);
		return;
	}
	c->state = CONN_CONNECTING;
	conn_arm(c, &c->cev, c->cx.fd, &c->cmask, 0, NULL, NULL);
	conn_try_backend(c);
}

/* ---- a balancer's PROXY header ---- */

/* Refused: logged here (the reason is ours), access-logged and counted
 * by conn_end. */
static void refuse(struct conn *c, enum end_reason why, const char *reason)
{
	char caddr[ADDR_STRLEN];

	/* A balancer's TCP health check connects and closes: not news. */
	if (why == END_CLIENT_CLOSE)
		log_debug("listener %s: client %s: closed before sending a "
		          "PROXY header", c->owner->cfg->name,
		          conn_client_text(c, caddr, sizeof(caddr)));
	else if (why != END_SHUTDOWN)
		conn_refusal_log(c, "PROXY header refused", reason);
	conn_end(c, why, 0, 0);
}

/* Refused for max_connections_per_source (or, rarely, because there was
 * no memory to count it: the daemon's fault). */
static void refuse_source(struct conn *c, int rc)
{
	if (rc < 0) {
		conn_end(c, END_ERROR, 0, 0);
		return;
	}
	conn_refusal_log(c, "refused", "max_connections_per_source reached");
	conn_end(c, END_SOURCE_LIMIT, 0, 0);
}

/* `what`: the event's flags, 0 on the first try. */
static void proxy_wait_step(struct conn *c, short what)
{
	const struct listener_cfg *cfg = c->owner->cfg;
	struct pa_header h;
	struct timeval tv;
	uint64_t now;

	if (what & EV_TIMEOUT) {
		refuse(c, END_PROXY_TIMEOUT,
		       "no complete header within accept_proxy_timeout");
		return;
	}
	switch (proxy_accept_read(cfg, c->cx.fd, (what & EV_CLOSED) != 0, &h)) {
	case PA_REFUSED:
		refuse(c, h.why, h.reason);
		return;
	case PA_DONE:
		c->fwd_tlvs = h.fwd_tlvs;       /* ours now */
		c->fwd_len = h.fwd_len;
		/* The limit is the real client's; a LOCAL header (the
		 * balancer's own health check) is not limited. */
		if (!h.own) {
			c->client = h.client;
			c->local = h.local;
			int rc = conn_source_take(c->owner, &c->client.sa,
			                     &c->source_held);
			if (rc <= 0) {
				refuse_source(c, rc);
				return;
			}
		}
		conn_touch(c);
		proceed(c);
		return;
	case PA_WAIT:
		break;
	}
	now = clock_now_ms();
	tv = clock_tv(c->deadline_ms > now ? c->deadline_ms - now : 0);
	conn_arm(c, &c->cev, c->cx.fd, &c->cmask, EV_READ | EV_ET | EV_CLOSED,
	         on_client, &tv);
	conn_check(c);
}

/* ---- the client's event ---- */

static void on_client(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	switch ((enum conn_state)c->state) {
	case CONN_PROXY_WAIT:
		proxy_wait_step(c, what);
		return;
	case CONN_HANDSHAKE:
		conn_touch(c);
		if (what & EV_TIMEOUT)
			handshake_timeout(c);
		else if (xport_is_raw(&c->cx))
			begin_handshake(c);
		else
			handshake_step(c);
		return;
	case CONN_RELAYING:
		conn_touch(c);
		conn_relay(c, what, 0);
		return;
	case CONN_CONNECTING:
	case CONN_CLOSED:
		break;
	}
	assert(0 && "client event in a state that does not arm it");
}

/* ---- public ---- */

/* What the backend is told by default: the peer, and the address it
 * reached -- the listener's own unless it is bound to a wildcard, which
 * saves a syscall per connection. */
static int own_origin(struct conn *c, const struct conn_accept *a)
{
	struct sockaddr_storage local;
	socklen_t llen = sizeof(local);

	if (!addr_is_wildcard(a->bound)) {
		memcpy(&local, &a->bound->ss, a->bound->len);
		llen = a->bound->len;
	} else if (getsockname(a->fd, (struct sockaddr *)&local, &llen) < 0) {
		log_warn("listener %s: getsockname: %s", c->owner->cfg->name,
		         strerror(errno));
		return -1;
	}
	addr_sa_store(&c->client, a->peer, a->peerlen);
	addr_sa_store(&c->local, &local, llen);
	return 0;
}

int conn_start(struct conn_owner *o, const struct conn_accept *a)
{
	const struct listener_cfg *cfg = o->cfg;
	struct conn *c;
	uint8_t held = 0;
	int rc;

	/* With accept_proxy the source is known only from the header. */
	if (!cfg->accept_proxy) {
		rc = conn_source_take(o, (const struct sockaddr *)a->peer, &held);
		if (rc <= 0) {
			conn_refuse_at_accept(o, a, rc);
			return 0;
		}
	}
	c = slab_alloc(&conn_cache);
	if (c == NULL) {
		log_warn("listener %s: out of memory: connection dropped",
		         cfg->name);
		goto fail;
	}
	c->owner = o;
	if (own_origin(c, a) < 0) {
		slab_free(&conn_cache, c);
		goto fail;
	}
	c->source_held = held;
	xport_init(&c->cx, a->fd);
	xport_init(&c->bx, -1);
	relay_init(&c->up);
	relay_init(&c->down);
	c->lport = addr_port(a->bound);
	conn_paths_accept(c, a->fd, a->mptcp_listener);
	stats_add(c->is_mptcp ? &o->stats->accepted_mptcp
	                      : &o->stats->accepted_tcp, 1);
	c->start_ms = c->last_ms = clock_now_ms();
	c->next_probe_ms = c->start_ms + PROBE_EARLY_MS;
	list_append(c);
	/* From here on the connection reports its own end. */
	if (!cfg->accept_proxy) {
		proceed(c);
		return 0;
	}
	c->state = CONN_PROXY_WAIT;
	if (!proxy_accept_trusted(cfg, (const struct sockaddr *)a->peer)) {
		refuse(c, END_PROXY_UNTRUSTED, "source not in accept_proxy_from");
		return 0;
	}
	/* Durations count from accept, the header's wait included. */
	c->deadline_ms = c->start_ms + cfg->accept_proxy_timeout_ms;
	/* The header usually came with the handshake's last ACK. */
	proxy_wait_step(c, 0);
	return 0;
fail:
	if (held)
		conn_source_release(o, (const struct sockaddr *)a->peer);
	return -1;
}

void conn_sweep_idle(struct conn_owner *o, uint64_t now_ms)
{
	/* The list is ordered by last activity: stop at the first that is
	 * still fresh.  The other states are bounded by their own
	 * timeouts. */
	struct conn *c = o->head;

	while (c != NULL && now_ms - c->last_ms >= o->cfg->idle_timeout_ms) {
		struct conn *next = c->next;
		if (c->state == CONN_RELAYING)
			conn_end(c, END_IDLE_TIMEOUT, 0, 0);
		c = next;
	}
}

void conn_close_all(struct conn_owner *o, enum end_reason why)
{
	while (o->head != NULL)
		conn_end(o->head, why, 0, 0);
}
