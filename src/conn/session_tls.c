/* One TLS-terminated connection (see include/session_tls.h).
 *
 * Life cycle (s->state):
 *   HANDSHAKE   SSL_do_handshake on the client socket, bounded by
 *               tls_handshake_timeout from accept
 *   CONNECTING  handshake done; backend connect in flight, next backend
 *               on failure (as in session.c); the client is not read
 *   RELAYING    PROXY header (with the TLS TLVs) first, then
 *                 up:   SSL_read -> s->up -> write(2) to the backend
 *                 down: read(2) from the backend -> s->down -> SSL_write
 *   (freed)     tls_end() releases everything and logs once
 *
 * Each buffer holds at most TLS_BUF_SIZE bytes and is freed whenever it is
 * empty; a side is read only while its buffer is empty, so a slow reader
 * stops the other side (backpressure).  Half-close: the client's
 * close_notify (or FIN) becomes shutdown(SHUT_WR) towards the backend; the
 * backend's FIN becomes close_notify, then a FIN, towards the client.
 *
 * What each socket's event waits for is derived from that state after
 * every callback (rearm()); on the client socket, from what the last
 * SSL_read (want_up) and SSL_write/SSL_shutdown (want_down) asked for,
 * since either may need the socket readable or writable. */
#include <errno.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "addr.h"
#include "backend.h"
#include "config.h"
#include "listener.h"
#include "log.h"
#include "mptcp.h"
#include "proxy_proto.h"
#include "relay.h"
#include "server.h"
#include "session_tls.h"
#include "stats.h"
#include "tls.h"
#include "worker.h"

#define UNIX_RETRY_MS 5
#define PROBE_EARLY_MS 100
#define PROBE_MS 1000
#define PROBE_CLOSE_BYTES (256 * 1024)
#define MASK_TIMER 0x100

enum tls_state { TS_HANDSHAKE, TS_CONNECTING, TS_RELAYING };

/* Pending bytes are data[off .. off+len). */
struct tbuf {
	char *data;
	uint32_t off, len;
};

struct tls_session {
	struct tls_session *prev, *next;        /* owner's TLS LRU list */
	struct listener *l;
	const struct listener_cfg *cfg;         /* settings it started with */
	SSL *ssl;
	struct event cev, bev;
	int cfd, bfd;
	short cmask, bmask;
	short want_up, want_down;       /* EV_READ / EV_WRITE on the client */
	uint8_t state;
	uint8_t backend_idx;
	uint8_t is_mptcp;
	uint8_t subflows;
	uint8_t first_eof;              /* 0, 'c' or 'b' */
	uint8_t up_eof, up_shut;        /* client finished; FIN passed on */
	uint8_t down_eof, down_shut;    /* backend finished; close_notify sent */
	uint8_t fatal;                  /* OpenSSL failed: no SSL_shutdown */
	uint8_t small_read;             /* last backend read was short */
	uint8_t up_more;                /* last fill_up stopped when full */
	struct tbuf up, down;
	uint64_t bytes_up, bytes_down;  /* plaintext, PROXY header excluded */
	uint64_t counted_up, counted_down;      /* of which in /metrics */
	union session_sa client, local; /* what the backend is told */
	uint8_t *fwd_tlvs;              /* a balancer's, until the header */
	uint16_t fwd_len;
	uint64_t start_ms, last_ms, connect_start_ms, next_probe_ms;
	uint64_t handshake_deadline_ms;
};

static void on_client(evutil_socket_t fd, short what, void *arg);
static void on_backend(evutil_socket_t fd, short what, void *arg);
static void try_backend(struct tls_session *s);

/* ---- LRU (least recently active first) ---- */

static void lru_unlink(struct tls_session *s)
{
	struct listener *l = s->l;

	if (s->prev)
		s->prev->next = s->next;
	else
		l->tls_head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	else
		l->tls_tail = s->prev;
	s->prev = s->next = NULL;
}

