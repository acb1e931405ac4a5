/* TLS as a connection's transport (include/xport.h): after
 * tls_xport_start, xport_recv / xport_send / xport_shutdown on the
 * client's end read and write plaintext through OpenSSL, so the relay
 * never knows it is there.  The handshake and what it settled are the
 * only TLS facts the connection code asks for. */
#ifndef FRONTD_TLS_XPORT_H
#define FRONTD_TLS_XPORT_H

#include "pp_build.h"
#include "tls.h"
#include "xport.h"

/* Turn x (a raw socket) into a TLS server end of context t.  Returns 0, or
 * -1 after logging (x stays raw). */
int tls_xport_start(struct xport *x, const struct tls_ctx *t);

enum tls_hs {
	TLS_HS_DONE,            /* handshake finished */
	TLS_HS_AGAIN,           /* wait for x->want_recv, then call again */
	TLS_HS_FAILED,          /* a protocol failure */
	TLS_HS_RESET,           /* the client reset the connection */
	TLS_HS_CLOSED,          /* the client left before saying a word */
};

/* One step of the handshake.  On a failure errno is left as the socket
 * call set it, for xport_error. */
enum tls_hs tls_xport_handshake(struct xport *x);

/* After the handshake (x must be a TLS end). */
int tls_xport_resumed(const struct xport *x);
const char *tls_xport_version(const struct xport *x);   /* "TLSv1.3" */
void tls_xport_facts(const struct xport *x, const struct tls_ctx *t,
                     struct pp_tls_facts *f);

#endif
