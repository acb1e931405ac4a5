/* Socket activation: listening sockets handed over by a service manager
 * (systemd's LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES; descriptors 3, 4, ...)
 * are used instead of binding.  Each inherited socket is matched to one
 * configured bind:
 *   1. its address (getsockname) equals a bind's address, within the
 *      listener its LISTEN_FDNAMES name names, if it names one;
 *   2. otherwise, when its name names a listener, that listener's first
 *      bind without a socket yet;
 *   3. otherwise it matches nothing, which is an error at start-up.
 * Only start-up takes inherited sockets; a reload keeps them as it keeps
 * any other listening socket (same address and mptcp mode). */
#ifndef FRONTD_SOCKACT_H
#define FRONTD_SOCKACT_H

#include <stddef.h>
#include <sys/types.h>
#include "addr.h"
#include "config.h"

#define SOCKACT_FD_START 3
#define SOCKACT_MAX_FDS 256

enum sockact_match { SOCKACT_NONE, SOCKACT_BY_ADDR, SOCKACT_BY_NAME };

struct sockact_fd {
	int fd;
	char *name;             /* from LISTEN_FDNAMES; NULL when none */
	struct addr bound;      /* getsockname() */
	int is_mptcp;           /* SO_PROTOCOL == IPPROTO_MPTCP */
	/* Filled by sockact_assign(): */
	enum sockact_match match;
	const struct listener_cfg *listener;
	const struct bind_cfg *bind;    /* points into the config */
	int taken;              /* handed to a listener by sockact_take() */
};

/* Read and unset the environment, check every descriptor (a listening
 * SOCK_STREAM IPv4 or IPv6 socket; made non-blocking and close-on-exec)
 * and assign each to a bind of cfg.  Returns the number of inherited
 * sockets (0 when none are meant for this process), or -1 after logging
 * every problem (a socket matching no listener names its descriptor, name
 * and address). */
int sockact_init(const struct config *cfg);

/* The inherited socket assigned to bind b (a pointer into the config given
 * to sockact_init): 1 with *out filled (out->name lives until
 * sockact_done()), the descriptor now the caller's; 0 when there is none. */
int sockact_take(const struct bind_cfg *b, struct sockact_fd *out);

/* Close what nobody took and forget the rest (again: a no-op). */
void sockact_done(void);

/* Pure parts, for the tests. */

/* LISTEN_PID and LISTEN_FDS (either may be NULL) for process `pid`.
 * Returns the count, 0 when the sockets are not ours (no LISTEN_PID, or
 * another process's), or -1 with a reason in err when malformed. */
int sockact_parse_count(const char *listen_pid, const char *listen_fds,
                        pid_t pid, char *err, size_t errlen);

/* Split LISTEN_FDNAMES (may be NULL: no names) into n names, stored in
 * fds[i].name (NULL for an empty entry).  Returns 0, or -1 with a reason
 * in err when the count differs from n or memory runs out. */
int sockact_parse_names(const char *s, struct sockact_fd *fds, size_t n,
                        char *err, size_t errlen);

/* Assign fds to cfg's binds by the rules above.  Returns the number of
 * sockets left unassigned (match == SOCKACT_NONE). */
size_t sockact_assign(struct sockact_fd *fds, size_t n,
                      const struct config *cfg);

#endif
