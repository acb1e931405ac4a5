/* Non-blocking connects to backends (TCP or unix socket). */
#ifndef FRONTD_BACKEND_H
#define FRONTD_BACKEND_H

#include "addr.h"

enum backend_connect_status {
	BACKEND_CONNECTED,      /* done at once (unix sockets, loopback TCP) */
	BACKEND_IN_PROGRESS,    /* wait for writability, then backend_connect_result */
	BACKEND_RETRY,          /* unix socket backlog full: try again shortly */
	BACKEND_FAILED,         /* *err holds the errno */
};

/* Start connecting to a; on anything but BACKEND_FAILED and BACKEND_RETRY
 * *fd is the new socket, otherwise no descriptor is left open. */
enum backend_connect_status backend_connect(const struct addr *a, int *fd,
                                            int *err);

/* After writability: 0 when connected, else the errno of the failure. */
int backend_connect_result(int fd);

#endif
