/* mptcp-frontd --health-check ADDR: the container probe, built into the
 * binary because the image has no shell and no HTTP client.  It asks the
 * daemon's own stats endpoint (`stats` in the configuration) for
 * GET /metrics over HTTP/1.0 and is healthy only on a 200 whose body has
 * at least one mptcp_frontd_ sample line: that proves the main event loop
 * runs and renders its counters, not merely that a port is open.
 *
 * The reply parser is separate from the socket code so that the unit
 * tests can feed it any byte sequence, split anywhere. */
#ifndef FRONTD_HEALTHCHECK_H
#define FRONTD_HEALTHCHECK_H

#include <stddef.h>
#include <stdio.h>

/* The whole exchange (connect, request, reply until the server closes)
 * must fit in this; below the 5 s the Dockerfile's HEALTHCHECK and the
 * pod's probes give the command. */
#define HEALTHCHECK_TIMEOUT_MS 3000

/* Exit statuses of healthcheck_run(). */
enum {
	HEALTHCHECK_HEALTHY = 0,
	HEALTHCHECK_UNHEALTHY = 1,
	HEALTHCHECK_USAGE = 64,         /* ADDR is not an IP:PORT */
};

enum healthcheck_part {
	HEALTHCHECK_STATUS_LINE,
	HEALTHCHECK_HEADERS,
	HEALTHCHECK_BODY,
};

/* What has been read of the reply so far.  Lines of any length are
 * accepted: only the first bytes of each are looked at. */
struct healthcheck_reply {
	enum healthcheck_part part;
	char status_line[128];          /* its first bytes, NUL-terminated */
	size_t status_len;
	size_t line_len;                /* bytes of the current line so far */
	int line_prefix_ok;             /* body line still matches the prefix */
	int saw_metric;                 /* a body line starts "mptcp_frontd_" */
	size_t total;                   /* bytes fed */
	size_t body;                    /* bytes after the blank line */
};

void healthcheck_reply_init(struct healthcheck_reply *r);
void healthcheck_reply_feed(struct healthcheck_reply *r, const char *buf,
                            size_t n);
/* The verdict on a complete reply (the server closed the connection):
 * 0 when healthy, else -1 with a one-line reason in why. */
int healthcheck_reply_verdict(const struct healthcheck_reply *r, char *why,
                              size_t cap);

/* Probe http://ADDR/metrics (ADDR as the `stats` key spells it, e.g.
 * 127.0.0.1:9090 or [::1]:9090) within timeout_ms.  Writes one line: to
 * out when healthy, to err with the reason otherwise.  Returns one of the
 * HEALTHCHECK_* exit statuses. */
int healthcheck_run(const char *addr, int timeout_ms, FILE *out, FILE *err);

#endif
