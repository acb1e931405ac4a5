/* Backend connects: a loopback TCP connect is reported done at once (no
 * wait for writability), a refused one never is. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"
#include "unit.h"

/* A listening socket on 127.0.0.1, its address in *a. */
static int listen_loopback(struct addr *a)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&a->ss;
	socklen_t len = sizeof(*sin);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(s, 0);
	memset(a, 0, sizeof(*a));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(s, (struct sockaddr *)sin, len), 0);
	ck_assert_int_eq(listen(s, 8), 0);
	ck_assert_int_eq(getsockname(s, (struct sockaddr *)sin, &len), 0);
	a->len = len;
	return s;
}

START_TEST(test_loopback_done_at_once)
{
	struct addr a;
	int l = listen_loopback(&a), fd = -1, err = 0;

	ck_assert_int_eq(backend_connect(&a, &fd, &err), BACKEND_CONNECTED);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(backend_connect_result(fd), 0);
	close(fd);
	close(l);
}
END_TEST

/* Nobody listens: the failure must reach the caller (failover), never
 * pass for a connection. */
START_TEST(test_loopback_refused)
{
	struct addr a;
	int l = listen_loopback(&a), fd = -1, err = 0;
	enum backend_connect_status st;

	close(l);
	st = backend_connect(&a, &fd, &err);
	ck_assert_int_ne(st, BACKEND_CONNECTED);
	if (st == BACKEND_IN_PROGRESS) {
		ck_assert_int_eq(backend_connect_result(fd), ECONNREFUSED);
		close(fd);
	} else {
		ck_assert_int_eq(st, BACKEND_FAILED);
		ck_assert_int_eq(err, ECONNREFUSED);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("backend");

	UNIT_ADD(s, test_loopback_done_at_once);
	UNIT_ADD(s, test_loopback_refused);
	return s;
}

UNIT_MAIN(suite)
