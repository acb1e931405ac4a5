/* The access-log line of a closed connection: the same fields whatever
 * kind it was (plain, TLS, refused for its PROXY header), and on a TLS
 * listener what the handshake settled ("-" when it did not finish).
 *
 * Two formats (access_log_format): key=value, whose fields only ever
 * grow at the end so that existing parsers keep working, and one JSON
 * object per line with every field typed (numbers as numbers, null where
 * unknown) for log shippers (Vector, Fluent Bit, Loki). */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "conn_internal.h"
#include "log.h"
#include "tls_xport.h"

/* The whole record fits a line (mptcp_paths_format_log writes whole
 * entries, then "..."). */
#define PATHS_TEXT_MAX 1024

static void log_kv(const struct conn *c, enum end_reason why, int relaying,
                   int tls_done)
{
	const struct listener_cfg *cfg = c->owner->cfg;
	char caddr[ADDR_STRLEN], baddr[ADDR_STRLEN], laddr[ADDR_STRLEN];
	char tail[64] = "", paths[PATHS_TEXT_MAX] = "-";

	conn_client_text(c, caddr, sizeof(caddr));
	addr_format(&c->local.sa, sizeof(c->local), laddr, sizeof(laddr));
	if (relaying) {
		const struct addr *b = &cfg->backends[c->backend_idx];
		addr_format((const struct sockaddr *)&b->ss, b->len, baddr,
		            sizeof(baddr));
	} else {
		strcpy(baddr, "-");
	}
	if (cfg->tls_ctx != NULL)
		snprintf(tail, sizeof(tail), " tls=%s tls_resumed=%d",
		         tls_done ? tls_xport_version(&c->cx) : "-",
		         tls_done ? tls_xport_resumed(&c->cx) : 0);
	if (c->paths != NULL)
		mptcp_paths_format_log(c->paths, paths, sizeof(paths));
	log_access("listener=%s client=%s backend=%s proto=%s subflows=%u "
	           "bytes_in=%llu bytes_out=%llu duration_ms=%llu end=%s%s "
	           "local=%s port=%u how=%s joins=%u paths=%s",
	           cfg->name, caddr, baddr, c->is_mptcp ? "mptcp" : "tcp",
	           c->subflows, (unsigned long long)c->up.bytes,
	           (unsigned long long)c->down.bytes,
	           (unsigned long long)(clock_now_ms() - c->start_ms),
	           end_reason_name(why), tail, laddr, c->lport,
	           mptcp_paths_how_name(c->how), conn_paths_joins(c), paths);
}

static void log_json(const struct conn *c, enum end_reason why,
                     int relaying, int tls_done)
{
	char line[LOG_ACCESS_JSON_MAX];
	char tls[80] = ",\"tls\":null,\"tls_resumed\":null";
	int m, n;

	m = conn_json_members(c, relaying, line, sizeof(line));
	if (m < 0)
		return;         /* cannot happen: the record's array is bounded */
	/* The same members on every line, null where they do not apply (a
	 * plain listener, a handshake that did not finish). */
	if (c->owner->cfg->tls_ctx != NULL && tls_done)
		snprintf(tls, sizeof(tls), ",\"tls\":\"%s\",\"tls_resumed\":%s",
		         tls_xport_version(&c->cx),
		         tls_xport_resumed(&c->cx) ? "true" : "false");
	n = snprintf(line + m, sizeof(line) - (size_t)m,
	             ",\"duration_ms\":%llu,\"end\":\"%s\"%s",
	             (unsigned long long)(clock_now_ms() - c->start_ms),
	             end_reason_name(why), tls);
	if (n < 0 || (size_t)n >= sizeof(line) - (size_t)m)
		return;
	log_access_json(line, (size_t)(m + n));
}

void conn_log_access(const struct conn *c, enum end_reason why)
{
	int relaying = c->state == CONN_RELAYING;
	int tls_done = c->state >= CONN_CONNECTING && !xport_is_raw(&c->cx);

	if (!log_access_enabled())
		return;
	if (log_access_get_format() == LOG_ACCESS_JSON)
		log_json(c, why, relaying, tls_done);
	else
		log_kv(c, why, relaying, tls_done);
}
