/* Counters per listener, shared by all workers (relaxed atomics: each is
 * exact, a scrape sees them at slightly different instants); the /metrics
 * endpoint (stats_http.h) shows them. */
#ifndef FRONTD_STATS_H
#define FRONTD_STATS_H

#include <stdatomic.h>
#include <stdint.h>
#include "backend_health.h"
#include "end_reason.h"
#include "ratelimit.h"
#include "source_limit.h"

/* Closed MPTCP connections by the most subflows they had: 1, 2, 3, 4,
 * 5-8, more. */
#define STATS_SUBFLOW_BUCKETS 6
#define STATS_SUBFLOW_BUCKET_LE 1, 2, 3, 4, 8     /* upper bounds */

/* The path record's figures (conn_paths.c fills them, with
 * _Static_asserts that these agree with mptcp_paths.h; metrics.c names
 * them): how a client connected (enum mptcp_how, 1..3), how a subflow
 * ended (enum mptcp_path_end, 0..5), the address family of a path. */
#define STATS_HOW_COUNT 4
#define STATS_PATH_END_COUNT 6
enum { STATS_FAMILY_IPV4, STATS_FAMILY_IPV6, STATS_FAMILY_COUNT };

/* Which connection limit paused accepting (connections_limited_total). */
enum stats_limit {
	STATS_LIMIT_GLOBAL,     /* [global] max_connections */
	STATS_LIMIT_LISTENER,   /* the listener's own max_connections */
	STATS_LIMIT_COUNT,
};

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
	_Atomic uint64_t accepted_how[STATS_HOW_COUNT]; /* at close; [0] unused */
	_Atomic uint64_t subflow_joins;
	_Atomic uint64_t subflow_ends[STATS_PATH_END_COUNT];
	/* Per-subflow bytes of MPTCP connections with a path record:
	 * [family][0] sent to the client, [family][1] received from it. */
	_Atomic uint64_t path_bytes[STATS_FAMILY_COUNT][2];
	/* Times a worker stopped accepting on this listener because a
	 * connection limit was reached (see worker.c, pause_at_limit). */
	_Atomic uint64_t limited[STATS_LIMIT_COUNT];
	_Atomic uint64_t max_connections;       /* its own limit; 0 = none */
	struct ratelimit limit_log;             /* "max_connections reached" */
	struct ratelimit unreachable_log;       /* "no backend reachable" */
	/* Every backend address the listener ever had (appended by the main
	 * thread, like the registry); each worker's generation points at
	 * the entries of its backends. */
	struct backend_health *backends;
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
	_Atomic uint64_t max_connections;       /* [global], the one serving */
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

/* st's health entry for the backend whose address text is `addr`,
 * created (up, zeroed) at the end of its list if missing.  Main thread
 * only.  NULL when out of memory. */
struct backend_health *stats_backend(struct listener_stats *st,
                                     const char *addr);

#endif
