/* The /connections snapshot protocol over two real workers (event bases,
 * control pipes, worker_call) whose loops the test turns by hand, so it
 * decides who answers and when: everyone in time, a worker past the
 * deadline, a worker whose loop ended, a requester that gives up, workers
 * freed with calls queued.
 * The workers have no listener: which connections are chosen and how they
 * are merged is live_view.sh's part. */
#include <event2/buffer.h>
#include <event2/event.h>
#include <pthread.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "gen.h"
#include "snapshot.h"
#include "worker.h"
#include "unit.h"

static struct config cfg;               /* no listener */
static struct gen gen = { .cfg = &cfg };
static struct listener_set set = { .gen = &gen };
static struct pool pool;
static struct worker workers[2];

static int done_calls;
static char doc[1024];

static void setup_pool(void)
{
	memset(workers, 0, sizeof(workers));
	pool.workers = workers;
	pool.nworkers = 2;
	pool.main_thread = pthread_self();
	for (unsigned i = 0; i < 2; i++) {
		workers[i].pool = &pool;
		workers[i].id = i;
		workers[i].cur = &set;
		ck_assert_int_eq(worker_init(&workers[i]), 0);
	}
	done_calls = 0;
	doc[0] = '\0';
}

static void free_pool(void)
{
	for (unsigned i = 0; i < 2; i++) {
		workers[i].cur = NULL;          /* static: not the worker's */
		worker_free(&workers[i]);
	}
}

/* Let worker i handle what is ready, without waiting. */
static void turn(unsigned i)
{
	event_base_loop(workers[i].base, EVLOOP_NONBLOCK);
}

static void on_done(struct snapshot *s, void *arg)
{
	struct evbuffer *b = evbuffer_new();
	size_t n;

	done_calls++;
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(snapshot_render(s, b), 0);
	n = evbuffer_get_length(b);
	ck_assert_uint_lt(n, sizeof(doc));
	evbuffer_remove(b, doc, n);
	doc[n] = '\0';
	evbuffer_free(b);
}

START_TEST(test_every_worker_answers)
{
	struct snapshot *s;

	setup_pool();
	s = snapshot_start(&pool, 5, on_done, NULL);
	ck_assert_ptr_nonnull(s);
	turn(0);
	ck_assert_int_eq(done_calls, 0);        /* worker 1 has not answered */
	turn(1);                                /* the last: tells worker 0 */
	ck_assert_int_eq(done_calls, 0);
	turn(0);
	ck_assert_int_eq(done_calls, 1);
	ck_assert_ptr_nonnull(strstr(doc, "\"limit\":5,\"total\":0,"
	                             "\"truncated\":false,\"omitted\":0,"
	                             "\"workers\":2,\"workers_answered\":2,"
	                             "\"connections\":[]}\n"));
	snapshot_release(s);
	free_pool();
}
END_TEST

START_TEST(test_deadline_answers_without_a_late_worker)
{
	struct snapshot *s;
	uint64_t t0 = clock_now_ms();

	setup_pool();
	s = snapshot_start(&pool, 5, on_done, NULL);
	ck_assert_ptr_nonnull(s);
	while (done_calls == 0 && clock_now_ms() - t0 < 3 * SNAPSHOT_DEADLINE_MS)
		event_base_loop(workers[0].base, EVLOOP_ONCE);
	ck_assert_int_eq(done_calls, 1);
	/* The clock is coarse (a few ms). */
	ck_assert_uint_ge(clock_now_ms() - t0, SNAPSHOT_DEADLINE_MS - 20);
	ck_assert_ptr_nonnull(strstr(doc, "\"workers\":2,\"workers_answered\":1,"));
	snapshot_release(s);
	/* Worker 1 finishes late: the snapshot is freed then, done is not
	 * called again (ASan builds check the memory). */
	turn(1);
	turn(0);
	ck_assert_int_eq(done_calls, 1);
	free_pool();
}
END_TEST

START_TEST(test_a_worker_whose_loop_ended_is_not_waited_for)
{
	struct snapshot *s;

	setup_pool();
	atomic_store(&workers[1].loop_ended, 1);        /* drained, exited */
	s = snapshot_start(&pool, 5, on_done, NULL);
	ck_assert_ptr_nonnull(s);
	turn(0);
	turn(0);
	ck_assert_int_eq(done_calls, 1);
	ck_assert_ptr_nonnull(strstr(doc, "\"workers\":2,\"workers_answered\":2,"));
	snapshot_release(s);
	free_pool();
}
END_TEST

START_TEST(test_released_before_done_is_never_called)
{
	struct snapshot *s;

	setup_pool();
	s = snapshot_start(&pool, 1, on_done, NULL);
	ck_assert_ptr_nonnull(s);
	turn(1);
	snapshot_release(s);                    /* the client went away */
	turn(0);
	turn(0);
	ck_assert_int_eq(done_calls, 0);
	free_pool();
}
END_TEST

START_TEST(test_workers_freed_with_calls_queued)
{
	struct snapshot *a, *b;

	setup_pool();
	a = snapshot_start(&pool, 1000, on_done, NULL);
	b = snapshot_start(&pool, 1, on_done, NULL);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	/* Shut down before any loop ran: the stats listener stops (releasing
	 * its requests), then worker_free gives up the queued calls, and the
	 * last reference frees each snapshot (ASan builds check it). */
	snapshot_release(a);
	snapshot_release(b);
	free_pool();
	ck_assert_int_eq(done_calls, 0);
}
END_TEST

static Suite *snapshot_suite(void)
{
	Suite *s = suite_create("snapshot");

	UNIT_ADD(s, test_every_worker_answers);
	UNIT_ADD(s, test_deadline_answers_without_a_late_worker);
	UNIT_ADD(s, test_a_worker_whose_loop_ended_is_not_waited_for);
	UNIT_ADD(s, test_released_before_done_is_never_called);
	UNIT_ADD(s, test_workers_freed_with_calls_queued);
	return s;
}

UNIT_MAIN(snapshot_suite)
