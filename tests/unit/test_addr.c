/* Address parsing, formatting and the family-aware helpers. */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "unit.h"

#define ALL (ADDR_ALLOW_INET | ADDR_ALLOW_UNIX)

static char err[256];

static struct addr parse_ok(const char *s, int allow)
{
	struct addr a;

	err[0] = '\0';
	ck_assert_msg(addr_parse(s, allow, &a, err, sizeof(err)) == 0,
	              "\"%s\" rejected: %s", s, err);
	return a;
}

static void parse_bad(const char *s, int allow, const char *reason)
{
	struct addr a;

	err[0] = '\0';
	ck_assert_msg(addr_parse(s, allow, &a, err, sizeof(err)) == -1,
	              "\"%s\" accepted", s);
	ck_assert_msg(strcmp(err, reason) == 0, "\"%s\": got \"%s\", want \"%s\"",
	              s, err, reason);
}

static const char *fmt(const struct addr *a, char *buf)
{
	return addr_format((const struct sockaddr *)&a->ss, a->len, buf,
	                   ADDR_STRLEN);
}

START_TEST(parse_ipv4)
{
	struct addr a = parse_ok("192.0.2.1:443", ADDR_ALLOW_INET);
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&a.ss;

	ck_assert_int_eq(sin->sin_family, AF_INET);
	ck_assert_uint_eq(ntohs(sin->sin_port), 443);
	ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), 0xC0000201u);
	ck_assert_uint_eq(a.len, sizeof(struct sockaddr_in));
}
END_TEST

START_TEST(parse_ipv6_in_brackets)
{
	struct addr a = parse_ok("[2001:db8::1]:443", ADDR_ALLOW_INET);
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a.ss;
	struct in6_addr want;

	inet_pton(AF_INET6, "2001:db8::1", &want);
	ck_assert_int_eq(sin6->sin6_family, AF_INET6);
	ck_assert_uint_eq(ntohs(sin6->sin6_port), 443);
	ck_assert_mem_eq(&sin6->sin6_addr, &want, sizeof(want));
	ck_assert_uint_eq(a.len, sizeof(struct sockaddr_in6));
}
END_TEST

START_TEST(parse_port_zero_and_wildcards)
{
	struct addr a = parse_ok("[::]:0", ADDR_ALLOW_INET);

	ck_assert_int_eq(a.ss.ss_family, AF_INET6);
	ck_assert_int_eq(addr_port(&a), 0);
	ck_assert_int_eq(addr_is_wildcard(&a), 1);
	a = parse_ok("0.0.0.0:0", ADDR_ALLOW_INET);
	ck_assert_int_eq(a.ss.ss_family, AF_INET);
	ck_assert_int_eq(addr_port(&a), 0);
	ck_assert_int_eq(addr_is_wildcard(&a), 1);
	a = parse_ok("127.0.0.1:65535", ADDR_ALLOW_INET);
	ck_assert_int_eq(addr_port(&a), 65535);
}
END_TEST

START_TEST(parse_unix_path)
{
	struct addr a = parse_ok("unix:/run/nginx.sock", ALL);
	const struct sockaddr_un *sun = (const struct sockaddr_un *)&a.ss;

	ck_assert_int_eq(sun->sun_family, AF_UNIX);
	ck_assert_str_eq(sun->sun_path, "/run/nginx.sock");
	ck_assert_uint_eq(a.len, offsetof(struct sockaddr_un, sun_path) +
	                  strlen("/run/nginx.sock") + 1);
	ck_assert_int_eq(addr_port(&a), -1);
	ck_assert_int_eq(addr_is_wildcard(&a), 0);
}
END_TEST

START_TEST(parse_unix_path_length_limit)
{
	struct sockaddr_un sun;
	char s[sizeof(sun.sun_path) + 16];
	size_t max = sizeof(sun.sun_path) - 1; /* room for the NUL */
	struct addr a;

	strcpy(s, "unix:/");
	memset(s + 6, 'p', max - 1);
	s[5 + max] = '\0';
	ck_assert_uint_eq(strlen(s + 5), max);
	a = parse_ok(s, ALL);
	ck_assert_uint_eq(a.len, offsetof(struct sockaddr_un, sun_path) + max +
	                  1);
	s[5 + max] = 'p';
	s[6 + max] = '\0';
	parse_bad(s, ALL, "unix socket path too long");
}
END_TEST

