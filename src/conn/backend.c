/* Backend connects.  Failover order and timeouts belong to the session;
 * this file only knows how to start one connect and read its outcome. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"

/* A loopback handshake is done inside connect(): the SYN, SYN-ACK and ACK
 * are processed before it returns, yet a non-blocking connect still says
 * EINPROGRESS.  One look at the state (the first byte of TCP_INFO)
 * saves arming the socket for writability, a loop turn and SO_ERROR. */
static int established(int s)
{
	uint8_t state = 0;
	socklen_t len = sizeof(state);

	return getsockopt(s, IPPROTO_TCP, TCP_INFO, &state, &len) == 0 &&
	       len == sizeof(state) && state == TCP_ESTABLISHED;
}

enum backend_connect_status backend_connect(const struct addr *a, int *fd,
                                            int *err)
{
	int family = a->ss.ss_family;
	int s = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (s < 0) {
		*err = errno;
		return BACKEND_FAILED;
	}
	if (family != AF_UNIX) {
		/* The PROXY header and the first request bytes go out in
		 * separate writes: without TCP_NODELAY Nagle would hold the
		 * second one for a delayed ACK. */
		int one = 1;
		setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	if (connect(s, (const struct sockaddr *)&a->ss, a->len) == 0) {
		*fd = s;
		return BACKEND_CONNECTED;
	}
	*err = errno;
	if (errno == EINPROGRESS) {
		*fd = s;
		/* Elsewhere a round trip is still under way: no look. */
		return addr_is_loopback(a) && established(s) ? BACKEND_CONNECTED
		                                               : BACKEND_IN_PROGRESS;
	}
	close(s);
	/* A unix socket with a full accept queue says EAGAIN and cannot be
	 * waited for: the caller retries on a short timer. */
	if (family == AF_UNIX && *err == EAGAIN)
		return BACKEND_RETRY;
	return BACKEND_FAILED;
}

int backend_connect_result(int fd)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		return errno;
	return soerr;
}
