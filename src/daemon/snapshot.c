/* The /connections snapshot (the protocol is in snapshot.h).
 *
 * Who touches what: a part is written only by its worker's thread until
 * that worker sets `done` (release); worker 0 reads only parts it sees
 * done (acquire).  `answered` and the deadline event are worker 0's.  The
 * snapshot itself is freed by the last reference: the requester's, or
 * that of a worker finishing after the deadline. */
#include <event2/buffer.h>
#include <event2/event.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "conn.h"
#include "log.h"
#include "snapshot.h"
#include "worker.h"

struct pick {                   /* a connection chosen on its worker */
	uint64_t started_ms;
	const struct conn *c;
};

struct entry {                  /* one connection, serialized */
	uint64_t started_ms;
	size_t off, len;            /* in the part's text */
};

struct part {
	struct snapshot *s;
	unsigned worker;
	_Atomic int done;
	int ok;                     /* the worker answered (not out of memory) */
	int taken;                  /* worker 0: done and ok when answering */
	uint64_t total;             /* connections the worker had */
	uint64_t omitted;           /* chosen but left out: too big, no memory */
	struct pick *picks;         /* min-heap by started_ms while choosing */
	size_t npicks;
	struct entry *entries;
	size_t nentries;
	char *text;
	size_t len, cap;
};

struct snapshot {
	struct pool *pool;
	unsigned limit;
	_Atomic unsigned refs;      /* requester + each worker still at it */
	_Atomic unsigned pending;   /* workers not finished */
	struct event *deadline;     /* on worker 0's base; NULL once answered */
	snapshot_done_fn *done;
	void *arg;
	int answered;
	unsigned nparts;
	struct part parts[];        /* one per worker */
};

static void unref(struct snapshot *s)
{
	if (atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	for (unsigned i = 0; i < s->nparts; i++) {
		free(s->parts[i].picks);
		free(s->parts[i].entries);
		free(s->parts[i].text);
	}
	free(s);
}

/* ---- on each worker: the newest `limit` connections */

static void swap_picks(struct pick *a, struct pick *b)
{
	struct pick t = *a;

	*a = *b;
	*b = t;
}

static void heap_up(struct pick *h, size_t i)
{
	while (i > 0 && h[(i - 1) / 2].started_ms > h[i].started_ms) {
		swap_picks(&h[(i - 1) / 2], &h[i]);
		i = (i - 1) / 2;
	}
}

static void heap_down(struct pick *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < n && h[l].started_ms < h[m].started_ms)
			m = l;
		if (l + 1 < n && h[l + 1].started_ms < h[m].started_ms)
			m = l + 1;
		if (m == i)
			return;
		swap_picks(&h[i], &h[m]);
		i = m;
	}
}

/* Keep c if it is among the newest `limit` seen so far (the heap's root
 * is the oldest kept). */
static void offer(const struct conn *c, void *arg)
{
	struct part *p = arg;
	struct pick k = { conn_started_ms(c), c };

	p->total++;
	if (p->npicks < p->s->limit) {
		p->picks[p->npicks] = k;
		heap_up(p->picks, p->npicks++);
	} else if (k.started_ms > p->picks[0].started_ms) {
		p->picks[0] = k;
		heap_down(p->picks, p->npicks, 0);
	}
}

static int room_for_one(struct part *p)
{
	size_t want = p->len + SNAPSHOT_OBJ_MAX, cap = p->cap ? p->cap : 16384;
	char *t;

	if (want <= p->cap)
		return 0;
	while (cap < want)
		cap *= 2;
	t = realloc(p->text, cap);
	if (t == NULL)
		return -1;
	p->text = t;
	p->cap = cap;
	return 0;
}

static void serialize(struct part *p, uint64_t now_ms)
{
	p->entries = malloc(p->npicks * sizeof(*p->entries) + 1);
	if (p->entries == NULL) {
		p->omitted = p->npicks;
		return;
	}
	for (size_t i = 0; i < p->npicks; i++) {
		const struct pick *k = &p->picks[i];
		int n;
		if (room_for_one(p) < 0) {
			p->omitted += p->npicks - i;
			return;
		}
		n = conn_json(k->c, now_ms, p->text + p->len, SNAPSHOT_OBJ_MAX);
		if (n < 0) {
			p->omitted++;
			continue;
		}
		p->entries[p->nentries++] =
			(struct entry){ k->started_ms, p->len, (size_t)n };
		p->len += (size_t)n;
	}
}

static void complete(struct worker *w, void *arg, int run);

/* p's worker is done with it.  The last worker hands its reference to the
 * call that tells worker 0; the others drop theirs. */
static void finish(struct part *p, int run)
{
	struct snapshot *s = p->s;

	atomic_store_explicit(&p->done, 1, memory_order_release);
	if (atomic_fetch_sub(&s->pending, 1) == 1 && run &&
	    worker_call(&s->pool->workers[0], complete, s) == 0)
		return;
	unref(s);
}

static void collect(struct worker *w, void *arg, int run)
{
	struct part *p = arg;

	if (run) {
		p->picks = malloc(p->s->limit * sizeof(*p->picks));
		if (p->picks != NULL) {
			worker_each_conn(w, offer, p);
			serialize(p, clock_now_ms());
			p->ok = 1;
		} else {
			log_error("worker %u: out of memory for /connections",
			          w->id);
		}
		free(p->picks);
		p->picks = NULL;
	}
	finish(p, run);
}

