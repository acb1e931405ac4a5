/* A worker's watch over the MPTCP path manager's subflow events, for the
 * path records of its connections (conn_paths.c): the event socket and a
 * table from MPTCP token to connection.
 *
 * Ownership: the worker owns the watch (opened before privileges are
 * dropped: joining the event group needs CAP_NET_ADMIN), arms an EV_READ
 * event on `fd` and calls conn_watch_read when it fires; it hands the
 * watch to its listeners' conn_owner.watch.  Connections of those owners
 * enter the table at accept and leave it at their end, on the worker's
 * thread; the table holds no connection beyond its end. */
#ifndef FRONTD_CONN_WATCH_H
#define FRONTD_CONN_WATCH_H

#include <stddef.h>
#include <stdint.h>

struct conn;

struct conn_watch {
	int fd;                         /* -1: no events, samples only */
	uint16_t family;                /* the genetlink family of the events */
	struct conn **bucket;           /* token table, chained by conn */
	size_t nbucket;                 /* 0 or a power of two */
	size_t count;
};

/* Empty and closed (fd -1): what a worker without events has. */
void conn_watch_init(struct conn_watch *w);

/* Join the event group, keeping only subflow events.  Returns 0 with
 * w->fd open, or -1 after logging why (once per process: every worker
 * meets the same kernel and the same capabilities); the records of w's
 * connections then come from samples only. */
int conn_watch_open(struct conn_watch *w);

/* w->fd is readable: hand its events to the connections they are about.
 * Returns 0, or -1 after logging when the socket failed for good: the
 * caller drops its event, then calls conn_watch_stop. */
int conn_watch_read(struct conn_watch *w);

/* Close the socket only: the table stays for the connections in it, new
 * ones stay out. */
void conn_watch_stop(struct conn_watch *w);

/* Close the socket and free the table (no connection may be in it). */
void conn_watch_close(struct conn_watch *w);

#endif
