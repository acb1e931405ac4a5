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
	/* accept_proxy (proxy_accept.c): closed before becoming a session */
	SESSION_END_PROXY_UNTRUSTED,    /* source not in accept_proxy_from */
	SESSION_END_PROXY_BAD_HEADER,   /* missing, malformed or too long */
	SESSION_END_PROXY_TIMEOUT,      /* no whole header in time */
};

/* Where a connection came from and where it arrived, as the backend is
 * told: the socket's own endpoints, or the ones a PROXY header from a
 * trusted balancer gave (accept_proxy).  v4-mapped IPv6 addresses are
 * stored as IPv4. */
union session_sa {
	struct sockaddr sa;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
};

struct session_origin {
	union session_sa client, local;
	uint64_t accepted_ms;   /* server_now_ms() at accept; 0: now */
	/* A balancer's TLVs to pass on (proxy_protocol_tlvs = upstream), as
	 * on the wire; malloc'd, owned by whoever holds the origin: the
	 * session once session_start has it.  NULL: none. */
	uint8_t *fwd_tlvs;
	uint16_t fwd_len;
};

const char *session_end_name(enum session_end e);

/* Take ownership of an accepted client socket, and of the connection slot
 * reserved for it with server_reserve, and start connecting to the
 * listener's first backend (on a TLS listener: hand it to
 * session_tls_start).  `origin` says what to tell the backend; NULL: the
 * socket's own endpoints (peer as accept() gave it, the local address
 * from the listener or getsockname).  On failure both are released. */
struct lsock;
void session_start(struct listener *l, int cfd, const struct lsock *ls,
                   const struct sockaddr_storage *peer, socklen_t peerlen,
                   const struct session_origin *origin);

/* Store a socket address as the backend is told it (v4-mapped as IPv4). */
void session_sa_store(union session_sa *to,
                      const struct sockaddr_storage *from, socklen_t len);

/* Fill o with the socket's own endpoints (see session_start).  Returns 0,
 * or -1 after logging. */
int session_origin_of_socket(struct session_origin *o,
                             const struct listener *l, int cfd,
                             const struct lsock *ls,
                             const struct sockaddr_storage *peer,
                             socklen_t peerlen);

/* The access-log line of a closed connection, the same fields whatever
 * kind it was (plain, TLS, refused for its PROXY header): b is the
 * backend it was relayed to, or NULL ("-"); tail adds the fields of one
 * kind (" tls=... tls_resumed=...") or is "".  Callers check
 * log_access_enabled() first, before formatting anything of their own. */
struct addr;
struct listener_cfg;
void session_log_access(const struct listener_cfg *cfg,
                        const struct sockaddr *client, socklen_t clen,
                        const struct addr *b, int is_mptcp,
                        unsigned subflows, uint64_t bytes_in,
                        uint64_t bytes_out, uint64_t start_ms,
                        enum session_end why, const char *tail);

/* Close sessions of l (plain and TLS) idle for longer than their
 * idle_timeout. */
void session_sweep_idle(struct listener *l, uint64_t now_ms);

/* Close every session of l (plain and TLS), reporting `why`. */
void session_close_all(struct listener *l, enum session_end why);

#endif
