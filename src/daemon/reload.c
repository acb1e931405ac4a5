/* SIGHUP: load the configuration file again and, when it is valid, make it
 * the current generation without dropping anything.
 *
 *   1. Parse and validate.  Any error: log them all, change nothing.
 *   2. Bind a changed `stats` address (the old endpoint keeps serving
 *      meanwhile).  For every worker, build a listener set for the new
 *      generation, taking over each listening socket whose configured
 *      address, v6only and mptcp mode are unchanged (the port never
 *      closes) and opening new ones for the rest (SO_REUSEPORT lets a TCP
 *      and an MPTCP socket share the port while both exist).  Any
 *      failure: give the sockets back, close the new ones and the new
 *      stats socket, change nothing.
 *   3. Apply the global settings that can change at run time.
 *   4. Hand each worker its set; it swaps it in on its own thread.  The
 *      old set stops accepting (closing the sockets nobody took over) and
 *      lives on until its last session ends: established connections keep
 *      the settings they started with.
 * Runs on the main thread only (the SIGHUP event is on worker 0's loop). */
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fleet.h"
#include "listener.h"
#include "log.h"
#include "notify.h"
#include "relay.h"
#include "server.h"
#include "stats_http.h"
#include "worker.h"

#define RELOAD_RETRY_MS 50

static void on_reload_retry(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	if (!srv->stopping)
		server_reload(srv);
}

/* A reload is still being picked up by some worker: try again soon rather
 * than hand it a second set before it took the first. */
static int defer(struct server *srv)
{
	struct timeval tv = { 0, RELOAD_RETRY_MS * 1000 };

	if (srv->reload_retry == NULL)
		srv->reload_retry = evtimer_new(srv->pool.workers[0].base,
		                                on_reload_retry, srv);
	if (srv->reload_retry == NULL)
		return -1;
	evtimer_add(srv->reload_retry, &tv);
	log_debug("reload: previous one still being applied; retrying");
	return 0;
}

