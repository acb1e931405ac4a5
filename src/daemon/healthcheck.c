/* mptcp-frontd --health-check: one blocking HTTP/1.0 exchange with the
 * stats endpoint, bounded by a single deadline (see healthcheck.h). */
#include "healthcheck.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"

static const char metric_prefix[] = "mptcp_frontd_";
#define METRIC_PREFIX_LEN (sizeof(metric_prefix) - 1)

void healthcheck_reply_init(struct healthcheck_reply *r)
{
	memset(r, 0, sizeof(*r));
	r->part = HEALTHCHECK_STATUS_LINE;
	r->line_prefix_ok = 1;
}

/* One byte at a time: replies are small, and a reply split anywhere
 * (the unit tests feed it byte by byte) must give the same verdict. */
static void feed_byte(struct healthcheck_reply *r, char ch)
{
	switch (r->part) {
	case HEALTHCHECK_STATUS_LINE:
		if (ch == '\n') {
			/* "HTTP/1.1 200 OK\r": the CR is not part of it. */
			if (r->status_len > 0 &&
			    r->status_line[r->status_len - 1] == '\r')
				r->status_line[--r->status_len] = '\0';
			r->part = HEALTHCHECK_HEADERS;
		} else if (r->status_len + 1 < sizeof(r->status_line)) {
			r->status_line[r->status_len++] = ch;
			r->status_line[r->status_len] = '\0';
		}
		return;
	case HEALTHCHECK_HEADERS:
		if (ch == '\n') {
			/* An empty line (or a lone CR) ends the headers. */
			if (r->line_len == 0)
				r->part = HEALTHCHECK_BODY;
			r->line_len = 0;
		} else if (!(ch == '\r' && r->line_len == 0)) {
			r->line_len++;
		}
		return;
	case HEALTHCHECK_BODY:
		r->body++;
		if (ch == '\n') {
			r->line_len = 0;
			r->line_prefix_ok = 1;
			return;
		}
		if (r->line_prefix_ok && r->line_len < METRIC_PREFIX_LEN &&
		    ch != metric_prefix[r->line_len])
			r->line_prefix_ok = 0;
		r->line_len++;
		if (r->line_prefix_ok && r->line_len == METRIC_PREFIX_LEN)
			r->saw_metric = 1;
		return;
	}
}

void healthcheck_reply_feed(struct healthcheck_reply *r, const char *buf,
                            size_t n)
{
	for (size_t i = 0; i < n; i++)
		feed_byte(r, buf[i]);
	r->total += n;
}

/* "HTTP/1.x NNN ...": the status code, or -1. */
static int status_code(const char *line)
{
	if (strncmp(line, "HTTP/1.", 7) != 0 || (line[7] != '0' && line[7] != '1') ||
	    line[8] != ' ')
		return -1;
	for (int i = 9; i < 12; i++)
		if (line[i] < '0' || line[i] > '9')
			return -1;
	if (line[12] != '\0' && line[12] != ' ')
		return -1;
	return (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
}

int healthcheck_reply_verdict(const struct healthcheck_reply *r, char *why,
                              size_t cap)
{
	int code;

	if (r->total == 0) {
		snprintf(why, cap, "the connection closed without a reply");
		return -1;
	}
	if (r->part == HEALTHCHECK_STATUS_LINE) {
		snprintf(why, cap, "the reply ends inside its status line "
		         "(%zu bytes)", r->total);
		return -1;
	}
	code = status_code(r->status_line);
	if (code < 0) {
		snprintf(why, cap, "not an HTTP/1 reply: \"%.60s\"",
		         r->status_line);
		return -1;
	}
	if (code != 200) {
		snprintf(why, cap, "status %.60s", r->status_line + 9);
		return -1;
	}
	if (r->part == HEALTHCHECK_HEADERS) {
		snprintf(why, cap, "the reply ends inside its headers");
		return -1;
	}
	if (!r->saw_metric) {
		snprintf(why, cap, "status 200 but no %s line in the body "
		         "(%zu bytes)", metric_prefix, r->body);
		return -1;
	}
	return 0;
}

/* Milliseconds left before the deadline, at least 0. */
static int remaining_ms(uint64_t deadline)
{
	uint64_t now = clock_now_ms();

	return now >= deadline ? 0 : (int)(deadline - now);
}

/* Wait until fd is ready for `events`: 0, or -1 with a reason in why. */
static int wait_ready(int fd, short events, uint64_t deadline,
                      const char *doing, int timeout_ms, char *why,
                      size_t cap)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n;

	do
		n = poll(&p, 1, remaining_ms(deadline));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		snprintf(why, cap, "%s: poll: %s", doing, strerror(errno));
		return -1;
	}
	if (n == 0) {
		snprintf(why, cap, "%s: no progress within %d ms", doing,
		         timeout_ms);
		return -1;
	}
	return 0;
}

