/* Address prefixes for accept_proxy_from: every accepted form, every error
 * message, and matching (prefix edges, families, v4-mapped peers). */
#include <arpa/inet.h>
#include <string.h>

#include "cidr.h"
#include "unit.h"

static struct cidr parse_ok(const char *s)
{
	struct cidr c;
	char err[256] = "";

	ck_assert_msg(cidr_parse(s, &c, err, sizeof(err)) == 0,
	              "\"%s\" refused: %s", s, err);
	return c;
}

static void parse_bad(const char *s, const char *want)
{
	struct cidr c;
	char err[256] = "";

	ck_assert_msg(cidr_parse(s, &c, err, sizeof(err)) == -1,
	              "\"%s\" accepted", s);
	ck_assert_str_eq(err, want);
}

static const char *fmt(const struct cidr *c)
{
	static char buf[CIDR_STRLEN];
	return cidr_format(c, buf, sizeof(buf));
}

static struct sockaddr_storage sa(const char *ip)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		ck_assert_int_eq(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		ck_assert_int_eq(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
	}
	return ss;
}

static int match(const struct cidr *list, size_t n, const char *ip)
{
	struct sockaddr_storage ss = sa(ip);
	return cidr_match(list, n, (const struct sockaddr *)&ss);
}

START_TEST(parses_prefixes_and_bare_addresses)
{
	struct cidr c = parse_ok("192.0.2.0/24");

	ck_assert_int_eq(c.family, AF_INET);
	ck_assert_uint_eq(c.prefix, 24);
	ck_assert_str_eq(fmt(&c), "192.0.2.0/24");
	c = parse_ok("2001:db8::/32");
	ck_assert_int_eq(c.family, AF_INET6);
	ck_assert_uint_eq(c.prefix, 32);
	ck_assert_str_eq(fmt(&c), "2001:db8::/32");
	ck_assert_str_eq(fmt(&(struct cidr){ 0 }), "?/0");
	c = parse_ok("198.51.100.7");
	ck_assert_str_eq(fmt(&c), "198.51.100.7/32");
	c = parse_ok("2001:db8::7");
	ck_assert_str_eq(fmt(&c), "2001:db8::7/128");
	ck_assert_str_eq(fmt((c = parse_ok("0.0.0.0/0"), &c)), "0.0.0.0/0");
	ck_assert_str_eq(fmt((c = parse_ok("::/0"), &c)), "::/0");
	ck_assert_str_eq(fmt((c = parse_ok("10.1.2.128/25"), &c)),
	                 "10.1.2.128/25");
}
END_TEST

START_TEST(refuses_bad_prefixes_with_reasons)
{
	parse_bad("", "bad address");
	parse_bad("/24", "bad address");
	parse_bad("192.0.2.0/", "bad prefix length \"\": expected 0 to 32");
	parse_bad("192.0.2.0/33", "bad prefix length \"33\": expected 0 to 32");
	parse_bad("2001:db8::/129",
	          "bad prefix length \"129\": expected 0 to 128");
	parse_bad("192.0.2.0/2x", "bad prefix length \"2x\": expected 0 to 32");
	parse_bad("192.0.2.0/-1", "bad prefix length \"-1\": expected 0 to 32");
	parse_bad("192.0.2.0/0024",
	          "bad prefix length \"0024\": expected 0 to 32");
	parse_bad("192.0.2.1/24",
	          "host bits set below /24; the network is 192.0.2.0/24");
	parse_bad("2001:db8::1/32",
	          "host bits set below /32; the network is 2001:db8::/32");
	parse_bad("balancer.example",
	          "bad address (expected an IPv4 or IPv6 address, optionally "
	          "with /PREFIX; no host names)");
	parse_bad("192.0.2.256", "bad address (expected an IPv4 or IPv6 "
	          "address, optionally with /PREFIX; no host names)");
	parse_bad("[2001:db8::]/32", "write IPv6 prefixes without brackets, "
	          "as 2001:db8::/32");
	parse_bad("::ffff:192.0.2.0/120", "v4-mapped prefix: write the IPv4 "
	          "network instead (peers are compared as IPv4)");
}
END_TEST

START_TEST(matches_inside_and_not_outside)
{
	struct cidr l[3];

	l[0] = parse_ok("192.0.2.0/24");
	l[1] = parse_ok("10.1.2.128/25");
	l[2] = parse_ok("2001:db8::/32");
	ck_assert(match(l, 3, "192.0.2.0"));
	ck_assert(match(l, 3, "192.0.2.255"));
	ck_assert(!match(l, 3, "192.0.3.0"));
	ck_assert(!match(l, 3, "192.0.1.255"));
	ck_assert(match(l, 3, "10.1.2.128"));
	ck_assert(match(l, 3, "10.1.2.255"));
	ck_assert(!match(l, 3, "10.1.2.127"));
	ck_assert(match(l, 3, "2001:db8:ffff::1"));
	ck_assert(!match(l, 3, "2001:db9::1"));
	/* An IPv4 client on a dual-stack socket is compared as IPv4. */
	ck_assert(match(l, 3, "::ffff:192.0.2.9"));
	ck_assert(!match(l, 3, "::ffff:198.51.100.9"));
	/* An empty list trusts nobody; families never cross. */
	ck_assert(!match(l, 0, "192.0.2.1"));
	ck_assert(!match(&l[2], 1, "192.0.2.1"));
	ck_assert(!match(l, 2, "2001:db8::1"));
}
END_TEST

START_TEST(zero_prefix_matches_its_whole_family)
{
	struct cidr any4 = parse_ok("0.0.0.0/0"), any6 = parse_ok("::/0");

	ck_assert(match(&any4, 1, "203.0.113.9"));
	ck_assert(match(&any4, 1, "::ffff:203.0.113.9"));
	ck_assert(!match(&any4, 1, "2001:db8::1"));
	ck_assert(match(&any6, 1, "2001:db8::1"));
	ck_assert(!match(&any6, 1, "203.0.113.9"));
}
END_TEST

START_TEST(host_prefix_matches_one_address)
{
	struct cidr one = parse_ok("198.51.100.7"), one6 = parse_ok("::1");

	ck_assert(match(&one, 1, "198.51.100.7"));
	ck_assert(!match(&one, 1, "198.51.100.6"));
	ck_assert(!match(&one, 1, "198.51.100.8"));
	ck_assert(match(&one6, 1, "::1"));
	ck_assert(!match(&one6, 1, "::2"));
}
END_TEST

START_TEST(unix_peer_never_matches)
{
	struct cidr any = parse_ok("0.0.0.0/0");
	struct sockaddr sa_unix = { .sa_family = AF_UNIX };

	ck_assert(!cidr_match(&any, 1, &sa_unix));
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("cidr");

	UNIT_ADD(s, parses_prefixes_and_bare_addresses);
	UNIT_ADD(s, refuses_bad_prefixes_with_reasons);
	UNIT_ADD(s, matches_inside_and_not_outside);
	UNIT_ADD(s, zero_prefix_matches_its_whole_family);
	UNIT_ADD(s, host_prefix_matches_one_address);
	UNIT_ADD(s, unix_peer_never_matches);
	return s;
}

UNIT_MAIN(make_suite)
