/* Passive backend health (include/backend_health.h). */
#include "backend_health.h"

static const uint64_t bucket_le_us[HEALTH_BUCKETS - 1] = {
	HEALTH_BUCKET_LE_US
};

#define RELAXED memory_order_relaxed

enum health_change health_failed(struct backend_health *h, uint64_t now_ms,
                                 uint64_t retry_ms)
{
	uint64_t up = 0;
	/* Never 0, which means up (a fake clock may start at 0). */
	uint64_t until = now_ms + retry_ms ? now_ms + retry_ms : 1;

	atomic_fetch_add_explicit(&h->failures, 1, RELAXED);
	atomic_store_explicit(&h->failed_ms, now_ms, RELAXED);
	atomic_fetch_add_explicit(&h->down_failures, 1, RELAXED);
	/* Of several workers failing at once, one sees it go down. */
	if (atomic_compare_exchange_strong(&h->down_until_ms, &up, until)) {
		atomic_store_explicit(&h->down_since_ms, now_ms, RELAXED);
		atomic_store_explicit(&h->down_failures, 1, RELAXED);
		return HEALTH_WENT_DOWN;
	}
	atomic_store_explicit(&h->down_until_ms, until, RELAXED);
	return HEALTH_SAME;
}

enum health_change health_ok(struct backend_health *h, uint64_t took_us)
{
	unsigned b = 0;

	while (b < HEALTH_BUCKETS - 1 && took_us > bucket_le_us[b])
		b++;
	atomic_fetch_add_explicit(&h->hist[b], 1, RELAXED);
	atomic_fetch_add_explicit(&h->sum_us, took_us, RELAXED);
	if (health_is_up(h))
		return HEALTH_SAME;     /* the common case: one load */
	return atomic_exchange(&h->down_until_ms, 0) != 0 ? HEALTH_CAME_UP
	                                                  : HEALTH_SAME;
}

/* Whether this client may try h now (claiming the probe when due). */
static int usable(struct backend_health *h, uint64_t now_ms,
                  uint64_t retry_ms)
{
	uint64_t until = atomic_load_explicit(&h->down_until_ms, RELAXED);

	if (until == 0)
		return 1;
	if (now_ms < until)
		return 0;
	return atomic_compare_exchange_strong(&h->down_until_ms, &until,
	                                      now_ms + retry_ms);
}

int health_pick(struct backend_health *const *hs, size_t n, uint32_t tried,
                uint64_t now_ms, uint64_t retry_ms)
{
	int best = -1;
	uint64_t best_ms = UINT64_MAX;

	for (size_t i = 0; i < n && i < 32; i++) {
		if (tried & (UINT32_C(1) << i))
			continue;
		if (retry_ms == 0 || usable(hs[i], now_ms, retry_ms))
			return (int)i;
	}
	if (tried != 0)
		return -1;
	for (size_t i = 0; i < n && i < 32; i++) {
		uint64_t f = atomic_load_explicit(&hs[i]->failed_ms, RELAXED);
		if (f < best_ms) {
			best = (int)i;
			best_ms = f;
		}
	}
	return best;
}
