/* Relay dispatch and the read/write (copy) path.  A copy direction owns at
 * most one buffer of RELAY_BUF_SIZE bytes and only while bytes are
 * pending; the source is not read again until the buffer has been written
 * out, which is the whole backpressure scheme: a slow reader stalls its
 * writer at one buffer. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "relay.h"

static _Atomic int splice_default = 1;   /* reload may change it */

void relay_set_splice(int on)
{
	atomic_store(&splice_default, on);
}

void relay_init(struct relay_dir *d)
{
	memset(d, 0, sizeof(*d));
	d->pipe_r = d->pipe_w = -1;
	d->copy = !splice_default;
}

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

static void free_buf(struct relay_dir *d)
{
	free(d->buf);
	d->buf = NULL;
	d->off = d->len = 0;
}

void relay_release(struct relay_dir *d)
{
	free_buf(d);
	relay_pipe_put(d);
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

int relay_flush_buf(struct relay_dir *d, int to, int *err)
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
	free_buf(d);            /* idle directions hold no memory */
	return 0;
}

void relay_pass_eof(struct relay_dir *d, int to)
{
	if (d->eof && !relay_pending(d) && !d->shut) {
		/* Half-close: the destination learns the source is done but
		 * may keep sending the other way.  ENOTCONN means it is gone
		 * already; the other direction will notice. */
		if (!d->fin_by_close)
			shutdown(to, SHUT_WR);
		d->shut = 1;
	}
}

enum relay_result relay_pump_copy(struct relay_dir *d, int from, int to,
                                  int *err)
{
	/* Bounded so one busy connection cannot starve the others. */
	for (int round = 0; round < 16; round++) {
		ssize_t n;
		int f = relay_flush_buf(d, to, err);

		if (f < 0)
			return RELAY_DST_ERROR;
		if (f > 0 || d->eof)
			break;
		if (ensure_buf(d) < 0)
			return RELAY_NOMEM;
		n = read(from, d->buf, RELAY_BUF_SIZE);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			free_buf(d);
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			*err = errno;
			return RELAY_SRC_ERROR;
		}
		if (n == 0) {
			free_buf(d);
			d->eof = 1;
			break;
		}
		d->bytes += (uint64_t)n;
		d->len = (uint32_t)n;
		if (n < RELAY_SMALL_READ) {
			if (relay_flush_buf(d, to, err) < 0)
				return RELAY_DST_ERROR;
			break;
		}
	}
	relay_pass_eof(d, to);
	return RELAY_OK;
}

enum relay_result relay_pump(struct relay_dir *d, int from, int to, int *err)
{
	if (d->copy)
		return relay_pump_copy(d, from, to, err);
	return relay_pump_splice(d, from, to, err);
}
