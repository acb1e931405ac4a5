/* A connection's end as the relay sees it: a socket, read and written
 * either directly (raw) or through a transport that transforms the bytes
 * (TLS, src/tls/tls_xport.c).  The relay and the connection state machine
 * only ever call xport_recv / xport_send / xport_shutdown, so they never
 * know which one they talk to -- as nginx swaps c->recv / c->send after a
 * TLS handshake.
 *
 * Calls are non-blocking.  When one cannot go on it returns -1 with errno
 * EAGAIN and records in want_recv / want_send which readiness of the
 * socket it waits for: a raw socket waits to be readable to read and
 * writable to write, a TLS one may need either for both. */
#ifndef FRONTD_XPORT_H
#define FRONTD_XPORT_H

#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#define XPORT_WANT_READ 1
#define XPORT_WANT_WRITE 2

struct xport;

struct xport_ops {
	/* >0 bytes, 0 at the peer's orderly end, -1 with errno. */
	ssize_t (*recv)(struct xport *x, void *buf, size_t len);
	ssize_t (*send)(struct xport *x, const void *buf, size_t len);
	/* End our sending side: the transport's own goodbye, then a FIN
	 * unless `fin` is 0 (the close right after sends it).  0 when done,
	 * -1 with errno (EAGAIN: call again when want_send is ready). */
	int (*shutdown)(struct xport *x, int fin);
	/* Whether bytes are buffered inside the transport, readable without
	 * the socket becoming readable again. */
	int (*pending)(const struct xport *x);
	/* What the last failure was, in the transport's terms, or NULL when
	 * errno says it all. */
	const char *(*error)(struct xport *x, int err, char *buf, size_t len);
	void (*free)(struct xport *x);  /* the transport's state, not the fd */
};

struct xport {
	const struct xport_ops *ops;    /* NULL: the raw socket */
	void *impl;                     /* the transport's state */
	int fd;                         /* -1: none */
	uint8_t want_recv, want_send;   /* XPORT_WANT_* */
	uint8_t failed;                 /* the transport broke: no goodbye */
	uint8_t detail;                 /* the transport's last failure code */
};

/* A raw socket (fd may be -1: no socket yet). */
void xport_init(struct xport *x, int fd);

/* Release the transport and close the socket; `reset` closes with RST
 * (SO_LINGER 0), telling the peer the connection was cut rather than
 * finished. */
void xport_close(struct xport *x, int reset);

/* Whether err says the peer cut the connection (rather than the daemon
 * failing): a reset, a write to a closed peer, a dead path. */
static inline int xport_errno_is_reset(int err)
{
	return err == ECONNRESET || err == EPIPE || err == ETIMEDOUT ||
	       err == ENOTCONN;
}

static inline int xport_is_raw(const struct xport *x)
{
	return x->ops == NULL;
}

static inline ssize_t xport_recv(struct xport *x, void *buf, size_t len)
{
	return x->ops ? x->ops->recv(x, buf, len) : read(x->fd, buf, len);
}

static inline ssize_t xport_send(struct xport *x, const void *buf, size_t len)
{
	return x->ops ? x->ops->send(x, buf, len)
	              : send(x->fd, buf, len, MSG_NOSIGNAL);
}

/* A raw socket's shutdown cannot block; ENOTCONN (the peer is gone) is
 * left for the other direction to notice. */
static inline int xport_shutdown(struct xport *x, int fin)
{
	if (x->ops)
		return x->ops->shutdown(x, fin);
	if (fin)
		shutdown(x->fd, SHUT_WR);
	return 0;
}

static inline int xport_pending(const struct xport *x)
{
	return x->ops ? x->ops->pending(x) : 0;
}

static inline const char *xport_error(struct xport *x, int err, char *buf,
                                      size_t len)
{
	return x->ops ? x->ops->error(x, err, buf, len) : NULL;
}

#endif
