/* The daemon as a whole: workers and their threads, shared connection
 * limits, signals. */
#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "listener.h"
#include "log.h"
#include "server.h"
#include "worker.h"

uint64_t server_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct server *server_create(const struct config *cfg, unsigned nworkers)
{
	struct server *srv = calloc(1, sizeof(*srv));

	if (srv == NULL)
		goto nomem;
	srv->cfg = cfg;
	srv->stats = calloc(cfg->nlisteners, sizeof(*srv->stats));
	srv->workers = calloc(nworkers, sizeof(*srv->workers));
	if (srv->stats == NULL || srv->workers == NULL)
		goto nomem;
	for (unsigned i = 0; i < nworkers; i++) {
		struct worker *w = &srv->workers[i];
		w->srv = srv;
		w->id = i;
		w->ctl[0] = w->ctl[1] = -1;
		w->listeners = calloc(cfg->nlisteners, sizeof(*w->listeners));
		srv->nworkers++;
		if (w->listeners == NULL)
			goto nomem;
		for (size_t j = 0; j < cfg->nlisteners; j++) {
			const struct listener *first =
				i == 0 ? NULL : &srv->workers[0].listeners[j];
			if (listener_open(&w->listeners[j], w,
			                  &cfg->listeners[j], &srv->stats[j],
			                  first) < 0) {
				server_free(srv);
				return NULL;
			}
		}
	}
	return srv;
nomem:
	log_error("out of memory");
	server_free(srv);
	return NULL;
}

int server_reserve(struct worker *w, struct listener *l)
{
	struct server *srv = w->srv;
	uint64_t lmax = l->cfg->max_connections;

	if (atomic_fetch_add(&srv->active, 1) >= srv->cfg->max_connections) {
		atomic_fetch_sub(&srv->active, 1);
		goto full;
	}
	/* The per-listener count is kept even without a limit: /metrics
	 * shows it. */
	if (atomic_fetch_add(&l->stats->active, 1) >= lmax && lmax != 0) {
		atomic_fetch_sub(&l->stats->active, 1);
		atomic_fetch_sub(&srv->active, 1);
		goto full;
	}
	return 1;
full:
	worker_update_accepting(w);
	return 0;
}

void server_release(struct worker *w, struct listener *l)
{
	struct server *srv = w->srv;
	uint64_t lmax = l->cfg->max_connections;
	int was_full = atomic_fetch_sub(&srv->active, 1) >=
	               srv->cfg->max_connections;

	if (atomic_fetch_sub(&l->stats->active, 1) >= lmax && lmax != 0)
		was_full = 1;
	if (!was_full)
		return;
	/* Someone may be waiting for this slot. */
	for (unsigned i = 0; i < srv->nworkers; i++) {
		struct worker *x = &srv->workers[i];
		if (x == w)
			worker_update_accepting(w);
		else if (atomic_load(&x->limit_paused))
			worker_send(x, WORKER_MSG_WAKE);
	}
}

static const char *signal_name(int sig)
{
	return sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "signal";
}

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;

	log_info("%s: stopping: listeners closed, draining %llu connections "
	         "(shutdown_timeout %llu ms; send it again to close them now)",
	         signal_name((int)sig),
	         (unsigned long long)atomic_load(&srv->active),
	         (unsigned long long)srv->cfg->shutdown_timeout_ms);
	for (unsigned i = 0; i < srv->nworkers; i++)
		worker_send(&srv->workers[i], WORKER_MSG_STOP);
}

static void on_usr1(evutil_socket_t sig, short what, void *arg)
{
	if (log_reopen() < 0)
		log_error("SIGUSR1: cannot reopen log files: %s", strerror(errno));
	else
		log_info("SIGUSR1: log files reopened");
}

static void on_hup(evutil_socket_t sig, short what, void *arg)
{
	/* Caught so that a stray SIGHUP does not kill a serving daemon. */
	log_warn("SIGHUP: configuration reload is not supported by this "
	         "version; nothing changed (restart to apply a new "
	         "configuration)");
}

static void *worker_thread(void *arg)
{
	struct worker *w = arg;

	worker_loop(w);
	return NULL;
}

int server_run(struct server *srv, server_ready_fn ready, void *arg)
{
	struct event_base *base0;
	sigset_t block, old;
	unsigned started = 1;
	int rc = 0;

	srv->main_thread = pthread_self();
	for (unsigned i = 0; i < srv->nworkers; i++)
		if (worker_init(&srv->workers[i]) < 0)
			return -1;
	base0 = srv->workers[0].base;
	srv->sig_term = evsignal_new(base0, SIGTERM, on_stop_signal, srv);
	srv->sig_int = evsignal_new(base0, SIGINT, on_stop_signal, srv);
	srv->sig_hup = evsignal_new(base0, SIGHUP, on_hup, srv);
	srv->sig_usr1 = evsignal_new(base0, SIGUSR1, on_usr1, srv);
	if (!srv->sig_term || !srv->sig_int || !srv->sig_hup ||
	    !srv->sig_usr1) {
		log_error("cannot create signal events");
		return -1;
	}
	evsignal_add(srv->sig_term, NULL);
	evsignal_add(srv->sig_int, NULL);
	evsignal_add(srv->sig_hup, NULL);
	evsignal_add(srv->sig_usr1, NULL);
	if (srv->cfg->stats_enabled) {
		srv->worker_accepted = calloc(srv->nworkers,
		                              sizeof(*srv->worker_accepted));
		if (srv->worker_accepted == NULL)
			return -1;
		for (unsigned i = 0; i < srv->nworkers; i++)
			srv->worker_accepted[i] = &srv->workers[i].accepted;
		srv->stats_http = stats_http_start(base0, &srv->cfg->stats,
		                                   srv->cfg, srv->stats,
		                                   srv->worker_accepted,
		                                   srv->nworkers);
		if (srv->stats_http == NULL)
			return -1;
	}

	/* Signals are for the main thread: workers start with them blocked. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (; started < srv->nworkers; started++) {
		struct worker *w = &srv->workers[started];
		int err = pthread_create(&w->thread, NULL, worker_thread, w);
		if (err != 0) {
			log_error("worker %u: cannot start a thread: %s", w->id,
			          strerror(err));
			rc = -1;
			break;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc == 0) {
		if (srv->nworkers > 1)
			log_info("%u workers", srv->nworkers);
		if (ready)
			ready(arg);
	} else {
		for (unsigned i = 1; i < started; i++)
			worker_send(&srv->workers[i], WORKER_MSG_STOP);
		worker_send(&srv->workers[0], WORKER_MSG_STOP);
	}
	/* A loopbreak before the loop runs would be forgotten: only run
	 * worker 0 when everything started. */
	if (rc == 0 && worker_loop(&srv->workers[0]) < 0)
		rc = -1;
	for (unsigned i = 1; i < started; i++)
		pthread_join(srv->workers[i].thread, NULL);
	return rc;
}

void server_free(struct server *srv)
{
	if (srv == NULL)
		return;
	stats_http_stop(srv->stats_http);
	if (srv->sig_term)
		event_free(srv->sig_term);
	if (srv->sig_int)
		event_free(srv->sig_int);
	if (srv->sig_hup)
		event_free(srv->sig_hup);
	if (srv->sig_usr1)
		event_free(srv->sig_usr1);
	for (unsigned i = 0; i < srv->nworkers; i++)
		worker_free(&srv->workers[i]);
	free(srv->workers);
	free(srv->stats);
	free(srv->worker_accepted);
	free(srv);
}