static int same_text(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	       (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Settings that take effect at once.  Returns 0, or -1 when a new log
 * target cannot be opened (then nothing was changed). */
static int apply_globals(struct server *srv, const struct config *old,
                         const struct config *cfg)
{
	/* First, as the one change that can be refused for lack of
	 * CAP_NET_ADMIN (privileges dropped without announce at start). */
	if (fleet_apply(cfg) < 0) {
		log_error("reload: announce cannot be applied; keeping the old "
		          "configuration");
		return -1;
	}
	if (!same_text(old->log, cfg->log) && log_open(cfg->log) < 0) {
		log_error("reload: log %s: cannot open; keeping the old "
		          "configuration", cfg->log);
		fleet_apply(old);
		return -1;
	}
	if (!same_text(old->access_log, cfg->access_log) &&
	    log_access_open(cfg->access_log) < 0) {
		log_error("reload: access_log %s: cannot open; keeping the old "
		          "configuration", cfg->access_log);
		if (!same_text(old->log, cfg->log))
			log_open(old->log);
		fleet_apply(old);
		return -1;
	}
	log_access_set_format(cfg->access_log_json ? LOG_ACCESS_JSON
	                                           : LOG_ACCESS_KV);
	if (srv->log_level_override < 0)
		log_set_level(cfg->log_level);
	atomic_store(&srv->pool.max_connections, cfg->max_connections);
	relay_set_splice(cfg->splice);
	relay_set_pipe_size(cfg->pipe_size);
	if (cfg->workers != old->workers)
		log_warn("reload: workers changed: takes effect at the next "
		         "restart (running %u)", srv->pool.nworkers);
	if (!same_text(old->pidfile, cfg->pidfile))
		log_warn("reload: pidfile changed: takes effect at the next "
		         "restart");
	if (!same_text(old->user, cfg->user) ||
	    !same_text(old->group, cfg->group))
		log_warn("reload: user or group changed: takes effect at the "
		         "next restart");
	return 0;
}

static int stats_changed(const struct config *old, const struct config *cfg)
{
	if (old->stats_enabled != cfg->stats_enabled)
		return 1;
	return cfg->stats_enabled && !addr_equal(&old->stats, &cfg->stats);
}

static void abandon_sets(struct listener_set **sets, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		for (size_t j = 0; j < sets[i]->gen->cfg->nlisteners; j++)
			listener_abandon(&sets[i]->listeners[j]);
		free(sets[i]->listeners);
		atomic_fetch_sub(&sets[i]->gen->refs, 1);
		free(sets[i]);
	}
}

static int reload(struct server *srv)
{
	struct config_errors errs = { 0 };
	struct config *cfg = NULL;
	struct listener_set **sets;
	struct gen *g, *old = srv->gen;
	struct stats_http *stats = NULL;
	unsigned built = 0;
	int restats, stats_ok;

	log_info("SIGHUP: reloading %s", srv->config_path);
	if (config_load(srv->config_path, &cfg, &errs) < 0) {
		for (size_t i = 0; i < errs.n; i++)
			log_error("reload: %s", errs.msg[i]);
		log_error("reload failed (%zu error%s): still running "
		          "configuration generation %u", errs.n,
		          errs.n == 1 ? "" : "s", old->id);
		config_errors_free(&errs);
		return -1;
	}
	sets = calloc(srv->pool.nworkers, sizeof(*sets));
	g = sets ? server_gen_new(srv, cfg) : NULL;
	if (g == NULL) {
		log_error("reload: out of memory: still running generation %u",
		          old->id);
		free(sets);
		config_free(cfg);
		return -1;
	}
	/* A new /metrics address is bound first, while the old endpoint
	 * still serves: a failure keeps both the old configuration and it. */
	restats = stats_changed(old->cfg, cfg);
	stats_ok = !restats || server_stats_open(srv, cfg, &stats) == 0;
	for (; stats_ok && built < srv->pool.nworkers; built++) {
		struct worker *w = &srv->pool.workers[built];
		/* server_set_new binds workers after the first to the
		 * addresses worker 0's new set got. */
		struct listener_set *keep0 = srv->latest[0];
		if (built > 0)
			srv->latest[0] = sets[0];
		sets[built] = server_set_new(srv, w, g, srv->latest[built]);
		srv->latest[0] = keep0;
		if (sets[built] == NULL)
			break;
	}
	if (!stats_ok || built < srv->pool.nworkers ||
	    apply_globals(srv, old->cfg, cfg) < 0) {
		stats_http_stop(stats);
		abandon_sets(sets, built);
		free(sets);
		log_error("reload failed: still running configuration "
		          "generation %u", old->id);
		config_free(g->cfg);
		free(g->stats);
		free(g->health);
		free(g);
		return -1;
	}
	/* Committed: from here on nothing fails. */
	srv->gen = g;
	server_gen_publish(srv, g);
	atomic_fetch_add(&g->refs, 1);          /* the server's reference */
	atomic_store(&srv->pool.swapped, 0);
	for (unsigned i = 0; i < srv->pool.nworkers; i++) {
		srv->latest[i] = sets[i];
		atomic_store(&srv->pool.workers[i].pending, sets[i]);
		worker_send(&srv->pool.workers[i], WORKER_MSG_SWAP);
	}
	free(sets);
	if (restats)
		server_stats_install(srv, stats);
	log_info("reloaded %s: configuration generation %u, %zu listener%s",
	         srv->config_path, g->id, cfg->nlisteners,
	         cfg->nlisteners == 1 ? "" : "s");
	gen_unref(old);                  /* the server's reference */
	return 0;
}

int server_reload(struct server *srv)
{
	int rc;

	if (atomic_load(&srv->pool.swapped) != srv->pool.nworkers)
		return defer(srv);
	notify_reloading();
	rc = reload(srv);
	stats_config_loaded(&srv->config_stats, 1, rc == 0, srv->gen->id);
	/* Done either way: a failed reload leaves the old configuration
	 * serving. */
	notify_ready();
	return rc;
}
