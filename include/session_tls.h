/* A connection on a listener that terminates TLS: the handshake (with its
 * own timeout), then, as for a plain session, the backend connect with
 * failover, the PROXY header (here with the TLS facts as v2 TLVs) and the
 * relay, decrypting client -> backend and encrypting backend -> client
 * through two bounded buffers.  Its own path, so that the plain one keeps
 * splicing untouched; session.c hands over at accept time and passes the
 * sweep and the shutdown on. */
#ifndef FRONTD_SESSION_TLS_H
#define FRONTD_SESSION_TLS_H

#include <stdint.h>
#include <sys/socket.h>

#include "session.h"

struct listener;
struct lsock;

/* Bytes of plaintext buffered per direction at most: the relay stops
 * reading a side while the other has not taken this much. */
#define TLS_BUF_SIZE (64 * 1024)

/* As session_start, for a listener with a TLS context. */
void session_tls_start(struct listener *l, int cfd, const struct lsock *ls,
                       const struct session_origin *origin);

/* Close TLS sessions of l idle (relaying, nothing moved) for longer than
 * their idle_timeout. */
void session_tls_sweep_idle(struct listener *l, uint64_t now_ms);

/* Close every TLS session of l, reporting `why` (a close_notify is sent
 * where the connection allows it). */
void session_tls_close_all(struct listener *l, enum session_end why);

#endif
