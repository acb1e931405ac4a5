/* Passive backend health: what the connects of every worker learned about
 * one backend of one listener.  A backend whose connect fails (refused,
 * timed out, unreachable...) is down for backend_retry: clients skip it in
 * the failover order; once that time has passed, the next client to come
 * along tries it (one client, the "probe"; the others keep skipping it for
 * another backend_retry); the first connect that succeeds marks it up.
 * When every backend a client could try is down, it still tries one: the
 * one that failed least recently, which has had the longest time to come
 * back (and trying them in turn spreads the attempts over all of them).
 *
 * Pure and lock-free: the clock is passed in (tests use a fake one) and
 * every field is an atomic, so all workers share one state per backend
 * without a lock.  The entries live in the listener's stats
 * (include/stats.h), keyed by the backend's address text, so they survive
 * reloads as counters do. */
#ifndef FRONTD_BACKEND_HEALTH_H
#define FRONTD_BACKEND_HEALTH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* Successful connects by how long they took (microseconds): upper bounds
 * of all buckets but the last (+Inf). */
#define HEALTH_BUCKETS 13
#define HEALTH_BUCKET_LE_US 100, 250, 500, 1000, 2500, 5000, 10000, 25000, \
	50000, 100000, 250000, 1000000

struct backend_health {
	struct backend_health *next;    /* the listener's list */
	char addr[ADDR_STRLEN];         /* the key: the address as logged */
	/* 0 while up; while down, when the next probe may go (>= 1). */
	_Atomic uint64_t down_until_ms;
	_Atomic uint64_t down_since_ms; /* when it went down */
	_Atomic uint64_t failed_ms;     /* its last failure */
	_Atomic uint64_t down_failures; /* failed connects since it went down */
	_Atomic uint64_t failures;      /* failed connects, ever */
	_Atomic uint64_t hist[HEALTH_BUCKETS];  /* successful connects */
	_Atomic uint64_t sum_us;        /* their total time */
};

/* What a reported outcome changed. */
enum health_change {
	HEALTH_SAME,
	HEALTH_WENT_DOWN,       /* log it, with the error */
	HEALTH_CAME_UP,         /* log it, with how long and how many failed */
};

static inline int health_is_up(const struct backend_health *h)
{
	return atomic_load_explicit(&h->down_until_ms,
	                            memory_order_relaxed) == 0;
}

/* A connect to h failed at now_ms: counted; down (again) until now_ms +
 * retry_ms. */
enum health_change health_failed(struct backend_health *h, uint64_t now_ms,
                                 uint64_t retry_ms);

/* A connect to h succeeded after took_us: into the histogram; up. */
enum health_change health_ok(struct backend_health *h, uint64_t took_us);

/* The backend a client tries next, among hs[0..n) in failover order:
 * the first one not in `tried` (a bit per index) that is up, or down with
 * its retry time passed and this client winning the probe (which pushes
 * the next probe retry_ms away).  When none and the client has tried
 * nothing yet, the one that failed least recently.  With retry_ms 0
 * (health off), simply the next untried one in order.  -1 when nothing is
 * left to try. */
int health_pick(struct backend_health *const *hs, size_t n, uint32_t tried,
                uint64_t now_ms, uint64_t retry_ms);

#endif
