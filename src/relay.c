/* The read/write relay path.  A direction owns at most one buffer of
 * RELAY_BUF_SIZE bytes and only while bytes are pending; the source is not
 * read again until the buffer has been written out, which is the whole
 * backpressure scheme: a slow reader stalls its writer at one buffer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "relay.h"

static int ensure_buf(struct relay_dir *d)
{
	if (d->buf == NULL) {
		d->buf = malloc(RELAY_BUF_SIZE);
		if (d->buf == NULL)
			return -1;
		d->off = d->len = 0;
	}
	return 0;
}

void relay_release(struct relay_dir *d)
{
	free(d->buf);
	d->buf = NULL;
	d->off = d->len = 0;
}

int relay_queue(struct relay_dir *d, const void *data, size_t len)
{
	if (ensure_buf(d) < 0) {
		errno = ENOMEM;
		return -1;
	}
	if (len > RELAY_BUF_SIZE - d->off - d->len) {
		errno = ENOSPC;
		return -1;
	}
	memcpy(d->buf + d->off + d->len, data, len);
	d->len += (uint32_t)len;
	return 0;
}

/* Write what is pending.  Returns 0 when all of it went out, 1 when the
 * destination would block, -1 on error. */
static int flush(struct relay_dir *d, int to, int *err)
{
	while (d->len > 0) {
		ssize_t n = send(to, d->buf + d->off, d->len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 1;
			*err = errno;
			return -1;
		}
		d->off += (uint32_t)n;
		d->len -= (uint32_t)n;
	}
	d->off = 0;
	return 0;
}

enum relay_result relay_pump(struct relay_dir *d, int from, int to, int *err)
{
	enum relay_result res = RELAY_OK;
	/* Bounded so one busy connection cannot starve the others. */
	for (int round = 0; round < 16; round++) {
		ssize_t n;
		int f = flush(d, to, err);

		if (f < 0) {
			res = RELAY_DST_ERROR;
			break;
		}
		if (f > 0 || d->eof)
			break;
		if (ensure_buf(d) < 0) {
			res = RELAY_NOMEM;
			break;
		}
		n = read(from, d->buf, RELAY_BUF_SIZE);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				*err = errno;
				res = RELAY_SRC_ERROR;
			}
			break;
		}
		if (n == 0) {
			d->eof = 1;
			continue;       /* flush (nothing pending) then pass EOF on */
		}
		d->bytes += (uint64_t)n;
		d->len = (uint32_t)n;
		if (n < RELAY_BUF_SIZE) {
			/* The socket is most likely drained: write this out and
			 * let the event loop say when more arrives, instead of a
			 * read that would only return EAGAIN. */
			f = flush(d, to, err);
			if (f < 0)
				res = RELAY_DST_ERROR;
			break;
		}
	}
	if (d->len == 0 && d->buf != NULL)
		relay_release(d);       /* idle directions hold no memory */
	if (res == RELAY_OK && d->eof && d->len == 0 && !d->shut) {
		/* Half-close: the destination learns the source is done but
		 * may keep sending the other way.  ENOTCONN means it is gone
		 * already; the other direction will notice. */
		shutdown(to, SHUT_WR);
		d->shut = 1;
	}
	return res;
}
