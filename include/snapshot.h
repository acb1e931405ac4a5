/* A snapshot of the live connections of every worker, for /connections.
 *
 * Connections belong to the worker thread that accepted them and are read
 * only there.  Worker 0 (which serves the stats listener) starts a
 * snapshot: each worker is asked through worker_call to serialize its
 * newest `limit` connections (conn_json) into its own part; the last to
 * finish hands the snapshot back to worker 0 the same way, which calls
 * `done`; the requester then renders the merged document and releases
 * the snapshot.  A worker that has not answered SNAPSHOT_DEADLINE_MS after
 * the start is given up on: `done` runs with the parts that arrived, and
 * the document says how many workers answered.
 *
 * Memory: each part holds at most `limit` objects of at most
 * SNAPSHOT_OBJ_MAX bytes (a bigger one is left out and counted as
 * omitted), grown as they are written; the snapshot is freed by whoever
 * drops the last reference (the requester or a late worker). */
#ifndef FRONTD_SNAPSHOT_H
#define FRONTD_SNAPSHOT_H

#include <stdint.h>

#define SNAPSHOT_LIMIT_DEFAULT 100
#define SNAPSHOT_LIMIT_MAX 1000
#define SNAPSHOT_OBJ_MAX 8192
#define SNAPSHOT_DEADLINE_MS 1000

struct evbuffer;
struct pool;
struct snapshot;

/* Called on worker 0's thread when every worker answered or at the
 * deadline; s stays valid until snapshot_release. */
typedef void snapshot_done_fn(struct snapshot *s, void *arg);

/* On worker 0's thread: ask every worker of pool for its newest `limit`
 * (1..SNAPSHOT_LIMIT_MAX) connections.  `done` never runs before this
 * returns.  Returns NULL after logging (out of memory). */
struct snapshot *snapshot_start(struct pool *pool, unsigned limit,
                                snapshot_done_fn *done, void *arg);

/* The merged document, newest connection first, cut at the limit:
 *   {"now_ms":N,"limit":L,"total":T,"truncated":B,"omitted":K,
 *    "workers":W,"workers_answered":A,"connections":[{...},...]}
 * total: connections the answering workers had; truncated: more than were
 * listed; omitted: objects over SNAPSHOT_OBJ_MAX.  Returns 0 or -1. */
int snapshot_render(const struct snapshot *s, struct evbuffer *out);

/* The requester is done with s (on worker 0's thread): after `done`, or
 * before it to cancel (then `done` never runs).  NULL is a no-op. */
void snapshot_release(struct snapshot *s);

#endif