START_TEST(error_missing_port)
{
	parse_bad("192.0.2.1", ADDR_ALLOW_INET, "missing port");
	parse_bad("192.0.2.1:", ADDR_ALLOW_INET, "missing port");
	parse_bad("[::1]", ADDR_ALLOW_INET, "missing port");
	parse_bad("[::1]:", ADDR_ALLOW_INET, "missing port");
	parse_bad("[::1]443", ADDR_ALLOW_INET, "missing port");
	parse_bad("", ADDR_ALLOW_INET, "missing port");
}
END_TEST

START_TEST(error_port_out_of_range)
{
	parse_bad("192.0.2.1:65536", ADDR_ALLOW_INET, "port out of range");
	parse_bad("[::1]:70000", ADDR_ALLOW_INET, "port out of range");
	parse_bad("192.0.2.1:99999999999999999999999", ADDR_ALLOW_INET,
	          "port out of range");
}
END_TEST

START_TEST(error_bad_port)
{
	parse_bad("192.0.2.1:http", ADDR_ALLOW_INET, "bad port");
	parse_bad("192.0.2.1:-1", ADDR_ALLOW_INET, "bad port");
	parse_bad("192.0.2.1:80 ", ADDR_ALLOW_INET, "bad port");
	parse_bad("[::1]:8x", ADDR_ALLOW_INET, "bad port");
}
END_TEST

START_TEST(error_bad_ipv4)
{
	parse_bad("192.0.2.300:80", ADDR_ALLOW_INET, "bad IPv4 address");
	parse_bad("192.0.2:80", ADDR_ALLOW_INET, "bad IPv4 address");
	parse_bad("1.2.3.4.5:80", ADDR_ALLOW_INET, "bad IPv4 address");
	parse_bad("*:80", ADDR_ALLOW_INET, "bad IPv4 address");
	parse_bad("1111111111111111111:80", ADDR_ALLOW_INET, "bad IPv4 address");
}
END_TEST

START_TEST(error_bad_ipv6)
{
	parse_bad("[::g]:80", ADDR_ALLOW_INET, "bad IPv6 address");
	parse_bad("[::1:80", ADDR_ALLOW_INET, "bad IPv6 address");
	parse_bad("[]:80", ADDR_ALLOW_INET, "bad IPv6 address");
	parse_bad("[192.0.2.1]:80", ADDR_ALLOW_INET, "bad IPv6 address");
	parse_bad("[fe80::1%eth0]:80", ADDR_ALLOW_INET, "bad IPv6 address");
}
END_TEST

START_TEST(error_ipv6_without_brackets)
{
	const char *want = "IPv6 address must be in brackets, as [::1]:443";

	parse_bad("::1:443", ADDR_ALLOW_INET, want);
	parse_bad("2001:db8::1:443", ADDR_ALLOW_INET, want);
	parse_bad("::", ADDR_ALLOW_INET, want);
}
END_TEST

START_TEST(error_missing_address)
{
	parse_bad(":80", ADDR_ALLOW_INET, "missing address");
}
END_TEST

START_TEST(error_host_name)
{
	const char *want = "host names are not allowed here; use an IP address";

	parse_bad("localhost:80", ADDR_ALLOW_INET, want);
	parse_bad("backend.example.com:8080", ALL, want);
}
END_TEST

START_TEST(error_unix_path_not_absolute)
{
	parse_bad("unix:run/nginx.sock", ALL,
	          "unix socket path must be absolute");
	parse_bad("unix:", ALL, "unix socket path must be absolute");
}
END_TEST

START_TEST(error_unix_not_allowed)
{
	parse_bad("unix:/run/nginx.sock", ADDR_ALLOW_INET,
	          "unix sockets are not allowed here");
}
END_TEST

START_TEST(error_inet_not_allowed)
{
	parse_bad("127.0.0.1:80", ADDR_ALLOW_UNIX, "expected unix:/path");
}
END_TEST

