/* One client <-> backend connection: backend connect and failover, the
 * PROXY header, the relay in both directions, and how it ended. */
#ifndef FRONTD_SESSION_H
#define FRONTD_SESSION_H

#include <stdint.h>
#include <sys/socket.h>

struct listener;
struct server;

enum session_end {
	SESSION_END_CLIENT_CLOSE,
	SESSION_END_BACKEND_CLOSE,
	SESSION_END_CLIENT_RESET,
	SESSION_END_BACKEND_RESET,
	SESSION_END_IDLE_TIMEOUT,
	SESSION_END_CONNECT_FAILED,
	SESSION_END_SHUTDOWN,
	SESSION_END_ERROR,
	SESSION_END_TLS_HANDSHAKE,      /* the TLS handshake failed */
	SESSION_END_TLS_TIMEOUT,        /* ... or took too long */
};

const char *session_end_name(enum session_end e);

/* Take ownership of an accepted client socket, and of the connection slot
 * reserved for it with server_reserve, and start connecting to the
 * listener's first backend (on a TLS listener: hand it to
 * session_tls_start).  On failure both are released. */
struct lsock;
void session_start(struct listener *l, int cfd, const struct lsock *ls,
                   const struct sockaddr_storage *peer, socklen_t peerlen);

/* Close sessions of l (plain and TLS) idle for longer than their
 * idle_timeout. */
void session_sweep_idle(struct listener *l, uint64_t now_ms);

/* Close every session of l (plain and TLS), reporting `why`. */
void session_close_all(struct listener *l, enum session_end why);

#endif
