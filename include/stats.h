/* Counters per listener, shared by all workers (relaxed atomics: each is
 * exact, a scrape sees them at slightly different instants); the /metrics
 * endpoint (stats_http.h) shows them. */
#ifndef FRONTD_STATS_H
#define FRONTD_STATS_H

#include <stdatomic.h>
#include <stdint.h>
#include "end_reason.h"
#include "source_limit.h"

/* Closed MPTCP connections by the most subflows they had: 1, 2, 3, 4,
 * 5-8, more. */
#define STATS_SUBFLOW_BUCKETS 6
#define STATS_SUBFLOW_BUCKET_LE 1, 2, 3, 4, 8     /* upper bounds */

/* One per listener name ever configured: counters survive reloads (and
 * stay after a listener is removed, as Prometheus counters should).  The
 * registry is a list only the main thread changes; workers keep pointers
 * to their entries. */
struct listener_stats {
	struct listener_stats *next;
	char name[40];
	_Atomic uint64_t active;
	_Atomic uint64_t accepted_mptcp;
	_Atomic uint64_t accepted_tcp;
	_Atomic uint64_t connect_failures;      /* failed backend attempts */
	_Atomic uint64_t bytes_in;              /* client -> backend */
	_Atomic uint64_t bytes_out;             /* backend -> client */
	_Atomic uint64_t closed[END_REASON_COUNT];
	_Atomic uint64_t subflow_hist[STATS_SUBFLOW_BUCKETS];
	_Atomic uint64_t subflow_sum;
	_Atomic uint64_t subflow_max;
	_Atomic uint64_t tls_full;              /* full TLS handshakes */
	_Atomic uint64_t tls_resumed;           /* resumed TLS handshakes */
	/* Open connections per client source (max_connections_per_source),
	 * shared like the counters and kept across reloads like `active`. */
	struct source_table *sources;
};

/* The configuration's history, owned by the server: the load at start
 * counts as the first "last reload" (as Prometheus' own
 * config_last_reload_* do); reloads_* count SIGHUPs only. */
struct stats_config {
	_Atomic uint64_t reloads_ok;
	_Atomic uint64_t reloads_failed;
	_Atomic int64_t last_reload_time;       /* Unix seconds */
	_Atomic int last_reload_ok;             /* 1 or 0 */
	_Atomic unsigned generation;            /* the one serving */
};

/* Record a load (start: ok and not a SIGHUP; reload: its outcome). */
void stats_config_loaded(struct stats_config *c, int is_reload, int ok,
                         unsigned generation);

static inline void stats_add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* Record a closed connection. */
void stats_closed(struct listener_stats *st, enum end_reason why, int is_mptcp,
                  unsigned max_subflows);

/* The registry entry for `name`, created (zeroed) at the end of the list
 * if missing.  NULL when out of memory. */
struct listener_stats *stats_lookup(struct listener_stats **head,
                                    const char *name);
void stats_free_all(struct listener_stats *head);

#endif
