/* Fuzz target: the configuration value parsers (include/parse.h), the
 * address parser and formatter (include/addr.h) and the prefix parser
 * (include/cidr.h), all on the same string:
 * the input up to its first NUL (a second NUL-terminated piece, if any,
 * is the other word for the edit distance).
 *
 * Invariants beyond "no crash": whatever parses formats back to text that
 * parses to the same value (addresses, durations, sizes, integers); every
 * failure leaves a reason; list items are trimmed, non-empty and inside
 * the string; the edit distance is a capped metric; a prefix round trips
 * and contains its own network address. */
#include <inttypes.h>
#include <string.h>

#include "addr.h"
#include "cidr.h"
#include "fuzz.h"
#include "parse.h"

/* Longest string tried. */
#define MAX_TEXT 1024
#define MAX_ITEMS 16
/* parse_edit_distance() costs length x 511 steps whatever the other word
 * (a fixed band); beyond the cap of 255 the answer is the cap, so longer
 * words would only slow the run down. */
#define MAX_WORD 300
#define MAX_SUGGEST 32

static void check_err(int rc, const char *err)
{
	if (rc < 0)
		FUZZ_CHECK(err[0] != '\0' && strlen(err) < 128);
	else
		FUZZ_CHECK(rc == 0);
}

static void fuzz_addr(const char *s, int allow)
{
	struct addr a, b;
	char err[128] = "", text[ADDR_STRLEN];
	int rc = addr_parse(s, allow, &a, err, sizeof(err));

	check_err(rc, err);
	if (rc < 0)
		return;
	FUZZ_CHECK(a.len > 0 && a.len <= sizeof(a.ss));
	FUZZ_CHECK(a.ss.ss_family == AF_INET || a.ss.ss_family == AF_INET6 ||
	           (a.ss.ss_family == AF_UNIX && (allow & ADDR_ALLOW_UNIX)));
	addr_format((const struct sockaddr *)&a.ss, a.len, text, sizeof(text));
	FUZZ_CHECK(strlen(text) < sizeof(text));
	err[0] = '\0';
	rc = addr_parse(text, allow, &b, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "\"%s\" formats as \"%s\": %s\n", s, text, err);
	FUZZ_CHECK(rc == 0);
	/* The formatter prints ::ffff:a.b.c.d as IPv4. */
	addr_unmap_v4(&a.ss, &a.len);
	addr_unmap_v4(&b.ss, &b.len);
	FUZZ_CHECK(addr_equal(&a, &b));
	FUZZ_CHECK(addr_port(&a) == addr_port(&b));
	FUZZ_CHECK(addr_is_wildcard(&a) == addr_is_wildcard(&b));
}

/* A prefix that parses formats to text that parses to the same prefix,
 * contains its own network address, and a bare address is a full-length
 * prefix. */
static void fuzz_cidr(const char *s)
{
	struct cidr c, d;
	char err[128] = "", text[CIDR_STRLEN];
	struct sockaddr_storage ss;
	int rc = cidr_parse(s, &c, err, sizeof(err));

	check_err(rc, err);
	if (rc < 0)
		return;
	FUZZ_CHECK(c.family == AF_INET || c.family == AF_INET6);
	FUZZ_CHECK(c.prefix <= (c.family == AF_INET ? 32 : 128));
	if (strchr(s, '/') == NULL)
		FUZZ_CHECK(c.prefix == (c.family == AF_INET ? 32 : 128));
	cidr_format(&c, text, sizeof(text));
	FUZZ_CHECK(strlen(text) < sizeof(text));
	err[0] = '\0';
	FUZZ_CHECK(cidr_parse(text, &d, err, sizeof(err)) == 0);
	FUZZ_CHECK(memcmp(&c, &d, sizeof(c)) == 0);
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = c.family;
	if (c.family == AF_INET)
		memcpy(&((struct sockaddr_in *)&ss)->sin_addr, c.addr, 4);
	else
		memcpy(&((struct sockaddr_in6 *)&ss)->sin6_addr, c.addr, 16);
	FUZZ_CHECK(cidr_match(&c, 1, (const struct sockaddr *)&ss));
}