START_TEST(format_round_trip)
{
	static const char *const forms[] = {
		"192.0.2.1:443", "0.0.0.0:0", "255.255.255.255:65535",
		"[2001:db8::1]:443", "[::]:0", "[::1]:8080",
		"unix:/run/nginx.sock", "unix:/", NULL
	};
	char buf[ADDR_STRLEN];
	size_t i;

	for (i = 0; forms[i] != NULL; i++) {
		struct addr a = parse_ok(forms[i], ALL), b;

		ck_assert_str_eq(fmt(&a, buf), forms[i]);
		b = parse_ok(buf, ALL);
		ck_assert(addr_equal(&a, &b));
	}
}
END_TEST

START_TEST(format_canonical_ipv6)
{
	char buf[ADDR_STRLEN];
	struct addr a = parse_ok("[2001:DB8:0:0::1]:443", ADDR_ALLOW_INET);

	ck_assert_str_eq(fmt(&a, buf), "[2001:db8::1]:443");
}
END_TEST

START_TEST(format_v4_mapped_as_ipv4)
{
	char buf[ADDR_STRLEN];
	struct sockaddr_in6 sin6;
	struct addr a;

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(443);
	inet_pton(AF_INET6, "::ffff:192.0.2.1", &sin6.sin6_addr);
	ck_assert_str_eq(addr_format((struct sockaddr *)&sin6, sizeof(sin6),
	                             buf, sizeof(buf)), "192.0.2.1:443");

	a = parse_ok("[::ffff:198.51.100.7]:80", ADDR_ALLOW_INET);
	ck_assert_int_eq(a.ss.ss_family, AF_INET6);
	ck_assert_str_eq(fmt(&a, buf), "198.51.100.7:80");
}
END_TEST

START_TEST(format_unknown_and_short)
{
	char buf[ADDR_STRLEN];
	struct sockaddr_storage ss;
	struct sockaddr_in sin;
	char small[6];

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_APPLETALK;
	ck_assert_str_eq(addr_format((struct sockaddr *)&ss, sizeof(ss), buf,
	                             sizeof(buf)), "unknown");
	ck_assert_str_eq(addr_format(NULL, 0, buf, sizeof(buf)), "unknown");

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	/* a length too short for the family is not trusted */
	ck_assert_str_eq(addr_format((struct sockaddr *)&sin, 4, buf,
	                             sizeof(buf)), "unknown");
	/* a small buffer truncates, NUL-terminated */
	sin.sin_port = htons(80);
	ck_assert_str_eq(addr_format((struct sockaddr *)&sin, sizeof(sin),
	                             small, sizeof(small)), "0.0.0");
}
END_TEST

START_TEST(format_unix_unnamed_and_abstract)
{
	char buf[ADDR_STRLEN];
	struct sockaddr_un sun;
	socklen_t len;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ck_assert_str_eq(addr_format((struct sockaddr *)&sun,
	                             sizeof(sa_family_t), buf, sizeof(buf)),
	                 "unix:(unnamed)");
	memcpy(sun.sun_path, "\0frontd", 7);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 7);
	ck_assert_str_eq(addr_format((struct sockaddr *)&sun, len, buf,
	                             sizeof(buf)), "unix:@frontd");
}
END_TEST

START_TEST(unmap_v4_mapped)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
	socklen_t len = sizeof(*sin6);

	memset(&ss, 0, sizeof(ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(1234);
	inet_pton(AF_INET6, "::ffff:192.0.2.9", &sin6->sin6_addr);
	ck_assert_int_eq(addr_unmap_v4(&ss, &len), 1);
	ck_assert_int_eq(sin->sin_family, AF_INET);
	ck_assert_uint_eq(ntohs(sin->sin_port), 1234);
	ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), 0xC0000209u);
	ck_assert_uint_eq(len, sizeof(struct sockaddr_in));
	/* already IPv4: nothing to do */
	ck_assert_int_eq(addr_unmap_v4(&ss, &len), 0);
}
END_TEST

