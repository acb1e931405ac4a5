/* The path record of a connection (mptcp_paths.h) and the worker's watch
 * over the path manager's subflow events (conn_watch.h).
 *
 * Cost first: struct mptcp_paths is about 1.4 KiB, so a connection only
 * gets one when it is worth it:
 *   accept     one getsockopt (MPTCP_INFO, as before; SO_PROTOCOL too when
 *              that fails) classifies it and gives its token, which enters
 *              the watch's table (no syscall);
 *   probe tick the first sample (100 ms after accept, on activity)
 *              allocates the record; each sample is one MPTCP_FULL_INFO;
 *   pm event   a subflow event for its token allocates it too, with a
 *              sample first so the connection's first subflow is in it;
 *   close      the last sample while the socket is open (conn.c decides:
 *              not for a short small exchange), then the counters.
 * A short request/response connection on one path thus costs what it did
 * before: no record, no extra syscall, `paths=-` in the log. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "conn_internal.h"
#include "conn_watch.h"
#include "log.h"
#include "mptcp_nl.h"
#include "mptcp_paths.h"
#include "stats.h"

_Static_assert(MPTCP_HOW_FALLBACK < STATS_HOW_COUNT, "stats: how");
_Static_assert(MPTCP_PATH_GONE + 1 == STATS_PATH_END_COUNT, "stats: ends");

#define WATCH_BUCKETS_MIN 64

/* ---- the token table ---- */

static size_t slot(const struct conn_watch *w, uint32_t token)
{
	/* Tokens are derived from random keys: their low bits spread. */
	return token & (w->nbucket - 1);
}

static int table_grow(struct conn_watch *w)
{
	size_t n = w->nbucket ? w->nbucket * 2 : WATCH_BUCKETS_MIN;
	struct conn **b = calloc(n, sizeof(*b));

	if (b == NULL)
		return -1;
	for (size_t i = 0; i < w->nbucket; i++)
		while (w->bucket[i] != NULL) {
			struct conn *c = w->bucket[i];

			w->bucket[i] = c->tnext;
			c->tnext = b[c->token & (n - 1)];
			b[c->token & (n - 1)] = c;
		}
	free(w->bucket);
	w->bucket = b;
	w->nbucket = n;
	return 0;
}

static void watch_add(struct conn_watch *w, struct conn *c)
{
	static _Atomic int oom_said;

	if (w->count >= w->nbucket * 2 && table_grow(w) < 0 &&
	    w->nbucket == 0) {
		if (atomic_exchange(&oom_said, 1) == 0)
			log_warn("out of memory: path records of some MPTCP "
			         "connections will miss their subflow events");
		c->token = 0;
		return;
	}
	c->tnext = w->bucket[slot(w, c->token)];
	w->bucket[slot(w, c->token)] = c;
	w->count++;
}

static void watch_remove(struct conn_watch *w, struct conn *c)
{
	struct conn **pp = &w->bucket[slot(w, c->token)];

	for (; *pp != NULL; pp = &(*pp)->tnext)
		if (*pp == c) {
			*pp = c->tnext;
			c->tnext = NULL;
			w->count--;
			return;
		}
}

static struct conn *watch_find(const struct conn_watch *w, uint32_t token)
{
	struct conn *c;

	if (w->nbucket == 0)
		return NULL;
	for (c = w->bucket[slot(w, token)]; c != NULL; c = c->tnext)
		if (c->token == token)
			return c;
	return NULL;
}

/* ---- the record ---- */

static int64_t since_accept(const struct conn *c, uint64_t now)
{
	return now > c->start_ms ? (int64_t)(now - c->start_ms) : 0;
}

/* The record, allocated on first use; NULL when memory is short (the
 * connection then logs what it knows without one). */
static struct mptcp_paths *record(struct conn *c)
{
	static _Atomic int oom_said;

	if (c->paths == NULL) {
		c->paths = malloc(sizeof(*c->paths));
		if (c->paths == NULL) {
			if (atomic_exchange(&oom_said, 1) == 0)
				log_warn("out of memory: some connections are "
				         "logged without their path record");
			return NULL;
		}
		mptcp_paths_init(c->paths);
	}
	return c->paths;
}

void conn_paths_accept(struct conn *c, int fd, int mptcp_listener)
{
	struct conn_watch *w = c->owner->watch;
	unsigned subflows = 1;
	uint32_t token = 0;

	c->how = MPTCP_HOW_TCP;
	if (mptcp_listener)
		c->how = (uint8_t)mptcp_paths_accept(fd, &token, &subflows);
	c->is_mptcp = c->how == MPTCP_HOW_MPTCP;
	c->subflows = (uint8_t)(subflows > 255 ? 255 : subflows);
	if (c->is_mptcp && token != 0 && w != NULL && w->fd >= 0) {
		c->token = token;
		watch_add(w, c);
	}
}

