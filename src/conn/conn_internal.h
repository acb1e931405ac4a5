/* Shared by the files of the connection module (conn*.c): struct conn
 * and the steps one file hands to another. */
#ifndef FRONTD_CONN_INTERNAL_H
#define FRONTD_CONN_INTERNAL_H

#include <event2/event.h>
#include <event2/event_struct.h>

#include "conn.h"
#include "mptcp_paths.h"
#include "relay.h"
#include "xport.h"

/* The whole life of a connection.  What is open is derived from it (see
 * conn_check): PROXY_WAIT and HANDSHAKE have no backend socket; CONNECTING
 * does not read the client; RELAYING has both sockets. */
enum conn_state {
	CONN_PROXY_WAIT,        /* reading a balancer's PROXY header */
	CONN_HANDSHAKE,         /* TLS handshake with the client */
	CONN_CONNECTING,        /* backend connect in flight (failover) */
	CONN_RELAYING,          /* header queued first, then bytes both ways */
	CONN_CLOSED,            /* ended: only between conn_end and free */
};

/* bev armed as a timer only (unix backend retry). */
#define CONN_MASK_TIMER 0x100

struct conn {
	struct conn *prev, *next;       /* owner's list */
	struct conn_owner *owner;
	struct event cev, bev;          /* client and backend socket events */
	struct xport cx, bx;            /* client (raw or TLS), backend */
	short cmask, bmask;             /* what cev / bev are armed for */
	uint8_t state;                  /* enum conn_state */
	uint8_t backend_idx;            /* backend in use or being tried */
	uint16_t tried;                 /* backends tried (a bit per index);
	                                   0: none chosen yet */
	uint8_t is_mptcp;               /* how == MPTCP_HOW_MPTCP at accept */
	uint8_t how;                    /* enum mptcp_how, latest known */
	uint8_t subflows;               /* most seen */
	uint8_t first_eof;              /* 0, or 'c' / 'b': who closed first */
	uint8_t source_held;            /* counted in the per-source table */
	uint16_t fwd_len;
	uint16_t lport;                 /* the listening socket's port */
	uint8_t *fwd_tlvs;              /* a balancer's TLVs, until the header */
	struct relay_dir up;            /* client -> backend */
	struct relay_dir down;          /* backend -> client */
	union addr_sa client, local;    /* what the backend is told */
	uint64_t start_ms, last_ms;
	uint64_t deadline_ms;           /* of the header, handshake or connect */
	uint64_t connect_us;            /* this backend's connect began */
	uint64_t next_probe_ms;         /* next MPTCP subflow sample */
	uint32_t token;                 /* in owner->watch's table; 0: not */
	struct conn *tnext;             /* that table's chain */
	struct mptcp_paths *paths;      /* path record; NULL until needed */
};

/* The one exit (conn.c): logs, counts, closes (with RST where asked),
 * tells the owner, frees. */
void conn_end(struct conn *c, enum end_reason why, int reset_client,
              int reset_backend);

/* Arm ev for `want` (EV_* flags, CONN_MASK_TIMER, or 0 to disarm) with an
 * optional timeout; cur is what it is armed for now. */
void conn_arm(struct conn *c, struct event *ev, int fd, short *cur,
              short want, event_callback_fn cb, const struct timeval *tv);

/* Derive both sockets' interests from the relay's state. */
void conn_rearm(struct conn *c);

/* Activity: sample the subflows when due, move to the owner list's tail. */
void conn_touch(struct conn *c);

static inline short conn_ev_of(uint8_t want)
{
	return want == XPORT_WANT_WRITE ? EV_WRITE : EV_READ;
}

/* The client's address for messages. */
const char *conn_client_text(const struct conn *c, char *buf, size_t len);

/* Backend side (conn_backend.c): connect to the first backend the
 * failover order and the backends' health allow (the first call), or on
 * with the current one; the next one when it fails; RELAYING once
 * connected. */
void conn_try_backend(struct conn *c);
void conn_on_backend(evutil_socket_t fd, short what, void *arg);

/* Relay (conn_relay.c): run the directions the events allow. */
void conn_relay(struct conn *c, short cwhat, short bwhat);

/* Move one direction; -1 when the connection ended. */
int conn_pump(struct conn *c, int upward);

/* The path record (conn_paths.c): classify at accept (how, token,
 * subflows; enters the watch's table), sample (allocating the record on
 * first use; final = the close sample, while the socket is open), and at
 * the end count and free it. */
void conn_paths_accept(struct conn *c, int fd, int mptcp_listener);
void conn_paths_probe(struct conn *c, uint64_t now, int final);
unsigned conn_paths_joins(const struct conn *c);
void conn_paths_end(struct conn *c);

/* The members every JSON view of c shares (conn_json.c), without braces:
 * listener, client, local, port, backend (when with_backend, else null),
 * proto, how, subflows_seen, joins, bytes_in, bytes_out, and subflows
 * (the path record's array, or null without a record).  Returns the
 * length, or -1 when it does not fit in len. */
int conn_json_members(const struct conn *c, int with_backend, char *buf,
                      size_t len);

/* Refusals (conn_refuse.c).  One info line per window for all the
 * refusals clients cause, the rest at debug: `what` and `reason` as in
 * "listener L: client A: WHAT: REASON". */
void conn_refusal_log(const struct conn *c, const char *what,
                      const char *reason);

/* Count a connection from sa against its source's limit: 1 when counted
 * (*held set) or not limited, 0 at the limit, -1 out of memory. */
int conn_source_take(struct conn_owner *o, const struct sockaddr *sa,
                     uint8_t *held);
void conn_source_release(struct conn_owner *o, const struct sockaddr *sa);

/* A connection refused at accept (rc: conn_source_take's 0 or -1)
 * before anything was allocated for it: logged, counted, closed, and
 * the owner told, as conn_end does. */
void conn_refuse_at_accept(struct conn_owner *o, const struct conn_accept *a,
                           int rc);

/* The access-log line (conn_log.c). */
void conn_log_access(const struct conn *c, enum end_reason why);

/* Invariants, checked after each step in builds with
 * FRONTD_CHECK_INVARIANTS (the sanitizer builds). */
#ifdef FRONTD_CHECK_INVARIANTS
void conn_check(const struct conn *c);
#else
static inline void conn_check(const struct conn *c) { (void)c; }
#endif

#endif
