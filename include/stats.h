/* Counters per listener, shared by all workers (relaxed atomics: each is
 * exact, a scrape sees them at slightly different instants), and the
 * /metrics endpoint that shows them in Prometheus text format. */
#ifndef FRONTD_STATS_H
#define FRONTD_STATS_H

#include <stdatomic.h>
#include <stdint.h>
#include "addr.h"

struct evbuffer;
struct event_base;

/* Closed MPTCP connections by the most subflows they had: 1, 2, 3, 4,
 * 5-8, more. */
#define STATS_SUBFLOW_BUCKETS 6
#define STATS_END_REASONS 13    /* enum session_end */

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
	_Atomic uint64_t closed[STATS_END_REASONS];
	_Atomic uint64_t subflow_hist[STATS_SUBFLOW_BUCKETS];
	_Atomic uint64_t subflow_sum;
	_Atomic uint64_t subflow_max;
	_Atomic uint64_t tls_full;              /* full TLS handshakes */
	_Atomic uint64_t tls_resumed;           /* resumed TLS handshakes */
};

static inline void stats_add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* Record a closed connection. */
void stats_closed(struct listener_stats *st, int end_reason, int is_mptcp,
                  unsigned max_subflows);

/* The registry entry for `name`, created (zeroed) at the end of the list
 * if missing.  NULL when out of memory. */
struct listener_stats *stats_lookup(struct listener_stats **head,
                                    const char *name);
void stats_free_all(struct listener_stats *head);

/* Append the Prometheus text exposition of every listener's counters.
 * Returns 0, or -1 when the buffer could not grow. */
int stats_render(struct evbuffer *out, struct listener_stats *head);

/* Append the per-worker accepted-connection counters. */
int stats_render_workers(struct evbuffer *out, _Atomic uint64_t *const *accepted,
                         unsigned nworkers);

/* Append the kernel's MPTCP counters of this network namespace
 * (/proc/net/netstat MPTcpExt) as mptcp_frontd_kernel_*; none when the
 * kernel has no MPTCP.  Called from the one thread serving /metrics. */
int stats_render_kernel(struct evbuffer *out);

/* The HTTP endpoint (evhttp on `base`): GET/HEAD /metrics; other paths
 * 404, other methods 405.  Returns an opaque handle or NULL after
 * logging. */
struct stats_http;
struct stats_http *stats_http_start(struct event_base *base,
                                    const struct addr *bind,
                                    struct listener_stats *const *head,
                                    _Atomic uint64_t *const *worker_accepted,
                                    unsigned nworkers);
void stats_http_stop(struct stats_http *h);     /* NULL is a no-op */

#endif
