/* One proxied connection.
 *
 * Life cycle (s->state):
 *   CONNECTING  the client is accepted, a backend connect is in flight;
 *               on failure the next backend of the list is tried
 *   RELAYING    PROXY header queued first, then bytes both ways
 *   (freed)     session_end() releases everything and logs once
 *
 * Each of the two sockets has one event whose mask is derived from the two
 * relay directions after every callback (arm()), so what is being waited
 * for is never stored twice. */
#include <errno.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "backend.h"
#include "config.h"
#include "listener.h"
#include "log.h"
#include "mptcp.h"
#include "proxy_accept.h"
#include "proxy_proto.h"
#include "relay.h"
#include "server.h"
#include "session.h"
#include "session_tls.h"
#include "stats.h"
#include "tls.h"
#include "worker.h"

#define UNIX_RETRY_MS 5         /* unix backend backlog full: retry period */

enum session_state { SESSION_CONNECTING, SESSION_RELAYING };

struct session {
	struct session *prev, *next;    /* owner's LRU list */
	struct listener *l;
	const struct listener_cfg *cfg; /* settings it started with */
	struct event cev, bev;          /* client and backend socket events */
	int cfd, bfd;
	short cmask, bmask;             /* what cev/bev are armed for */
	uint8_t state;
	uint8_t backend_idx;            /* backend in use or being tried */
	uint8_t is_mptcp;
	uint8_t subflows;
	uint8_t first_eof;              /* 0, or 'c' / 'b': who closed first */
	struct relay_dir up;            /* client -> backend */
	struct relay_dir down;          /* backend -> client */
	union session_sa client, local; /* what the backend is told */
	uint8_t *fwd_tlvs;              /* a balancer's, until the header */
	uint16_t fwd_len;
	uint64_t start_ms, last_ms, connect_start_ms;
	uint64_t next_probe_ms;         /* next MPTCP_INFO subflow sample */
};

/* Subflows are sampled on activity, every PROBE_EARLY_MS during the first
 * second (when joins usually happen), then every PROBE_MS, and once more
 * at close: the maximum is what the access log and /metrics report. */
#define PROBE_EARLY_MS 100
#define PROBE_MS 1000
#define PROBE_CLOSE_BYTES (256 * 1024)

/* bev armed only as a timer (unix backend retry). */
#define MASK_TIMER 0x100

static const char *const end_names[] = {
	[SESSION_END_CLIENT_CLOSE] = "client_close",
	[SESSION_END_BACKEND_CLOSE] = "backend_close",
	[SESSION_END_CLIENT_RESET] = "client_reset",
	[SESSION_END_BACKEND_RESET] = "backend_reset",
	[SESSION_END_IDLE_TIMEOUT] = "idle_timeout",
	[SESSION_END_CONNECT_FAILED] = "connect_failed",
	[SESSION_END_SHUTDOWN] = "shutdown",
	[SESSION_END_ERROR] = "error",
	[SESSION_END_TLS_HANDSHAKE] = "tls_handshake_failed",
	[SESSION_END_TLS_TIMEOUT] = "tls_handshake_timeout",
	[SESSION_END_PROXY_UNTRUSTED] = "proxy_untrusted",
	[SESSION_END_PROXY_BAD_HEADER] = "proxy_bad_header",
	[SESSION_END_PROXY_TIMEOUT] = "proxy_timeout",
};

const char *session_end_name(enum session_end e)
{
	if ((unsigned)e < sizeof(end_names) / sizeof(end_names[0]))
		return end_names[e];
	return "?";
}

static void on_client(evutil_socket_t fd, short what, void *arg);
static void on_backend(evutil_socket_t fd, short what, void *arg);
static void try_backend(struct session *s);

/* ---- LRU list (least recently active first) ---- */

static void lru_unlink(struct session *s)
{
	struct listener *l = s->l;

	if (s->prev)
		s->prev->next = s->next;
	else
		l->lru_head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	else
		l->lru_tail = s->prev;
	s->prev = s->next = NULL;
}

static void lru_append(struct session *s)
{
	struct listener *l = s->l;

	s->prev = l->lru_tail;
	s->next = NULL;
	if (l->lru_tail)
		l->lru_tail->next = s;
	else
		l->lru_head = s;
	l->lru_tail = s;
}

