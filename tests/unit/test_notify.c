/* sd_notify: $NOTIFY_SOCKET addresses, and the datagrams a listener of our
 * own receives (a path in a temporary directory, and an abstract name). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "notify.h"
#include "unit.h"

START_TEST(addr_path)
{
	struct sockaddr_un sun;
	socklen_t len;

	ck_assert_int_eq(notify_parse_addr("/run/systemd/notify", &sun, &len), 0);
	ck_assert_int_eq(sun.sun_family, AF_UNIX);
	ck_assert_str_eq(sun.sun_path, "/run/systemd/notify");
	ck_assert_uint_eq(len, offsetof(struct sockaddr_un, sun_path) +
	                       strlen("/run/systemd/notify") + 1);
}
END_TEST

START_TEST(addr_abstract)
{
	struct sockaddr_un sun;
	socklen_t len;

	ck_assert_int_eq(notify_parse_addr("@/org/x/notify", &sun, &len), 0);
	ck_assert_int_eq(sun.sun_path[0], '\0');
	ck_assert_int_eq(memcmp(sun.sun_path + 1, "/org/x/notify", 13), 0);
	/* The length covers the NUL and the name, nothing after it. */
	ck_assert_uint_eq(len, offsetof(struct sockaddr_un, sun_path) + 14);
}
END_TEST

START_TEST(addr_unusable)
{
	struct sockaddr_un sun;
	socklen_t len;
	char longest[sizeof(sun.sun_path) + 1];

	ck_assert_int_eq(notify_parse_addr("", &sun, &len), -1);
	ck_assert_int_eq(notify_parse_addr("@", &sun, &len), -1);
	ck_assert_int_eq(notify_parse_addr("relative/notify", &sun, &len), -1);
	ck_assert_int_eq(notify_parse_addr("vsock:2:1234", &sun, &len), -1);
	ck_assert_int_eq(notify_parse_addr(NULL, &sun, &len), -1);
	memset(longest, 'a', sizeof(longest) - 1);
	longest[0] = '/';
	longest[sizeof(longest) - 1] = '\0';
	ck_assert_int_eq(notify_parse_addr(longest, &sun, &len), -1);
	longest[sizeof(longest) - 2] = '\0';     /* 107 bytes + NUL: fits */
	ck_assert_int_eq(notify_parse_addr(longest, &sun, &len), 0);
}
END_TEST

START_TEST(unset_sends_nothing)
{
	unsetenv("NOTIFY_SOCKET");
	notify_init();
	ck_assert_int_eq(notify_send("READY=1"), 0);
	notify_ready();
	notify_close();
}
END_TEST

/* A datagram listener at `name` (a path or "@abstract"). */
static int listen_at(const char *name)
{
	struct sockaddr_un sun;
	socklen_t len;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(notify_parse_addr(name, &sun, &len), 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, len), 0);
	return fd;
}

static void expect_datagram(int fd, const char *want)
{
	char buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	ck_assert_str_eq(buf, want);
}

static void exchange(const char *name)
{
	struct timespec ts;
	uint64_t before, usec;
	char buf[256];
	int fd = listen_at(name);
	ssize_t n;

	setenv("NOTIFY_SOCKET", name, 1);
	notify_init();
	notify_ready();
	expect_datagram(fd, "READY=1");
	clock_gettime(CLOCK_MONOTONIC, &ts);
	before = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	notify_reloading();
	n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_int_eq(sscanf(buf, "RELOADING=1\nMONOTONIC_USEC=%" SCNu64,
	                        &usec), 1);
	ck_assert_msg(usec >= before && usec < before + 5000000,
	              "MONOTONIC_USEC %" PRIu64 " vs now %" PRIu64, usec, before);
	notify_stopping();
	expect_datagram(fd, "STOPPING=1");
	ck_assert_int_eq(notify_send("STATUS=x"), 1);
	expect_datagram(fd, "STATUS=x");
	notify_close();
	close(fd);
}

START_TEST(datagrams_to_a_path)
{
	char dir[] = "/tmp/frontd-notify-XXXXXX", path[64];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/notify", dir);
	exchange(path);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(datagrams_to_an_abstract_name)
{
	char name[64];

	snprintf(name, sizeof(name), "@frontd-notify-test-%ld", (long)getpid());
	exchange(name);
}
END_TEST

START_TEST(vanished_listener_is_not_fatal)
{
	char dir[] = "/tmp/frontd-notify-XXXXXX", path[64];
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = listen_at(path);
	setenv("NOTIFY_SOCKET", path, 1);
	notify_init();
	close(fd);
	unlink(path);
	ck_assert_int_eq(notify_send("READY=1"), -1);
	ck_assert_int_eq(notify_send("READY=1"), -1);   /* still no crash */
	notify_close();
	rmdir(dir);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("notify");

	UNIT_ADD(s, addr_path);
	UNIT_ADD(s, addr_abstract);
	UNIT_ADD(s, addr_unusable);
	UNIT_ADD(s, unset_sends_nothing);
	UNIT_ADD(s, datagrams_to_a_path);
	UNIT_ADD(s, datagrams_to_an_abstract_name);
	UNIT_ADD(s, vanished_listener_is_not_fatal);
	return s;
}

UNIT_MAIN(make_suite)
