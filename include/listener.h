/* Listening sockets: IPPROTO_MPTCP with the configured fallback policy,
 * bind, accept, pause and resume. */
#ifndef FRONTD_LISTENER_H
#define FRONTD_LISTENER_H

#include <stdint.h>
#include "addr.h"
#include "config.h"

struct event;
struct event_base;
struct server;
struct session;

/* One bound socket. */
struct lsock {
	struct listener *owner;
	int fd;
	int is_mptcp;           /* created with IPPROTO_MPTCP */
	struct addr bound;      /* actual address (port 0 resolved) */
	struct event *ev;
};

/* One [listener:NAME] section: its sockets and its connections. */
struct listener {
	struct server *srv;
	const struct listener_cfg *cfg;
	struct lsock *socks;
	size_t nsocks;
	int accepting;          /* accept events armed */
	uint64_t active;        /* open connections of this listener */
	/* Open sessions, least recently active first: the idle sweep only
	 * looks at the head. */
	struct session *lru_head, *lru_tail;
};

/* Create and bind every socket of `cfg`.  Returns 0, or -1 after logging
 * (and closing what was opened). */
int listener_open(struct listener *l, struct server *srv,
                  const struct listener_cfg *cfg);

/* Create the accept events on `base` (not armed yet). */
int listener_attach(struct listener *l, struct event_base *base);

/* Arm or disarm accepting on all sockets of l. */
void listener_set_accepting(struct listener *l, int on);

/* Close every listening socket (new connection attempts are refused). */
void listener_close(struct listener *l);

/* Whether l may take one more connection under its own limit. */
int listener_has_room(const struct listener *l);

#endif
