/* The running daemon: its workers (worker.h), the current generation of
 * the configuration and the reloads that replace it (gen.h), signals and
 * the stats listener.  The main thread runs worker 0, the signals and
 * reloads. */
#ifndef FRONTD_SERVER_H
#define FRONTD_SERVER_H

#include <stdatomic.h>
#include <stdint.h>
#include "config.h"
#include "gen.h"
#include "stats.h"
#include "worker.h"

struct event;
struct stats_http;
struct upgrade;
struct pidfile;

struct server {
	struct pool pool;               /* the workers and their limits */
	struct gen *gen;                /* current generation (main thread) */
	struct listener_set **latest;   /* per worker: newest set handed over */
	struct listener_stats *stats_head;      /* registry, by listener name */
	struct stats_http *stats_http;  /* /metrics, on worker 0's loop */
	struct stats_config config_stats;       /* loads and reloads */
	_Atomic uint64_t **worker_accepted;     /* &workers[i].accepted */
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
	struct upgrade *upgrade;        /* SIGUSR2 (server_upgrade.c), or NULL */
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

/* Binary upgrade (server_upgrade.c), nginx style, on the old process's
 * side.  SIGUSR2 renames
 * the pidfile to FILE.oldbin and starts the executable this process was
 * started from (its path as /proc/self/exe named it at start; the file
 * there may have been replaced since), with the same arguments, as a
 * child that inherits every listening socket (see sockact.h for the
 * variable).  Both serve until the operator sends SIGQUIT to the old one,
 * which drains and exits.  When the new process reports ready, the old one
 * logs it; when it exits (ready or not) while the old one runs, the old
 * one logs why and renames FILE.oldbin back to FILE. */
/* Remember the executable and arm SIGUSR2 and SIGCHLD on worker 0's loop
 * (main thread).  Returns 0, or -1 after logging. */
int server_upgrade_init(struct server *srv);

void server_upgrade_free(struct server *srv);   /* no upgrade state: no-op */

/* A generation for cfg (stats looked up by listener name). */
struct gen *server_gen_new(struct server *srv, struct config *cfg);

/* g serves from now on: its limits become /metrics' gauges. */
void server_gen_publish(struct server *srv, const struct gen *g);

/* Build worker w's listener set for generation g, reusing matching sockets
 * of `old` (NULL at start).  Returns NULL after logging. */
struct listener_set *server_set_new(struct server *srv, struct worker *w,
                                    struct gen *g, struct listener_set *old);

/* Bind /metrics per cfg's `stats` key, accepting at once; *out is NULL
 * when stats = off.  Returns -1 after logging when it cannot bind. */
int server_stats_open(struct server *srv, const struct config *cfg,
                      struct stats_http **out);

/* Make h (NULL: none) the /metrics endpoint, stopping the previous one,
 * and announce it (with a warning when srv->gen's `stats` is not a
 * loopback address). */
void server_stats_install(struct server *srv, struct stats_http *h);

/* Reload the configuration file (SIGHUP).  Returns 0 when applied. */
int server_reload(struct server *srv);

#endif
