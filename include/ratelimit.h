/* "Log this at most once per interval, and say how many were held back":
 * for events that come in floods (a connection limit reached, clients
 * refused for want of a backend).  Shared by all threads through atomics;
 * no lock.  Zeroed means "nothing logged yet": the first event logs. */
#ifndef FRONTD_RATELIMIT_H
#define FRONTD_RATELIMIT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* How often a flood is logged (the limit and "no backend reachable"
 * lines). */
#define RATELIMIT_LOG_MS 10000

struct ratelimit {
	_Atomic uint64_t next_ms;       /* no line before this */
	_Atomic uint64_t held;          /* events since the last line */
};

/* One event at now_ms.  Returns 1 when it is to be logged, with *held set
 * to the events held back since the previous logged one (the next line
 * is interval_ms away); 0 when it is held back (and counted). */
int ratelimit_due(struct ratelimit *r, uint64_t now_ms, uint64_t interval_ms,
                  uint64_t *held);

/* The suffix a logged line carries: "" when nothing was held back, else
 * "; N more WHATs since the last line" (plural "s" added when N > 1),
 * in buf. */
const char *ratelimit_held_text(uint64_t held, const char *what, char *buf,
                                size_t len);

#endif
