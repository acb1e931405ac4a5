/* Address prefixes and matching peers against them. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"

static int all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* ::ffff:a.b.c.d, from bytes of any alignment. */
static int is_v4mapped(const uint8_t *a)
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	                                    0xff, 0xff };
	return memcmp(a, prefix, sizeof(prefix)) == 0;
}

/* Clear the bits of a[] below `prefix`; returns whether any was set. */
static int clear_host_bits(uint8_t *a, unsigned bytes, unsigned prefix)
{
	int had = 0;

	for (unsigned i = 0; i < bytes; i++) {
		unsigned keep = prefix >= 8 * (i + 1) ? 8
		                : prefix > 8 * i ? prefix - 8 * i : 0;
		uint8_t mask = (uint8_t)(keep == 0 ? 0 : 0xff << (8 - keep));

		had |= (a[i] & ~mask) != 0;
		a[i] &= mask;
	}
	return had;
}

char *cidr_format(const struct cidr *c, char *buf, size_t buflen)
{
	char ip[INET6_ADDRSTRLEN], text[INET6_ADDRSTRLEN + 8];

	if (inet_ntop(c->family, c->addr, ip, sizeof(ip)) == NULL)
		strcpy(ip, "?");
	snprintf(text, sizeof(text), "%s/%u", ip, (unsigned)c->prefix);
	snprintf(buf, buflen, "%s", text);
	return buf;
}

int cidr_parse(const char *s, struct cidr *out, char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t n = slash != NULL ? (size_t)(slash - s) : strlen(s);
	unsigned max, prefix;
	struct cidr c;

	memset(&c, 0, sizeof(c));
	if (n == 0 || n >= sizeof(host)) {
		snprintf(err, errlen, "bad address");
		return -1;
	}
	memcpy(host, s, n);
	host[n] = '\0';
	if (host[0] == '[') {
		snprintf(err, errlen, "write IPv6 prefixes without brackets, "
		         "as 2001:db8::/32");
		return -1;
	}
	if (inet_pton(AF_INET, host, c.addr) == 1) {
		c.family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, c.addr) == 1) {
		c.family = AF_INET6;
		max = 128;
		if (is_v4mapped(c.addr)) {
			snprintf(err, errlen, "v4-mapped prefix: write the "
			         "IPv4 network instead (peers are compared "
			         "as IPv4)");
			return -1;
		}
	} else {
		snprintf(err, errlen, "bad address (expected an IPv4 or IPv6 "
		         "address, optionally with /PREFIX; no host names)");
		return -1;
	}
	prefix = max;
	if (slash != NULL) {
		const char *d = slash + 1;

		/* At most 3 digits, so atoi cannot overflow. */
		prefix = all_digits(d) && strlen(d) <= 3 ? (unsigned)atoi(d)
		                                         : max + 1;
		if (prefix > max) {
			snprintf(err, errlen, "bad prefix length \"%s\": "
			         "expected 0 to %u", d, max);
			return -1;
		}
	}
	c.prefix = (uint8_t)prefix;
	if (clear_host_bits(c.addr, max / 8, prefix)) {
		char text[CIDR_STRLEN];

		snprintf(err, errlen, "host bits set below /%u; the network "
		         "is %s", prefix, cidr_format(&c, text, sizeof(text)));
		return -1;
	}
	*out = c;
	return 0;
}

static int in_prefix(const struct cidr *c, const uint8_t *a)
{
	unsigned full = c->prefix / 8, rest = c->prefix % 8;

	if (memcmp(c->addr, a, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a[full] ^ c->addr[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

int cidr_match(const struct cidr *list, size_t n, const struct sockaddr *sa)
{
	const uint8_t *a;
	sa_family_t fam = sa->sa_family;

	if (fam == AF_INET) {
		a = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
	} else if (fam == AF_INET6) {
		a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		if (is_v4mapped(a)) {
			fam = AF_INET;
			a += 12;
		}
	} else {
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (list[i].family == fam && in_prefix(&list[i], a))
			return 1;
	return 0;
}

int cidr_equal(const struct cidr *a, const struct cidr *b)
{
	size_t n = a->family == AF_INET ? 4 : 16;

	return a->family == b->family && a->prefix == b->prefix &&
	       memcmp(a->addr, b->addr, n) == 0;
}

int cidr_is_unicast_host(const struct cidr *c)
{
	static const uint8_t zero[16], loop6[16] = { [15] = 1 };
	const uint8_t *a = c->addr;

	if (c->family == AF_INET)
		/* 0/8, 127/8, 169.254/16, 224/4 and 240/4 */
		return c->prefix == 32 && a[0] != 0 && a[0] != 127 &&
		       !(a[0] == 169 && a[1] == 254) && a[0] < 224;
	/* ::, ::1, ff00::/8, fe80::/10 */
	return c->prefix == 128 && memcmp(a, zero, 16) != 0 &&
	       memcmp(a, loop6, 16) != 0 && a[0] != 0xff &&
	       !(a[0] == 0xfe && (a[1] & 0xc0) == 0x80);
}
