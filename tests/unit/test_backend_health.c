/* Passive backend health (backend_health.h) against a fake clock, and
 * the once-per-interval log gate (ratelimit.h). */
#include <stdlib.h>
#include <string.h>

#include "backend_health.h"
#include "ratelimit.h"
#include "unit.h"

#define RETRY 10000

static struct backend_health h[3];
static struct backend_health *hs[3] = { &h[0], &h[1], &h[2] };

static void reset(void)
{
	memset(h, 0, sizeof(h));
}

START_TEST(up_backends_in_order)
{
	reset();
	ck_assert_int_eq(health_pick(hs, 3, 0, 1000, RETRY), 0);
	ck_assert_int_eq(health_pick(hs, 3, 1u << 0, 1000, RETRY), 1);
	ck_assert_int_eq(health_pick(hs, 3, 3u, 1000, RETRY), 2);
	ck_assert_int_eq(health_pick(hs, 3, 7u, 1000, RETRY), -1);
}
END_TEST

START_TEST(down_once_then_skipped_until_retry)
{
	reset();
	ck_assert_int_eq(health_failed(&h[0], 1000, RETRY), HEALTH_WENT_DOWN);
	ck_assert(!health_is_up(&h[0]));
	/* Another worker's client failing on it meanwhile: no new change. */
	ck_assert_int_eq(health_failed(&h[0], 1001, RETRY), HEALTH_SAME);
	ck_assert_uint_eq(h[0].failures, 2);
	ck_assert_uint_eq(h[0].down_failures, 2);
	/* Skipped: clients start at the second. */
	ck_assert_int_eq(health_pick(hs, 3, 0, 2000, RETRY), 1);
	ck_assert_int_eq(health_pick(hs, 3, 0, 1001 + RETRY - 1, RETRY), 1);
	/* Retry time over: exactly one client gets the probe. */
	ck_assert_int_eq(health_pick(hs, 3, 0, 1001 + RETRY, RETRY), 0);
	ck_assert_int_eq(health_pick(hs, 3, 0, 1001 + RETRY, RETRY), 1);
	ck_assert_int_eq(health_pick(hs, 3, 0, 1001 + 2 * RETRY - 1, RETRY), 1);
	/* The probe succeeds: up, with the count of the down period. */
	ck_assert_int_eq(health_ok(&h[0], 300), HEALTH_CAME_UP);
	ck_assert(health_is_up(&h[0]));
	ck_assert_uint_eq(h[0].down_since_ms, 1000);
	ck_assert_uint_eq(h[0].down_failures, 2);
	ck_assert_int_eq(health_ok(&h[0], 300), HEALTH_SAME);
	ck_assert_int_eq(health_pick(hs, 3, 0, 1001 + RETRY, RETRY), 0);
}
END_TEST

START_TEST(failed_probe_stays_down)
{
	reset();
	health_failed(&h[0], 0, RETRY);         /* a fake clock at 0 */
	ck_assert(!health_is_up(&h[0]));
	ck_assert_int_eq(health_pick(hs, 3, 0, RETRY, RETRY), 0);     /* probe */
	ck_assert_int_eq(health_failed(&h[0], RETRY + 700, RETRY), HEALTH_SAME);
	/* Down for another full retry time from the failed probe. */
	ck_assert_int_eq(health_pick(hs, 3, 0, 2 * RETRY + 699, RETRY), 1);
	ck_assert_int_eq(health_pick(hs, 3, 0, 2 * RETRY + 700, RETRY), 0);
}
END_TEST

START_TEST(all_down_tries_least_recently_failed)
{
	reset();
	health_failed(&h[0], 3000, RETRY);
	health_failed(&h[1], 1000, RETRY);
	health_failed(&h[2], 2000, RETRY);
	/* Nothing due: a client that tried nothing still gets one, the
	 * one that failed longest ago. */
	ck_assert_int_eq(health_pick(hs, 3, 0, 4000, RETRY), 1);
	/* That one failing again moves the turn on. */
	health_failed(&h[1], 4100, RETRY);
	ck_assert_int_eq(health_pick(hs, 3, 0, 4200, RETRY), 2);
	/* A client that already tried one is not sent to another dead one. */
	ck_assert_int_eq(health_pick(hs, 3, 1u << 2, 4200, RETRY), -1);
	/* Its first success marks it up, and it is first in line again. */
	ck_assert_int_eq(health_ok(&h[2], 100), HEALTH_CAME_UP);
	ck_assert_int_eq(health_pick(hs, 3, 0, 4300, RETRY), 2);
}
END_TEST

START_TEST(retry_zero_never_skips)
{
	reset();
	ck_assert_int_eq(health_failed(&h[0], 0, 0), HEALTH_WENT_DOWN);
	ck_assert(!health_is_up(&h[0]));        /* still reported down */
	ck_assert_int_eq(health_pick(hs, 3, 0, 0, 0), 0);
	ck_assert_int_eq(health_pick(hs, 3, 1u, 0, 0), 1);
	ck_assert_int_eq(health_ok(&h[0], 5), HEALTH_CAME_UP);
}
END_TEST

START_TEST(connect_time_histogram)
{
	reset();
	health_ok(&h[0], 100);          /* le 100 us: bucket 0 */
	health_ok(&h[0], 101);          /* bucket 1 (250 us) */
	health_ok(&h[0], 1000000);      /* le 1 s: the last bound */
	health_ok(&h[0], 1000001);      /* +Inf */
	ck_assert_uint_eq(h[0].hist[0], 1);
	ck_assert_uint_eq(h[0].hist[1], 1);
	ck_assert_uint_eq(h[0].hist[HEALTH_BUCKETS - 2], 1);
	ck_assert_uint_eq(h[0].hist[HEALTH_BUCKETS - 1], 1);
	ck_assert_uint_eq(h[0].sum_us, 2000202);
}
END_TEST

START_TEST(ratelimit_once_per_interval)
{
	struct ratelimit r = { 0 };
	uint64_t held = 99;
	char buf[80];

	ck_assert_int_eq(ratelimit_due(&r, 0, 10000, &held), 1);
	ck_assert_uint_eq(held, 0);
	for (int i = 0; i < 199; i++)
		ck_assert_int_eq(ratelimit_due(&r, 5 + i, 10000, &held), 0);
	ck_assert_int_eq(ratelimit_due(&r, 9999, 10000, &held), 0);
	ck_assert_int_eq(ratelimit_due(&r, 10000, 10000, &held), 1);
	ck_assert_uint_eq(held, 200);
	ck_assert_str_eq(ratelimit_held_text(held, "pause", buf, sizeof(buf)),
	                 "; 200 more pauses since the last line");
	ck_assert_str_eq(ratelimit_held_text(1, "client", buf, sizeof(buf)),
	                 "; 1 more client since the last line");
	ck_assert_str_eq(ratelimit_held_text(0, "client", buf, sizeof(buf)),
	                 "");
	/* Quiet for long: the next one logs at once, nothing held. */
	ck_assert_int_eq(ratelimit_due(&r, 60000, 10000, &held), 1);
	ck_assert_uint_eq(held, 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("backend_health");

	UNIT_ADD(s, up_backends_in_order);
	UNIT_ADD(s, down_once_then_skipped_until_retry);
	UNIT_ADD(s, failed_probe_stays_down);
	UNIT_ADD(s, all_down_tries_least_recently_failed);
	UNIT_ADD(s, retry_zero_never_skips);
	UNIT_ADD(s, connect_time_histogram);
	UNIT_ADD(s, ratelimit_once_per_interval);
	return s;
}

UNIT_MAIN(suite)
