/* Socket addresses as the configuration and the logs spell them.  Literal
 * IP addresses only: resolving host names is the caller's business (the
 * configuration does it once at load time), so nothing here blocks. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"

#define ERR_BRACKETS "IPv6 address must be in brackets, as [::1]:443"

/* "443" -> 443.  Empty -> "missing port"; anything but digits -> "bad
 * port"; more than 65535 -> "port out of range". */
static int parse_port(const char *p, int *port, char *err, size_t errlen)
{
	unsigned long v = 0;
	size_t i;

	if (p[0] == '\0') {
		snprintf(err, errlen, "missing port");
		return -1;
	}
	for (i = 0; p[i] != '\0'; i++) {
		if (p[i] < '0' || p[i] > '9') {
			snprintf(err, errlen, "bad port");
			return -1;
		}
		if (v <= 65535)
			v = v * 10 + (unsigned long)(p[i] - '0');
	}
	if (v > 65535) {
		snprintf(err, errlen, "port out of range");
		return -1;
	}
	*port = (int)v;
	return 0;
}

/* Only digits and dots: the writer meant an IPv4 address. */
static int looks_ipv4(const char *h, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (h[i] != '.' && (h[i] < '0' || h[i] > '9'))
			return 0;
	}
	return 1;
}

static int is_label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* A DNS name: dot-separated labels of 1-63 letters, digits, '-' or '_'
 * (container service names use '_'), no label starting or ending with
 * '-', at most 253 characters, an optional final dot. */
static int looks_hostname(const char *h, size_t n)
{
	size_t i, label = 0;

	if (n > 0 && h[n - 1] == '.')
		n--;
	if (n == 0 || n > 253 || looks_ipv4(h, n))
		return 0;
	for (i = 0; i < n; i++) {
		if (h[i] == '.') {
			if (label == 0 || h[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!is_label_char(h[i]) || (label == 0 && h[i] == '-'))
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0 && h[n - 1] != '-';
}

static int parse_unix(const char *path, struct addr *out, char *err,
                      size_t errlen)
{
	struct sockaddr_un *sau = (struct sockaddr_un *)&out->ss;
	size_t n = strlen(path);

	if (path[0] != '/') {
		snprintf(err, errlen, "unix socket path must be absolute");
		return -1;
	}
	if (n >= sizeof(sau->sun_path)) {
		snprintf(err, errlen, "unix socket path too long");
		return -1;
	}
	memset(out, 0, sizeof(*out));
	sau->sun_family = AF_UNIX;
	memcpy(sau->sun_path, path, n + 1);
	out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	return 0;
}

static int parse_ipv6(const char *s, struct addr *out, char *err,
                      size_t errlen)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;
	char host[INET6_ADDRSTRLEN];
	const char *close = strchr(s, ']');
	struct in6_addr ip;
	size_t n;
	int port;

	if (close == NULL) {
		snprintf(err, errlen, "bad IPv6 address");
		return -1;
	}
	if (close[1] != ':') {
		snprintf(err, errlen, "missing port");
		return -1;
	}
	if (parse_port(close + 2, &port, err, errlen) < 0)
		return -1;
	n = (size_t)(close - (s + 1));
	if (n == 0 || n >= sizeof(host)) {
		snprintf(err, errlen, "bad IPv6 address");
		return -1;
	}
	memcpy(host, s + 1, n);
	host[n] = '\0';
	if (inet_pton(AF_INET6, host, &ip) != 1) {
		snprintf(err, errlen, "bad IPv6 address");
		return -1;
	}
	memset(out, 0, sizeof(*out));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_addr = ip;
	sin6->sin6_port = htons((uint16_t)port);
	out->len = sizeof(*sin6);
	return 0;
}

static int parse_ipv4(const char *s, struct addr *out, char *err,
                      size_t errlen)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;
	const char *colon = strrchr(s, ':');
	char host[INET_ADDRSTRLEN];
	struct in_addr ip;
	size_t n;
	int port;

	if (colon == NULL) {
		snprintf(err, errlen, "missing port");
		return -1;
	}
	if (memchr(s, ':', (size_t)(colon - s)) != NULL) {
		snprintf(err, errlen, ERR_BRACKETS);
		return -1;
	}
	if (parse_port(colon + 1, &port, err, errlen) < 0)
		return -1;
	n = (size_t)(colon - s);
	if (n == 0) {
		snprintf(err, errlen, "missing address");
		return -1;
	}
	if (!looks_ipv4(s, n) && looks_hostname(s, n)) {
		snprintf(err, errlen,
		         "host names are not allowed here; use an IP address");
		return -1;
	}
	if (n >= sizeof(host)) {
		snprintf(err, errlen, "bad IPv4 address");
		return -1;
	}
	memcpy(host, s, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, &ip) != 1) {
		snprintf(err, errlen, "bad IPv4 address");
		return -1;
	}
	memset(out, 0, sizeof(*out));
	sin->sin_family = AF_INET;
	sin->sin_addr = ip;
	sin->sin_port = htons((uint16_t)port);
	out->len = sizeof(*sin);
	return 0;
}

int addr_parse(const char *s, int allow, struct addr *out, char *err,
               size_t errlen)
{
	if (strncmp(s, "unix:", 5) == 0) {
		if (!(allow & ADDR_ALLOW_UNIX)) {
			snprintf(err, errlen, "unix sockets are not allowed here");
			return -1;
		}
		return parse_unix(s + 5, out, err, errlen);
	}
	if (!(allow & ADDR_ALLOW_INET)) {
		snprintf(err, errlen, "expected unix:/path");
		return -1;
	}
	if (s[0] == '[')
		return parse_ipv6(s, out, err, errlen);
	return parse_ipv4(s, out, err, errlen);
}

