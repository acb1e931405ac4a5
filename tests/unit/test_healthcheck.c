/* --health-check: the reply parser fed whole and byte by byte, and the
 * probe against a loopback server of our own (canned replies, a closed
 * port, a server that never answers, a bad address). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "healthcheck.h"
#include "unit.h"

static const char good_reply[] =
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
	"Content-Length: 99\r\nConnection: close\r\n\r\n"
	"# HELP mptcp_frontd_up Whether the daemon runs.\n"
	"# TYPE mptcp_frontd_up gauge\n"
	"mptcp_frontd_up 1\n";

/* The verdict on `reply`, fed whole (byte_by_byte 0) or one byte at a
 * time; the reason (or "") in why. */
static int verdict(const char *reply, int byte_by_byte, char *why, size_t cap)
{
	struct healthcheck_reply r;
	size_t n = strlen(reply);

	healthcheck_reply_init(&r);
	if (byte_by_byte)
		for (size_t i = 0; i < n; i++)
			healthcheck_reply_feed(&r, reply + i, 1);
	else
		healthcheck_reply_feed(&r, reply, n);
	why[0] = '\0';
	return healthcheck_reply_verdict(&r, why, cap);
}

START_TEST(reply_healthy)
{
	char why[256];

	ck_assert_int_eq(verdict(good_reply, _i, why, sizeof(why)), 0);
	/* Bare LF line ends and HTTP/1.0 are fine too. */
	ck_assert_int_eq(verdict("HTTP/1.0 200 OK\n\nmptcp_frontd_up 1", _i, why,
	                         sizeof(why)), 0);
}
END_TEST

START_TEST(reply_unhealthy)
{
	static const struct {
		const char *reply, *why;
	} cases[] = {
		{ "", "the connection closed without a reply" },
		{ "HTTP/1.1 200 O", "the reply ends inside its status line (14 bytes)" },
		{ "SSH-2.0-OpenSSH_9.2\r\n\r\n", "not an HTTP/1 reply: \"SSH-2.0-OpenSSH_9.2\"" },
		{ "HTTP/1.1 2000 OK\r\n\r\nmptcp_frontd_up 1\n", "not an HTTP/1 reply: \"HTTP/1.1 2000 OK\"" },
		{ "HTTP/1.1 404 Not Found\r\n\r\nmptcp_frontd_up 1\n", "status 404 Not Found" },
		{ "HTTP/1.1 503 Service Unavailable\r\nX: y\r\n\r\n", "status 503 Service Unavailable" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 9", "the reply ends inside its headers" },
		/* Only comments, or the name in the middle of a line. */
		{ "HTTP/1.1 200 OK\r\n\r\n# HELP mptcp_frontd_up x\nup mptcp_frontd_\n",
		  "status 200 but no mptcp_frontd_ line in the body (42 bytes)" },
		/* The prefix cut short by the end of the reply or a line. */
		{ "HTTP/1.1 200 OK\r\n\r\nmptcp_front", "status 200 but no mptcp_frontd_ line in the body (11 bytes)" },
		{ "HTTP/1.1 200 OK\r\n\r\nmptcp\nfrontd_x\n", "status 200 but no mptcp_frontd_ line in the body (15 bytes)" },
		/* The metric line in the headers does not count. */
		{ "HTTP/1.1 200 OK\r\nmptcp_frontd_up: 1\r\n\r\n", "status 200 but no mptcp_frontd_ line in the body (0 bytes)" },
	};
	char why[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(verdict(cases[i].reply, _i, why, sizeof(why)), -1);
		ck_assert_str_eq(why, cases[i].why);
	}
}
END_TEST

START_TEST(reply_long_status_line)
{
	char reply[600], why[256];

	/* Only the start of a long status line is kept; it still counts. */
	snprintf(reply, sizeof(reply), "HTTP/1.1 500 %0400d\r\n\r\n", 0);
	ck_assert_int_eq(verdict(reply, 0, why, sizeof(why)), -1);
	ck_assert_int_eq(strncmp(why, "status 500 000", 14), 0);
	ck_assert_uint_lt(strlen(why), 80);
}
END_TEST

/* A listening socket on 127.0.0.1, port chosen by the kernel; its
 * address as "127.0.0.1:PORT" in addr. */
static int listen_loopback(char *addr, size_t cap)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	snprintf(addr, cap, "127.0.0.1:%u", ntohs(sin.sin_port));
	return fd;
}

/* A child that accepts one connection, reads the request up to its blank
 * line, writes `reply` if the request is the one we mean to send (else a
 * 400), and closes. */
