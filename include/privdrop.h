/* Dropping root after the listening sockets are bound: `user` and `group`
 * in [global].  CAP_NET_BIND_SERVICE is kept (when the process has it) so
 * that a reload can still bind ports below 1024, and CAP_NET_ADMIN when
 * asked (`announce`: fleet.c changes the path manager on reload and puts
 * it back at exit); nothing else is. */
#ifndef FRONTD_PRIVDROP_H
#define FRONTD_PRIVDROP_H

/* Switch the process to `user` (NULL: do nothing) and `group` (NULL: the
 * user's primary group, with the user's supplementary groups; else that
 * group alone), then verify that the switch holds (real, effective and
 * saved IDs; supplementary groups; setuid(0) now fails).  Call before any
 * thread starts.  Running as someone else than root, only "switching" to
 * oneself succeeds.  keep_net_admin: keep CAP_NET_ADMIN (refuse to start
 * when the process does not have it).  Returns 0, or -1 after logging
 * (refuse to start). */
int privdrop_apply(const char *user, const char *group, int keep_net_admin);

#endif
