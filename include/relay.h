/* One direction of a relay: bytes read from one descriptor, written to
 * another, through at most one bounded buffer that exists only while data
 * is in flight (idle connections hold no buffer). */
#ifndef FRONTD_RELAY_H
#define FRONTD_RELAY_H

#include <stddef.h>
#include <stdint.h>

#define RELAY_BUF_SIZE (64 * 1024)

struct relay_dir {
	char *buf;              /* NULL while nothing is pending */
	uint32_t off, len;      /* pending bytes are buf[off .. off+len) */
	uint64_t bytes;         /* payload bytes read from the source */
	uint8_t eof;            /* source sent FIN */
	uint8_t shut;           /* FIN passed on with shutdown(SHUT_WR) */
};

enum relay_result {
	RELAY_OK,               /* moved what it could; see the predicates */
	RELAY_SRC_ERROR,        /* reading the source failed: *err = errno */
	RELAY_DST_ERROR,        /* writing the destination failed: *err */
	RELAY_NOMEM,
};

/* Move data from `from` to `to` until one would block, the source hits
 * EOF or an error occurs.  Passes EOF on once everything is written. */
enum relay_result relay_pump(struct relay_dir *d, int from, int to, int *err);

/* Queue bytes to be written ahead of anything read later (the PROXY
 * header).  Not counted in d->bytes.  Returns 0 or -1 (ENOMEM/ENOSPC). */
int relay_queue(struct relay_dir *d, const void *data, size_t len);

void relay_release(struct relay_dir *d);

static inline int relay_wants_read(const struct relay_dir *d)
{
	return !d->eof && d->len == 0;
}

static inline int relay_wants_write(const struct relay_dir *d)
{
	return d->len > 0;
}

static inline int relay_done(const struct relay_dir *d)
{
	return d->eof && d->len == 0 && d->shut;
}

#endif
