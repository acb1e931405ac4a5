/* The running daemon: one event base, the listeners, the live-connection
 * count and the shutdown sequence.  Shared by listener.c and session.c. */
#ifndef FRONTD_SERVER_H
#define FRONTD_SERVER_H

#include <stdint.h>
#include "config.h"

struct event;
struct event_base;
struct listener;

struct server {
	const struct config *cfg;       /* owned by the caller of server_create */
	struct event_base *base;
	struct listener *listeners;     /* one per [listener:NAME] */
	size_t nlisteners;
	uint64_t active;                /* open client connections, all listeners */
	int stopping;                   /* SIGTERM seen: draining */
	int backoff;                    /* accepting paused after EMFILE & co */
	int mptcp_refusal_warned;       /* "kernel refuses MPTCP" said once */
	uint64_t sweep_ms;              /* idle-sweep period */
	struct event *sig_term, *sig_int, *sweep, *shutdown_timer, *backoff_timer;
};

typedef void (*server_ready_fn)(void *arg);

/* Bind every listener of cfg (before any fork: only plain descriptors are
 * created).  Returns NULL after logging the reason. */
struct server *server_create(const struct config *cfg);

/* Create the event loop, call ready(arg) once listeners accept, and run
 * until stopped and drained.  Returns 0 on a clean stop, -1 on error. */
int server_run(struct server *srv, server_ready_fn ready, void *arg);

void server_free(struct server *srv);   /* NULL is a no-op */

/* Re-evaluate, for every listener, whether it may accept: not stopping,
 * not backing off, and under the global and per-listener limits. */
void server_update_accepting(struct server *srv);

/* Accepting failed for lack of descriptors or memory: pause all listeners
 * for a while instead of spinning on a readable listening socket. */
void server_backoff(struct server *srv, int err);

/* A session ended: bookkeeping, resume accepting, finish a drain. */
void server_session_ended(struct server *srv);

/* Monotonic milliseconds (coarse clock: cheap enough per event). */
uint64_t server_now_ms(void);

#endif