static void lru_append(struct tls_session *s)
{
	struct listener *l = s->l;

	s->prev = l->tls_tail;
	s->next = NULL;
	if (l->tls_tail)
		l->tls_tail->next = s;
	else
		l->tls_head = s;
	l->tls_tail = s;
}

static void probe_subflows(struct tls_session *s, uint64_t now)
{
	unsigned n;

	s->next_probe_ms = now + (now - s->start_ms < 1000 ? PROBE_EARLY_MS
	                                                   : PROBE_MS);
	if (mptcp_conn_info(s->cfd, &n) && n > s->subflows)
		s->subflows = (uint8_t)(n > 255 ? 255 : n);
}

static void touch(struct tls_session *s)
{
	s->last_ms = server_now_ms();
	if (s->is_mptcp && s->last_ms >= s->next_probe_ms)
		probe_subflows(s, s->last_ms);
	if (s->l->tls_tail != s) {
		lru_unlink(s);
		lru_append(s);
	}
}

/* ---- events ---- */

static struct timeval ms_to_tv(uint64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000),
	                      (suseconds_t)((ms % 1000) * 1000) };
	return tv;
}

static void arm(struct tls_session *s, struct event *ev, int fd, short *cur,
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

static int up_done(const struct tls_session *s)
{
	return s->up_eof && s->up.len == 0 && s->up_shut;
}

static int down_done(const struct tls_session *s)
{
	return s->down_eof && s->down.len == 0 && s->down_shut;
}

/* Reading the client: only with an empty buffer (backpressure). */
static int up_reading(const struct tls_session *s)
{
	return !s->up_eof && s->up.len == 0;
}

/* Writing the client: data, or the close_notify still to send. */
static int down_writing(const struct tls_session *s)
{
	return s->down.len > 0 || (s->down_eof && !s->down_shut);
}

static void rearm(struct tls_session *s)
{
	short c = 0, b = 0;

	if (up_reading(s))
		c |= s->want_up;
	if (down_writing(s))
		c |= s->want_down;
	if (s->up.len > 0)
		b |= EV_WRITE;
	if (!s->down_eof && s->down.len == 0)
		b |= EV_READ;
	arm(s, &s->cev, s->cfd, &s->cmask, c, on_client, NULL);
	arm(s, &s->bev, s->bfd, &s->bmask, b, on_backend, NULL);
}

/* ---- buffers ---- */

static int tbuf_get(struct tbuf *b)
{
	if (b->data == NULL)
		b->data = malloc(TLS_BUF_SIZE);
	return b->data != NULL ? 0 : -1;
}

static void tbuf_put_if_empty(struct tbuf *b)
{
	if (b->len == 0) {
		free(b->data);
		b->data = NULL;
		b->off = 0;
	}
}

/* ---- ending ---- */

/* Add what moved since the last call to /metrics (once per callback,
 * and at the end). */
static void count_bytes(struct tls_session *s)
{
	if (s->bytes_up != s->counted_up) {
		stats_add(&s->l->stats->bytes_in, s->bytes_up - s->counted_up);
		s->counted_up = s->bytes_up;
	}
	if (s->bytes_down != s->counted_down) {
		stats_add(&s->l->stats->bytes_out,
		          s->bytes_down - s->counted_down);
		s->counted_down = s->bytes_down;
	}
}

static void close_fd(int fd, int reset)
{
	if (fd < 0)
		return;
	if (reset) {
		struct linger lg = { 1, 0 };
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(fd);
}

static void log_end(struct tls_session *s, enum session_end why)
{
	int done = s->state != TS_HANDSHAKE && s->ssl != NULL;
	char tail[64];

	if (!log_access_enabled())
		return;
	snprintf(tail, sizeof(tail), " tls=%s tls_resumed=%d",
	         done ? SSL_get_version(s->ssl) : "-",
	         done ? SSL_session_reused(s->ssl) : 0);
	session_log_access(s->cfg, &s->client.sa, sizeof(s->client),
	                   s->state == TS_RELAYING
	                           ? &s->cfg->backends[s->backend_idx] : NULL,
	                   s->is_mptcp, s->subflows, s->bytes_up,
	                   s->bytes_down, s->start_ms, why, tail);
}

/* The one exit: logs, releases everything, tells the server. */
static void tls_end(struct tls_session *s, enum session_end why,
                    int reset_client, int reset_backend)
{
	struct listener *l = s->l;
	struct worker *w = l->w;

	if (s->is_mptcp && s->cfd >= 0 &&
	    (server_now_ms() >= s->start_ms + PROBE_EARLY_MS ||
	     s->bytes_up + s->bytes_down >= PROBE_CLOSE_BYTES))
		probe_subflows(s, server_now_ms());
	/* Closed by us (idle, shutdown): say so in TLS terms too, once and
	 * without waiting; the close that follows carries the FIN. */
	if ((why == SESSION_END_IDLE_TIMEOUT || why == SESSION_END_SHUTDOWN) &&
	    s->state == TS_RELAYING && !s->fatal && !s->down_shut &&
	    !reset_client) {
		if (SSL_shutdown(s->ssl) < 0)
			ERR_clear_error();
	}
	count_bytes(s);
	log_end(s, why);
	stats_closed(l->stats, (int)why, s->is_mptcp, s->subflows);
	arm(s, &s->cev, s->cfd, &s->cmask, 0, NULL, NULL);
	arm(s, &s->bev, s->bfd, &s->bmask, 0, NULL, NULL);
	SSL_free(s->ssl);       /* does not close cfd (SSL_set_fd: no close) */
	ERR_clear_error();
	close_fd(s->cfd, reset_client);
	close_fd(s->bfd, reset_backend);
	free(s->up.data);
	free(s->down.data);
	free(s->fwd_tlvs);
	lru_unlink(s);
	free(s);
	w->active--;
	server_release(w, l);
	worker_session_ended(w, l);
}

static int err_is_reset(int err)
{
	return err == ECONNRESET || err == EPIPE || err == ETIMEDOUT ||
	       err == ENOTCONN;
}

/* OpenSSL's reason for a failure, for debug logs (clears the queue). */
static const char *ssl_reason(int code, int err, char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();

	if (e != 0)
		ERR_error_string_n(e, buf, len);
	else if (code == SSL_ERROR_SYSCALL && err != 0)
		snprintf(buf, len, "%s", strerror(err));
	else if (code == SSL_ERROR_SYSCALL || code == SSL_ERROR_ZERO_RETURN)
		snprintf(buf, len, "connection closed");
	else
		snprintf(buf, len, "SSL error %d", code);
	ERR_clear_error();
	return buf;
}

/* The client side failed in OpenSSL (code from SSL_get_error, err the
 * errno right after the call): end the session, the backend reset. */
static void client_failed(struct tls_session *s, int code, int err)
{
	char why[256], caddr[ADDR_STRLEN];
	enum session_end e;

	s->fatal = 1;
	if (code == SSL_ERROR_SYSCALL && err_is_reset(err))
		e = SESSION_END_CLIENT_RESET;
	else
		e = SESSION_END_ERROR;
	if (log_get_level() >= LOG_LEVEL_DEBUG) {
		addr_format(&s->client.sa, sizeof(s->client), caddr,
		            sizeof(caddr));
		log_debug("listener %s: client %s: TLS: %s", s->cfg->name,
		          caddr, ssl_reason(code, err, why, sizeof(why)));
	} else {
		ERR_clear_error();
	}
	tls_end(s, e, 0, 1);
}

static void backend_io_failed(struct tls_session *s, int err)
{
	if (err_is_reset(err)) {
		tls_end(s, SESSION_END_BACKEND_RESET, 1, 0);
		return;
	}
	log_warn("listener %s: backend socket: %s", s->cfg->name,
	         strerror(err));
	tls_end(s, SESSION_END_ERROR, 1, 0);
}

static void out_of_memory(struct tls_session *s)
{
	log_warn("listener %s: out of memory relaying", s->cfg->name);
	s->fatal = 1;
	tls_end(s, SESSION_END_ERROR, 1, 1);
}

/* ---- relay ---- */

/* SSL_read into s->up until it is full or OpenSSL needs the socket.
 * Returns 0, or -1 when the session ended. */
static int fill_up(struct tls_session *s)
{
	if (tbuf_get(&s->up) < 0) {
		out_of_memory(s);
		return -1;
	}
	s->up_more = 0;
	s->want_up = EV_READ;
	while (s->up.len < TLS_BUF_SIZE) {
		int n, code, err;

		ERR_clear_error();
		n = SSL_read(s->ssl, s->up.data + s->up.len,
		             (int)(TLS_BUF_SIZE - s->up.len));
		err = errno;
		if (n > 0) {
			s->up.len += (uint32_t)n;
			s->bytes_up += (uint64_t)n;
			/* A short read with nothing left inside OpenSSL most
			 * likely emptied the socket: let the loop say when
			 * there is more rather than pay for an EAGAIN. */
			if ((size_t)n < RELAY_SMALL_READ && !SSL_has_pending(s->ssl))
				return 0;
			continue;
		}
		code = SSL_get_error(s->ssl, n);
		switch (code) {
		case SSL_ERROR_WANT_READ:
			return 0;
		case SSL_ERROR_WANT_WRITE:
			s->want_up = EV_WRITE;
			return 0;
		case SSL_ERROR_ZERO_RETURN:     /* close_notify, or a bare FIN */
			s->up_eof = 1;
			if (!s->first_eof)
				s->first_eof = 'c';
			return 0;
		default:
			client_failed(s, code, err);
			return -1;
		}
	}
	s->up_more = 1;         /* full: more is likely waiting */
	return 0;
}

/* Client -> backend; `readable`: the client socket is worth reading now
 * (its event fired).  Returns 0, or -1 when the session ended. */
static int pump_up(struct tls_session *s, int readable)
{
	int try_read = readable;

	for (;;) {
		if (s->up.len > 0) {
			ssize_t n = write(s->bfd, s->up.data + s->up.off,
			                  s->up.len);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					break;
				backend_io_failed(s, errno);
				return -1;
			}
			s->up.off += (uint32_t)n;
			s->up.len -= (uint32_t)n;
			if (s->up.len > 0)
				break;          /* the socket is full */
			s->up.off = 0;
			try_read = try_read || s->up_more ||
			           SSL_has_pending(s->ssl);
			continue;
		}
		if (s->up_eof) {
			/* When the other way is finished too, the close
			 * right after carries the FIN. */
			if (!s->up_shut && !down_done(s))
				shutdown(s->bfd, SHUT_WR);
			s->up_shut = 1;
			break;
		}
		if (!try_read)
			break;          /* want_up says what to wait for */
		if (fill_up(s) < 0)
			return -1;
		try_read = 0;
		if (s->up.len == 0 && !s->up_eof)
			break;
	}
	tbuf_put_if_empty(&s->up);
	return 0;
}

/* The backend finished: close_notify to the client (then a FIN, unless
 * the close right after sends it).  Returns 0 when sent, 1 when OpenSSL
 * waits for the socket, -1 when the session ended. */
static int send_close_notify(struct tls_session *s)
{
	int r, code, err;

	ERR_clear_error();
	r = SSL_shutdown(s->ssl);
	err = errno;
	if (r >= 0) {
		s->down_shut = 1;
		if (!up_done(s))
			shutdown(s->cfd, SHUT_WR);
		return 0;
	}
	code = SSL_get_error(s->ssl, r);
	if (code == SSL_ERROR_WANT_WRITE || code == SSL_ERROR_WANT_READ) {
		s->want_down = code == SSL_ERROR_WANT_WRITE ? EV_WRITE : EV_READ;
		return 1;
	}
	if (code == SSL_ERROR_SYSCALL) {
		/* The client is gone already (EPIPE, a reset): everything
		 * before the close_notify was written; its side of the
		 * story comes with its own EOF or error. */
		ERR_clear_error();
		s->fatal = 1;
		s->down_shut = 1;
		return 0;
	}
	client_failed(s, code, err);
	return -1;
}

/* Backend -> client.  Returns 0, or -1 when the session ended. */
static int pump_down(struct tls_session *s)
{
	for (;;) {
		if (s->down.len > 0) {
			int n, code, err;

			ERR_clear_error();
			n = SSL_write(s->ssl, s->down.data + s->down.off,
			              (int)s->down.len);
			err = errno;
			if (n > 0) {
				s->down.off += (uint32_t)n;
				s->down.len -= (uint32_t)n;
				if (s->down.len == 0)
					s->down.off = 0;
				continue;
			}
			code = SSL_get_error(s->ssl, n);
			if (code == SSL_ERROR_WANT_WRITE) {
				s->want_down = EV_WRITE;
				break;
			}
			if (code == SSL_ERROR_WANT_READ) {
				s->want_down = EV_READ;
				break;
			}
			client_failed(s, code, err);
			return -1;
		}
		if (s->down_eof) {
			if (!s->down_shut && send_close_notify(s) < 0)
				return -1;
			break;
		}
		if (s->small_read) {
			/* Most likely nothing more yet: wait for the loop. */
			s->small_read = 0;
			break;
		}
		if (tbuf_get(&s->down) < 0) {
			out_of_memory(s);
			return -1;
		}
		ssize_t n = read(s->bfd, s->down.data, TLS_BUF_SIZE);
		if (n > 0) {
			s->down.len = (uint32_t)n;
			s->bytes_down += (uint64_t)n;
			s->small_read = (size_t)n < RELAY_SMALL_READ;
			continue;
		}
		if (n == 0) {
			s->down_eof = 1;
			if (!s->first_eof)
				s->first_eof = 'b';
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		backend_io_failed(s, errno);
		return -1;
	}
	s->small_read = 0;
	tbuf_put_if_empty(&s->down);
	return 0;
}

/* After a callback's pumps: end when both ways are finished. */
static void after_io(struct tls_session *s)
{
	if (up_done(s) && down_done(s)) {
		tls_end(s, s->first_eof == 'b' ? SESSION_END_BACKEND_CLOSE
		                               : SESSION_END_CLIENT_CLOSE,
		        0, 0);
		return;
	}
	rearm(s);
}

/* Run both directions as the client's (cev_what) and the backend's
 * (bev_what) events allow; either may be 0. */
static void relay(struct tls_session *s, short cev_what, short bev_what)
{
	int readable = (cev_what & s->want_up) && up_reading(s);
	int run_down = ((cev_what & s->want_down) && down_writing(s)) ||
	               (bev_what & EV_READ);

	if ((readable || (bev_what & EV_WRITE)) && pump_up(s, readable) < 0)
		return;
	if (run_down && pump_down(s) < 0)
		return;
	count_bytes(s);
	after_io(s);
}

/* ---- handshake ---- */

static void handshake(struct tls_session *s)
{
	uint64_t now = server_now_ms();
	struct timeval tv;
	int r, code, err;

	ERR_clear_error();
	r = SSL_do_handshake(s->ssl);
	err = errno;
	if (r == 1) {
		stats_add(SSL_session_reused(s->ssl)
		          ? &s->l->stats->tls_resumed
		          : &s->l->stats->tls_full, 1);
		s->state = TS_CONNECTING;
		arm(s, &s->cev, s->cfd, &s->cmask, 0, NULL, NULL);
		try_backend(s);
		return;
	}
	code = SSL_get_error(s->ssl, r);
	if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE) {
		tv = ms_to_tv(s->handshake_deadline_ms > now
		              ? s->handshake_deadline_ms - now : 0);
		arm(s, &s->cev, s->cfd, &s->cmask,
		    code == SSL_ERROR_WANT_READ ? EV_READ : EV_WRITE, on_client,
		    &tv);
		return;
	}
	{
		char why[256], caddr[ADDR_STRLEN];
		enum session_end e = SESSION_END_TLS_HANDSHAKE;

		s->fatal = 1;
		if (code == SSL_ERROR_SYSCALL && err_is_reset(err))
			e = SESSION_END_CLIENT_RESET;
		else if ((code == SSL_ERROR_SYSCALL || code == SSL_ERROR_ZERO_RETURN)
		         && ERR_peek_error() == 0)
			e = SESSION_END_CLIENT_CLOSE;   /* gone before a word */
		if (log_get_level() >= LOG_LEVEL_DEBUG) {
			addr_format(&s->client.sa, sizeof(s->client), caddr,
			            sizeof(caddr));
			log_debug("listener %s: client %s: TLS handshake: %s",
			          s->cfg->name, caddr,
			          ssl_reason(code, err, why, sizeof(why)));
		}
		ERR_clear_error();
		tls_end(s, e, 0, 0);
	}
}

static void on_client(evutil_socket_t fd, short what, void *arg)
{
	struct tls_session *s = arg;

	touch(s);
	if (s->state == TS_HANDSHAKE) {
		if (what & EV_TIMEOUT) {
			if (log_get_level() >= LOG_LEVEL_DEBUG) {
				char caddr[ADDR_STRLEN];
				addr_format(&s->client.sa, sizeof(s->client),
				            caddr, sizeof(caddr));
				log_debug("listener %s: client %s: TLS handshake "
				          "not done after %llu ms", s->cfg->name,
				          caddr, (unsigned long long)
				          s->cfg->tls.handshake_timeout_ms);
			}
			s->fatal = 1;
			tls_end(s, SESSION_END_TLS_TIMEOUT, 0, 0);
			return;
		}
		handshake(s);
		return;
	}
	relay(s, what, 0);
}

/* ---- backend connect ---- */

static void connected(struct tls_session *s)
{
	uint8_t hdr[TLS_PP_HEADER_MAX + PP_FWD_TLVS_MAX];
	struct tls_facts f;
	int n = 0;

	s->state = TS_RELAYING;
	arm(s, &s->bev, s->bfd, &s->bmask, 0, NULL, NULL);
	if (s->cfg->proxy_protocol == PP_MODE_V1) {
		n = pp_encode_v1((char *)hdr, sizeof(hdr), &s->client.sa,
		                 &s->local.sa);
	} else if (s->cfg->proxy_protocol == PP_MODE_V2) {
		tls_facts_get(s->ssl, s->cfg->tls_ctx, &f);
		n = tls_pp_encode_v2(hdr, sizeof(hdr), s->cfg, s->is_mptcp, &f,
		                     s->fwd_tlvs, s->fwd_len, &s->client.sa,
		                     &s->local.sa);
	}
	free(s->fwd_tlvs);      /* in the header now, or never */
	s->fwd_tlvs = NULL;
	if (n < 0 || (n > 0 && tbuf_get(&s->up) < 0)) {
		log_warn("listener %s: cannot build the PROXY header",
		         s->cfg->name);
		s->fatal = 1;
		tls_end(s, SESSION_END_ERROR, 1, 1);
		return;
	}
	if (n > 0) {
		memcpy(s->up.data, hdr, (size_t)n);
		s->up.len = (uint32_t)n;
	}
	s->want_up = EV_READ;
	s->want_down = EV_WRITE;
	/* What the client sent with its Finished is often inside OpenSSL
	 * already: one write with the header then.  Otherwise the header
	 * alone, and the loop tells when either side has more. */
	if (SSL_has_pending(s->ssl) && fill_up(s) < 0)
		return;
	relay(s, 0, EV_WRITE);
}

static void backend_failed(struct tls_session *s, int err)
{
	char caddr[ADDR_STRLEN], baddr[ADDR_STRLEN];
	const struct addr *b = &s->cfg->backends[s->backend_idx];

	addr_format(&s->client.sa, sizeof(s->client), caddr, sizeof(caddr));
	addr_format((const struct sockaddr *)&b->ss, b->len, baddr,
	            sizeof(baddr));
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
		tls_end(s, SESSION_END_CONNECT_FAILED, 0, 0);
		return;
	}
	s->backend_idx++;
	s->connect_start_ms = 0;
	try_backend(s);
}

