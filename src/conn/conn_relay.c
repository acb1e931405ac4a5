/* A relaying connection's callbacks: run the directions its events allow
 * through relay_pump, turn a relay failure into the end reason of the side
 * that failed, end the connection when both directions are finished. */
#include <errno.h>
#include <string.h>

#include "config.h"
#include "conn_internal.h"
#include "log.h"
#include "stats.h"

/* Whose doing a relay failure was.  A TLS client end that fails with
 * EPROTO broke the protocol (tls_xport.c): a renegotiation attempt, a
 * forged or garbled record.  `error` is kept for what is not a client's
 * doing, so that a client cannot raise the counter operators watch. */
static enum end_reason end_of(const struct conn *c, int client_side,
                              int reset, int err)
{
	if (reset)
		return client_side ? END_CLIENT_RESET : END_BACKEND_RESET;
	if (client_side && err == EPROTO && !xport_is_raw(&c->cx))
		return END_TLS_PROTOCOL;
	return END_ERROR;
}

/* A relay error: one side failed, so the other is reset too. */
static void relay_failed(struct conn *c, enum relay_result r, int err,
                         int client_is_src)
{
	const char *name = c->owner->cfg->name;
	char why_text[256];
	const char *t;
	int client_side, reset;

	if (r == RELAY_NOMEM) {
		log_warn("listener %s: out of memory relaying", name);
		c->cx.failed = 1;
		conn_end(c, END_ERROR, 1, 1);
		return;
	}
	client_side = (r == RELAY_SRC_ERROR) == client_is_src;
	reset = xport_errno_is_reset(err);
	/* A transport that knows better than errno (TLS) says what broke;
	 * that is the client's doing, told at debug level. */
	t = xport_error(client_side ? &c->cx : &c->bx, err, why_text,
	                sizeof(why_text));
	if (t != NULL) {
		char caddr[ADDR_STRLEN];
		log_debug("listener %s: client %s: TLS: %s", name,
		          conn_client_text(c, caddr, sizeof(caddr)), t);
	} else if (!reset) {
		log_warn("listener %s: %s socket: %s", name,
		         client_side ? "client" : "backend", strerror(err));
	}
	conn_end(c, end_of(c, client_side, reset, err), !client_side,
	         client_side);
}

int conn_pump(struct conn *c, int upward)
{
	struct relay_dir *d = upward ? &c->up : &c->down;
	struct listener_stats *st = c->owner->stats;
	uint64_t before = d->bytes;
	enum relay_result r;
	int err = 0;

	/* When the other direction is finished, this one's EOF ends the
	 * connection and the close right after it carries the FIN. */
	d->fin_by_close = relay_done(upward ? &c->down : &c->up);
	r = upward ? relay_pump(d, &c->cx, &c->bx, &err)
	           : relay_pump(d, &c->bx, &c->cx, &err);
	if (d->bytes != before)
		stats_add(upward ? &st->bytes_in : &st->bytes_out,
		          d->bytes - before);
	if (r != RELAY_OK) {
		relay_failed(c, r, err, upward);
		return -1;
	}
	return 0;
}

void conn_relay(struct conn *c, short cwhat, short bwhat)
{
	/* Which event serves which direction depends on what each end's
	 * transport last waited for (a TLS read may need the socket
	 * writable). */
	int up = ((cwhat & conn_ev_of(c->cx.want_recv)) && relay_wants_read(&c->up)) ||
	         ((bwhat & conn_ev_of(c->bx.want_send)) && relay_wants_write(&c->up));
	int down = ((bwhat & conn_ev_of(c->bx.want_recv)) &&
	            relay_wants_read(&c->down)) ||
	           ((cwhat & conn_ev_of(c->cx.want_send)) &&
	            relay_wants_write(&c->down));

	if (up && conn_pump(c, 1) < 0)
		return;
	if (down && conn_pump(c, 0) < 0)
		return;
	if (relay_done(&c->up) && relay_done(&c->down)) {
		conn_end(c, c->first_eof == 'b' ? END_BACKEND_CLOSE
		                                : END_CLIENT_CLOSE, 0, 0);
		return;
	}
	if (!c->first_eof)
		c->first_eof = c->up.eof ? 'c' : c->down.eof ? 'b' : 0;
	conn_rearm(c);
}
