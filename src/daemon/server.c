/* The daemon as a whole: generations, workers and their threads, shared
 * connection limits, signals. */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "listener.h"
#include "log.h"
#include "notify.h"
#include "sockact.h"
#include "server.h"
#include "stats_http.h"
#include "worker.h"

/* libevent's own diagnostics go to our log, with our levels, instead of
 * its default of bare lines on stderr. */
static void on_libevent_log(int severity, const char *msg)
{
	switch (severity) {
	case EVENT_LOG_DEBUG:
		log_debug("libevent: %s", msg);
		break;
	case EVENT_LOG_MSG:
		log_info("libevent: %s", msg);
		break;
	case EVENT_LOG_WARN:
		log_warn("libevent: %s", msg);
		break;
	default:
		log_error("libevent: %s", msg);
		break;
	}
}

/* g->health: every backend's entry, by address text in its listener's
 * stats, so a backend kept by a reload keeps its state and counters (and
 * a reload that reorders the list moves nothing but pointers).  Returns 0,
 * or -1 when out of memory. */
static int gen_health_new(struct gen *g)
{
	const struct config *cfg = g->cfg;
	size_t total = 0;
	struct backend_health **slot;

	for (size_t i = 0; i < cfg->nlisteners; i++)
		total += cfg->listeners[i].nbackends;
	g->health = calloc(1, cfg->nlisteners * sizeof(*g->health) +
	                      total * sizeof(**g->health));
	if (g->health == NULL)
		return -1;
	slot = (struct backend_health **)(g->health + cfg->nlisteners);
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		const struct listener_cfg *l = &cfg->listeners[i];
		g->health[i] = slot;
		for (size_t j = 0; j < l->nbackends; j++) {
			char text[ADDR_STRLEN];
			addr_format((const struct sockaddr *)&l->backends[j].ss,
			            l->backends[j].len, text, sizeof(text));
			*slot = stats_backend(g->stats[i], text);
			if (*slot++ == NULL)
				return -1;
		}
	}
	return 0;
}

struct gen *server_gen_new(struct server *srv, struct config *cfg)
{
	static unsigned next_id = 1;
	struct gen *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return NULL;
	g->cfg = cfg;
	g->id = next_id++;
	g->stats = calloc(cfg->nlisteners, sizeof(*g->stats));
	if (g->stats == NULL)
		goto fail;
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		g->stats[i] = stats_lookup(&srv->stats_head,
		                           cfg->listeners[i].name);
		if (g->stats[i] == NULL)
			goto fail;
	}
	if (gen_health_new(g) < 0)
		goto fail;
	config_announce(cfg);
	return g;
fail:
	free(g->health);
	free(g->stats);
	free(g);
	return NULL;
}

void server_gen_publish(struct server *srv, const struct gen *g)
{
	atomic_store(&srv->config_stats.max_connections,
	             g->cfg->max_connections);
	/* A removed listener keeps its counters but no longer has a limit. */
	for (struct listener_stats *st = srv->stats_head; st != NULL;
	     st = st->next)
		atomic_store(&st->max_connections, 0);
	for (size_t i = 0; i < g->cfg->nlisteners; i++)
		atomic_store(&g->stats[i]->max_connections,
		             g->cfg->listeners[i].max_connections);
}

static void set_abandon(struct listener_set *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		listener_abandon(&set->listeners[i]);
	free(set->listeners);
	free(set);
}

struct listener_set *server_set_new(struct server *srv, struct worker *w,
                                    struct gen *g, struct listener_set *old)
{
	const struct config *cfg = g->cfg;
	struct listener_set *set = calloc(1, sizeof(*set));
	size_t nold = old ? gen_set_size(old) : 0;

	if (set == NULL || (set->listeners = calloc(cfg->nlisteners,
	                                            sizeof(*set->listeners))) == NULL) {
		log_error("out of memory");
		free(set);
		return NULL;
	}
	set->gen = g;
	for (size_t j = 0; j < cfg->nlisteners; j++) {
		/* Workers after the first bind what worker 0's copy got,
		 * so port 0 resolves to one port for all of them. */
		const struct listener *first =
			w->id == 0 ? NULL : &srv->latest[0]->listeners[j];
		if (listener_open(&set->listeners[j], &cfg->listeners[j],
		                  g->stats[j], first,
		                  old ? old->listeners : NULL, nold) < 0) {
			set_abandon(set, j);
			return NULL;
		}
		set->listeners[j].conns.health = g->health[j];
	}
	worker_adopt(w, set);
	atomic_fetch_add(&g->refs, 1);
	return set;
}

/* Whether path records need the path manager's events: some listener
 * may accept MPTCP. */
static int wants_events(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->nlisteners; i++)
		if (cfg->listeners[i].mptcp != MPTCP_MODE_OFF)
			return 1;
	return 0;
}

struct server *server_create(struct config *cfg, unsigned nworkers)
{
	struct server *srv = calloc(1, sizeof(*srv));

