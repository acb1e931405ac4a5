/* The running daemon: worker threads, each with its own event base and its
 * own SO_REUSEPORT copy of every listening socket, so no lock is taken per
 * connection; connection limits are shared counters reserved before each
 * accept.  The main thread runs worker 0 and handles signals. */
#ifndef FRONTD_SERVER_H
#define FRONTD_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include "config.h"
#include "stats.h"

struct event;
struct event_base;
struct listener;
struct server;
struct stats_http;

struct worker {
	struct server *srv;
	unsigned id;
	pthread_t thread;
	struct event_base *base;
	struct listener *listeners;     /* this worker's copies, cfg order */
	uint64_t active;                /* sessions owned by this worker */
	_Atomic uint64_t accepted;      /* for /metrics: every thread serves */
	int stopping;                   /* told to stop: draining */
	int backoff;                    /* accepting paused after EMFILE & co */
	_Atomic int limit_paused;       /* paused at a connection limit */
	int ctl[2];                     /* control pipe: other threads -> us */
	struct event *ctl_ev, *sweep, *shutdown_timer, *backoff_timer;
	uint64_t sweep_ms;
};

struct server {
	const struct config *cfg;       /* owned by the caller of server_create */
	struct worker *workers;
	unsigned nworkers;
	struct listener_stats *stats;   /* one per cfg->listeners[i] */
	struct stats_http *stats_http;  /* /metrics, on worker 0's loop */
	_Atomic uint64_t **worker_accepted; /* &workers[i].accepted */
	_Atomic uint64_t active;        /* open client connections, all workers */
	_Atomic int mptcp_refusal_warned;
	pthread_t main_thread;          /* runs worker 0 and the signals */
	struct event *sig_term, *sig_int, *sig_hup, *sig_usr1;
};

typedef void (*server_ready_fn)(void *arg);

/* Bind every listener of cfg once per worker (before any fork: only plain
 * descriptors are created).  Returns NULL after logging the reason. */
struct server *server_create(const struct config *cfg, unsigned nworkers);

/* Start the workers, call ready(arg) once all accept, and run until
 * stopped and drained.  Returns 0 on a clean stop, -1 on error. */
int server_run(struct server *srv, server_ready_fn ready, void *arg);

void server_free(struct server *srv);   /* NULL is a no-op */

/* Reserve a connection slot on l (global and per-listener limits) before
 * accepting.  Returns 1 when reserved; 0 when a limit is reached, in which
 * case the worker pauses until a slot frees up. */
int server_reserve(struct worker *w, struct listener *l);

/* Give back a slot (accept found nothing, or a session ended) and wake
 * workers paused at a limit. */
void server_release(struct worker *w, struct listener *l);

/* Re-evaluate whether w's listeners may accept. */
void worker_update_accepting(struct worker *w);

/* Accepting failed for lack of descriptors or memory: pause w for a while
 * instead of spinning on a readable listening socket. */
void worker_backoff(struct worker *w, int err);

/* A session of w ended (after server_release). */
void worker_session_ended(struct worker *w);

/* Monotonic milliseconds (coarse clock: cheap enough per event). */
uint64_t server_now_ms(void);

#endif
