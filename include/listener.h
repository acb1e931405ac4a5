/* Listening sockets: IPPROTO_MPTCP with the configured fallback policy,
 * SO_REUSEPORT copies per worker, accept, pause and resume; each accepted
 * socket is handed to a connection (conn.h) that the listener owns. */
#ifndef FRONTD_LISTENER_H
#define FRONTD_LISTENER_H

#include <stdint.h>
#include <stdatomic.h>
#include <stddef.h>

#include "addr.h"
#include "config.h"
#include "conn.h"

struct event;
struct event_base;
struct listener;
struct listener_set;
struct listener_stats;
struct worker;

/* What a listener needs from whoever runs it (the worker), so that it
 * never calls up: the connection limits and what to do when accepting
 * fails.  Each gets the listener concerned. */
struct listener_hooks {
	/* Reserve a connection slot before accepting; 0 when a limit is
	 * reached (the owner pauses accepting until one frees up). */
	int (*reserve)(struct listener *l);
	/* Give a slot back: accept found nothing, or a connection ended. */
	void (*release)(struct listener *l);
	/* A connection of l ended (its slot already released). */
	void (*conn_ended)(struct listener *l);
	/* Accepting failed for lack of descriptors or memory (err): pause
	 * rather than spin on a readable listening socket. */
	void (*accept_failed)(struct listener *l, int err);
};

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
	/* Set by the owner after listener_open; opaque here. */
	const struct listener_hooks *hooks;
	struct worker *w;
	struct listener_set *set;       /* generation it belongs to */
	_Atomic uint64_t *accepted;     /* the owner's count of accepts */
	const struct listener_cfg *cfg;
	struct listener_stats *stats;   /* counters shared by all workers */
	struct lsock *socks;
	size_t nsocks;
	int primary;            /* worker 0's copy: speaks for all in logs */
	int accepting;          /* accept events armed */
	struct conn_owner conns;        /* its open connections */
};

/* Whether any connection is still open on l. */
static inline int listener_has_conns(const struct listener *l)
{
	return !conn_owner_empty(&l->conns);
}

/* Create and bind every socket of `cfg`, or take over the matching socket
 * (same configured address, v6only and mptcp mode) of the worker's
 * previous listeners old[0..nold), which keeps the port open across a
 * reload.  `first` is worker 0's copy (NULL for worker 0): other
 * workers bind the very addresses it got, so port 0 resolves once.  A bind
 * with a socket from socket activation (sockact_take) is not bound at all:
 * worker 0 takes that socket, the others duplicate its descriptor.
 * Returns 0, or -1 after logging (closing what it opened, giving back
 * what it took over). */
int listener_open(struct listener *l, const struct listener_cfg *cfg,
                  struct listener_stats *stats, const struct listener *first,
                  struct listener *old, size_t nold);

/* Create the accept events on base, the loop l's connections run on (not
 * armed yet). */
int listener_attach(struct listener *l, struct event_base *base);

/* Arm or disarm accepting on all sockets of l. */
void listener_set_accepting(struct listener *l, int on);

/* A reload is about to close l's sockets that no newer set took over
 * (removed listener, or mptcp mode changed): accept what is already
 * queued on them, so those clients are served rather than reset. */
void listener_drain_queue(struct listener *l);

/* Whether accept(2) failing with err concerns only the connection being
 * accepted (skip it and go on), unlike EMFILE & co (back off). */
int listener_accept_errno_transient(int err);

/* Undo listener_open before the set was ever handed to its worker: give
 * taken-over sockets back to their old lsock, close the new ones. */
void listener_abandon(struct listener *l);

/* Close every listening socket not handed to a newer generation (new
 * connection attempts are refused once every worker's copy is closed). */
void listener_close(struct listener *l);

#endif
