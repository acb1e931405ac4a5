/* What the kernel tells about one MPTCP connection. */
#ifndef FRONTD_MPTCP_H
#define FRONTD_MPTCP_H

/* A connection's MPTCP facts: mptcp_paths.h (mptcp_paths_accept). */

/* Whether an errno from socket(..., IPPROTO_MPTCP) means "this kernel (or
 * namespace) does not do MPTCP" rather than a resource problem. */
int mptcp_refused_errno(int err);

#endif
