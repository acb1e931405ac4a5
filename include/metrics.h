/* /metrics in Prometheus text format (text exposition 0.0.4), appended to
 * an evbuffer.  Each function returns 0, or -1 when the buffer could not
 * grow. */
#ifndef FRONTD_METRICS_H
#define FRONTD_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "stats.h"

struct evbuffer;

/* Every listener's counters. */
int metrics_render(struct evbuffer *out, struct listener_stats *head);

/* The per-worker accepted-connection counters. */
int metrics_render_workers(struct evbuffer *out,
                           _Atomic uint64_t *const *accepted,
                           unsigned nworkers);

/* build_info (version and run-time library versions) and the
 * configuration's reload counters, last reload and generation. */
int metrics_render_config(struct evbuffer *out, const struct stats_config *c);

/* The kernel's MPTCP counters of this network namespace (/proc/net/netstat
 * MPTcpExt) as mptcp_frontd_kernel_*; none when the kernel has no MPTCP.
 * Called from the one thread serving /metrics. */
int metrics_render_kernel(struct evbuffer *out);

#endif
