#include <sys/socket.h>
#include <unistd.h>

#include "xport.h"

void xport_init(struct xport *x, int fd)
{
	x->ops = NULL;
	x->impl = NULL;
	x->fd = fd;
	x->want_recv = XPORT_WANT_READ;
	x->want_send = XPORT_WANT_WRITE;
	x->failed = 0;
	x->detail = 0;
}

void xport_close(struct xport *x, int reset)
{
	if (x->ops != NULL)
		x->ops->free(x);
	x->ops = NULL;
	x->impl = NULL;
	if (x->fd < 0)
		return;
	if (reset) {
		struct linger lg = { 1, 0 };
		setsockopt(x->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(x->fd);
	x->fd = -1;
}
