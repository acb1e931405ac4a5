/* The running daemon: listeners, limits, idle sweep, signals and drain. */
#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "listener.h"
#include "log.h"
#include "server.h"
#include "session.h"

#define BACKOFF_MS 250          /* pause after EMFILE & co */

uint64_t server_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct timeval ms_tv(uint64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000),
	                      (suseconds_t)((ms % 1000) * 1000) };
	return tv;
}

struct server *server_create(const struct config *cfg)
{
	struct server *srv = calloc(1, sizeof(*srv));

	if (srv == NULL) {
		log_error("out of memory");
		return NULL;
	}
	srv->cfg = cfg;
	srv->listeners = calloc(cfg->nlisteners, sizeof(*srv->listeners));
	if (srv->listeners == NULL) {
		log_error("out of memory");
		free(srv);
		return NULL;
	}
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		if (listener_open(&srv->listeners[i], srv,
		                  &cfg->listeners[i]) < 0) {
			server_free(srv);
			return NULL;
		}
		srv->nlisteners++;
	}
	return srv;
}

void server_update_accepting(struct server *srv)
{
	int global_room = srv->active < srv->cfg->max_connections;

	for (size_t i = 0; i < srv->nlisteners; i++) {
		struct listener *l = &srv->listeners[i];
		listener_set_accepting(l, !srv->stopping && !srv->backoff &&
		                          global_room && listener_has_room(l));
	}
}

static void on_backoff_end(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	srv->backoff = 0;
	server_update_accepting(srv);
}

void server_backoff(struct server *srv, int err)
{
	struct timeval tv = ms_tv(BACKOFF_MS);

	if (srv->backoff)
		return;
	log_warn("accept: %s: pausing new connections for %d ms "
	         "(%llu open)", strerror(err), BACKOFF_MS,
	         (unsigned long long)srv->active);
	srv->backoff = 1;
	server_update_accepting(srv);
	evtimer_add(srv->backoff_timer, &tv);
}

static void stop_loop_if_drained(struct server *srv)
{
	if (srv->stopping && srv->active == 0 && srv->base != NULL)
		event_base_loopbreak(srv->base);
}

void server_session_ended(struct server *srv)
{
	server_update_accepting(srv);
	stop_loop_if_drained(srv);
}

static void close_all_sessions(struct server *srv, enum session_end why)
{
	for (size_t i = 0; i < srv->nlisteners; i++)
		session_close_all(&srv->listeners[i], why);
}

static void on_shutdown_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	log_info("shutdown_timeout reached: closing %llu connections",
	         (unsigned long long)srv->active);
	close_all_sessions(srv, SESSION_END_SHUTDOWN);
	event_base_loopbreak(srv->base);
}

static const char *signal_name(int sig)
{
	return sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "signal";
}

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;
	struct timeval tv;

	if (srv->stopping) {
		log_info("%s again: closing %llu connections now",
		         signal_name((int)sig), (unsigned long long)srv->active);
		close_all_sessions(srv, SESSION_END_SHUTDOWN);
		event_base_loopbreak(srv->base);
		return;
	}
	srv->stopping = 1;
	/* Closing (not just pausing) the listening sockets makes new
	 * connection attempts fail at once instead of waiting in a backlog
	 * nobody will accept from. */
	for (size_t i = 0; i < srv->nlisteners; i++)
		listener_close(&srv->listeners[i]);
	log_info("%s: stopped accepting, draining %llu connections "
	         "(shutdown_timeout %llu ms)", signal_name((int)sig),
	         (unsigned long long)srv->active,
	         (unsigned long long)srv->cfg->shutdown_timeout_ms);
	tv = ms_tv(srv->cfg->shutdown_timeout_ms);
	evtimer_add(srv->shutdown_timer, &tv);
	stop_loop_if_drained(srv);
}

static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	uint64_t now = server_now_ms();

	for (size_t i = 0; i < srv->nlisteners; i++)
		session_sweep_idle(&srv->listeners[i], now);
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

int server_run(struct server *srv, server_ready_fn ready, void *arg)
{
	struct timeval tv;

	srv->base = event_base_new();
	if (srv->base == NULL) {
		log_error("cannot create the event loop");
		return -1;
	}
	for (size_t i = 0; i < srv->nlisteners; i++)
		if (listener_attach(&srv->listeners[i], srv->base) < 0)
			return -1;
	srv->sig_term = evsignal_new(srv->base, SIGTERM, on_stop_signal, srv);
	srv->sig_int = evsignal_new(srv->base, SIGINT, on_stop_signal, srv);
	srv->shutdown_timer = evtimer_new(srv->base, on_shutdown_timeout, srv);
	srv->backoff_timer = evtimer_new(srv->base, on_backoff_end, srv);
	srv->sweep = event_new(srv->base, -1, EV_PERSIST, on_sweep, srv);
	if (!srv->sig_term || !srv->sig_int || !srv->shutdown_timer ||
	    !srv->backoff_timer || !srv->sweep) {
		log_error("cannot create events");
		return -1;
	}
	evsignal_add(srv->sig_term, NULL);
	evsignal_add(srv->sig_int, NULL);
	srv->sweep_ms = sweep_period(srv->cfg);
	tv = ms_tv(srv->sweep_ms);
	event_add(srv->sweep, &tv);
	server_update_accepting(srv);
	if (ready)
		ready(arg);
	if (event_base_dispatch(srv->base) < 0) {
		log_error("event loop failed");
		return -1;
	}
	return 0;
}

void server_free(struct server *srv)
{
	if (srv == NULL)
		return;
	for (size_t i = 0; i < srv->nlisteners; i++) {
		session_close_all(&srv->listeners[i], SESSION_END_SHUTDOWN);
		listener_close(&srv->listeners[i]);
	}
	free(srv->listeners);
	if (srv->sig_term)
		event_free(srv->sig_term);
	if (srv->sig_int)
		event_free(srv->sig_int);
	if (srv->shutdown_timer)
		event_free(srv->shutdown_timer);
	if (srv->backoff_timer)
		event_free(srv->backoff_timer);
	if (srv->sweep)
		event_free(srv->sweep);
	if (srv->base)
		event_base_free(srv->base);
	free(srv);
}
