/* How a client connection ended: one reason per connection, reported
 * once, in the access log (end=NAME) and in /metrics
 * (connections_closed_total{reason="NAME"}). */
#ifndef FRONTD_END_REASON_H
#define FRONTD_END_REASON_H

enum end_reason {
	END_CLIENT_CLOSE,
	END_BACKEND_CLOSE,
	END_CLIENT_RESET,
	END_BACKEND_RESET,
	END_IDLE_TIMEOUT,
	END_CONNECT_FAILED,
	END_SHUTDOWN,
	END_ERROR,              /* the daemon's own failure (logged); never
	                           what a client did */
	END_TLS_HANDSHAKE,      /* the TLS handshake failed */
	END_TLS_TIMEOUT,        /* ... or took too long */
	END_TLS_PROTOCOL,       /* the client broke TLS after the handshake
	                           (a renegotiation attempt, a bad record) */
	/* accept_proxy: closed before its PROXY header was accepted */
	END_PROXY_UNTRUSTED,    /* source not in accept_proxy_from */
	END_PROXY_BAD_HEADER,   /* missing, malformed or too long */
	END_PROXY_TIMEOUT,      /* no whole header in time */
	END_SOURCE_LIMIT,       /* max_connections_per_source reached */
	END_REASON_COUNT
};

/* "client_close", ...; "?" for a value out of range. */
const char *end_reason_name(enum end_reason e);

#endif
