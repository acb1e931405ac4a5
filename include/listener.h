/* Listening sockets: IPPROTO_MPTCP with the configured fallback policy,
 * SO_REUSEPORT copies per worker, accept, pause and resume. */
#ifndef FRONTD_LISTENER_H
#define FRONTD_LISTENER_H

#include <stdint.h>
#include "addr.h"
#include "config.h"

struct event;
struct event_base;
struct listener_set;
struct listener_stats;
struct pa_conn;
struct session;
struct tls_session;
struct worker;

enum {
	LSOCK_BOUND,            /* bound by this process */
	LSOCK_ACTIVATED,        /* socket activation: one socket for all */
	LSOCK_UPGRADED,         /* from the old binary: one copy per worker */
};

/* One bound socket. */
struct lsock {
	struct listener *owner;
	int fd;
	int is_mptcp;           /* created with IPPROTO_MPTCP */
	int inherited;          /* LSOCK_*: not bound by us */
	int moved;              /* fd handed to a newer generation's lsock */
	struct lsock *from;     /* the older lsock whose fd this one took */
	const struct bind_cfg *conf;    /* what the configuration asked for */
	struct addr bound;      /* actual address (port 0 resolved) */
	struct event *ev;
};

/* One worker's copy of a [listener:NAME] section: its sockets and the
 * connections this worker accepted on them. */
struct listener {
	struct worker *w;
	struct listener_set *set;       /* generation it belongs to */
	const struct listener_cfg *cfg;
	struct listener_stats *stats;   /* counters shared by all workers */
	struct lsock *socks;
	size_t nsocks;
	int accepting;          /* accept events armed */
	/* Open sessions, least recently active first: the idle sweep only
	 * looks at the head. */
	struct session *lru_head, *lru_tail;
	/* The same for sessions that terminate TLS (session_tls.c). */
	struct tls_session *tls_head, *tls_tail;
	/* Connections still waiting for their PROXY header (accept_proxy),
	 * oldest first (proxy_accept.c). */
	struct pa_conn *pa_head, *pa_tail;
};

/* Whether any session, plain or TLS, is still open on l. */
static inline int listener_has_sessions(const struct listener *l)
{
	return l->lru_head != NULL || l->tls_head != NULL ||
	       l->pa_head != NULL;
}

/* Create and bind every socket of `cfg` for worker w, or take over the
 * matching socket (same configured address, v6only and mptcp mode) of the
 * worker's previous set `old` (may be NULL), which keeps the port open
 * across a reload.  `first` is worker 0's copy (NULL for worker 0): other
 * workers bind the very addresses it got, so port 0 resolves once.  A bind
 * with a socket from socket activation (sockact_take) is not bound at all:
 * worker 0 takes that socket, the others duplicate its descriptor.
 * Returns 0, or -1 after logging (closing what it opened, giving back
 * what it took over). */
int listener_open(struct listener *l, struct worker *w,
                  struct listener_set *set, const struct listener_cfg *cfg,
                  struct listener_stats *stats,
                  const struct listener *first, struct listener_set *old);

/* Create the accept events on w's base (not armed yet). */
int listener_attach(struct listener *l);

/* Arm or disarm accepting on all sockets of l. */
void listener_set_accepting(struct listener *l, int on);

/* A reload is about to close l's sockets that no newer set took over
 * (removed listener, or mptcp mode changed): accept what is already
 * queued on them, so those clients are served rather than reset. */
void listener_drain_queue(struct listener *l);

/* Undo listener_open before the set was ever handed to its worker: give
 * taken-over sockets back to their old lsock, close the new ones. */
void listener_abandon(struct listener *l);

/* Close every listening socket not handed to a newer generation (new
 * connection attempts are refused once every worker's copy is closed). */
void listener_close(struct listener *l);

#endif