static void probe_subflows(struct session *s, uint64_t now)
{
	unsigned n;

	s->next_probe_ms = now + (now - s->start_ms < 1000 ? PROBE_EARLY_MS
	                                                   : PROBE_MS);
	if (mptcp_conn_info(s->cfd, &n) && n > s->subflows)
		s->subflows = (uint8_t)(n > 255 ? 255 : n);
}

static void touch(struct session *s)
{
	s->last_ms = server_now_ms();
	if (s->is_mptcp && s->last_ms >= s->next_probe_ms)
		probe_subflows(s, s->last_ms);
	if (s->l->lru_tail != s) {
		lru_unlink(s);
		lru_append(s);
	}
}

/* ---- events ---- */

static void arm(struct session *s, struct event *ev, int fd, short *cur,
                short want, event_callback_fn cb, const struct timeval *tv)
{
	if (*cur == want && tv == NULL)
		return;
	if (*cur != 0)
		event_del(ev);
	*cur = want;
	if (want == 0)
		return;
	if (want == MASK_TIMER)
		event_assign(ev, s->l->w->base, -1, 0, cb, s);
	else
		event_assign(ev, s->l->w->base, fd, want | EV_PERSIST, cb, s);
	event_add(ev, tv);
}

/* Derive both sockets' interests from the relay state. */
static void rearm(struct session *s)
{
	short c = 0, b = 0;

	if (relay_wants_read(&s->up))
		c |= EV_READ;
	if (relay_wants_write(&s->down))
		c |= EV_WRITE;
	if (relay_wants_read(&s->down))
		b |= EV_READ;
	if (relay_wants_write(&s->up))
		b |= EV_WRITE;
	arm(s, &s->cev, s->cfd, &s->cmask, c, on_client, NULL);
	arm(s, &s->bev, s->bfd, &s->bmask, b, on_backend, NULL);
}

/* ---- ending ---- */

