/* A worker thread's event loop (see server.h for struct worker). */
#ifndef FRONTD_WORKER_H
#define FRONTD_WORKER_H

#include "server.h"

enum worker_msg {
	WORKER_MSG_STOP = 'S',  /* stop accepting and drain; twice: close now */
	WORKER_MSG_WAKE = 'W',  /* a connection slot freed up: re-check limits */
	WORKER_MSG_SWAP = 'H',  /* a reload left a new listener set in pending */
};

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

/* Accepting failed for lack of descriptors or memory: pause w for a while
 * instead of spinning on a readable listening socket. */
void worker_backoff(struct worker *w, int err);

/* A session of w on listener l ended (after server_release). */
void worker_session_ended(struct worker *w, struct listener *l);

void worker_free(struct worker *w);

#endif