	if (srv == NULL) {
		log_error("out of memory");
		config_free(cfg);
		return NULL;
	}
	srv->log_level_override = -1;
	event_set_log_callback(on_libevent_log);
	srv->ended_pipe[0] = srv->ended_pipe[1] = -1;
	atomic_store(&srv->pool.max_connections, cfg->max_connections);
	srv->gen = server_gen_new(srv, cfg);
	srv->pool.workers = calloc(nworkers, sizeof(*srv->pool.workers));
	srv->latest = calloc(nworkers, sizeof(*srv->latest));
	if (srv->gen == NULL || srv->pool.workers == NULL || srv->latest == NULL) {
		log_error("out of memory");
		if (srv->gen == NULL)
			config_free(cfg);
		server_free(srv);
		return NULL;
	}
	/* The server holds the current generation until it is replaced. */
	atomic_store(&srv->gen->refs, 1);
	stats_config_loaded(&srv->config_stats, 0, 1, srv->gen->id);
	server_gen_publish(srv, srv->gen);
	for (unsigned i = 0; i < nworkers; i++) {
		struct worker *w = &srv->pool.workers[i];
		w->pool = &srv->pool;
		w->id = i;
		w->ctl[0] = w->ctl[1] = -1;
		conn_watch_init(&w->watch);
		/* Now, while privileged: joining the event group needs
		 * CAP_NET_ADMIN.  A reload that adds the first MPTCP listener
		 * gets no events (samples only). */
		if (i == 0 ? wants_events(cfg) : srv->pool.workers[0].watch.fd >= 0)
			conn_watch_open(&w->watch);
		srv->pool.nworkers++;
		w->cur = server_set_new(srv, w, srv->gen, NULL);
		if (w->cur == NULL) {
			server_free(srv);
			return NULL;
		}
		srv->latest[i] = w->cur;
	}
	atomic_store(&srv->pool.swapped, srv->pool.nworkers);    /* all on gen 1 */
	return srv;
}

static const char *signal_name(int sig)
{
	return sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" :
	       sig == SIGQUIT ? "SIGQUIT" : "signal";
}

/* SIGTERM and SIGINT: the first drains, the next closes what is left.
 * SIGQUIT (nginx's graceful stop) only ever drains. */
static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;
	unsigned long long active = atomic_load(&srv->pool.active);

	if (srv->stopping && sig == SIGQUIT) {
		log_info("SIGQUIT: already draining %llu connections", active);
		return;
	}
	if (srv->stopping) {
		log_info("%s: closing the %llu connections still open",
		         signal_name((int)sig), active);
	} else {
		srv->stopping = 1;
		notify_stopping();
		log_info("%s: stopping: listeners closed, draining %llu "
		         "connections (shutdown_timeout %llu ms; %s)",
		         signal_name((int)sig), active,
		         (unsigned long long)srv->gen->cfg->shutdown_timeout_ms,
		         sig == SIGQUIT ? "SIGTERM closes them now"
		                        : "send it again to close them now");
	}
	for (unsigned i = 0; i < srv->pool.nworkers; i++)
		worker_send(&srv->pool.workers[i], WORKER_MSG_STOP);
}

/* A worker thread's loop ended (see struct server). */
static void on_thread_ended(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	char buf[64];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	if (srv->main_drained && atomic_load(&srv->threads_running) == 0)
		event_base_loopbreak(srv->pool.workers[0].base);
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
	struct server *srv = arg;

	if (srv->stopping) {
		log_warn("SIGHUP while stopping: not reloading");
		return;
	}
	server_reload(srv);
}

static void *worker_thread(void *arg)
{
	struct worker *w = arg;
	/* The pool a worker knows is part of the server. */
	struct server *srv = (struct server *)((char *)w->pool -
	                                       offsetof(struct server, pool));

	worker_loop(w);
	atomic_fetch_sub(&srv->threads_running, 1);
	if (write(srv->ended_pipe[1], "", 1) < 0 && errno != EAGAIN)
		log_warn("worker %u: cannot tell the main thread it ended: %s",
		         w->id, strerror(errno));
	return NULL;
}

