/* Starting detached from the terminal, as nginx does: the starting process
 * forks, waits until the daemon is ready and prints what the daemon said
 * on its way there (with log = FILE: its warnings and errors, see
 * log_set_echo), then exits 0 when it got ready, or non-zero when it did
 * not.  After readiness the daemon never writes to the terminal: standard
 * error is /dev/null and a "stderr" log target means syslog. */
#ifndef FRONTD_DETACH_H
#define FRONTD_DETACH_H

/* Fork.  In the starting process this does not return (it exits with the
 * outcome); the daemon returns 0 with a new session, standard input and
 * output on /dev/null and standard error on a pipe to the starting
 * process.  Returns -1 after logging when it cannot fork. */
int detach_start(void);

/* The process is a binary upgrade's new one, started by a detached old
 * one: it is detached already (and its standard error is /dev/null), but
 * "stderr" log targets must follow the rule above at readiness. */
void detach_inherited(void);

/* The daemon is ready: let the starting process exit 0, and leave the
 * terminal for good.  A no-op in a process detach_start() did not make. */
void detach_ready(void);

#endif