static int connect_by(int fd, const struct addr *a, uint64_t deadline,
                      int timeout_ms, char *why, size_t cap)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (connect(fd, (const struct sockaddr *)&a->ss, a->len) == 0)
		return 0;
	if (errno != EINPROGRESS) {
		snprintf(why, cap, "connect: %s", strerror(errno));
		return -1;
	}
	if (wait_ready(fd, POLLOUT, deadline, "connect", timeout_ms, why,
	               cap) < 0)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		soerr = errno;
	if (soerr != 0) {
		snprintf(why, cap, "connect: %s", strerror(soerr));
		return -1;
	}
	return 0;
}

static int send_all(int fd, const char *buf, size_t len, uint64_t deadline,
                    int timeout_ms, char *why, size_t cap)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (wait_ready(fd, POLLOUT, deadline, "sending the "
			               "request", timeout_ms, why, cap) < 0)
				return -1;
			continue;
		}
		if (n < 0) {
			snprintf(why, cap, "sending the request: %s",
			         strerror(errno));
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read until the server closes (it answers HTTP/1.0 with
 * "Connection: close"), feeding the parser. */
static int read_reply(int fd, struct healthcheck_reply *r, uint64_t deadline,
                      int timeout_ms, char *why, size_t cap)
{
	char buf[4096];

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n == 0)
			return 0;
		if (n > 0) {
			healthcheck_reply_feed(r, buf, (size_t)n);
			continue;
		}
		if (errno == EAGAIN || errno == EINTR) {
			if (wait_ready(fd, POLLIN, deadline, "reading the reply",
			               timeout_ms, why, cap) < 0)
				return -1;
			continue;
		}
		snprintf(why, cap, "reading the reply: %s", strerror(errno));
		return -1;
	}
}

int healthcheck_run(const char *addr, int timeout_ms, FILE *out, FILE *err)
{
	struct healthcheck_reply r;
	struct addr a;
	char why[256], req[ADDR_STRLEN + 96];
	uint64_t deadline;
	int fd, rc = -1;

	if (addr_parse(addr, ADDR_ALLOW_INET, &a, why, sizeof(why)) < 0) {
		fprintf(err, "mptcp-frontd: --health-check: bad address \"%s\": "
		        "%s (expected the stats address, IP:PORT)\n", addr, why);
		return HEALTHCHECK_USAGE;
	}
	deadline = clock_now_ms() + (uint64_t)timeout_ms;
	healthcheck_reply_init(&r);
	fd = socket(a.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, sizeof(why), "socket: %s", strerror(errno));
		goto out;
	}
	snprintf(req, sizeof(req), "GET /metrics HTTP/1.0\r\nHost: %s\r\n"
	         "User-Agent: mptcp-frontd-health-check\r\n\r\n", addr);
	if (connect_by(fd, &a, deadline, timeout_ms, why, sizeof(why)) < 0 ||
	    send_all(fd, req, strlen(req), deadline, timeout_ms, why,
	             sizeof(why)) < 0 ||
	    read_reply(fd, &r, deadline, timeout_ms, why, sizeof(why)) < 0)
		goto out;
	rc = healthcheck_reply_verdict(&r, why, sizeof(why));
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0) {
		fprintf(err, "mptcp-frontd: unhealthy: http://%s/metrics: %s\n",
		        addr, why);
		return HEALTHCHECK_UNHEALTHY;
	}
	fprintf(out, "mptcp-frontd: healthy: http://%s/metrics: %s, %zu "
	        "bytes\n", addr, r.status_line, r.body);
	return HEALTHCHECK_HEALTHY;
}
