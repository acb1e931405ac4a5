/* One worker thread's event loop: its listener sets (the current one
 * accepts; retired ones only drain), the connection limits it shares with
 * the other workers, idle sweep, back-off after descriptor exhaustion,
 * control messages from other threads, and its share of the drain on
 * shutdown.  Its listeners report to it through listener_hooks. */
#include "auto-config.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#ifdef HAVE_MALLOC_TRIM
#include <malloc.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "conn.h"
#include "listener.h"
#include "log.h"
#include "ratelimit.h"
#include "relay.h"
#include "worker.h"


static void reap_retired(struct worker *w);

/* Call fn on every listener of every set w still has.  Retired sets are
 * freed from their own event (w->reap), never under this walk. */
static void each_listener(struct worker *w, void (*fn)(struct listener *, void *),
                          void *arg)
{
	for (struct listener_set *set = w->cur; set != NULL;
	     set = set == w->cur ? w->retired : set->next)
		for (size_t i = 0; i < gen_set_size(set); i++)
			fn(&set->listeners[i], arg);
}

/* The limit that keeps l from accepting now, or STATS_LIMIT_COUNT when
 * it has room. */
static enum stats_limit limit_reached(const struct pool *pool,
                                      const struct listener *l)
{
	uint64_t lmax = l->cfg->max_connections;

	if (atomic_load(&pool->active) >= atomic_load(&pool->max_connections))
		return STATS_LIMIT_GLOBAL;
	if (lmax != 0 && atomic_load(&l->stats->active) >= lmax)
		return STATS_LIMIT_LISTENER;
	return STATS_LIMIT_COUNT;
}

/* l was accepting and a limit stops it: one count in
 * connections_limited_total, one log line per RATELIMIT_LOG_MS per limit
 * (the global one across all workers, a listener's across its
 * workers), saying how many pauses it stands for. */
static void pause_at_limit(struct worker *w, struct listener *l,
                           enum stats_limit lim)
{
	struct ratelimit *r = lim == STATS_LIMIT_GLOBAL ? &w->pool->limit_log
	                                                : &l->stats->limit_log;
	char more[80];
	uint64_t held;

	stats_add(&l->stats->limited[lim], 1);
	if (!ratelimit_due(r, clock_now_ms(), RATELIMIT_LOG_MS, &held))
		return;
	ratelimit_held_text(held, "pause", more, sizeof(more));
	if (lim == STATS_LIMIT_GLOBAL)
		log_warn("max_connections = %llu reached ([global]): listener "
		         "%s paused accepting until a connection ends; new "
		         "clients wait in the listen backlog%s",
		         (unsigned long long)atomic_load(&w->pool->max_connections),
		         l->cfg->name, more);
	else
		log_warn("listener %s: max_connections = %llu reached: paused "
		         "accepting until one of its connections ends; new "
		         "clients wait in the listen backlog%s", l->cfg->name,
		         (unsigned long long)l->cfg->max_connections, more);
}

void worker_update_accepting(struct worker *w)
{
	int paused = 0;

	/* Say "paused" before looking at the counters: a slot released
	 * after this store wakes us, one released before it is seen. */
	atomic_store(&w->limit_paused, 1);
	for (size_t i = 0; i < gen_set_size(w->cur); i++) {
		struct listener *l = &w->cur->listeners[i];
		enum stats_limit lim = limit_reached(w->pool, l);
		int room = lim == STATS_LIMIT_COUNT;
		paused |= !room;
		if (!room && l->accepting)
			pause_at_limit(w, l, lim);
		listener_set_accepting(l, !w->stopping && !w->backoff && room);
	}
	if (!paused)
		atomic_store(&w->limit_paused, 0);
}

static void on_backoff_end(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	w->backoff = 0;
	worker_update_accepting(w);
}

static void pause_accepting(struct worker *w, int err)
{
	struct timeval tv = clock_tv(WORKER_BACKOFF_MS);

	if (w->backoff)
		return;
	log_warn("accept: %s: pausing new connections for %d ms "
	         "(%llu open)", strerror(err), WORKER_BACKOFF_MS,
	         (unsigned long long)atomic_load(&w->pool->active));
	w->backoff = 1;
	worker_update_accepting(w);
	evtimer_add(w->backoff_timer, &tv);
}

/* Free retired sets whose last connection ended. */
static void reap_retired(struct worker *w)
{
	struct listener_set **pp = &w->retired;

	while (*pp != NULL) {
		struct listener_set *set = *pp;
		if (gen_set_drained(set)) {
			*pp = set->next;
			gen_set_free(set);
		} else {
			pp = &set->next;
		}
	}
}

static void on_reap(evutil_socket_t fd, short what, void *arg)
{
	reap_retired(arg);
}