START_TEST(unmap_leaves_other_addresses)
{
	struct addr a = parse_ok("[2001:db8::1]:443", ADDR_ALLOW_INET);
	struct addr before = a;
	socklen_t len = a.len;

	ck_assert_int_eq(addr_unmap_v4(&a.ss, &len), 0);
	ck_assert_uint_eq(len, sizeof(struct sockaddr_in6));
	ck_assert(addr_equal(&a, &before));
	/* a NULL length is allowed */
	a = parse_ok("[::ffff:10.1.2.3]:80", ADDR_ALLOW_INET);
	ck_assert_int_eq(addr_unmap_v4(&a.ss, NULL), 1);
	ck_assert_int_eq(a.ss.ss_family, AF_INET);
}
END_TEST

START_TEST(wildcard_detection)
{
	struct addr a;

	a = parse_ok("0.0.0.0:80", ADDR_ALLOW_INET);
	ck_assert_int_eq(addr_is_wildcard(&a), 1);
	a = parse_ok("[::]:80", ADDR_ALLOW_INET);
	ck_assert_int_eq(addr_is_wildcard(&a), 1);
	a = parse_ok("127.0.0.1:80", ADDR_ALLOW_INET);
	ck_assert_int_eq(addr_is_wildcard(&a), 0);
	a = parse_ok("[::1]:80", ADDR_ALLOW_INET);
	ck_assert_int_eq(addr_is_wildcard(&a), 0);
	a = parse_ok("[::ffff:0.0.0.0]:80", ADDR_ALLOW_INET);
	ck_assert_int_eq(addr_is_wildcard(&a), 0);
	a = parse_ok("unix:/x", ALL);
	ck_assert_int_eq(addr_is_wildcard(&a), 0);
}
END_TEST

START_TEST(loopback_detection)
{
	static const char *const yes[] = { "127.0.0.1:80", "127.9.8.7:80",
	                                   "[::1]:80", "[::ffff:127.0.0.1]:80" };
	static const char *const no[] = { "0.0.0.0:80", "[::]:80",
	                                  "192.0.2.1:80", "128.0.0.1:80",
	                                  "[2001:db8::1]:80",
	                                  "[::ffff:192.0.2.1]:80" };
	struct addr a;

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		a = parse_ok(yes[i], ADDR_ALLOW_INET);
		ck_assert_msg(addr_is_loopback(&a) == 1, "%s", yes[i]);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		a = parse_ok(no[i], ADDR_ALLOW_INET);
		ck_assert_msg(addr_is_loopback(&a) == 0, "%s", no[i]);
	}
	a = parse_ok("unix:/x", ALL);
	ck_assert_int_eq(addr_is_loopback(&a), 0);
}
END_TEST

START_TEST(port_of_each_family)
{
	struct addr a;

	a = parse_ok("10.0.0.1:8080", ADDR_ALLOW_INET);
	ck_assert_int_eq(addr_port(&a), 8080);
	a = parse_ok("[::1]:9", ADDR_ALLOW_INET);
	ck_assert_int_eq(addr_port(&a), 9);
	a = parse_ok("unix:/x", ALL);
	ck_assert_int_eq(addr_port(&a), -1);
}
END_TEST

START_TEST(equality)
{
	struct addr a = parse_ok("192.0.2.1:443", ADDR_ALLOW_INET);
	struct addr b = parse_ok("192.0.2.1:443", ADDR_ALLOW_INET);
	struct addr c = parse_ok("192.0.2.1:444", ADDR_ALLOW_INET);
	struct addr d = parse_ok("192.0.2.2:443", ADDR_ALLOW_INET);
	struct addr m = parse_ok("[::ffff:192.0.2.1]:443", ADDR_ALLOW_INET);
	struct addr v6a = parse_ok("[2001:db8::1]:443", ADDR_ALLOW_INET);
	struct addr v6b = parse_ok("[2001:db8::2]:443", ADDR_ALLOW_INET);
	struct addr v6c = parse_ok("[2001:db8::1]:80", ADDR_ALLOW_INET);
	struct addr u1 = parse_ok("unix:/run/a.sock", ALL);
	struct addr u2 = parse_ok("unix:/run/a.sock", ALL);
	struct addr u3 = parse_ok("unix:/run/b.sock", ALL);
	struct addr u4 = parse_ok("unix:/run/a.sockx", ALL);

	ck_assert(addr_equal(&a, &b));
	ck_assert(!addr_equal(&a, &c));
	ck_assert(!addr_equal(&a, &d));
	ck_assert(!addr_equal(&a, &m));  /* family differs */
	ck_assert(addr_equal(&v6a, &v6a));
	ck_assert(!addr_equal(&v6a, &v6b));
	ck_assert(!addr_equal(&v6a, &v6c));
	ck_assert(addr_equal(&u1, &u2));
	ck_assert(!addr_equal(&u1, &u3));
	ck_assert(!addr_equal(&u1, &u4));
	ck_assert(!addr_equal(&u1, &a));
}
END_TEST