void conn_paths_probe(struct conn *c, uint64_t now, int final)
{
	struct mptcp_paths *r = record(c);
	unsigned n = 0;

	if (r == NULL)
		return;
	mptcp_paths_poll(c->cx.fd, r, since_accept(c, now), final);
	c->how = r->how;
	if (r->has_totals)
		n = r->totals.subflows_now;
	else
		for (unsigned i = 0; i < r->n; i++)
			n += r->path[i].closed_ms < 0 ||
			     r->path[i].end == MPTCP_PATH_UP_AT_END;
	if (n > c->subflows)
		c->subflows = (uint8_t)(n > 255 ? 255 : n);
}

unsigned conn_paths_joins(const struct conn *c)
{
	if (c->paths != NULL)
		return mptcp_paths_joins(c->paths);
	/* No record (a short exchange): the subflows seen at accept. */
	return c->how == MPTCP_HOW_MPTCP && c->subflows > 1
	       ? c->subflows - 1u : 0u;
}

void conn_paths_end(struct conn *c)
{
	struct listener_stats *st = c->owner->stats;
	const struct mptcp_paths *r = c->paths;

	if (c->token != 0) {
		watch_remove(c->owner->watch, c);
		c->token = 0;
	}
	/* Counted at the end, when a fallback after accept is known too. */
	stats_add(&st->accepted_how[c->how], 1);
	stats_add(&st->subflow_joins, conn_paths_joins(c));
	for (unsigned i = 0; r != NULL && i < r->n; i++) {
		const struct mptcp_path *p = &r->path[i];
		int fam = p->local.family == AF_INET6 ? STATS_FAMILY_IPV6
		                                      : STATS_FAMILY_IPV4;

		stats_add(&st->subflow_ends[p->end], 1);
		stats_add(&st->path_bytes[fam][0], p->tcp.bytes_acked);
		stats_add(&st->path_bytes[fam][1], p->tcp.bytes_received);
	}
	free(c->paths);
	c->paths = NULL;
}

/* ---- the watch ---- */

void conn_watch_init(struct conn_watch *w)
{
	memset(w, 0, sizeof(*w));
	w->fd = -1;
}

int conn_watch_open(struct conn_watch *w)
{
	static _Atomic int said;
	int fd = mptcp_nl_events_open(&w->family), rc;

	if (fd < 0) {
		if (atomic_exchange(&said, 1) == 0)
			log_info("MPTCP path-manager events unavailable (%s%s): "
			         "path records come from samples only (a subflow "
			         "that closes between two keeps that sample's "
			         "bytes and ends as \"gone\")", strerror(-fd),
			         fd == -EPERM ? "; they need CAP_NET_ADMIN at "
			                        "start" : "");
		return -1;
	}
	rc = mptcp_pm_events_subflows_only(fd);
	if (rc < 0 && atomic_exchange(&said, 1) == 0)
		log_info("MPTCP path-manager events: socket filter: %s: every "
		         "connection's events wake the workers", strerror(-rc));
	w->fd = fd;
	return 0;
}

static void on_event(const struct mptcp_pm_event *ev, void *arg)
{
	struct conn *c = watch_find(arg, ev->token);
	uint64_t now;

	if (c == NULL)
		return;         /* not ours: another worker's, or a client's */
	now = clock_now_ms();
	if (c->paths == NULL)
		conn_paths_probe(c, now, 0);
	if (c->paths != NULL)
		mptcp_paths_event(c->paths, ev, since_accept(c, now));
}

int conn_watch_read(struct conn_watch *w)
{
	static _Atomic int lost_said;
	int rc = mptcp_pm_events_read(w->fd, w->family, on_event, w);

	if (rc == -ENOBUFS) {
		if (atomic_exchange(&lost_said, 1) == 0)
			log_info("MPTCP path-manager events: the kernel dropped "
			         "some (read too slowly); those subflows are "
			         "recorded from samples");
	} else if (rc < 0) {
		log_warn("MPTCP path-manager events: %s: no more events, path "
		         "records from samples only", strerror(-rc));
		return -1;
	}
	return 0;
}

void conn_watch_stop(struct conn_watch *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}

void conn_watch_close(struct conn_watch *w)
{
	conn_watch_stop(w);
	free(w->bucket);
	conn_watch_init(w);
}
