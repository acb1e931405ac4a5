/* Listeners with accept_proxy = on: the PROXY header an upstream load
 * balancer sends ahead of the client's bytes.  A connection stays here
 * until its header is whole and trusted, then becomes a session (plain or
 * TLS) whose origin is the header's addresses; otherwise it is closed,
 * logged and counted, and never reaches a backend. */
#ifndef FRONTD_PROXY_ACCEPT_H
#define FRONTD_PROXY_ACCEPT_H

#include <sys/socket.h>

#include "session.h"

struct listener;
struct lsock;

/* Take ownership of an accepted socket and its reserved slot (as
 * session_start does) and wait for its header. */
void proxy_accept_start(struct listener *l, int cfd, const struct lsock *ls,
                        const struct sockaddr_storage *peer,
                        socklen_t peerlen);

/* Close every connection of l still waiting for its header. */
void proxy_accept_close_all(struct listener *l, enum session_end why);

#endif