static void stop_if_drained(struct worker *w)
{
	if (w->stopping && w->active == 0)
		event_base_loopbreak(w->base);
}

/* ---- the limits, shared by all workers ---- */

/* Reserve a connection slot on l (global and per-listener limits) before
 * accepting: 1 when reserved, 0 when a limit is reached, in which case
 * the worker pauses until a slot frees up. */
static int reserve(struct listener *l)
{
	struct worker *w = l->w;
	struct pool *pool = w->pool;
	uint64_t lmax = l->cfg->max_connections;

	if (atomic_fetch_add(&pool->active, 1) >=
	    atomic_load(&pool->max_connections)) {
		atomic_fetch_sub(&pool->active, 1);
		goto full;
	}
	/* The per-listener count is kept even without a limit: /metrics
	 * shows it. */
	if (atomic_fetch_add(&l->stats->active, 1) >= lmax && lmax != 0) {
		atomic_fetch_sub(&l->stats->active, 1);
		atomic_fetch_sub(&pool->active, 1);
		goto full;
	}
	w->active++;
	return 1;
full:
	worker_update_accepting(w);
	return 0;
}

/* Give back a slot and wake workers paused at a limit. */
static void release(struct listener *l)
{
	struct worker *w = l->w;
	struct pool *pool = w->pool;
	uint64_t lmax = l->cfg->max_connections;
	int was_full = atomic_fetch_sub(&pool->active, 1) >=
	               atomic_load(&pool->max_connections);

	w->active--;
	if (atomic_fetch_sub(&l->stats->active, 1) >= lmax && lmax != 0)
		was_full = 1;
	if (!was_full)
		return;
	/* Someone may be waiting for this slot. */
	for (unsigned i = 0; i < pool->nworkers; i++) {
		struct worker *x = &pool->workers[i];
		if (x == w)
			worker_update_accepting(w);
		else if (atomic_load(&x->limit_paused))
			worker_send(x, WORKER_MSG_WAKE);
	}
}

static void conn_ended(struct listener *l)
{
	struct worker *w = l->w;

	w->ended_since_trim++;
	/* The last connection of a retired set: free it from the loop,
	 * not under whatever walk ended the connection. */
	if (l->set != w->cur && !listener_has_conns(l))
		event_active(w->reap, EV_TIMEOUT, 0);
	if (atomic_load(&w->limit_paused))
		worker_update_accepting(w);
	stop_if_drained(w);
}

static void accept_failed(struct listener *l, int err)
{
	pause_accepting(l->w, err);
}

static const struct listener_hooks hooks = {
	.reserve = reserve,
	.release = release,
	.conn_ended = conn_ended,
	.accept_failed = accept_failed,
};

void worker_adopt(struct worker *w, struct listener_set *set)
{
	for (size_t i = 0; i < gen_set_size(set); i++) {
		struct listener *l = &set->listeners[i];
		l->hooks = &hooks;
		l->w = w;
		l->set = set;
		l->accepted = &w->accepted;
		l->conns.watch = &w->watch;
	}
}

static void close_conns(struct listener *l, void *arg)
{
	conn_close_all(&l->conns, *(enum end_reason *)arg);
}

static void close_all_conns(struct worker *w, enum end_reason why)
{
	each_listener(w, close_conns, &why);
}

static void on_shutdown_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	if (w->active > 0)
		log_info("shutdown_timeout reached: closing %llu connections",
		         (unsigned long long)w->active);
	close_all_conns(w, END_SHUTDOWN);
	event_base_loopbreak(w->base);
}

/* Idle timeouts are enforced by a periodic sweep; its period is a quarter
 * of the shortest idle_timeout, between 100 ms and 1 s. */
static uint64_t sweep_period(const struct config *cfg)
{
	uint64_t p = 1000;

	for (size_t i = 0; i < cfg->nlisteners; i++)
		if (cfg->listeners[i].idle_timeout_ms / 4 < p)
			p = cfg->listeners[i].idle_timeout_ms / 4;
	return p < 100 ? 100 : p;
}

static void arm_sweep(struct worker *w)
{
	uint64_t p = sweep_period(w->cur->gen->cfg);
	struct timeval tv;

	if (p == w->sweep_ms)
		return;
	w->sweep_ms = p;
	tv = clock_tv(p);
	event_add(w->sweep, &tv);
}

/* Put the set a reload built in place: the old current set stops
 * accepting (its sockets were either handed to the new set or are closed
 * now) and keeps only its sessions. */
