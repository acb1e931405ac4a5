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

/* Run fn(arg) with the effective user, group and supplementary groups
 * privdrop_apply(user, group) would give, then switch back: the saved
 * set-user-ID stays 0, so this is only for a root process with no other
 * thread yet (the -t and start-up checks).  Returns fn's result, or -1
 * after logging when the user cannot be resolved or switched to. */
int privdrop_as_user(const char *user, const char *group,
                     int (*fn)(void *), void *arg);

#endif
