/* The service manager's readiness protocol (systemd Type=notify): one
 * datagram of "KEY=VALUE" lines to the AF_UNIX socket named by
 * $NOTIFY_SOCKET ('@' first: abstract namespace).  Without the variable
 * every call does nothing.  Never fatal: a failure is logged once. */
#ifndef FRONTD_NOTIFY_H
#define FRONTD_NOTIFY_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

/* Connect to $NOTIFY_SOCKET, if set.  Call before dropping privileges:
 * the connected socket keeps working when the path no longer would. */
void notify_init(void);

/* Send `state` ("READY=1", "STOPPING=1", ...; lines joined by '\n').
 * Returns 1 when sent, 0 when there is no notify socket, -1 on error. */
int notify_send(const char *state);

void notify_ready(void);        /* READY=1 (start-up or a reload done) */
void notify_reloading(void);    /* RELOADING=1 with MONOTONIC_USEC */
void notify_stopping(void);     /* STOPPING=1 */

void notify_close(void);

/* The address $NOTIFY_SOCKET names: a path, or "@name" for the abstract
 * namespace.  Returns 0 with *len set, or -1 when empty or too long.
 * Pure: for the tests. */
int notify_parse_addr(const char *s, struct sockaddr_un *sun, socklen_t *len);

#endif
