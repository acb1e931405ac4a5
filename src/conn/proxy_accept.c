/* Waiting for a trusted PROXY header (include/proxy_accept.h).
 *
 * A waiting connection (struct pa_conn) owns no buffer.  Its header is
 * read with MSG_PEEK into a buffer on the stack, decoded from the start
 * each time more arrives (headers are short, and pp_decode decides a
 * prefix the way it decides the whole), and consumed -- exactly its
 * length -- only once it is complete, so whatever the client sent after
 * it (a request, a TLS ClientHello) stays in the socket for the session.
 * Because peeked bytes stay readable, the event is edge-triggered: it
 * fires when more bytes, a FIN or the deadline arrive, never for bytes
 * already seen.  The deadline is accept_proxy_timeout from accept, for the
 * whole header, so a byte-at-a-time sender cannot stretch it.
 *
 * Trust is decided before anything is read: a peer outside
 * accept_proxy_from is closed at once. */
#include <errno.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "cidr.h"
#include "config.h"
#include "listener.h"
#include "log.h"
#include "mptcp.h"
#include "proxy_accept.h"
#include "proxy_decode.h"
#include "server.h"
#include "stats.h"
#include "worker.h"

/* Room for the longest header we accept: a v1 line or a v2 header up to
 * the decoder's default bound. */
#define PA_BUF (PP_DEC_V2_MAX_LEN_DEFAULT > PP1_MAX_LEN \
                ? PP_DEC_V2_MAX_LEN_DEFAULT : PP1_MAX_LEN)

struct pa_conn {
	struct pa_conn *prev, *next;    /* l->pa_head list, oldest first */
	struct listener *l;
	const struct lsock *ls;         /* lives as long as l */
	struct event ev;
	int fd;
	socklen_t peerlen;
	uint64_t start_ms;
	struct sockaddr_storage peer;   /* the balancer (as accept() said) */
};

static void on_event(evutil_socket_t fd, short what, void *arg);

static void unlink_conn(struct pa_conn *c)
{
	struct listener *l = c->l;

	if (c->prev)
		c->prev->next = c->next;
	else
		l->pa_head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		l->pa_tail = c->prev;
}

/* Close a connection that never became a session: log, count (as
 * accepted, then closed for `why`), give its slot back. */
static void refuse(struct listener *l, const struct lsock *ls, int fd,
                   const struct sockaddr_storage *peer, socklen_t peerlen,
                   uint64_t start_ms, enum session_end why,
                   const char *reason)
{
	char caddr[ADDR_STRLEN];
	unsigned subflows = 1;
	int is_mptcp = 0;

	if (ls->is_mptcp)
		is_mptcp = mptcp_conn_info(fd, &subflows);
	addr_format((const struct sockaddr *)peer, peerlen, caddr,
	            sizeof(caddr));
	/* A balancer's TCP health check connects and closes: not news. */
	if (why == SESSION_END_CLIENT_CLOSE)
		log_debug("listener %s: client %s: closed before sending a "
		          "PROXY header", l->cfg->name, caddr);
	else if (why != SESSION_END_SHUTDOWN)
		log_info("listener %s: client %s: PROXY header refused: %s",
		         l->cfg->name, caddr, reason);
	if (log_access_enabled())
		session_log_access(l->cfg, (const struct sockaddr *)peer, peerlen,
		                   NULL, is_mptcp, subflows, 0, 0, start_ms, why,
		                   l->cfg->tls_ctx != NULL ? " tls=- tls_resumed=0"
		                                           : "");
	stats_add(is_mptcp ? &l->stats->accepted_mptcp
	                   : &l->stats->accepted_tcp, 1);
	stats_add(&l->w->accepted, 1);
	stats_closed(l->stats, (int)why, 0, 0);
	close(fd);
	server_release(l->w, l);
}

/* The end of waiting, either way: c is freed.  With `origin` the
 * connection becomes a session; without, it is refused for `why`. */
static void finish(struct pa_conn *c, const struct session_origin *origin,
                   enum session_end why, const char *reason)
{
	struct listener *l = c->l;
	struct worker *w = l->w;

	event_del(&c->ev);
	unlink_conn(c);
	w->active--;
	if (origin != NULL) {
		/* The socket and its slot move to the session, which from
		 * now on reports its own end (and may already have: l must
		 * not be touched after this). */
		session_start(l, c->fd, c->ls, &c->peer, c->peerlen, origin);
		free(c);
		return;
	}
	refuse(l, c->ls, c->fd, &c->peer, c->peerlen, c->start_ms, why,
	       reason);
	free(c);
	worker_session_ended(w, l);
}

