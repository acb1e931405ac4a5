/* A worker thread's event loop.  Each worker has its own event base and
 * its own SO_REUSEPORT copy of every listening socket, so no lock is taken
 * per connection; connection limits are shared counters reserved before
 * each accept (the pool).  The main thread runs worker 0.
 *
 * A reload builds a new listener set per worker (keeping the listening
 * sockets whose address and MPTCP mode did not change) and hands it over
 * through worker_send(); the worker swaps it in on its own thread. */
#ifndef FRONTD_WORKER_H
#define FRONTD_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "conn_watch.h"
#include "gen.h"
#include "ratelimit.h"

struct conn;
struct event;
struct event_base;
struct worker;

/* A function worker_call runs on a worker's thread.  `run` is 0 when the
 * worker is freed before it could run it: only release what arg holds. */
typedef void worker_call_fn(struct worker *w, void *arg, int run);

/* One queued worker_call (worker.c). */
struct worker_call;

/* The workers and what they share (the server owns it). */
struct pool {
	struct worker *workers;
	unsigned nworkers;
	_Atomic uint64_t active;        /* open client connections, all workers */
	_Atomic uint64_t max_connections;
	_Atomic unsigned swapped;       /* workers running the newest gen */
	struct ratelimit limit_log;     /* "max_connections reached" */
	pthread_t main_thread;          /* runs worker 0, signals, reloads */
};

struct worker {
	struct pool *pool;
	unsigned id;
	pthread_t thread;
	struct event_base *base;
	struct listener_set *cur;       /* accepting */
	struct listener_set *retired;   /* draining connections of older gens */
	_Atomic(struct listener_set *) pending; /* from a reload, not yet in */
	uint64_t active;                /* connection slots this worker holds */
	_Atomic uint64_t accepted;      /* for /metrics: every thread serves */
	int stopping;                   /* told to stop: draining */
	int backoff;                    /* accepting paused after EMFILE & co */
	_Atomic int limit_paused;       /* paused at a connection limit */
	int ctl[2];                     /* control pipe: other threads -> us */
	struct event *ctl_ev, *sweep, *shutdown_timer, *backoff_timer;
	struct event *reap;             /* frees drained retired sets */
	/* MPTCP subflow events for its connections' path records, opened
	 * before privileges drop (server_create); fd -1: none. */
	struct conn_watch watch;
	struct event *watch_ev;
	uint64_t sweep_ms;
	/* worker_call's queue: any thread pushes, w pops (newest first). */
	_Atomic(struct worker_call *) calls;
	/* worker_loop returned: no connection left, and the calls queued
	 * from now on run only when w is freed (run = 0). */
	_Atomic int loop_ended;
	uint64_t ended_since_trim;      /* connections ended since malloc_trim */
	uint64_t trim_ms;               /* when it last ran */
};

enum worker_msg {
	WORKER_MSG_STOP = 'S',  /* stop accepting and drain; twice: close now */
	WORKER_MSG_WAKE = 'W',  /* a connection slot freed up: re-check limits */
	WORKER_MSG_SWAP = 'H',  /* a reload left a new listener set in pending */
	WORKER_MSG_CALL = 'C',  /* worker_call queued a function */
};

/* Make w the owner of set's listeners (after listener_open). */
void worker_adopt(struct worker *w, struct listener_set *set);

/* Create w's event base, control pipe, timers; arm its listeners. */
int worker_init(struct worker *w);

/* Run until w is stopped and drained.  Returns 0, or -1 on loop failure. */
int worker_loop(struct worker *w);

/* Deliver a message to w from any thread. */
void worker_send(struct worker *w, char msg);

/* Run fn(w, arg, 1) on w's thread, from any thread (w's own included:
 * then later, from its loop, never before this returns).  Returns 0, or
 * -1 after logging when out of memory (fn will not run). */
int worker_call(struct worker *w, worker_call_fn *fn, void *arg);

/* On w's thread: fn(c, arg) for every connection w has, in every
 * listener set (the current one and those draining). */
void worker_each_conn(struct worker *w,
                      void (*fn)(const struct conn *c, void *arg), void *arg);

/* Re-evaluate whether w's current listeners may accept. */
void worker_update_accepting(struct worker *w);

/* How long accepting pauses after EMFILE & co (the /metrics listener
 * pauses as long). */
#define WORKER_BACKOFF_MS 250

void worker_free(struct worker *w);

#endif