static void close_fd(int fd, int reset)
{
	if (fd < 0)
		return;
	if (reset) {
		/* Linger 0: close sends RST, telling the peer the
		 * connection was cut rather than finished. */
		struct linger lg = { 1, 0 };
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(fd);
}

void session_log_access(const struct listener_cfg *cfg,
                        const struct sockaddr *client, socklen_t clen,
                        const struct addr *b, int is_mptcp,
                        unsigned subflows, uint64_t bytes_in,
                        uint64_t bytes_out, uint64_t start_ms,
                        enum session_end why, const char *tail)
{
	char caddr[ADDR_STRLEN], baddr[ADDR_STRLEN];

	addr_format(client, clen, caddr, sizeof(caddr));
	if (b != NULL)
		addr_format((const struct sockaddr *)&b->ss, b->len, baddr,
		            sizeof(baddr));
	else
		strcpy(baddr, "-");
	log_access("listener=%s client=%s backend=%s proto=%s subflows=%u "
	           "bytes_in=%llu bytes_out=%llu duration_ms=%llu end=%s%s",
	           cfg->name, caddr, baddr, is_mptcp ? "mptcp" : "tcp",
	           subflows, (unsigned long long)bytes_in,
	           (unsigned long long)bytes_out,
	           (unsigned long long)(server_now_ms() - start_ms),
	           session_end_name(why), tail);
}

static void log_end(struct session *s, enum session_end why)
{
	if (!log_access_enabled())
		return;
	session_log_access(s->cfg, &s->client.sa, sizeof(s->client),
	                   s->state == SESSION_RELAYING
	                           ? &s->cfg->backends[s->backend_idx] : NULL,
	                   s->is_mptcp, s->subflows, s->up.bytes,
	                   s->down.bytes, s->start_ms, why, "");
}

/* The one exit: logs, releases everything the session holds, tells the
 * server.  `reset_client` / `reset_backend` close with RST. */
static void session_end(struct session *s, enum session_end why,
                        int reset_client, int reset_backend)
{
	struct listener *l = s->l;
	struct worker *w = l->w;

	/* One last sample, except for short small exchanges (a request and
	 * its response): that is where a syscall per connection counts, and
	 * one that moved little did not need a second path. */
	if (s->is_mptcp && s->cfd >= 0 &&
	    (server_now_ms() >= s->start_ms + PROBE_EARLY_MS ||
	     s->up.bytes + s->down.bytes >= PROBE_CLOSE_BYTES))
		probe_subflows(s, server_now_ms());
	log_end(s, why);
	stats_closed(l->stats, (int)why, s->is_mptcp, s->subflows);
	arm(s, &s->cev, s->cfd, &s->cmask, 0, NULL, NULL);
	arm(s, &s->bev, s->bfd, &s->bmask, 0, NULL, NULL);
	close_fd(s->cfd, reset_client);
	close_fd(s->bfd, reset_backend);
	relay_release(&s->up);
	relay_release(&s->down);
	free(s->fwd_tlvs);
	lru_unlink(s);
	free(s);
	w->active--;
	server_release(w, l);   /* the slot reserved before accept */
	worker_session_ended(w, l);
}

/* A relay error: one side failed, so the other is reset too. */
static void relay_failed(struct session *s, enum relay_result r, int err,
                         int client_is_src)
{
	int client_side;
	enum session_end why;

	if (r == RELAY_NOMEM) {
		log_warn("listener %s: out of memory relaying", s->cfg->name);
		session_end(s, SESSION_END_ERROR, 1, 1);
		return;
	}
	client_side = (r == RELAY_SRC_ERROR) == client_is_src;
	if (err == ECONNRESET || err == EPIPE || err == ETIMEDOUT ||
	    err == ENOTCONN) {
		why = client_side ? SESSION_END_CLIENT_RESET
		                  : SESSION_END_BACKEND_RESET;
	} else {
		why = SESSION_END_ERROR;
		log_warn("listener %s: %s socket: %s", s->cfg->name,
		         client_side ? "client" : "backend", strerror(err));
	}
	session_end(s, why, !client_side, client_side);
}

/* After a pump: end the session when both directions are finished. */
static void after_io(struct session *s)
{
	if (relay_done(&s->up) && relay_done(&s->down)) {
		session_end(s, s->first_eof == 'b' ? SESSION_END_BACKEND_CLOSE
		                                   : SESSION_END_CLIENT_CLOSE,
		            0, 0);
		return;
	}
	if (!s->first_eof)
		s->first_eof = s->up.eof ? 'c' : s->down.eof ? 'b' : 0;
	rearm(s);
}

/* Pump one direction; returns -1 when the session is gone. */
static int pump(struct session *s, int upward)
{
	struct relay_dir *d = upward ? &s->up : &s->down;
	uint64_t before = d->bytes;
	/* When the other direction is finished, this one's EOF ends the
	 * session and the close right after it carries the FIN. */
	d->fin_by_close = relay_done(upward ? &s->down : &s->up);
	int err = 0;
	enum relay_result r = upward ? relay_pump(d, s->cfd, s->bfd, &err)
	                             : relay_pump(d, s->bfd, s->cfd, &err);

	if (d->bytes != before)
		stats_add(upward ? &s->l->stats->bytes_in
		                 : &s->l->stats->bytes_out, d->bytes - before);

	if (r != RELAY_OK) {
		relay_failed(s, r, err, upward);
		return -1;
	}
	return 0;
}

static void on_client(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	touch(s);
	if ((what & EV_READ) && pump(s, 1) < 0)
		return;
	if ((what & EV_WRITE) && pump(s, 0) < 0)
		return;
	after_io(s);
}

/* ---- backend connect ---- */

static void backend_text(const struct session *s, char *buf, size_t len)
{
	const struct addr *b = &s->cfg->backends[s->backend_idx];
	addr_format((const struct sockaddr *)&b->ss, b->len, buf, len);
}

static void connected(struct session *s)
{
	uint8_t hdr[PP2_MAX_LEN_NO_TLV + 16 + PP_FWD_TLVS_MAX];
	int n = 0;

	s->state = SESSION_RELAYING;
	arm(s, &s->bev, s->bfd, &s->bmask, 0, NULL, NULL);
	if (s->cfg->proxy_protocol == PP_MODE_V1)
		n = pp_encode_v1((char *)hdr, sizeof(hdr), &s->client.sa,
		                 &s->local.sa);
	else if (s->cfg->proxy_protocol == PP_MODE_V2)
		n = tls_pp_encode_v2(hdr, sizeof(hdr), s->cfg, s->is_mptcp, NULL,
		                     s->fwd_tlvs, s->fwd_len, &s->client.sa,
		                     &s->local.sa);
	/* The balancer's TLVs are in the header now (or never will be). */
	free(s->fwd_tlvs);
	s->fwd_tlvs = NULL;
	if (n < 0 || (n > 0 && relay_queue(&s->up, hdr, (size_t)n) < 0)) {
		log_warn("listener %s: cannot build the PROXY header",
		         s->cfg->name);
		session_end(s, SESSION_END_ERROR, 1, 1);
		return;
	}
	/* Header first, then whatever the client already sent. */
	if (pump(s, 1) < 0)
		return;
	after_io(s);
}

static void backend_failed(struct session *s, int err)
{
	char caddr[ADDR_STRLEN], baddr[ADDR_STRLEN];

	addr_format(&s->client.sa, sizeof(s->client), caddr, sizeof(caddr));
	backend_text(s, baddr, sizeof(baddr));
	stats_add(&s->l->stats->connect_failures, 1);
	log_warn("listener %s: client %s: backend %s: connect failed: %s",
	         s->cfg->name, caddr, baddr,
	         err == ETIMEDOUT ? "timed out" : strerror(err));
	arm(s, &s->bev, s->bfd, &s->bmask, 0, NULL, NULL);
	if (s->bfd >= 0) {
		close(s->bfd);
		s->bfd = -1;
	}
	if ((size_t)s->backend_idx + 1 >= s->cfg->nbackends) {
		log_warn("listener %s: client %s: no backend reachable "
		         "(tried %zu), closing", s->cfg->name, caddr,
		         s->cfg->nbackends);
		session_end(s, SESSION_END_CONNECT_FAILED, 0, 0);
		return;
	}
	s->backend_idx++;
	s->connect_start_ms = 0;
	try_backend(s);
}

static struct timeval ms_to_tv(uint64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000),
	                      (suseconds_t)((ms % 1000) * 1000) };
	return tv;
}