START_TEST(split_hostname_accepts_names)
{
	char host[64];
	int port = -1;

	ck_assert_int_eq(addr_split_hostname("localhost:8080", host,
	                                     sizeof(host), &port, err,
	                                     sizeof(err)), 0);
	ck_assert_str_eq(host, "localhost");
	ck_assert_int_eq(port, 8080);
	ck_assert_int_eq(addr_split_hostname("nginx.example.com.:80", host,
	                                     sizeof(host), &port, err,
	                                     sizeof(err)), 0);
	ck_assert_str_eq(host, "nginx.example.com.");
	ck_assert_int_eq(port, 80);
	ck_assert_int_eq(addr_split_hostname("my_app-1:0", host, sizeof(host),
	                                     &port, err, sizeof(err)), 0);
	ck_assert_str_eq(host, "my_app-1");
	ck_assert_int_eq(port, 0);
}
END_TEST

START_TEST(split_hostname_rejects_others)
{
	static const char *const bad[] = {
		"192.0.2.1:80", "[::1]:80", "unix:/x", "::1:80", "-bad:80",
		"bad-:80", "a..b:80", ".a:80", "a b:80", ":80", "host", "*:80",
		NULL
	};
	char host[64];
	int port;
	size_t i;

	for (i = 0; bad[i] != NULL; i++)
		ck_assert_msg(addr_split_hostname(bad[i], host, sizeof(host),
		                                  &port, err, sizeof(err)) == -1,
		              "\"%s\" accepted", bad[i]);
	ck_assert_int_eq(addr_split_hostname("host:99999", host, sizeof(host),
	                                     &port, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "port out of range");
	ck_assert_int_eq(addr_split_hostname("host:", host, sizeof(host), &port,
	                                     err, sizeof(err)), -1);
	ck_assert_str_eq(err, "missing port");
	ck_assert_int_eq(addr_split_hostname("longhostname:1", host, 5, &port,
	                                     err, sizeof(err)), -1);
	ck_assert_str_eq(err, "host name too long");
}
END_TEST

#define ADD(s, t) UNIT_ADD(s, t)

static Suite *make_suite(void)
{
	Suite *s = suite_create("addr");

	ADD(s, parse_ipv4);
	ADD(s, parse_ipv6_in_brackets);
	ADD(s, parse_port_zero_and_wildcards);
	ADD(s, parse_unix_path);
	ADD(s, parse_unix_path_length_limit);
	ADD(s, error_missing_port);
	ADD(s, error_port_out_of_range);
	ADD(s, error_bad_port);
	ADD(s, error_bad_ipv4);
	ADD(s, error_bad_ipv6);
	ADD(s, error_ipv6_without_brackets);
	ADD(s, error_missing_address);
	ADD(s, error_host_name);
	ADD(s, error_unix_path_not_absolute);
	ADD(s, error_unix_not_allowed);
	ADD(s, error_inet_not_allowed);
	ADD(s, format_round_trip);
	ADD(s, format_canonical_ipv6);
	ADD(s, format_v4_mapped_as_ipv4);
	ADD(s, format_unknown_and_short);
	ADD(s, format_unix_unnamed_and_abstract);
	ADD(s, unmap_v4_mapped);
	ADD(s, unmap_leaves_other_addresses);
	ADD(s, wildcard_detection);
	ADD(s, loopback_detection);
	ADD(s, port_of_each_family);
	ADD(s, equality);
	ADD(s, split_hostname_accepts_names);
	ADD(s, split_hostname_rejects_others);
	return s;
}

UNIT_MAIN(make_suite)
