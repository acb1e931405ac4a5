/* One direction of a relay: bytes read from one connection end (an
 * xport: a raw socket or TLS) and written to another.  Two data paths
 * share this interface:
 *   splice  socket -> pipe -> socket in the kernel (relay_splice.c), for
 *           bulk between two raw sockets; the pipe is taken from a pool
 *           when data first flows and returned when the direction drains.
 *           Small messages (requests, responses, a keep-alive exchange)
 *           are copied even there: a read and a write cost the same calls
 *           as two splices and less CPU (no pipe pages to fill and free);
 *           a read that fills the buffer switches the direction to splice
 *           for good (a bulk transfer's splice-ins often come back small
 *           when the source is the slower side: no switching back)
 *   copy    xport_recv / xport_send through one bounded buffer (relay.c):
 *           wherever an end is not a raw socket (TLS), where splice is
 *           refused (EINVAL) or turned off
 * Either way at most one pipe or one buffer of data is in flight per
 * direction, and an idle direction holds neither.  The rules are the same
 * on both paths: a source is read only while nothing it sent is still
 * waiting (backpressure); its EOF is passed on (half-close) once all of
 * it is written. */
#ifndef FRONTD_RELAY_H
#define FRONTD_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "xport.h"

#define RELAY_BUF_SIZE (64 * 1024)

/* A read shorter than this most likely emptied the socket (a request, a
 * response): stop and let the event loop report more, rather than pay for
 * a read that returns EAGAIN.  Longer reads look like bulk transfer, where
 * more has usually arrived by the time the write is done. */
#define RELAY_SMALL_READ (16 * 1024)

struct relay_dir {
	char *buf;              /* queued bytes (PROXY header, copy path) */
	uint32_t off, len;      /* pending bytes are buf[off .. off+len) */
	uint32_t in_pipe;       /* bytes spliced into the pipe, not yet out */
	int pipe_r, pipe_w;     /* -1 while no pipe is held */
	uint64_t bytes;         /* payload bytes read from the source */
	uint8_t eof;            /* source sent FIN */
	uint8_t shut;           /* FIN passed on with shutdown(SHUT_WR) */
	uint8_t copy;           /* use the read/write path */
	uint8_t bulk;           /* splice: a read has filled the buffer */
	uint8_t fin_by_close;   /* the caller closes `to` right after EOF:
	                           close() sends the FIN, skip shutdown() */
	uint8_t more;           /* the last pump stopped (for fairness) with
	                           bytes buffered inside the source's
	                           transport: pump again without waiting for
	                           its socket */
};

enum relay_result {
	RELAY_OK,               /* moved what it could; see the predicates */
	RELAY_SRC_ERROR,        /* reading the source failed: *err = errno */
	RELAY_DST_ERROR,        /* writing the destination failed: *err */
	RELAY_NOMEM,
};

/* Whether new directions splice (default) or copy. */
void relay_set_splice(int on);

/* Pipe size for the splice path in bytes (F_SETPIPE_SZ); 0 keeps the
 * kernel default.  Applies to pipes created afterwards. */
void relay_set_pipe_size(unsigned bytes);

void relay_init(struct relay_dir *d);

/* Move data from `from` to `to` until one would block, the source hits
 * EOF or an error occurs.  Passes EOF on once everything is written. */
enum relay_result relay_pump(struct relay_dir *d, struct xport *from,
                             struct xport *to, int *err);

/* Queue bytes to be written ahead of anything read later (the PROXY
 * header).  Not counted in d->bytes.  Returns 0 or -1 (ENOMEM/ENOSPC). */
int relay_queue(struct relay_dir *d, const void *data, size_t len);

/* Release the buffer and pipe (the pipe is not returned to the pool when
 * it still holds data). */
void relay_release(struct relay_dir *d);

/* Pipes currently held by directions / parked in this thread's pool. */
unsigned relay_pipes_in_use(void);
unsigned relay_pipes_pooled(void);
void relay_pool_drain(void);    /* close pooled pipes (thread exit) */
/* Called periodically: without demand since the last call, close half of
 * the parked pipes. */
void relay_pool_trim(void);

static inline int relay_pending(const struct relay_dir *d)
{
	return d->len > 0 || d->in_pipe > 0;
}

static inline int relay_wants_read(const struct relay_dir *d)
{
	return !d->eof && !relay_pending(d);
}

/* Bytes to write, or the source's end still to pass on (a transport's
 * goodbye may have to wait for its socket). */
static inline int relay_wants_write(const struct relay_dir *d)
{
	return relay_pending(d) || (d->eof && !d->shut);
}

static inline int relay_done(const struct relay_dir *d)
{
	return d->eof && !relay_pending(d) && d->shut;
}

/* Internal to the relay files. */
int relay_flush_buf(struct relay_dir *d, struct xport *to, int *err);
int relay_pass_eof(struct relay_dir *d, struct xport *to, int *err);
enum relay_result relay_pump_copy(struct relay_dir *d, struct xport *from,
                                  struct xport *to, int *err);
enum relay_result relay_pump_splice(struct relay_dir *d, struct xport *from,
                                    struct xport *to, int *err);
void relay_pipe_put(struct relay_dir *d);

#endif
