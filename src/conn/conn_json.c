/* A connection as JSON: the live view's object (/connections) and the
 * members the JSON access log shares with it (conn_log.c):
 *   {"listener":"web","client":"192.0.2.7:40000","local":"192.0.2.2:443",
 *    "port":443,"backend":"127.0.0.1:8080" (or null),"proto":"mptcp",
 *    "how":"mptcp","subflows_seen":2,"joins":1,"bytes_in":518,
 *    "bytes_out":1048576,"subflows":[{...},{...}] (or null),
 *    "state":"relaying","age_ms":1520,"idle_ms":3,"sampled_ms":1500}
 * "subflows" is the path record (mptcp_paths_format_json: one object per
 * subflow with every field), null while the connection has none (a short
 * exchange on one path; see conn_paths.c).  "proto" (mptcp or tcp at
 * accept) and "subflows_seen" (the most subflows seen at once) are what
 * the key=value access log calls proto= and subflows=.
 * Names and addresses need no escaping: listener names are letters,
 * digits, '-', '_' and '.' (config_section.c), addresses are formatted by
 * addr_format. */
#include <stdio.h>

#include "config.h"
#include "conn_internal.h"

/* Room for the record's array: MPTCP_PATHS_MAX objects of every field. */
#define SUBFLOWS_JSON_MAX (MPTCP_PATHS_MAX * 560 + 8)

static const char *const state_names[] = {
	[CONN_PROXY_WAIT] = "proxy_wait",
	[CONN_HANDSHAKE] = "handshake",
	[CONN_CONNECTING] = "connecting",
	[CONN_RELAYING] = "relaying",
	[CONN_CLOSED] = "closed",
};

const struct conn *conn_first(const struct conn_owner *o)
{
	return o->head;
}

const struct conn *conn_next(const struct conn *c)
{
	return c->next;
}

uint64_t conn_started_ms(const struct conn *c)
{
	return c->start_ms;
}

int conn_json_members(const struct conn *c, int with_backend, char *buf,
                      size_t len)
{
	const struct listener_cfg *cfg = c->owner->cfg;
	char caddr[ADDR_STRLEN], laddr[ADDR_STRLEN], baddr[ADDR_STRLEN + 2];
	char subflows[SUBFLOWS_JSON_MAX] = "null";
	int n;

	conn_client_text(c, caddr, sizeof(caddr));
	addr_format(&c->local.sa, sizeof(c->local), laddr, sizeof(laddr));
	if (with_backend) {
		const struct addr *b = &cfg->backends[c->backend_idx];
		char t[ADDR_STRLEN];
		addr_format((const struct sockaddr *)&b->ss, b->len, t,
		            sizeof(t));
		snprintf(baddr, sizeof(baddr), "\"%s\"", t);
	} else {
		snprintf(baddr, sizeof(baddr), "null");
	}
	if (c->paths != NULL)
		mptcp_paths_format_json(c->paths, subflows, sizeof(subflows));
	n = snprintf(buf, len,
	             "\"listener\":\"%s\",\"client\":\"%s\",\"local\":\"%s\","
	             "\"port\":%u,\"backend\":%s,\"proto\":\"%s\",\"how\":\"%s\","
	             "\"subflows_seen\":%u,\"joins\":%u,\"bytes_in\":%llu,"
	             "\"bytes_out\":%llu,\"subflows\":%s",
	             cfg->name, caddr, laddr, c->lport, baddr,
	             c->is_mptcp ? "mptcp" : "tcp",
	             mptcp_paths_how_name(c->how), c->subflows,
	             conn_paths_joins(c), (unsigned long long)c->up.bytes,
	             (unsigned long long)c->down.bytes, subflows);
	return n >= 0 && (size_t)n < len ? n : -1;
}

int conn_json(const struct conn *c, uint64_t now_ms, char *buf, size_t len)
{
	char sampled[24] = "null";
	int m, n;

	if (len < 2)
		return -1;
	buf[0] = '{';
	m = conn_json_members(c, c->state >= CONN_CONNECTING, buf + 1,
	                      len - 1);
	if (m < 0)
		return -1;
	if (c->paths != NULL && c->paths->last_sample_ms >= 0)
		snprintf(sampled, sizeof(sampled), "%lld",
		         (long long)c->paths->last_sample_ms);
	n = snprintf(buf + 1 + m, len - 1 - (size_t)m,
	             ",\"state\":\"%s\",\"age_ms\":%llu,\"idle_ms\":%llu,"
	             "\"sampled_ms\":%s}",
	             state_names[c->state],
	             (unsigned long long)(now_ms - c->start_ms),
	             (unsigned long long)(now_ms - c->last_ms), sampled);
	return n >= 0 && (size_t)n < len - 1 - (size_t)m ? 1 + m + n : -1;
}
