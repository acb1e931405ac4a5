/* Serving behind an L4 load balancer: `announce` in [global].
 *
 * A balancer hashes each subflow on its own, so a client's MP_JOIN may
 * reach a node that does not hold the connection.  The remedy (RFC 8684's
 * C flag): every node has the kernel announce its own unicast address (a
 * `signal` endpoint) and tells clients not to join the balanced address
 * (net.mptcp.allow_join_initial_addr_port = 0).  This module makes those
 * changes in the daemon's network namespace, remembers exactly what it
 * changed, and puts that back at exit.  Main thread only, except
 * fleet_local_is_announced() and fleet_check_accept(), which any worker
 * may call. */
#ifndef FRONTD_FLEET_H
#define FRONTD_FLEET_H

#include <stdbool.h>
#include <sys/socket.h>

#include "config.h"

#define FLEET_SYSCTL "allow_join_initial_addr_port"

/* Make the path manager announce cfg->announce: add the missing `signal`
 * endpoints, delete the ones this daemon added that are no longer listed,
 * set (or, with no address left, put back) the sysctl.  Nothing to do is
 * not an error and touches nothing.  At start, before privileges are
 * dropped; on reload with the new configuration.  Returns 0, or -1 after
 * logging why (without CAP_NET_ADMIN: EPERM with the fix); what this call
 * changed before failing is undone. */
int fleet_apply(const struct config *cfg);

/* Whether privileges must keep CAP_NET_ADMIN: this daemon changed the
 * path manager and must put it back at exit. */
bool fleet_needs_net_admin(const struct config *cfg);

/* Put back what fleet_apply() changed: delete the endpoints it added
 * (still present with the same address) and restore the sysctl (when it
 * still has the value we set).  At exit. */
void fleet_restore(void);

/* Whether local (AF_INET, or AF_INET6 where v4-mapped counts as IPv4) is
 * one of the announced addresses. */
bool fleet_local_is_announced(const struct sockaddr *local);

/* For the accept path: when connection fd is addressed to an announced
 * address (a NAT balancer sending to the address it announces: the kernel
 * does not announce the address a connection already uses, so the client
 * gets no second path), log one warning with the fix, once per process.
 * Costs nothing without `announce` or once warned; else one getsockname. */
void fleet_check_accept(int fd);

#endif