int addr_split_hostname(const char *s, char *host, size_t hostlen, int *port,
                        char *err, size_t errlen)
{
	const char *colon = strrchr(s, ':');
	size_t n;

	if (colon == NULL || strncmp(s, "unix:", 5) == 0 || s[0] == '[' ||
	    memchr(s, ':', (size_t)(colon - s)) != NULL) {
		snprintf(err, errlen, "not a HOST:PORT address");
		return -1;
	}
	n = (size_t)(colon - s);
	if (!looks_hostname(s, n)) {
		snprintf(err, errlen, "not a host name");
		return -1;
	}
	if (parse_port(colon + 1, port, err, errlen) < 0)
		return -1;
	if (n >= hostlen) {
		snprintf(err, errlen, "host name too long");
		return -1;
	}
	memcpy(host, s, n);
	host[n] = '\0';
	return 0;
}

char *addr_format(const struct sockaddr *sa, socklen_t len, char *buf,
                  size_t buflen)
{
	char ip[INET6_ADDRSTRLEN];

	if (buflen == 0)
		return buf;
	if (sa == NULL || len < (socklen_t)sizeof(sa_family_t))
		goto unknown;

	switch (sa->sa_family) {
	case AF_INET: {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		if (len < (socklen_t)sizeof(*sin))
			goto unknown;
		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		snprintf(buf, buflen, "%s:%u", ip, ntohs(sin->sin_port));
		return buf;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		if (len < (socklen_t)sizeof(*sin6))
			goto unknown;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], ip,
			          sizeof(ip));
			snprintf(buf, buflen, "%s:%u", ip, ntohs(sin6->sin6_port));
		} else {
			inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
			snprintf(buf, buflen, "[%s]:%u", ip,
			         ntohs(sin6->sin6_port));
		}
		return buf;
	}
	case AF_UNIX: {
		const struct sockaddr_un *sau = (const struct sockaddr_un *)sa;
		size_t off = offsetof(struct sockaddr_un, sun_path);
		size_t n = (size_t)len > off ? (size_t)len - off : 0;

		if (n > sizeof(sau->sun_path))
			n = sizeof(sau->sun_path);
		if (n == 0) {
			/* The peer of a connect()ed unix socket has no name. */
			snprintf(buf, buflen, "unix:(unnamed)");
		} else if (sau->sun_path[0] == '\0') {
			snprintf(buf, buflen, "unix:@%.*s", (int)(n - 1),
			         sau->sun_path + 1);
		} else {
			snprintf(buf, buflen, "unix:%.*s",
			         (int)strnlen(sau->sun_path, n), sau->sun_path);
		}
		return buf;
	}
	default:
		break;
	}
unknown:
	snprintf(buf, buflen, "unknown");
	return buf;
}

int addr_unmap_v4(struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in sin;

	if (ss->ss_family != AF_INET6 ||
	    !IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
		return 0;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = sin6->sin6_port;
	memcpy(&sin.sin_addr, &sin6->sin6_addr.s6_addr[12], 4);
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, &sin, sizeof(sin));
	if (len != NULL)
		*len = sizeof(sin);
	return 1;
}

int addr_is_wildcard(const struct addr *a)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->ss;

	switch (a->ss.ss_family) {
	case AF_INET:
		return sin->sin_addr.s_addr == htonl(INADDR_ANY);
	case AF_INET6:
		return IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr);
	default:
		return 0;
	}
}

int addr_is_loopback(const struct addr *a)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->ss;
	const uint8_t *b = sin6->sin6_addr.s6_addr;

	switch (a->ss.ss_family) {
	case AF_INET:
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	case AF_INET6:
		return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr) ||
		       (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) && b[12] == 127);
	default:
		return 0;
	}
}

int addr_port(const struct addr *a)
{
	switch (a->ss.ss_family) {
	case AF_INET:
		return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
	case AF_INET6:
		return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
	default:
		return -1;
	}
}

int addr_equal(const struct addr *a, const struct addr *b)
{
	if (a->ss.ss_family != b->ss.ss_family)
		return 0;
	switch (a->ss.ss_family) {
	case AF_INET: {
		const struct sockaddr_in *x = (const struct sockaddr_in *)&a->ss;
		const struct sockaddr_in *y = (const struct sockaddr_in *)&b->ss;

		return x->sin_addr.s_addr == y->sin_addr.s_addr &&
		       x->sin_port == y->sin_port;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *x =
			(const struct sockaddr_in6 *)&a->ss;
		const struct sockaddr_in6 *y =
			(const struct sockaddr_in6 *)&b->ss;

		return IN6_ARE_ADDR_EQUAL(&x->sin6_addr, &y->sin6_addr) &&
		       x->sin6_port == y->sin6_port &&
		       x->sin6_scope_id == y->sin6_scope_id;
	}
	case AF_UNIX: {
		const struct sockaddr_un *x = (const struct sockaddr_un *)&a->ss;
		const struct sockaddr_un *y = (const struct sockaddr_un *)&b->ss;

		size_t off = offsetof(struct sockaddr_un, sun_path);

		return a->len == b->len && a->len >= off &&
		       memcmp(x->sun_path, y->sun_path, a->len - off) == 0;
	}
	default:
		return 0;
	}
}

void addr_sa_store(union addr_sa *to, const struct sockaddr_storage *from,
                   socklen_t len)
{
	struct sockaddr_storage ss = *from;

	addr_unmap_v4(&ss, &len);
	memcpy(to, &ss, sizeof(*to));
}