static void on_backend(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	if (s->state == SESSION_CONNECTING) {
		int err;
		if (s->bmask == MASK_TIMER) {           /* unix retry */
			try_backend(s);
			return;
		}
		err = (what & EV_TIMEOUT) ? ETIMEDOUT
		                          : backend_connect_result(s->bfd);
		if (err != 0)
			backend_failed(s, err);
		else
			connected(s);
		return;
	}
	touch(s);
	if ((what & EV_READ) && pump(s, 0) < 0)
		return;
	if ((what & EV_WRITE) && pump(s, 1) < 0)
		return;
	after_io(s);
}

static void try_backend(struct session *s)
{
	const struct addr *b = &s->cfg->backends[s->backend_idx];
	uint64_t now = server_now_ms(), left;
	struct timeval tv;
	int err = 0;

	if (s->connect_start_ms == 0)
		s->connect_start_ms = now;
	left = s->cfg->connect_timeout_ms - (now - s->connect_start_ms);
	if (now - s->connect_start_ms >= s->cfg->connect_timeout_ms) {
		backend_failed(s, ETIMEDOUT);
		return;
	}
	switch (backend_connect(b, &s->bfd, &err)) {
	case BACKEND_CONNECTED:
		connected(s);
		return;
	case BACKEND_IN_PROGRESS:
		tv = ms_to_tv(left);
		arm(s, &s->bev, s->bfd, &s->bmask, EV_WRITE, on_backend, &tv);
		return;
	case BACKEND_RETRY:
		s->bfd = -1;
		tv = ms_to_tv(left < UNIX_RETRY_MS ? left : UNIX_RETRY_MS);
		arm(s, &s->bev, -1, &s->bmask, MASK_TIMER, on_backend, &tv);
		return;
	case BACKEND_FAILED:
		s->bfd = -1;
		backend_failed(s, err);
		return;
	}
}

/* ---- public ---- */

