/* Once-per-interval logging (include/ratelimit.h). */
#include <stdio.h>

#include "ratelimit.h"

int ratelimit_due(struct ratelimit *r, uint64_t now_ms, uint64_t interval_ms,
                  uint64_t *held)
{
	uint64_t next = atomic_load_explicit(&r->next_ms, memory_order_relaxed);

	/* Of several threads past next_ms at once, the one whose exchange
	 * succeeds logs; the others count as held back. */
	if (now_ms < next ||
	    !atomic_compare_exchange_strong(&r->next_ms, &next,
	                                    now_ms + interval_ms)) {
		atomic_fetch_add_explicit(&r->held, 1, memory_order_relaxed);
		return 0;
	}
	*held = atomic_exchange(&r->held, 0);
	return 1;
}

const char *ratelimit_held_text(uint64_t held, const char *what, char *buf,
                                size_t len)
{
	if (held == 0)
		snprintf(buf, len, "%s", "");
	else
		snprintf(buf, len, "; %llu more %s%s since the last line",
		         (unsigned long long)held, what, held == 1 ? "" : "s");
	return buf;
}
