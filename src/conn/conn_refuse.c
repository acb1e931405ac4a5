/* Refusals that clients cause at will: the per-source connection limit
 * (max_connections_per_source, counted in include/source_limit.h's
 * table) and the daemon's log of refusals, which must not grow with
 * their rate.  Each refusal still gets its access-log line and its count
 * (conn_end, or conn_refuse_at_accept for one refused before it had a
 * struct conn). */
#include <stdatomic.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "conn_internal.h"
#include "log.h"
#include "mptcp_paths.h"
#include "source_limit.h"
#include "stats.h"

/* Refusals are what clients do, at whatever rate they like: each one is
 * access-logged and counted by conn_end, but the daemon's log gets one
 * info line per REFUSAL_LOG_MS at most (the first at once, so a
 * misconfigured balancer shows up), saying how many were refused since;
 * the rest go to level debug.  One window for the process, shared by the
 * workers. */
#define REFUSAL_LOG_MS 10000

static _Atomic uint64_t refusal_logged_ms;      /* last info line, 0: none */
static _Atomic uint64_t refusals_quiet;         /* since: at debug only */

void conn_refusal_log(const struct conn *c, const char *what,
                      const char *reason)
{
	uint64_t now = clock_now_ms(), last = atomic_load(&refusal_logged_ms);
	uint64_t quiet;
	char caddr[ADDR_STRLEN];

	conn_client_text(c, caddr, sizeof(caddr));
	if ((last != 0 && now - last < REFUSAL_LOG_MS) ||
	    !atomic_compare_exchange_strong(&refusal_logged_ms, &last,
	                                    now ? now : 1)) {
		atomic_fetch_add(&refusals_quiet, 1);
		log_debug("listener %s: client %s: %s: %s", c->owner->cfg->name,
		          caddr, what, reason);
		return;
	}
	quiet = atomic_exchange(&refusals_quiet, 0);
	if (quiet > 0)
		log_info("listener %s: client %s: %s: %s (and %llu more "
		         "refusals in the last %llu s, logged at level debug; "
		         "all are in the access log and /metrics)",
		         c->owner->cfg->name, caddr, what, reason,
		         (unsigned long long)quiet,
		         (unsigned long long)((now - last) / 1000));
	else
		log_info("listener %s: client %s: %s: %s", c->owner->cfg->name,
		         caddr, what, reason);
}

/* The table entry of a source is found again from the same address and
 * the same configuration (a connection's cfg never changes), so a
 * connection keeps only the flag that it holds a count. */
static int key_of(const struct conn_owner *o, const struct sockaddr *sa,
                  struct source_key *k)
{
	return source_key_make(sa, o->cfg->source_v4_bits,
	                       o->cfg->source_v6_bits, k);
}

/* Count a connection from sa against its source's limit: 1 when counted
 * (or when the listener has no limit, or sa has no IP address: nothing
 * to count), 0 at the limit, -1 out of memory (logged). */
int conn_source_take(struct conn_owner *o, const struct sockaddr *sa,
                     uint8_t *held)
{
	struct source_key k;
	int rc;

	*held = 0;
	if (o->cfg->max_per_source == 0 || key_of(o, sa, &k) < 0)
		return 1;
	rc = source_acquire(o->stats->sources, &k, o->cfg->max_per_source);
	if (rc < 0)
		log_warn("listener %s: out of memory counting connections per "
		         "source", o->cfg->name);
	*held = rc == 1;
	return rc;
}

void conn_source_release(struct conn_owner *o, const struct sockaddr *sa)
{
	struct source_key k;

	if (key_of(o, sa, &k) == 0)
		source_release(o->stats->sources, &k);
}

/* Refused at accept for max_connections_per_source, before anything is
 * allocated for it: a flood from one source costs an accept and a close.
 * The access-log line and the counters are those of any connection, so a
 * zeroed struct conn on the stack stands in for the one never made (in
 * the state of one that never started: no bytes, no subflow sample), and
 * the steps of conn_end that apply are taken here. */
void conn_refuse_at_accept(struct conn_owner *o, const struct conn_accept *a,
                           int rc)
{
	enum end_reason why = rc < 0 ? END_ERROR : END_SOURCE_LIMIT;
	struct conn c;
	unsigned subflows = 1;
	uint32_t token = 0;

	memset(&c, 0, sizeof(c));
	c.owner = o;
	c.state = CONN_PROXY_WAIT;
	xport_init(&c.cx, a->fd);
	xport_init(&c.bx, -1);
	addr_sa_store(&c.client, a->peer, a->peerlen);
	c.how = MPTCP_HOW_TCP;
	if (a->mptcp_listener)
		c.how = (uint8_t)mptcp_paths_accept(a->fd, &token, &subflows);
	c.is_mptcp = c.how == MPTCP_HOW_MPTCP;
	c.subflows = 1;
	c.start_ms = clock_now_ms();
	stats_add(c.is_mptcp ? &o->stats->accepted_mptcp
	                     : &o->stats->accepted_tcp, 1);
	if (rc == 0)
		conn_refusal_log(&c, "refused",
		                 "max_connections_per_source reached");
	conn_log_access(&c, why);
	stats_closed(o->stats, why, 0, 1);
	xport_close(&c.cx, 0);
	c.state = CONN_CLOSED;
	o->closed(o, &c, why);
}