/* ---- on worker 0 */

/* Decide once which parts count: a worker finishing after this is
 * ignored. */
static void answer(struct snapshot *s)
{
	for (unsigned i = 0; i < s->nparts; i++) {
		struct part *p = &s->parts[i];
		p->taken = atomic_load_explicit(&p->done, memory_order_acquire) &&
		           p->ok;
	}
	s->answered = 1;
	event_free(s->deadline);
	s->deadline = NULL;
	s->done(s, s->arg);
}

static void complete(struct worker *w, void *arg, int run)
{
	struct snapshot *s = arg;

	if (run && !s->answered)
		answer(s);
	unref(s);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct snapshot *s = arg;

	log_warn("stats: /connections: %u of %u workers did not answer within "
	         "%d ms; answering without them", atomic_load(&s->pending),
	         s->nparts, SNAPSHOT_DEADLINE_MS);
	answer(s);
}

struct snapshot *snapshot_start(struct pool *pool, unsigned limit,
                                snapshot_done_fn *done, void *arg)
{
	unsigned n = pool->nworkers;
	struct snapshot *s = calloc(1, sizeof(*s) + n * sizeof(s->parts[0]));
	struct timeval tv = clock_tv(SNAPSHOT_DEADLINE_MS);

	if (s == NULL)
		goto fail;
	s->pool = pool;
	s->limit = limit;
	s->done = done;
	s->arg = arg;
	s->nparts = n;
	atomic_init(&s->refs, 1);
	atomic_init(&s->pending, n);
	s->deadline = evtimer_new(pool->workers[0].base, on_deadline, s);
	if (s->deadline == NULL || evtimer_add(s->deadline, &tv) < 0)
		goto fail;
	for (unsigned i = 0; i < n; i++) {
		struct part *p = &s->parts[i];
		p->s = s;
		p->worker = i;
		atomic_init(&p->done, 0);
		atomic_fetch_add(&s->refs, 1);
		/* A worker whose loop ended (a drain) has no connection
		 * left: its answer is known.  Not queued: it cannot answer. */
		if (atomic_load(&pool->workers[i].loop_ended))
			p->ok = 1;
		if (p->ok || worker_call(&pool->workers[i], collect, p) < 0)
			finish(p, 1);
	}
	return s;
fail:
	log_error("stats: out of memory for /connections");
	if (s != NULL && s->deadline != NULL)
		event_free(s->deadline);
	free(s);
	return NULL;
}

/* ---- the merged document */

struct ref {
	const struct entry *e;
	const struct part *p;
};

static int newest_first(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;

	if (x->e->started_ms != y->e->started_ms)
		return x->e->started_ms < y->e->started_ms ? 1 : -1;
	if (x->p != y->p)
		return x->p->worker < y->p->worker ? -1 : 1;
	return x->e < y->e ? -1 : x->e > y->e;
}

int snapshot_render(const struct snapshot *s, struct evbuffer *out)
{
	uint64_t total = 0, omitted = 0;
	unsigned answered = 0;
	size_t n = 0, k = 0, listed;
	struct ref *refs;
	int rc = -1;

	for (unsigned i = 0; i < s->nparts; i++) {
		const struct part *p = &s->parts[i];
		if (!p->taken)
			continue;
		answered++;
		total += p->total;
		omitted += p->omitted;
		n += p->nentries;
	}
	refs = malloc(n * sizeof(*refs) + 1);
	if (refs == NULL)
		return -1;
	for (unsigned i = 0; i < s->nparts; i++) {
		const struct part *p = &s->parts[i];
		if (!p->taken)
			continue;
		for (size_t j = 0; j < p->nentries; j++)
			refs[k++] = (struct ref){ &p->entries[j], p };
	}
	qsort(refs, k, sizeof(*refs), newest_first);
	listed = k < s->limit ? k : s->limit;
	if (evbuffer_add_printf(out, "{\"now_ms\":%llu,\"limit\":%u,"
	                        "\"total\":%llu,\"truncated\":%s,"
	                        "\"omitted\":%llu,\"workers\":%u,"
	                        "\"workers_answered\":%u,\"connections\":[",
	                        (unsigned long long)clock_now_ms(), s->limit,
	                        (unsigned long long)total,
	                        total - omitted > listed ? "true" : "false",
	                        (unsigned long long)omitted, s->nparts,
	                        answered) < 0)
		goto out;
	for (size_t i = 0; i < listed; i++)
		if ((i > 0 && evbuffer_add(out, ",", 1) < 0) ||
		    evbuffer_add(out, refs[i].p->text + refs[i].e->off,
		                 refs[i].e->len) < 0)
			goto out;
	rc = evbuffer_add(out, "]}\n", 3);
out:
	free(refs);
	return rc;
}

void snapshot_release(struct snapshot *s)
{
	if (s == NULL)
		return;
	s->answered = 1;
	if (s->deadline != NULL) {
		event_free(s->deadline);
		s->deadline = NULL;
	}
	unref(s);
}