static void fuzz_numbers(const char *s)
{
	char err[128] = "", text[32];
	uint64_t v, w;
	int rc, b;

	rc = parse_duration_ms(s, &v, err, sizeof(err));
	check_err(rc, err);
	if (rc == 0) {
		snprintf(text, sizeof(text), "%" PRIu64 "ms", v);
		FUZZ_CHECK(parse_duration_ms(text, &w, err, sizeof(err)) == 0);
		FUZZ_CHECK(v == w);
	}
	err[0] = '\0';
	rc = parse_size(s, &v, err, sizeof(err));
	check_err(rc, err);
	if (rc == 0) {
		snprintf(text, sizeof(text), "%" PRIu64, v);
		FUZZ_CHECK(parse_size(text, &w, err, sizeof(err)) == 0);
		FUZZ_CHECK(v == w);
	}
	err[0] = '\0';
	rc = parse_uint(s, 0, UINT64_MAX, &v, err, sizeof(err));
	check_err(rc, err);
	if (rc == 0) {
		snprintf(text, sizeof(text), "%" PRIu64, v);
		FUZZ_CHECK(parse_uint(text, 0, UINT64_MAX, &w, err,
		                      sizeof(err)) == 0 && v == w);
	}
	err[0] = '\0';
	rc = parse_uint(s, 10, 1000, &v, err, sizeof(err));
	check_err(rc, err);
	if (rc == 0)
		FUZZ_CHECK(v >= 10 && v <= 1000);
	err[0] = '\0';
	rc = parse_bool(s, &b, err, sizeof(err));
	check_err(rc, err);
	if (rc == 0)
		FUZZ_CHECK(b == 0 || b == 1);
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static void fuzz_list(const char *s, size_t len)
{
	char copy[MAX_TEXT + 1];
	char *items[MAX_ITEMS];
	int n, i;

	memcpy(copy, s, len + 1);
	n = parse_split_list(copy, items, MAX_ITEMS);
	FUZZ_CHECK(n == -1 || (n >= 1 && n <= MAX_ITEMS));
	for (i = 0; i < n; i++) {
		size_t il = strlen(items[i]);

		FUZZ_CHECK(items[i] >= copy && items[i] + il <= copy + len);
		FUZZ_CHECK(il > 0 && !is_blank(items[i][0]) &&
		           !is_blank(items[i][il - 1]));
		FUZZ_CHECK(strchr(items[i], ',') == NULL);
	}
}

static void fuzz_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t diff = la > lb ? la - lb : lb - la;
	unsigned d = parse_edit_distance(a, b);

	FUZZ_CHECK(d == parse_edit_distance(b, a));
	FUZZ_CHECK(d <= 255);
	FUZZ_CHECK(d >= (diff < 255 ? diff : 255));
	FUZZ_CHECK(d <= (la > lb ? la : lb));
	FUZZ_CHECK((d == 0) == (strcmp(a, b) == 0));
	FUZZ_CHECK(parse_edit_distance(a, a) == 0);
}

static void fuzz_suggest(const char *a)
{
	static const char *const keys[] = {
		"bind", "backend", "mptcp", "proxy_protocol", "connect_timeout",
		"idle_timeout", "max_connections", "accept_proxy",
		"accept_proxy_from", "v6only", NULL,
	};
	const char *sug = parse_suggest(a, keys);
	size_t i;

	if (sug != NULL) {
		for (i = 0; keys[i] != NULL && keys[i] != sug; i++)
			;
		FUZZ_CHECK(keys[i] == sug);
		FUZZ_CHECK(parse_edit_distance(a, sug) <= 2);
	}
}

static void fuzz_hostname(const char *s)
{
	char host[256], err[128] = "";
	int port = -1;
	int rc = addr_split_hostname(s, host, sizeof(host), &port, err,
	                             sizeof(err));

	check_err(rc, err);
	if (rc == 0) {
		FUZZ_CHECK(port >= 0 && port <= 65535);
		FUZZ_CHECK(host[0] != '\0' && strlen(host) < sizeof(host));
		FUZZ_CHECK(strncmp(s, host, strlen(host)) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[MAX_TEXT + 1], other[MAX_TEXT + 1];
	size_t len, olen = 0;

	if (size > MAX_TEXT)
		size = MAX_TEXT;
	memcpy(text, data, size);
	text[size] = '\0';
	len = strlen(text);
	if (len + 1 < size) {
		olen = size - len - 1;
		memcpy(other, text + len + 1, olen);
	}
	other[olen] = '\0';

	fuzz_addr(text, ADDR_ALLOW_INET);
	fuzz_addr(text, ADDR_ALLOW_UNIX);
	fuzz_addr(text, ADDR_ALLOW_INET | ADDR_ALLOW_UNIX);
	fuzz_cidr(text);
	fuzz_numbers(text);
	fuzz_list(text, len);
	if (len <= MAX_SUGGEST)
		fuzz_suggest(text);
	/* The distance between the two pieces, when there are two. */
	if (len < size && len <= MAX_WORD && olen <= MAX_WORD)
		fuzz_distance(text, other);
	fuzz_hostname(text);
	return 0;
}