static void swap_in_pending(struct worker *w)
{
	struct listener_set *set = atomic_exchange(&w->pending, NULL);
	struct listener_set *old = w->cur;

	if (set == NULL)
		return;
	for (size_t i = 0; i < gen_set_size(set); i++)
		if (listener_attach(&set->listeners[i], w->base) < 0)
			log_error("worker %u: listener %s: cannot accept on it",
			          w->id, set->listeners[i].cfg->name);
	for (size_t i = 0; i < gen_set_size(old); i++) {
		listener_drain_queue(&old->listeners[i]);
		listener_close(&old->listeners[i]);
	}
	old->next = w->retired;
	w->retired = old;
	w->cur = set;
	reap_retired(w);
	arm_sweep(w);
	worker_update_accepting(w);
	if (atomic_fetch_add(&w->pool->swapped, 1) + 1 == w->pool->nworkers)
		log_info("configuration generation %u active on all workers",
		         set->gen->id);
}

static void worker_stop(struct worker *w)
{
	struct timeval tv;

	if (w->stopping) {
		/* Asked twice: do not wait for the drain any longer. */
		close_all_conns(w, END_SHUTDOWN);
		event_base_loopbreak(w->base);
		return;
	}
	swap_in_pending(w);
	w->stopping = 1;
	/* Closing (not just pausing) the listening sockets makes new
	 * connection attempts fail at once instead of waiting in a backlog
	 * nobody will accept from. */
	for (size_t i = 0; i < gen_set_size(w->cur); i++)
		listener_close(&w->cur->listeners[i]);
	tv = clock_tv(w->cur->gen->cfg->shutdown_timeout_ms);
	evtimer_add(w->shutdown_timer, &tv);
	stop_if_drained(w);
}

static void act(struct worker *w, char msg)
{
	switch (msg) {
	case WORKER_MSG_STOP:
		worker_stop(w);
		break;
	case WORKER_MSG_WAKE:
		worker_update_accepting(w);
		break;
	case WORKER_MSG_SWAP:
		if (!w->stopping)
			swap_in_pending(w);
		break;
	case WORKER_MSG_CALL:   /* on_ctl runs the queue */
		break;
	}
}

struct worker_call {
	worker_call_fn *fn;
	void *arg;
	struct worker_call *next;
};

/* Take the whole queue and run it oldest first; run = 0: w is being
 * freed, the functions only release their arguments. */
static void run_calls(struct worker *w, int run)
{
	struct worker_call *c = atomic_exchange(&w->calls, NULL), *fifo = NULL;

	while (c != NULL) {
		struct worker_call *next = c->next;
		c->next = fifo;
		fifo = c;
		c = next;
	}
	while (fifo != NULL) {
		struct worker_call *next = fifo->next;
		fifo->fn(w, fifo->arg, run);
		free(fifo);
		fifo = next;
	}
}

static void on_ctl(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	char msgs[64];
	ssize_t n = read(fd, msgs, sizeof(msgs));

	for (ssize_t i = 0; i < n; i++)
		act(w, msgs[i]);
	/* Whatever woke us: a pipe that was full when a call was queued
	 * holds no WORKER_MSG_CALL for it. */
	run_calls(w, 1);
}

/* Non-blocking: a full pipe already holds messages to act on, and every
 * message makes the worker re-read the shared state. */
static void ctl_write(struct worker *w, char msg)
{
	if (write(w->ctl[1], &msg, 1) < 0 && errno != EAGAIN)
		log_warn("worker %u: control pipe: %s", w->id, strerror(errno));
}

void worker_send(struct worker *w, char msg)
{
	if (w->id == 0 && pthread_equal(pthread_self(), w->pool->main_thread)) {
		act(w, msg);    /* worker 0 is the main thread */
		return;
	}
	ctl_write(w, msg);
}

int worker_call(struct worker *w, worker_call_fn *fn, void *arg)
{
	struct worker_call *c = malloc(sizeof(*c));

	if (c == NULL) {
		log_error("worker %u: out of memory for a call", w->id);
		return -1;
	}
	c->fn = fn;
	c->arg = arg;
	c->next = atomic_load(&w->calls);
	while (!atomic_compare_exchange_weak(&w->calls, &c->next, c))
		;
	ctl_write(w, WORKER_MSG_CALL);  /* always from the loop, even ours */
	return 0;
}

struct each_conn {
	void (*fn)(const struct conn *c, void *arg);
	void *arg;
};

static void each_conn_of(struct listener *l, void *arg)
{
	struct each_conn *e = arg;

	for (const struct conn *c = conn_first(&l->conns); c != NULL;
	     c = conn_next(c))
		e->fn(c, e->arg);
}

void worker_each_conn(struct worker *w,
                      void (*fn)(const struct conn *c, void *arg), void *arg)
{
	struct each_conn e = { fn, arg };

	each_listener(w, each_conn_of, &e);
}

static void sweep_listener(struct listener *l, void *arg)
{
	conn_sweep_idle(&l->conns, *(uint64_t *)arg);
}

