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

#include "gen.h"

struct event;
struct event_base;

/* The workers and what they share (the server owns it). */
struct pool {
	struct worker *workers;
	unsigned nworkers;
	_Atomic uint64_t active;        /* open client connections, all workers */
	_Atomic uint64_t max_connections;
	_Atomic unsigned swapped;       /* workers running the newest gen */
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
	uint64_t sweep_ms;
	uint64_t ended_since_trim;      /* connections ended since malloc_trim */
	uint64_t trim_ms;               /* when it last ran */
};

enum worker_msg {
	WORKER_MSG_STOP = 'S',  /* stop accepting and drain; twice: close now */
	WORKER_MSG_WAKE = 'W',  /* a connection slot freed up: re-check limits */
	WORKER_MSG_SWAP = 'H',  /* a reload left a new listener set in pending */
};

/* Make w the owner of set's listeners (after listener_open). */
void worker_adopt(struct worker *w, struct listener_set *set);

/* Create w's event base, control pipe, timers; arm its listeners. */
int worker_init(struct worker *w);

/* Run until w is stopped and drained.  Returns 0, or -1 on loop failure. */
int worker_loop(struct worker *w);

/* Deliver a message to w from any thread. */
void worker_send(struct worker *w, char msg);

/* Re-evaluate whether w's current listeners may accept. */
void worker_update_accepting(struct worker *w);

/* How long accepting pauses after EMFILE & co (the /metrics listener
 * pauses as long). */
#define WORKER_BACKOFF_MS 250

void worker_free(struct worker *w);

#endif
