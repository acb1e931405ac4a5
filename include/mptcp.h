/* What the kernel tells about one MPTCP connection. */
#ifndef FRONTD_MPTCP_H
#define FRONTD_MPTCP_H

/* For a socket accepted on an MPTCP listener: returns 1 and the number of
 * subflows when the client negotiated MPTCP, 0 when the connection fell
 * back to plain TCP (MPTCP_INFO then fails).  *subflows is 1 for TCP. */
int mptcp_conn_info(int fd, unsigned *subflows);

/* Whether an errno from socket(..., IPPROTO_MPTCP) means "this kernel (or
 * namespace) does not do MPTCP" rather than a resource problem. */
int mptcp_refused_errno(int err);

#endif