/* Whether the balancer's TLV t goes on to the backend: not a checksum
 * of the old header, and not one of the kinds this listener writes
 * itself about the connection it accepted. */
static int forwards(const struct listener_cfg *cfg, uint8_t t)
{
	unsigned set = cfg->pp_tlvs;
	int tls = cfg->tls_ctx != NULL;

	return t != PP2_TYPE_CRC32C && t != PP2_TYPE_NOOP &&
	       !(t == PP2_TYPE_FRONTD_MPTCP && (set & PP_TLV_MPTCP)) &&
	       !(tls && t == PP2_TYPE_ALPN && (set & PP_TLV_ALPN)) &&
	       !(tls && t == PP2_TYPE_AUTHORITY && (set & PP_TLV_AUTHORITY)) &&
	       !(tls && t == PP2_TYPE_SSL && (set & PP_TLV_SSL));
}

/* The TLVs to pass on, as on the wire, in o (NULL when none).  Returns
 * -1 when out of memory. */
static int keep_tlvs(const struct listener_cfg *cfg, const struct pp_header *hdr,
                     struct session_origin *o)
{
	size_t len = 0, off = 0;

	o->fwd_tlvs = NULL;
	o->fwd_len = 0;
	if (!(cfg->pp_tlvs & PP_TLV_UPSTREAM) || cfg->proxy_protocol != PP_MODE_V2)
		return 0;
	for (size_t i = 0; i < hdr->ntlvs; i++)
		if (forwards(cfg, hdr->tlvs[i].type))
			len += PP2_TLV_HEADER_LEN + hdr->tlvs[i].len;
	/* The decoder's bound keeps the TLVs within PP_FWD_TLVS_MAX. */
	if (len == 0 || len > PP_FWD_TLVS_MAX)
		return 0;
	o->fwd_tlvs = malloc(len);
	if (o->fwd_tlvs == NULL)
		return -1;
	for (size_t i = 0; i < hdr->ntlvs; i++) {
		const struct pp_tlv *t = &hdr->tlvs[i];

		if (!forwards(cfg, t->type))
			continue;
		o->fwd_tlvs[off] = t->type;
		o->fwd_tlvs[off + 1] = (uint8_t)(t->len >> 8);
		o->fwd_tlvs[off + 2] = (uint8_t)t->len;
		memcpy(o->fwd_tlvs + off + PP2_TLV_HEADER_LEN, t->value, t->len);
		off += PP2_TLV_HEADER_LEN + t->len;
	}
	o->fwd_len = (uint16_t)len;
	return 0;
}

/* The header is complete (hdr, len bytes): consume it and hand over. */
static void accept_header(struct pa_conn *c, const struct pp_header *hdr,
                          size_t len)
{
	struct session_origin o;
	uint8_t sink[PA_BUF];
	ssize_t n;

	memset(&o, 0, sizeof(o));
	if (hdr->family == PP_DEC_FAM_UNIX) {
		finish(c, NULL, SESSION_END_PROXY_BAD_HEADER,
		       "UNIX family: no IP address to forward");
		return;
	}
	/* A datagram family (UDP4, UDP6, UNIX dgram) on a stream: the
	 * balancer is confused; LOCAL's family is not looked at. */
	if (hdr->command == PP_DEC_CMD_PROXY && hdr->version == 2 &&
	    (hdr->v2_fam & 0x0f) == 0x2) {
		finish(c, NULL, SESSION_END_PROXY_BAD_HEADER,
		       "datagram family on a stream connection");
		return;
	}
	if (hdr->command == PP_DEC_CMD_PROXY &&
	    (hdr->family == PP_DEC_FAM_TCP4 || hdr->family == PP_DEC_FAM_TCP6)) {
		session_sa_store(&o.client, &hdr->src, hdr->src_len);
		session_sa_store(&o.local, &hdr->dst, hdr->dst_len);
	} else if (session_origin_of_socket(&o, c->l, c->fd, c->ls, &c->peer,
	                                    c->peerlen) < 0) {
		/* LOCAL (the balancer's own health check) or UNKNOWN: the
		 * connection speaks for itself. */
		finish(c, NULL, SESSION_END_ERROR, "getsockname failed");
		return;
	}
	/* TLVs point into the peeked copy of the header: kept first. */
	if (keep_tlvs(c->l->cfg, hdr, &o) < 0) {
		finish(c, NULL, SESSION_END_ERROR, "out of memory");
		return;
	}
	/* Every byte of the header was peeked, so this reads all of it. */
	n = recv(c->fd, sink, len, 0);
	if (n != (ssize_t)len) {
		free(o.fwd_tlvs);
		finish(c, NULL, SESSION_END_ERROR,
		       n < 0 ? strerror(errno) : "short read");
		return;
	}
	o.accepted_ms = c->start_ms;
	finish(c, &o, SESSION_END_ERROR, NULL);
}