static pid_t serve_once(int lfd, const char *reply)
{
	pid_t pid = fork();
	char req[1024];
	size_t got = 0;
	int fd;

	ck_assert_int_ge(pid, 0);
	if (pid > 0)
		return pid;
	alarm(10);
	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		_exit(2);
	while (got < sizeof(req) - 1) {
		ssize_t n = read(fd, req + got, sizeof(req) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL)
			break;
	}
	req[got] = '\0';
	if (strncmp(req, "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1:", 38) != 0)
		reply = "HTTP/1.0 400 Bad Request\r\n\r\n";
	if (write(fd, reply, strlen(reply)) < 0)
		_exit(3);
	close(fd);
	_exit(0);
}

/* healthcheck_run's status, with what it wrote to out and to err. */
static int run(const char *addr, int timeout_ms, char **out, char **err)
{
	size_t olen, elen;
	FILE *o = open_memstream(out, &olen), *e = open_memstream(err, &elen);
	int rc;

	ck_assert_ptr_nonnull(o);
	ck_assert_ptr_nonnull(e);
	rc = healthcheck_run(addr, timeout_ms, o, e);
	fclose(o);
	fclose(e);
	return rc;
}

static void reap(pid_t pid)
{
	int status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Serve `reply` once and probe it: the status must be want_rc, and the
 * one line written (to out when healthy, else to err; nothing to the
 * other) "mptcp-frontd: VERDICT: http://ADDR/metrics: TAIL". */
static void probe_served(const char *reply, int want_rc, const char *tail)
{
	char addr[64], expect[160], *out, *err;
	int lfd = listen_loopback(addr, sizeof(addr));
	pid_t pid = serve_once(lfd, reply);
	int healthy = want_rc == HEALTHCHECK_HEALTHY;

	ck_assert_int_eq(run(addr, 3000, &out, &err), want_rc);
	snprintf(expect, sizeof(expect), "mptcp-frontd: %s: http://%s/metrics: %s\n",
	         healthy ? "healthy" : "unhealthy", addr, tail);
	ck_assert_str_eq(healthy ? out : err, expect);
	ck_assert_str_eq(healthy ? err : out, "");
	reap(pid);
	free(out);
	free(err);
	close(lfd);
}

START_TEST(run_healthy)
{
	probe_served(good_reply, HEALTHCHECK_HEALTHY, "HTTP/1.1 200 OK, 95 bytes");
}
END_TEST

START_TEST(run_status_not_200)
{
	probe_served("HTTP/1.1 404 Not Found\r\n\r\n", HEALTHCHECK_UNHEALTHY,
	             "status 404 Not Found");
}
END_TEST

START_TEST(run_refused)
{
	char addr[64], *out, *err;
	int lfd = listen_loopback(addr, sizeof(addr));

	close(lfd);             /* nothing listens on that port now */
	ck_assert_int_eq(run(addr, 3000, &out, &err), HEALTHCHECK_UNHEALTHY);
	ck_assert_ptr_nonnull(strstr(err, "/metrics: connect: Connection refused\n"));
	ck_assert_int_eq(strchr(err, '\n') - err + 1, (long)strlen(err));
	free(out);
	free(err);
}
END_TEST

START_TEST(run_no_answer_times_out)
{
	char addr[64], *out, *err;
	int lfd = listen_loopback(addr, sizeof(addr));
	uint64_t t0 = clock_now_ms(), took;

	/* The kernel completes the handshake into the backlog; nobody ever
	 * reads the request or answers. */
	ck_assert_int_eq(run(addr, 300, &out, &err), HEALTHCHECK_UNHEALTHY);
	took = clock_now_ms() - t0;
	ck_assert_ptr_nonnull(strstr(err, "/metrics: reading the reply: no progress "
	                                  "within 300 ms\n"));
	ck_assert_uint_ge(took, 250);
	ck_assert_uint_lt(took, 2000);
	free(out);
	free(err);
	close(lfd);
}
END_TEST

START_TEST(run_bad_address)
{
	char *out, *err;

	ck_assert_int_eq(run("localhost:9090", 300, &out, &err), HEALTHCHECK_USAGE);
	ck_assert_ptr_nonnull(strstr(err, "--health-check: bad address \"localhost:9090\""));
	free(out);
	free(err);
	ck_assert_int_eq(run("unix:/run/x.sock", 300, &out, &err), HEALTHCHECK_USAGE);
	ck_assert_str_eq(out, "");
	free(out);
	free(err);
}
END_TEST

static Suite *healthcheck_suite(void)
{
	Suite *s = suite_create("healthcheck");

	signal(SIGPIPE, SIG_IGN);
	UNIT_ADD_LOOP(s, reply_healthy, 2);
	UNIT_ADD_LOOP(s, reply_unhealthy, 2);
	UNIT_ADD(s, reply_long_status_line);
	UNIT_ADD(s, run_healthy);
	UNIT_ADD(s, run_status_not_200);
	UNIT_ADD(s, run_refused);
	UNIT_ADD(s, run_no_answer_times_out);
	UNIT_ADD(s, run_bad_address);
	return s;
}

UNIT_MAIN(healthcheck_suite)
