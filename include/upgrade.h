/* Binary upgrade, nginx style, on the old process's side.  SIGUSR2 renames
 * the pidfile to FILE.oldbin and starts the executable this process was
 * started from (its path as /proc/self/exe named it at start; the file
 * there may have been replaced since), with the same arguments, as a
 * child that inherits every listening socket (see sockact.h for the
 * variable).  Both serve until the operator sends SIGQUIT to the old one,
 * which drains and exits.  When the new process reports ready, the old one
 * logs it; when it exits (ready or not) while the old one runs, the old
 * one logs why and renames FILE.oldbin back to FILE. */
#ifndef FRONTD_UPGRADE_H
#define FRONTD_UPGRADE_H

struct server;

/* Remember the executable and arm SIGUSR2 and SIGCHLD on worker 0's loop
 * (main thread).  Returns 0, or -1 after logging. */
int upgrade_init(struct server *srv);

void upgrade_free(struct server *srv);  /* no upgrade state: a no-op */

#endif
