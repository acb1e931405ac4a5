/* The zero-copy data path: socket -> pipe -> socket with splice(2), no
 * userspace buffer.  A direction takes a pipe from this thread's pool when
 * data first flows and gives it back as soon as the pipe is empty, so idle
 * connections hold no pipe and a busy daemon reuses a few.  Where the
 * kernel refuses splice for a descriptor (EINVAL) the direction switches
 * to the copy path for good; where no pipe can be had (EMFILE) it copies
 * for this round only. */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <stdatomic.h>
#include <unistd.h>

#include "relay.h"

#define POOL_MAX 64             /* pipes parked per thread */
#define SPLICE_FLAGS (SPLICE_F_MOVE | SPLICE_F_NONBLOCK)

struct pipe_pool {
	int fds[POOL_MAX][2];
	unsigned n;
	unsigned in_use;
	unsigned taken;         /* pipe_get calls since the last trim */
};

static __thread struct pipe_pool pool;
static _Atomic unsigned pipe_size;      /* 0: kernel default */

void relay_set_pipe_size(unsigned bytes)
{
	atomic_store(&pipe_size, bytes);
}

unsigned relay_pipes_in_use(void) { return pool.in_use; }
unsigned relay_pipes_pooled(void) { return pool.n; }

void relay_pool_trim(void)
{
	/* Idle since the last call: give half the parked pipes back, so a
	 * quiet daemon ends up holding none. */
	unsigned keep = pool.taken > 0 ? pool.n : pool.n / 2;

	while (pool.n > keep) {
		pool.n--;
		close(pool.fds[pool.n][0]);
		close(pool.fds[pool.n][1]);
	}
	pool.taken = 0;
}

void relay_pool_drain(void)
{
	while (pool.n > 0) {
		pool.n--;
		close(pool.fds[pool.n][0]);
		close(pool.fds[pool.n][1]);
	}
}

static int pipe_get(struct relay_dir *d)
{
	int fds[2];

	pool.taken++;
	if (pool.n > 0) {
		pool.n--;
		fds[0] = pool.fds[pool.n][0];
		fds[1] = pool.fds[pool.n][1];
	} else {
		if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0)
			return -1;
		/* Best effort: a larger pipe means fewer splice calls per
		 * megabyte; pages are only used while data is in it. */
		unsigned want = atomic_load(&pipe_size);
		if (want > 0)
			fcntl(fds[0], F_SETPIPE_SZ, (int)want);

	}
	d->pipe_r = fds[0];
	d->pipe_w = fds[1];
	pool.in_use++;
	return 0;
}

void relay_pipe_put(struct relay_dir *d)
{
	if (d->pipe_r < 0)
		return;
	pool.in_use--;
	if (d->in_pipe == 0 && pool.n < POOL_MAX) {
		pool.fds[pool.n][0] = d->pipe_r;
		pool.fds[pool.n][1] = d->pipe_w;
		pool.n++;
	} else {
		/* Data still inside, or the pool is full: a pipe with
		 * leftovers must never be handed to another connection. */
		close(d->pipe_r);
		close(d->pipe_w);
	}
	d->pipe_r = d->pipe_w = -1;
	d->in_pipe = 0;
}

enum relay_result relay_pump_splice(struct relay_dir *d, struct xport *src,
                                    struct xport *dst, int *err)
{
	enum relay_result res = RELAY_OK;
	int drained = 0;        /* last splice-in was small (relay.h) */
	int from = src->fd, to = dst->fd;
	int f = relay_flush_buf(d, dst, err);   /* PROXY header goes first */

	if (f < 0)
		return RELAY_DST_ERROR;
	if (f > 0)
		return RELAY_OK;
	for (int round = 0; round < 16; round++) {
		ssize_t n;

		if (d->in_pipe > 0) {
			n = splice(d->pipe_r, NULL, to, NULL, d->in_pipe,
			           SPLICE_FLAGS);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN)
					break;
				*err = errno;
				res = RELAY_DST_ERROR;
				break;
			}
			d->in_pipe -= (uint32_t)n;
			continue;
		}
		if (d->eof || drained)
			break;
		if (d->pipe_r < 0 && pipe_get(d) < 0) {
			/* Out of descriptors for a pipe: copy this round. */
			return relay_pump_copy(d, src, dst, err);
		}
		n = splice(from, NULL, d->pipe_w, NULL, 1 << 30, SPLICE_FLAGS);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			if (errno == EINVAL) {
				/* Not spliceable (some socket types / kernels). */
				relay_pipe_put(d);
				d->copy = 1;
				return relay_pump_copy(d, src, dst, err);
			}
			*err = errno;
			res = RELAY_SRC_ERROR;
			break;
		}
		if (n == 0) {
			d->eof = 1;
			break;
		}
		d->bytes += (uint64_t)n;
		d->in_pipe = (uint32_t)n;
		drained = n < RELAY_SMALL_READ;
	}
	if (d->in_pipe == 0)
		relay_pipe_put(d);
	if (res == RELAY_OK && relay_pass_eof(d, dst, err) < 0)
		res = RELAY_DST_ERROR;
	return res;
}