void session_sa_store(union session_sa *to,
                      const struct sockaddr_storage *from, socklen_t len)
{
	struct sockaddr_storage ss = *from;

	addr_unmap_v4(&ss, &len);
	memcpy(to, &ss, sizeof(*to));
}

int session_origin_of_socket(struct session_origin *o,
                             const struct listener *l, int cfd,
                             const struct lsock *ls,
                             const struct sockaddr_storage *peer,
                             socklen_t peerlen)
{
	const struct addr *bound = &ls->bound;
	struct sockaddr_storage local;
	socklen_t llen = sizeof(local);

	/* The address the client reached: the listener's own unless it is
	 * bound to a wildcard, which saves a syscall per connection. */
	if (!addr_is_wildcard(bound)) {
		memcpy(&local, &bound->ss, bound->len);
		llen = bound->len;
	} else if (getsockname(cfd, (struct sockaddr *)&local, &llen) < 0) {
		log_warn("listener %s: getsockname: %s", l->cfg->name,
		         strerror(errno));
		return -1;
	}
	session_sa_store(&o->client, peer, peerlen);
	session_sa_store(&o->local, &local, llen);
	o->accepted_ms = 0;
	o->fwd_tlvs = NULL;
	o->fwd_len = 0;
	return 0;
}

void session_start(struct listener *l, int cfd, const struct lsock *ls,
                   const struct sockaddr_storage *peer, socklen_t peerlen,
                   const struct session_origin *origin)
{
	struct worker *w = l->w;
	struct session_origin own;
	struct session *s;
	unsigned subflows = 1;

	if (origin == NULL) {
		if (session_origin_of_socket(&own, l, cfd, ls, peer,
		                             peerlen) < 0) {
			close(cfd);
			server_release(w, l);
			return;
		}
		origin = &own;
	}
	if (l->cfg->tls_ctx != NULL) {  /* TLS termination: its own path */
		session_tls_start(l, cfd, ls, origin);
		return;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		log_warn("listener %s: out of memory: connection dropped",
		         l->cfg->name);
		free(origin->fwd_tlvs);
		close(cfd);
		server_release(w, l);
		return;
	}
	s->client = origin->client;
	s->local = origin->local;
	s->fwd_tlvs = origin->fwd_tlvs;         /* ours now */
	s->fwd_len = origin->fwd_len;
	s->l = l;
	s->cfg = l->cfg;
	s->cfd = cfd;
	s->bfd = -1;
	s->state = SESSION_CONNECTING;
	relay_init(&s->up);
	relay_init(&s->down);
	if (ls->is_mptcp)
		s->is_mptcp = (uint8_t)mptcp_conn_info(cfd, &subflows);
	s->subflows = (uint8_t)(subflows > 255 ? 255 : subflows);
	stats_add(s->is_mptcp ? &l->stats->accepted_mptcp
	                      : &l->stats->accepted_tcp, 1);
	stats_add(&w->accepted, 1);
	s->last_ms = server_now_ms();
	/* Durations count from accept, a PROXY header's wait included. */
	s->start_ms = origin->accepted_ms != 0 ? origin->accepted_ms
	                                        : s->last_ms;
	s->next_probe_ms = s->last_ms + PROBE_EARLY_MS;
	lru_append(s);
	w->active++;
	try_backend(s);
}

void session_sweep_idle(struct listener *l, uint64_t now_ms)
{
	/* The list is ordered by last activity: stop at the first session
	 * that is still fresh.  Sessions that are connecting are bounded by
	 * connect_timeout instead. */
	struct session *s = l->lru_head;

	session_tls_sweep_idle(l, now_ms);
	while (s != NULL && now_ms - s->last_ms >= s->cfg->idle_timeout_ms) {
		struct session *next = s->next;
		if (s->state == SESSION_RELAYING)
			session_end(s, SESSION_END_IDLE_TIMEOUT, 0, 0);
		s = next;
	}
}

void session_close_all(struct listener *l, enum session_end why)
{
	proxy_accept_close_all(l, why);
	while (l->lru_head != NULL)
		session_end(l->lru_head, why, 0, 0);
	session_tls_close_all(l, why);
}
