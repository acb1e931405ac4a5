/* The running daemon: worker threads, each with its own event base and its
 * own SO_REUSEPORT copy of every listening socket, so no lock is taken per
 * connection; connection limits are shared counters reserved before each
 * accept.  The main thread runs worker 0, the signals and reloads.
 *
 * A loaded configuration is a generation (struct gen).  Each worker holds
 * one listener set per generation it still serves: the current one, which
 * accepts, and retired ones, which only keep their established sessions
 * until they end.  A reload builds a new set per worker (keeping the
 * listening sockets whose address and MPTCP mode did not change) and hands
 * it over through worker_send(); the worker swaps it in on its own thread. */
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
struct upgrade;
struct pidfile;

struct gen {
	struct config *cfg;             /* owned */
	unsigned id;                    /* 1, 2, ...: for the logs */
	_Atomic unsigned refs;          /* listener sets using it */
	struct listener_stats **stats;  /* per cfg listener, from the registry */
};

struct listener_set {
	struct gen *gen;
	struct listener *listeners;     /* gen->cfg->nlisteners of them */
	struct listener_set *next;      /* worker's retired list */
};

struct worker {
	struct server *srv;
	unsigned id;
	pthread_t thread;
	struct event_base *base;
	struct listener_set *cur;       /* accepting */
	struct listener_set *retired;   /* draining sessions of older gens */
	_Atomic(struct listener_set *) pending; /* from a reload, not yet in */
	uint64_t active;                /* sessions owned by this worker */
	_Atomic uint64_t accepted;      /* for /metrics: every thread serves */
	int stopping;                   /* told to stop: draining */
	int backoff;                    /* accepting paused after EMFILE & co */
	int walking;                    /* in each_listener: sets must not be
	                                   freed under it; reap afterwards */
	_Atomic int limit_paused;       /* paused at a connection limit */
	int ctl[2];                     /* control pipe: other threads -> us */
	struct event *ctl_ev, *sweep, *shutdown_timer, *backoff_timer;
	uint64_t sweep_ms;
};

struct server {
	struct gen *gen;                /* current generation (main thread) */
	struct listener_set **latest;   /* per worker: newest set handed over */
	struct worker *workers;
	unsigned nworkers;
	_Atomic uint64_t active;        /* open client connections, all workers */
	_Atomic uint64_t max_connections;
	_Atomic unsigned swapped;       /* workers running the newest gen */
	_Atomic int mptcp_refusal_warned;
	struct listener_stats *stats_head;      /* registry, by listener name */
	struct stats_http *stats_http;  /* /metrics, on worker 0's loop */
	_Atomic uint64_t **worker_accepted;     /* &workers[i].accepted */
	pthread_t main_thread;          /* runs worker 0, signals, reloads */
	const char *config_path;        /* for reloads */
	char **argv;                    /* for a binary upgrade */
	struct pidfile *pidfile;        /* main's; renamed by an upgrade */
	int log_level_override;         /* -l, or -1 */
	int stopping;
	/* Worker threads still running their loops; each one that ends
	 * writes a byte to ended_pipe, which worker 0's loop watches: the main
	 * thread keeps that loop (signals, /metrics) running until the last
	 * one ended, whichever worker holds the last connection. */
	_Atomic unsigned threads_running;
	int ended_pipe[2];
	int main_drained;               /* worker 0's own drain is over */
	struct event *thread_ended;
	struct event *sig_term, *sig_int, *sig_quit, *sig_hup, *sig_usr1,
		*reload_retry;
	struct upgrade *upgrade;        /* SIGUSR2 (upgrade.c), or NULL */
};

typedef void (*server_ready_fn)(void *arg);

/* Take ownership of cfg and bind every listener once per worker (before
 * any fork: only plain descriptors are created).  Returns NULL after
 * logging the reason (cfg is freed then too). */
struct server *server_create(struct config *cfg, unsigned nworkers);

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

/* Generations: build one (stats looked up by listener name) / drop a ref. */
struct gen *server_gen_new(struct server *srv, struct config *cfg);
void server_gen_unref(struct gen *g);

/* Build worker w's listener set for generation g, reusing matching sockets
 * of `old` (NULL at start).  Returns NULL after logging. */
struct listener_set *server_set_new(struct server *srv, struct worker *w,
                                    struct gen *g, struct listener_set *old);

/* (Re)start /metrics per the current generation's `stats` key. */
int server_stats_start(struct server *srv);

/* Reload the configuration file (SIGHUP).  Returns 0 when applied. */
int server_reload(struct server *srv);

/* Monotonic milliseconds (coarse clock: cheap enough per event). */
uint64_t server_now_ms(void);

#endif
