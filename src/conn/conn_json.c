/* A connection as one JSON object, for the live view (/connections):
 *   {"listener":"web","state":"relaying","client":"192.0.2.7:40000",
 *    "local":"192.0.2.2:443","backend":"127.0.0.1:8080" (or null),
 *    "proto":"mptcp","subflows":2,"age_ms":1520,"idle_ms":3,
 *    "bytes_in":518,"bytes_out":1048576}
 * Names and addresses need no escaping: listener names are letters,
 * digits, '-', '_' and '.' (config_section.c), addresses are formatted by
 * addr_format. */
#include <stdio.h>

#include "config.h"
#include "conn_internal.h"

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

int conn_json(const struct conn *c, uint64_t now_ms, char *buf, size_t len)
{
	const struct listener_cfg *cfg = c->owner->cfg;
	char caddr[ADDR_STRLEN], laddr[ADDR_STRLEN], baddr[ADDR_STRLEN + 2];
	int n;

	conn_client_text(c, caddr, sizeof(caddr));
	addr_format(&c->local.sa, sizeof(c->local), laddr, sizeof(laddr));
	if (c->state >= CONN_CONNECTING) {
		const struct addr *b = &cfg->backends[c->backend_idx];
		char t[ADDR_STRLEN];
		addr_format((const struct sockaddr *)&b->ss, b->len, t,
		            sizeof(t));
		snprintf(baddr, sizeof(baddr), "\"%s\"", t);
	} else {
		snprintf(baddr, sizeof(baddr), "null");
	}
	n = snprintf(buf, len,
	             "{\"listener\":\"%s\",\"state\":\"%s\",\"client\":\"%s\","
	             "\"local\":\"%s\",\"backend\":%s,\"proto\":\"%s\","
	             "\"subflows\":%u,\"age_ms\":%llu,\"idle_ms\":%llu,"
	             "\"bytes_in\":%llu,\"bytes_out\":%llu}",
	             cfg->name, state_names[c->state], caddr, laddr, baddr,
	             c->is_mptcp ? "mptcp" : "tcp", c->subflows,
	             (unsigned long long)(now_ms - c->start_ms),
	             (unsigned long long)(now_ms - c->last_ms),
	             (unsigned long long)c->up.bytes,
	             (unsigned long long)c->down.bytes);
	return n >= 0 && (size_t)n < len ? n : -1;
}
