/* One accepted client connection, from accept to close, whatever kind it
 * is: plain, TLS-terminated, or preceded by a balancer's PROXY header
 * (accept_proxy).  It waits for that header, runs the TLS handshake,
 * connects to a backend (with failover), writes the PROXY header it owes
 * the backend and relays bytes both ways; then it ends, once, with one
 * reason, one access-log line and one report to its owner.
 *
 * Ownership flows one way: the owner (a listener) hands the accepted
 * socket over with conn_start and hears of the end through its `closed`
 * callback; connection code never calls its owner otherwise, nor anything
 * above it. */
#ifndef FRONTD_CONN_H
#define FRONTD_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"
#include "end_reason.h"

struct conn;
struct conn_watch;
struct event_base;
struct listener_cfg;
struct listener_stats;
struct backend_health;

/* Who accepted the connections and keeps them. */
struct conn_owner {
	struct event_base *base;        /* the loop the connections run on */
	const struct listener_cfg *cfg; /* settings they start with */
	struct listener_stats *stats;   /* counters they add to */
	/* The path-manager events of the thread that runs them
	 * (conn_watch.h); NULL: none, the path records rely on samples. */
	struct conn_watch *watch;
	/* Health of cfg->backends[i], shared with every worker (entries of
	 * stats->backends, one per backend of cfg). */
	struct backend_health *const *health;
	/* Open connections, least recently active first (the idle sweep
	 * only looks at the head); conn.c keeps the list. */
	struct conn *head, *tail;
	size_t count;
	/* c ended for `why`: its sockets are closed, it is off the list and
	 * is freed when this returns.  The owner gives back what it holds
	 * for it (its slot); it must not start or end connections of this
	 * owner from here. */
	void (*closed)(struct conn_owner *o, struct conn *c,
	               enum end_reason why);
};

/* An accepted socket and what the listener knows about it. */
struct conn_accept {
	int fd;
	const struct sockaddr_storage *peer;
	socklen_t peerlen;
	const struct addr *bound;       /* the listening address (a wildcard:
	                                   the socket is asked) */
	int mptcp_listener;             /* listening with IPPROTO_MPTCP */
};

/* Take over an accepted socket.  Returns 0 when the connection owns it
 * (it may have ended already, with `closed` called), or -1 after logging
 * when it could not start (out of memory, getsockname failed): the socket
 * is still the caller's and `closed` will not be called. */
int conn_start(struct conn_owner *o, const struct conn_accept *a);

/* End the connections of o that relay and were idle for longer than
 * their idle_timeout (the other states have timeouts of their own). */
void conn_sweep_idle(struct conn_owner *o, uint64_t now_ms);

/* End every connection of o, reporting `why`. */
void conn_close_all(struct conn_owner *o, enum end_reason why);

/* The live view (/connections), on the thread that runs o: its
 * connections in list order, when each was accepted, and one as a JSON
 * object.  conn_json returns the length written (NUL excluded), or -1
 * when it does not fit in len. */
const struct conn *conn_first(const struct conn_owner *o);
const struct conn *conn_next(const struct conn *c);
uint64_t conn_started_ms(const struct conn *c);
int conn_json(const struct conn *c, uint64_t now_ms, char *buf, size_t len);

static inline int conn_owner_empty(const struct conn_owner *o)
{
	return o->head == NULL;
}

#endif
