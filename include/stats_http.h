/* The stats listener: a small HTTP/1.x server on one event loop (worker
 * 0's), written here rather than taken from evhttp so that accept, the
 * number of connections and each request's lifetime are ours to bound.
 *
 *   - GET or HEAD answers 200 on
 *       /metrics       the Prometheus text (any query string);
 *       /connections   the live connections as JSON, newest first, at
 *                      most ?limit=N (snapshot.h; a bad limit is a 400);
 *       / and /status  the status page (stats_http_page.c), which reads
 *                      the two above;
 *     another path 404; another method 405.  Every response ends the
 *     connection (Connection: close).
 *   - At most STATS_HTTP_MAX_CONNS connections at once: further clients
 *     wait in the listen backlog until one ends (never more than the
 *     deadline).
 *   - Each connection is closed STATS_HTTP_DEADLINE_MS after it was
 *     accepted, whatever state it is in (a 408 is sent first when no
 *     response was), so a byte-a-second sender cannot hold a slot.
 *   - A request (line and headers) longer than STATS_HTTP_REQUEST_MAX
 *     bytes is answered 431.
 *   - accept failing with EMFILE & co pauses accepting for
 *     WORKER_BACKOFF_MS, as the proxy listeners do; the first failure is
 *     logged, later ones are not until a connection is accepted again. */
#ifndef FRONTD_STATS_HTTP_H
#define FRONTD_STATS_HTTP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "addr.h"
#include "stats.h"

#define STATS_HTTP_MAX_CONNS 16
#define STATS_HTTP_DEADLINE_MS 5000
#define STATS_HTTP_REQUEST_MAX 8192

struct event_base;
struct pool;
struct stats_http;

/* Bind and listen on `bind` and start accepting on `base` (worker 0's:
 * /connections asks the workers of `pool`).  The caller
 * announces it with stats_http_announce() once it is committed to it (a
 * reload binds before it knows it will succeed).  Returns NULL after
 * logging "stats ADDR: reason". */
struct stats_http *stats_http_open(struct event_base *base,
                                   const struct addr *bind,
                                   struct listener_stats *const *head,
                                   _Atomic uint64_t *const *worker_accepted,
                                   unsigned nworkers,
                                   const struct stats_config *config,
                                   struct pool *pool);

/* Log "stats: serving /metrics on http://ADDR/metrics" (the bound
 * address: port 0 resolved). */
void stats_http_announce(const struct stats_http *h);

/* The listening socket's descriptor (binary upgrade hands it on); -1 for
 * NULL. */
int stats_http_fd(const struct stats_http *h);

/* The status page's HTML (built into the binary from status_page.html). */
const char *stats_http_page(size_t *len);

/* Close the listening socket and every connection.  NULL is a no-op. */
void stats_http_stop(struct stats_http *h);

#endif
