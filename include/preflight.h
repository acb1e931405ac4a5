/* What the daemon needs beyond a valid file, checked alike by -t and by
 * start, so that a file -t accepts starts and reloads: the directories of
 * log, access_log and pidfile exist and `user` may write them (the files
 * are opened as root at start, but created as `user` when logrotate's
 * SIGUSR1 or a reload opens them again, and the pidfile is removed as
 * `user` at exit); `user` may read every configuration file and TLS file
 * (a reload reads them all again as `user`).  Warnings: a log file that
 * exists but `user` cannot write, running as root with no `user`, a
 * descriptor limit below what max_connections needs, a unix: backend
 * that is not there (yet). */
#ifndef FRONTD_PREFLIGHT_H
#define FRONTD_PREFLIGHT_H

#include "config.h"

struct preflight {
	struct config_errors errors;    /* "FILE: [global] key: reason" */
	struct config_errors warnings;  /* logged by preflight_warn */
};

/* Run the checks (as `user`: see privdrop_as_user).  Returns 0, or -1
 * with at least one message in pf->errors.  pf must be zeroed. */
int preflight_check(const struct config *cfg, struct preflight *pf);

/* Log the warnings found and those about the running process.  With
 * `raise`, first raise the soft descriptor limit to the hard one (start);
 * without, judge by the hard limit (-t). */
void preflight_warn(struct preflight *pf, const struct config *cfg,
                    int raise);

void preflight_free(struct preflight *pf);

#endif
