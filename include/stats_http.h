/* The stats listener: /metrics in Prometheus text format over HTTP
 * (evhttp), from the counters of include/stats.h. */
#ifndef FRONTD_STATS_HTTP_H
#define FRONTD_STATS_HTTP_H

#include <stdatomic.h>
#include <stdint.h>
#include "addr.h"
#include "stats.h"

struct evbuffer;
struct event_base;

/* Append the Prometheus text exposition of every listener's counters.
 * Returns 0, or -1 when the buffer could not grow. */
int stats_render(struct evbuffer *out, struct listener_stats *head);

/* Append the per-worker accepted-connection counters. */
int stats_render_workers(struct evbuffer *out, _Atomic uint64_t *const *accepted,
                         unsigned nworkers);

/* Append build_info (version and run-time library versions) and the
 * configuration's reload counters, last reload and generation. */
int stats_render_config(struct evbuffer *out, const struct stats_config *c);

/* The HTTP endpoint (evhttp on `base`): GET/HEAD /metrics; other paths
 * 404, other methods 405.  Returns an opaque handle or NULL after
 * logging. */
struct stats_http;
struct stats_http *stats_http_start(struct event_base *base,
                                    const struct addr *bind,
                                    struct listener_stats *const *head,
                                    _Atomic uint64_t *const *worker_accepted,
                                    unsigned nworkers,
                                    const struct stats_config *config);
void stats_http_stop(struct stats_http *h);     /* NULL is a no-op */

#endif
