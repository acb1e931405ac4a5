/* The pidfile, locked (flock) for the daemon's whole life: a second
 * instance started with the same file sees the lock and refuses to start,
 * and only the process holding the lock ever removes the file.  The lock
 * belongs to the open file, not to its name, so a binary upgrade can
 * rename the old process's file to FILE.oldbin while the new process
 * creates and locks a fresh FILE. */
#ifndef FRONTD_PIDFILE_H
#define FRONTD_PIDFILE_H

struct pidfile;

/* Open (creating it) and lock `path`, then write our PID into it.  Returns
 * the handle; NULL after logging, in particular
 * "already running (pid N, PATH)" when another process holds the lock
 * (the file is left untouched then). */
struct pidfile *pidfile_take(const char *path);

/* Write our PID again (after a fork).  Returns 0, or -1 after logging. */
int pidfile_write(struct pidfile *pf);

/* The path the file has now. */
const char *pidfile_path(const struct pidfile *pf);

/* Rename the file (binary upgrade: to and from PATH.oldbin) keeping the
 * lock.  Returns 0, or -1 after logging (nothing changed). */
int pidfile_rename(struct pidfile *pf, const char *to);

/* Remove the file if its path still names the file we locked (another
 * process may have replaced it), unlock, free.  NULL is a no-op. */
void pidfile_release(struct pidfile *pf);

#endif