static int add_signals(struct server *srv, struct event_base *base)
{
	srv->sig_term = evsignal_new(base, SIGTERM, on_stop_signal, srv);
	srv->sig_int = evsignal_new(base, SIGINT, on_stop_signal, srv);
	srv->sig_quit = evsignal_new(base, SIGQUIT, on_stop_signal, srv);
	srv->sig_hup = evsignal_new(base, SIGHUP, on_hup, srv);
	srv->sig_usr1 = evsignal_new(base, SIGUSR1, on_usr1, srv);
	if (!srv->sig_term || !srv->sig_int || !srv->sig_quit ||
	    !srv->sig_hup || !srv->sig_usr1) {
		log_error("cannot create signal events");
		return -1;
	}
	evsignal_add(srv->sig_term, NULL);
	evsignal_add(srv->sig_int, NULL);
	evsignal_add(srv->sig_quit, NULL);
	evsignal_add(srv->sig_hup, NULL);
	evsignal_add(srv->sig_usr1, NULL);
	if (pipe2(srv->ended_pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
		srv->ended_pipe[0] = srv->ended_pipe[1] = -1;
		log_error("pipe: %s", strerror(errno));
		return -1;
	}
	srv->thread_ended = event_new(base, srv->ended_pipe[0],
	                              EV_READ | EV_PERSIST, on_thread_ended,
	                              srv);
	if (srv->thread_ended == NULL || event_add(srv->thread_ended, NULL)) {
		log_error("cannot create an event");
		return -1;
	}
	return server_upgrade_init(srv);
}

/* /metrics runs on worker 0, i.e. the main thread, which alone changes the
 * stats registry. */
int server_stats_open(struct server *srv, const struct config *cfg,
                      struct stats_http **out)
{
	*out = NULL;
	if (!cfg->stats_enabled) {
		sockact_stats_done();
		return 0;
	}
	if (srv->worker_accepted == NULL) {
		srv->worker_accepted = calloc(srv->pool.nworkers,
		                              sizeof(*srv->worker_accepted));
		if (srv->worker_accepted == NULL) {
			log_error("stats: out of memory");
			return -1;
		}
		for (unsigned i = 0; i < srv->pool.nworkers; i++)
			srv->worker_accepted[i] = &srv->pool.workers[i].accepted;
	}
	*out = stats_http_open(srv->pool.workers[0].base, &cfg->stats,
	                       &srv->stats_head, srv->worker_accepted,
	                       srv->pool.nworkers, &srv->config_stats,
	                       &srv->pool);
	sockact_stats_done();   /* an old binary's socket nobody wanted */
	return *out != NULL ? 0 : -1;
}

void server_stats_install(struct server *srv, struct stats_http *h)
{
	char warning[512];

	stats_http_stop(srv->stats_http);
	srv->stats_http = h;
	if (h == NULL)
		return;
	stats_http_announce(h);
	if (config_stats_exposed(srv->gen->cfg, warning, sizeof(warning)))
		log_warn("%s", warning);
}

int server_run(struct server *srv, server_ready_fn ready, void *arg)
{
	struct stats_http *stats;
	sigset_t block, old;
	unsigned started = 1;
	int rc = 0;

	srv->pool.main_thread = pthread_self();
	for (unsigned i = 0; i < srv->pool.nworkers; i++)
		if (worker_init(&srv->pool.workers[i]) < 0)
			return -1;
	if (add_signals(srv, srv->pool.workers[0].base) < 0 ||
	    server_stats_open(srv, srv->gen->cfg, &stats) < 0)
		return -1;
	server_stats_install(srv, stats);

	/* Signals are for the main thread: workers start with them blocked. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGQUIT);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (; started < srv->pool.nworkers; started++) {
		struct worker *w = &srv->pool.workers[started];
		int err;

		atomic_fetch_add(&srv->threads_running, 1);
		err = pthread_create(&w->thread, NULL, worker_thread, w);
		if (err != 0) {
			atomic_fetch_sub(&srv->threads_running, 1);
			log_error("worker %u: cannot start a thread: %s", w->id,
			          strerror(err));
			rc = -1;
			break;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc == 0) {
		if (srv->pool.nworkers > 1)
			log_info("%u workers", srv->pool.nworkers);
		if (ready)
			ready(arg);
		/* A loopbreak before the loop runs would be forgotten: only
		 * run worker 0 when everything started. */
		if (worker_loop(&srv->pool.workers[0]) < 0)
			rc = -1;
		/* Worker 0 is drained; others may not be.  Its loop keeps
		 * serving signals (a second SIGTERM) and /metrics until they
		 * are. */
		srv->main_drained = 1;
		while (rc == 0 && atomic_load(&srv->threads_running) > 0)
			if (event_base_dispatch(srv->pool.workers[0].base) < 0)
				rc = -1;
	}
	for (unsigned i = 1; i < started; i++) {
		if (rc != 0)
			worker_send(&srv->pool.workers[i], WORKER_MSG_STOP);
		pthread_join(srv->pool.workers[i].thread, NULL);
	}
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
	if (srv->sig_quit)
		event_free(srv->sig_quit);
	if (srv->thread_ended)
		event_free(srv->thread_ended);
	for (int i = 0; i < 2; i++)
		if (srv->ended_pipe[i] >= 0)
			close(srv->ended_pipe[i]);
	server_upgrade_free(srv);
	if (srv->sig_hup)
		event_free(srv->sig_hup);
	if (srv->sig_usr1)
		event_free(srv->sig_usr1);
	if (srv->reload_retry)
		event_free(srv->reload_retry);
	for (unsigned i = 0; i < srv->pool.nworkers; i++)
		worker_free(&srv->pool.workers[i]);
	if (srv->gen != NULL)
		gen_unref(srv->gen);
	free(srv->pool.workers);
	free(srv->latest);
	free(srv->worker_accepted);
	stats_free_all(srv->stats_head);
	free(srv);
}
