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
 * any other listening socket (same address and mptcp mode).
 *
 * Binary upgrade (SIGUSR2, server_upgrade.c): the old process starts the new
 * binary as its child with SOCKACT_INHERIT_ENV set to space-separated
 *   pid=OLD_PID ready=FD stats=FD sock=FD:LISTENER:BIND_INDEX ...
 * one sock= per listening socket of every worker (each worker has its own
 * SO_REUSEPORT copy), worker 0's first.  Only a process whose parent is
 * OLD_PID takes them.  A socket matches the bind of its listener name and
 * index when the address is the same (or the bind asks for port 0 and the
 * IP is the same), otherwise any bind with its exact address; several
 * copies match one bind, and worker i takes the i-th (sockact_take).  A
 * socket matching nothing is closed: the new configuration dropped it.
 * When the new process is ready it writes one byte to `ready`. */
#ifndef FRONTD_SOCKACT_H
#define FRONTD_SOCKACT_H

#include <stddef.h>
#include <sys/types.h>
#include "addr.h"
#include "config.h"

#define SOCKACT_FD_START 3
#define SOCKACT_MAX_FDS 256
#define SOCKACT_INHERIT_ENV "MPTCP_FRONTD_INHERIT"

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
	int from_upgrade;       /* from the old binary, not a service manager */
	size_t bind_index;      /* upgrade: the bind's index in the old config */
};

/* SOCKACT_INHERIT_ENV, parsed. */
struct sockact_inherit {
	pid_t pid;
	int ready_fd, stats_fd;         /* -1 when absent */
	size_t n;
	struct sockact_fd socks[SOCKACT_MAX_FDS];       /* fd, name, index */
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

/* Close what nobody took and forget the rest (again: a no-op).  The
 * inherited /metrics socket is sockact_stats_done()'s. */
void sockact_done(void);

/* Started by an old process's SIGUSR2 (and not told we are ready yet)? */
int sockact_upgrading(void);

/* Tell the old process we are ready (once; no-op unless upgrading). */
void sockact_upgrade_ready(void);

/* The old process's /metrics socket when it is bound as `a` asks (port 0:
 * same IP), now the caller's; -1 when there is none. */
int sockact_take_stats(const struct addr *a);

/* Close the inherited /metrics socket if nobody took it. */
void sockact_stats_done(void);

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

/* Parse SOCKACT_INHERIT_ENV's value.  Returns 0 (free with
 * sockact_inherit_free), or -1 with a reason in err. */
int sockact_parse_inherit(const char *s, struct sockact_inherit *out,
                          char *err, size_t errlen);
void sockact_inherit_free(struct sockact_inherit *in);

/* Assign upgrade sockets to cfg's binds by the rules above (several may
 * take one bind).  Returns the number left unassigned. */
size_t sockact_assign_upgrade(struct sockact_fd *fds, size_t n,
                              const struct config *cfg);

#endif