/* After a burst of closes (thousands of clients gone at once, say at a
 * handshake deadline) the allocator keeps the freed pages: free() gives
 * back only the top of the main heap, and each worker thread allocates
 * from an arena of its own.  malloc_trim(0) returns every whole free page
 * of every arena.  It walks the free lists, so it runs only when many
 * connections ended since the last time, at most every TRIM_MIN_MS. */
#define TRIM_AFTER_ENDED 256
#define TRIM_MIN_MS 2000

static void trim_heap(struct worker *w, uint64_t now)
{
	if (w->ended_since_trim < TRIM_AFTER_ENDED ||
	    now - w->trim_ms < TRIM_MIN_MS)
		return;
	w->ended_since_trim = 0;
	w->trim_ms = now;
#ifdef HAVE_MALLOC_TRIM
	malloc_trim(0);
#endif
}

static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	uint64_t now = clock_now_ms();

	each_listener(w, sweep_listener, &now);
	relay_pool_trim();
	trim_heap(w, now);
}

static void on_watch(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	if (conn_watch_read(&w->watch) < 0) {
		event_free(w->watch_ev);
		w->watch_ev = NULL;
		conn_watch_stop(&w->watch);
	}
}

int worker_init(struct worker *w)
{
	struct event_config *ec = event_config_new();

	/* The changelist folds the del+add of a mask change into a single
	 * epoll_ctl per descriptor and loop iteration.  Its one caveat,
	 * dup()ed descriptors, does not apply: we never dup sockets. */
	if (ec != NULL)
		event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	w->base = ec ? event_base_new_with_config(ec) : NULL;
	if (ec != NULL)
		event_config_free(ec);
	if (w->base == NULL) {
		log_error("worker %u: cannot create an event loop", w->id);
		return -1;
	}
	if (pipe2(w->ctl, O_NONBLOCK | O_CLOEXEC) < 0) {
		w->ctl[0] = w->ctl[1] = -1;
		log_error("worker %u: pipe: %s", w->id, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < gen_set_size(w->cur); i++)
		if (listener_attach(&w->cur->listeners[i], w->base) < 0)
			return -1;
	w->ctl_ev = event_new(w->base, w->ctl[0], EV_READ | EV_PERSIST, on_ctl,
	                      w);
	w->shutdown_timer = evtimer_new(w->base, on_shutdown_timeout, w);
	w->backoff_timer = evtimer_new(w->base, on_backoff_end, w);
	w->sweep = event_new(w->base, -1, EV_PERSIST, on_sweep, w);
	w->reap = evtimer_new(w->base, on_reap, w);
	if (!w->ctl_ev || !w->shutdown_timer || !w->backoff_timer ||
	    !w->sweep || !w->reap) {
		log_error("worker %u: cannot create events", w->id);
		return -1;
	}
	event_add(w->ctl_ev, NULL);
	if (w->watch.fd >= 0) {
		w->watch_ev = event_new(w->base, w->watch.fd,
		                        EV_READ | EV_PERSIST, on_watch, w);
		if (w->watch_ev == NULL) {
			log_error("worker %u: cannot create events", w->id);
			return -1;
		}
		event_add(w->watch_ev, NULL);
	}
	arm_sweep(w);
	worker_update_accepting(w);
	return 0;
}

int worker_loop(struct worker *w)
{
	int rc = event_base_dispatch(w->base);

	if (rc < 0)
		log_error("worker %u: event loop failed", w->id);
	/* Whatever is left (a loop that failed) is closed here, in the
	 * thread that owns it. */
	close_all_conns(w, END_SHUTDOWN);
	relay_pool_drain();
	atomic_store(&w->loop_ended, 1);
	run_calls(w, 1);        /* queued before loop_ended could be seen */
	return rc < 0 ? -1 : 0;
}

void worker_free(struct worker *w)
{
	struct listener_set *pending = atomic_exchange(&w->pending, NULL);

	run_calls(w, 0);
	if (pending != NULL)
		gen_set_free(pending);
	while (w->retired != NULL) {
		struct listener_set *next = w->retired->next;
		gen_set_free(w->retired);
		w->retired = next;
	}
	if (w->cur != NULL) {
		gen_set_free(w->cur);
		w->cur = NULL;
	}
	if (w->ctl_ev)
		event_free(w->ctl_ev);
	if (w->shutdown_timer)
		event_free(w->shutdown_timer);
	if (w->backoff_timer)
		event_free(w->backoff_timer);
	if (w->sweep)
		event_free(w->sweep);
	if (w->reap)
		event_free(w->reap);
	if (w->watch_ev)
		event_free(w->watch_ev);
	conn_watch_close(&w->watch);
	if (w->ctl[0] >= 0)
		close(w->ctl[0]);
	if (w->ctl[1] >= 0)
		close(w->ctl[1]);
	if (w->base)
		event_base_free(w->base);
}