static void on_backend(evutil_socket_t fd, short what, void *arg)
{
	struct tls_session *s = arg;

	if (s->state == TS_CONNECTING) {
		int err;
		if (s->bmask == MASK_TIMER) {
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
	relay(s, 0, what);
}

static void try_backend(struct tls_session *s)
{
	const struct addr *b = &s->cfg->backends[s->backend_idx];
	uint64_t now = server_now_ms(), left;
	struct timeval tv;
	int err = 0;

	if (s->connect_start_ms == 0)
		s->connect_start_ms = now;
	if (now - s->connect_start_ms >= s->cfg->connect_timeout_ms) {
		backend_failed(s, ETIMEDOUT);
		return;
	}
	left = s->cfg->connect_timeout_ms - (now - s->connect_start_ms);
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

void session_tls_start(struct listener *l, int cfd, const struct lsock *ls,
                       const struct session_origin *origin)
{
	struct worker *w = l->w;
	struct tls_session *s;
	unsigned subflows = 1;

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
	s->state = TS_HANDSHAKE;
	if (ls->is_mptcp)
		s->is_mptcp = (uint8_t)mptcp_conn_info(cfd, &subflows);
	s->subflows = (uint8_t)(subflows > 255 ? 255 : subflows);
	stats_add(s->is_mptcp ? &l->stats->accepted_mptcp
	                      : &l->stats->accepted_tcp, 1);
	stats_add(&w->accepted, 1);
	s->last_ms = server_now_ms();
	/* Durations count from accept (a PROXY header's wait included); the
	 * handshake gets its whole timeout from when it can begin. */
	s->start_ms = origin->accepted_ms != 0 ? origin->accepted_ms
	                                        : s->last_ms;
	s->next_probe_ms = s->last_ms + PROBE_EARLY_MS;
	s->handshake_deadline_ms = s->last_ms + s->cfg->tls.handshake_timeout_ms;
	lru_append(s);
	w->active++;
	s->ssl = tls_ssl_new(s->cfg->tls_ctx, cfd);
	if (s->ssl == NULL) {
		s->fatal = 1;
		tls_end(s, SESSION_END_ERROR, 0, 0);
		return;
	}
	handshake(s);
}

void session_tls_sweep_idle(struct listener *l, uint64_t now_ms)
{
	/* Ordered by last activity.  Handshakes and connects are bounded
	 * by their own timeouts. */
	struct tls_session *s = l->tls_head;

	while (s != NULL && now_ms - s->last_ms >= s->cfg->idle_timeout_ms) {
		struct tls_session *next = s->next;
		if (s->state == TS_RELAYING)
			tls_end(s, SESSION_END_IDLE_TIMEOUT, 0, 0);
		s = next;
	}
}

void session_tls_close_all(struct listener *l, enum session_end why)
{
	while (l->tls_head != NULL)
		tls_end(l->tls_head, why, 0, 0);
}