/* Look at what has arrived; `what` is the event's (0 on the first try). */
static void try_header(struct pa_conn *c, short what)
{
	uint8_t buf[PA_BUF];
	struct pp_header hdr;
	struct pp_dec_result res;
	uint64_t now, left;
	struct timeval tv;
	ssize_t n;

	if (what & EV_TIMEOUT) {
		finish(c, NULL, SESSION_END_PROXY_TIMEOUT,
		       "no complete header within accept_proxy_timeout");
		return;
	}
	n = recv(c->fd, buf, sizeof(buf), MSG_PEEK);
	if (n == 0) {
		finish(c, NULL, SESSION_END_CLIENT_CLOSE,
		       "closed before sending a header");
		return;
	}
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			goto wait;
		finish(c, NULL, errno == ECONNRESET ? SESSION_END_CLIENT_RESET
		                                    : SESSION_END_ERROR,
		       strerror(errno));
		return;
	}
	switch (pp_decode(buf, (size_t)n, PP_DEC_V2_MAX_LEN_DEFAULT, &hdr,
	                  &res)) {
	case PP_DEC_DONE:
		accept_header(c, &hdr, res.len);
		return;
	case PP_DEC_ERROR:
		finish(c, NULL, SESSION_END_PROXY_BAD_HEADER, res.error);
		return;
	case PP_DEC_NEED_MORE:
		/* A prefix of a valid header, and then the client closed
		 * its side (or filled our buffer, which a valid header
		 * within our bound cannot). */
		if ((what & EV_CLOSED) || (size_t)n == sizeof(buf)) {
			finish(c, NULL, SESSION_END_PROXY_BAD_HEADER,
			       "truncated header");
			return;
		}
		break;
	}
wait:
	now = server_now_ms();
	left = c->start_ms + c->l->cfg->accept_proxy_timeout_ms;
	left = left > now ? left - now : 0;
	tv.tv_sec = (time_t)(left / 1000);
	tv.tv_usec = (suseconds_t)((left % 1000) * 1000);
	if (event_add(&c->ev, &tv) < 0)
		finish(c, NULL, SESSION_END_ERROR, "cannot wait for the header");
}

static void on_event(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	try_header(arg, what);
}

void proxy_accept_start(struct listener *l, int cfd, const struct lsock *ls,
                        const struct sockaddr_storage *peer,
                        socklen_t peerlen)
{
	const struct listener_cfg *cfg = l->cfg;
	struct pa_conn *c;

	if (!cidr_match(cfg->proxy_from, cfg->nproxy_from,
	                (const struct sockaddr *)peer)) {
		refuse(l, ls, cfd, peer, peerlen, server_now_ms(),
		       SESSION_END_PROXY_UNTRUSTED,
		       "source not in accept_proxy_from");
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		log_warn("listener %s: out of memory: connection dropped",
		         cfg->name);
		close(cfd);
		server_release(l->w, l);
		return;
	}
	c->l = l;
	c->ls = ls;
	c->fd = cfd;
	c->peer = *peer;
	c->peerlen = peerlen;
	c->start_ms = server_now_ms();
	c->prev = l->pa_tail;
	if (l->pa_tail)
		l->pa_tail->next = c;
	else
		l->pa_head = c;
	l->pa_tail = c;
	l->w->active++;
	event_assign(&c->ev, l->w->base, cfd, EV_READ | EV_ET | EV_CLOSED,
	             on_event, c);
	/* The header usually came with the handshake's last ACK. */
	try_header(c, 0);
}

void proxy_accept_close_all(struct listener *l, enum session_end why)
{
	while (l->pa_head != NULL)
		finish(l->pa_head, NULL, why, "closing");
}
