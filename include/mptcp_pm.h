/* Changing the in-kernel path manager of the current network namespace:
 * `signal` endpoints (the addresses the kernel announces to every MPTCP
 * client with ADD_ADDR) and the net.mptcp sysctls.  What the daemon does
 * with them behind a load balancer is src/daemon/fleet.c's business; this
 * module only performs one change at a time and says why one failed. */
#ifndef FRONTD_MPTCP_PM_H
#define FRONTD_MPTCP_PM_H

#include "cidr.h"
#include "mptcp_nl.h"

/* A net.mptcp integer sysctl, or -1 when missing or unreadable. */
int mptcp_pm_sysctl_get(const char *name);

/* Write one.  Returns 0 or -errno (EACCES/EPERM without CAP_NET_ADMIN,
 * ENOENT when this kernel has no such sysctl). */
int mptcp_pm_sysctl_set(const char *name, int value);

/* The endpoint of st with address a, or NULL. */
const struct mptcp_nl_endpoint *mptcp_pm_find(const struct mptcp_nl_state *st,
                                              const struct cidr *a);

/* Add a `signal` endpoint for a (no device, no port).  Returns 0 or
 * -errno (EPERM without CAP_NET_ADMIN, EEXIST when the address already
 * has an endpoint). */
int mptcp_pm_signal_add(struct mptcp_nl_sock *s, const struct cidr *a);

/* Delete endpoint `id`.  Returns 0 or -errno. */
int mptcp_pm_del(struct mptcp_nl_sock *s, uint8_t id);

#endif
