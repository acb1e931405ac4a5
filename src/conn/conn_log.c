/* The access-log line of a closed connection: the same fields whatever
 * kind it was (plain, TLS, refused for its PROXY header), and on a TLS
 * listener what the handshake settled ("-" when it did not finish). */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "conn_internal.h"
#include "log.h"
#include "tls_xport.h"

void conn_log_access(const struct conn *c, enum end_reason why)
{
	const struct listener_cfg *cfg = c->owner->cfg;
	char caddr[ADDR_STRLEN], baddr[ADDR_STRLEN], tail[64] = "";

	if (!log_access_enabled())
		return;
	conn_client_text(c, caddr, sizeof(caddr));
	if (c->state == CONN_RELAYING) {
		const struct addr *b = &cfg->backends[c->backend_idx];
		addr_format((const struct sockaddr *)&b->ss, b->len, baddr,
		            sizeof(baddr));
	} else {
		strcpy(baddr, "-");
	}
	if (cfg->tls_ctx != NULL) {
		int done = c->state >= CONN_CONNECTING && !xport_is_raw(&c->cx);
		snprintf(tail, sizeof(tail), " tls=%s tls_resumed=%d",
		         done ? tls_xport_version(&c->cx) : "-",
		         done ? tls_xport_resumed(&c->cx) : 0);
	}
	log_access("listener=%s client=%s backend=%s proto=%s subflows=%u "
	           "bytes_in=%llu bytes_out=%llu duration_ms=%llu end=%s%s",
	           cfg->name, caddr, baddr, c->is_mptcp ? "mptcp" : "tcp",
	           c->subflows, (unsigned long long)c->up.bytes,
	           (unsigned long long)c->down.bytes,
	           (unsigned long long)(clock_now_ms() - c->start_ms),
	           end_reason_name(why), tail);
}
