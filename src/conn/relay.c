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
#include "xport.h"

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

int relay_flush_buf(struct relay_dir *d, struct xport *to, int *err)
{
	while (d->len > 0) {
		ssize_t n = xport_send(to, d->buf + d->off, d->len);
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

int relay_pass_eof(struct relay_dir *d, struct xport *to, int *err)
{
	if (!d->eof || relay_pending(d) || d->shut)
		return 0;
	/* Half-close: the destination learns the source is done but may
	 * keep sending the other way. */
	if (xport_shutdown(to, !d->fin_by_close) < 0) {
		if (errno == EAGAIN)
			return 0;       /* relay_wants_write: try again */
		*err = errno;
		return -1;
	}
	d->shut = 1;
	return 0;
}

/* The PROXY header is queued and nothing has been read yet: read what the
 * client already sent (its request, usually; on TLS, what came with its
 * Finished) behind the header, so that both leave in one segment and the
 * backend reads them at once -- one write instead of two, and one read
 * less for the backend.  Returns 1 when the read came back short (the
 * socket had no more), 0 otherwise, -1 on a read error (*err set). */
static int join_first_bytes(struct relay_dir *d, struct xport *from, int *err)
{
	size_t room = RELAY_BUF_SIZE - d->off - d->len;
	ssize_t n;

	if (d->len == 0 || d->bytes > 0 || d->eof || room == 0)
		return 0;
	n = xport_recv(from, d->buf + d->off + d->len, room);
	if (n > 0) {
		d->len += (uint32_t)n;
		d->bytes += (uint64_t)n;
		return (size_t)n < room && !xport_pending(from);
	} else if (n == 0) {
		d->eof = 1;
	} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		*err = errno;
		return -1;
	}
	return 0;
}

/* After a read into an empty buffer: take what the source's transport
 * already holds (TLS records read ahead) while there is room, so that it
 * leaves in one write.  Returns -1 on a read error (*err set). */
static int take_buffered(struct relay_dir *d, struct xport *from, int *err)
{
	while (d->len < RELAY_BUF_SIZE && xport_pending(from)) {
		ssize_t n = xport_recv(from, d->buf + d->len,
		                       RELAY_BUF_SIZE - d->len);
		if (n > 0) {
			d->len += (uint32_t)n;
			d->bytes += (uint64_t)n;
			continue;
		}
		if (n == 0) {
			d->eof = 1;
			break;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			break;
		*err = errno;
		return -1;
	}
	return 0;
}

enum relay_result relay_pump_copy(struct relay_dir *d, struct xport *from,
                                  struct xport *to, int *err)
{
	int round;

	/* Bounded so one busy connection cannot starve the others. */
	for (round = 0; round < 16; round++) {
		ssize_t n;
		int f = relay_flush_buf(d, to, err);

		if (f < 0)
			return RELAY_DST_ERROR;
		if (f > 0 || d->eof)
			break;
		if (ensure_buf(d) < 0)
			return RELAY_NOMEM;
		n = xport_recv(from, d->buf, RELAY_BUF_SIZE);
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
		if (n == RELAY_BUF_SIZE && !d->copy && xport_is_raw(from) &&
		    xport_is_raw(to)) {
			/* Bulk: relay_pump splices from here on. */
			d->bulk = 1;
			if (relay_flush_buf(d, to, err) < 0)
				return RELAY_DST_ERROR;
			break;
		}
		if (take_buffered(d, from, err) < 0)
			return RELAY_SRC_ERROR;
		if (d->len < RELAY_SMALL_READ && !xport_pending(from)) {
			if (relay_flush_buf(d, to, err) < 0)
				return RELAY_DST_ERROR;
			break;
		}
	}
	/* A raw socket that still has bytes stays readable and its event
	 * fires again; bytes inside a transport would wait for nothing. */
	d->more = round == 16 && !d->eof && xport_pending(from);
	if (relay_pass_eof(d, to, err) < 0)
		return RELAY_DST_ERROR;
	return RELAY_OK;
}

enum relay_result relay_pump(struct relay_dir *d, struct xport *from,
                             struct xport *to, int *err)
{
	int joined;

	d->more = 0;
	joined = join_first_bytes(d, from, err);
	if (joined < 0)
		return RELAY_SRC_ERROR;
	if (d->copy || !xport_is_raw(from) || !xport_is_raw(to))
		return relay_pump_copy(d, from, to, err);
	/* The first read emptied the socket (a request, usually): send the
	 * header with it and stop; a splice now would only say EAGAIN, one
	 * failing call per connection.  Later bytes raise the event. */
	if (joined > 0)
		return relay_flush_buf(d, to, err) < 0 ? RELAY_DST_ERROR
		                                       : RELAY_OK;
	/* Small messages are copied (relay.h); relay_pump_copy sets bulk
	 * when a read fills its buffer, and splicing goes on from there. */
	if (!d->bulk) {
		enum relay_result r = relay_pump_copy(d, from, to, err);

		if (r != RELAY_OK || !d->bulk || relay_pending(d) || d->eof)
			return r;
	}
	return relay_pump_splice(d, from, to, err);
}
