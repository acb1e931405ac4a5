/* The PROXY header an upstream load balancer sends ahead of the client's
 * bytes (listeners with accept_proxy = on): who may send one, and reading
 * it off a socket.
 *
 * Nothing is buffered between calls.  The header is read with MSG_PEEK,
 * decoded from the start each time more arrives (headers are short, and
 * pp_decode decides a prefix the way it decides the whole), and consumed
 * -- exactly its length -- only once it is complete, so whatever the
 * client sent after it (a request, a TLS ClientHello) stays in the socket.
 * Because peeked bytes stay readable, the caller waits edge-triggered: for
 * more bytes, a FIN or its deadline, never for bytes already seen. */
#ifndef FRONTD_PROXY_ACCEPT_H
#define FRONTD_PROXY_ACCEPT_H

#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"
#include "config.h"
#include "end_reason.h"

enum pa_status {
	PA_DONE,        /* header consumed; see struct pa_header */
	PA_WAIT,        /* a prefix so far: wait for more */
	PA_REFUSED,     /* close: why and reason say why */
};

struct pa_header {
	/* PROXY command over TCP: the addresses to forward.  LOCAL (a
	 * balancer's health check) and UNKNOWN: the connection speaks for
	 * itself (own = 1). */
	int own;
	union addr_sa client, local;
	/* The balancer's TLVs to pass on (proxy_protocol_tlvs = upstream),
	 * as on the wire, malloc'd, the caller's; NULL when none. */
	uint8_t *fwd_tlvs;
	uint16_t fwd_len;
	/* PA_REFUSED: the end reason and a reason for the log. */
	enum end_reason why;
	const char *reason;
};

/* Whether peer may send a header to listener cfg (accept_proxy_from). */
int proxy_accept_trusted(const struct listener_cfg *cfg,
                         const struct sockaddr *peer);

/* Look at what socket fd holds.  `closed`: its event reported the peer's
 * FIN (a prefix then is a truncated header). */
enum pa_status proxy_accept_read(const struct listener_cfg *cfg, int fd,
                                 int closed, struct pa_header *h);

#endif
