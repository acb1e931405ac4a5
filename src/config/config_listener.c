/* The keys of a [listener:NAME] section: literal binds, backends in
 * failover order (host names resolved here, once, at load time), and the
 * per-listener modes, timeouts and limit (the TLS keys go on to
 * config_tls.c).  Checks that need every
 * listener (overlapping binds, v6only) wait for config_validate.c. */
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_internal.h"
#include "parse.h"

int cfg_split_value(struct parser *p, const char *key, const char *value,
                    char **copy, char **items, int max, const char *what)
{
	const char *c;
	int n, count = 1;

	*copy = strdup(value);
	if (*copy == NULL) {
		p->oom = true;
		return 0;
	}
	n = parse_split_list(*copy, items, max);
	if (n >= 0)
		return n;
	for (c = value; *c != '\0'; c++)
		count += *c == ',';
	if (count > max)
		KEY_ERR(p, key, "too many %s (at most %d)", what, max);
	else
		KEY_ERR(p, key, "empty item in list");
	return 0;
}

static void set_binds(struct parser *p, struct listener_cfg *l,
                      const char *key, const char *value)
{
	char *items[CONFIG_MAX_BINDS];
	char err[REASON_MAX];
	char *copy;
	int i, n;

	n = cfg_split_value(p, key, value, &copy, items, CONFIG_MAX_BINDS,
	                    "addresses");
	if (n > 0) {
		l->binds = calloc((size_t)n, sizeof(*l->binds));
		if (l->binds == NULL) {
			p->oom = true;
			n = 0;
		}
	}
	for (i = 0; i < n; i++) {
		struct bind_cfg *b = &l->binds[l->nbinds];

		if (addr_parse(items[i], ADDR_ALLOW_INET, &b->addr, err,
		               sizeof(err)) < 0) {
			KEY_ERR(p, key, "bad address \"%s\": %s", items[i], err);
			continue;
		}
		b->line = p->lineno;
		l->nbinds++;
	}
	free(copy);
}

#define ERR_TOO_MANY_RESOLVED \
	"too many addresses (at most %d) once host names are resolved"

/* Append the addresses `host` resolves to.  Returns -1 when they do not
 * all fit (reported). */
static int resolve_backend(struct parser *p, struct listener_cfg *l,
                           const char *key, const char *host, int port)
{
	struct addrinfo hints, *res = NULL, *ai;
	char service[8];
	size_t first = l->nbackends;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(service, sizeof(service), "%d", port);
	rc = getaddrinfo(host, service, &hints, &res);
	if (rc != 0) {
		KEY_ERR(p, key, "cannot resolve \"%s\": %s", host,
		        rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return 0;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		struct addr a;
		size_t j;
		bool dup = false;

		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen > sizeof(a.ss))
			continue;
		memset(&a, 0, sizeof(a));
		memcpy(&a.ss, ai->ai_addr, ai->ai_addrlen);
		a.len = ai->ai_addrlen;
		for (j = first; j < l->nbackends; j++)
			dup = dup || addr_equal(&l->backends[j], &a);
		if (dup)
			continue;
		if (l->nbackends == CONFIG_MAX_BACKENDS) {
			KEY_ERR(p, key, ERR_TOO_MANY_RESOLVED, CONFIG_MAX_BACKENDS);
			freeaddrinfo(res);
			return -1;
		}
		l->backends[l->nbackends++] = a;
	}
	freeaddrinfo(res);
	return 0;
}

static void set_backends(struct parser *p, struct listener_cfg *l,
                         const char *key, const char *value)
{
	char *items[CONFIG_MAX_BACKENDS];
	char err[REASON_MAX], err2[REASON_MAX];
	char host[256];
	char *copy;
	int i, n, port;

	n = cfg_split_value(p, key, value, &copy, items, CONFIG_MAX_BACKENDS,
	                    "addresses");
	if (n > 0) {
		l->backends = calloc(CONFIG_MAX_BACKENDS, sizeof(*l->backends));
		if (l->backends == NULL) {
			p->oom = true;
			n = 0;
		}
	}
	for (i = 0; i < n; i++) {
		struct addr *a = &l->backends[l->nbackends];
		bool literal;

		if (l->nbackends == CONFIG_MAX_BACKENDS) {
			KEY_ERR(p, key, ERR_TOO_MANY_RESOLVED, CONFIG_MAX_BACKENDS);
			break;
		}
		/* A literal address, else host:port to resolve. */
		literal = addr_parse(items[i], ADDR_ALLOW_INET | ADDR_ALLOW_UNIX,
		                     a, err, sizeof(err)) == 0;
		if (!literal && addr_split_hostname(items[i], host, sizeof(host),
		                                    &port, err2,
		                                    sizeof(err2)) < 0) {
			KEY_ERR(p, key, "bad address \"%s\": %s", items[i], err);
			continue;
		}
		if ((literal ? addr_port(a) : port) == 0) {
			KEY_ERR(p, key, "bad address \"%s\": port 0 is not "
			        "allowed for a backend", items[i]);
			continue;
		}
		if (literal)
			l->nbackends++;
		else if (resolve_backend(p, l, key, host, port) < 0)
			break;
	}
	free(copy);
}

/* accept_proxy_from: prefixes, each "ADDR/PREFIX" or one address. */
static void set_proxy_from(struct parser *p, struct listener_cfg *l,
                           const char *key, const char *value)
{
	char *items[CONFIG_MAX_PROXY_FROM];
	char err[REASON_MAX];
	char *copy;
	int i, n;

	n = cfg_split_value(p, key, value, &copy, items, CONFIG_MAX_PROXY_FROM,
	                    "prefixes");
	if (n > 0) {
		l->proxy_from = calloc((size_t)n, sizeof(*l->proxy_from));
		if (l->proxy_from == NULL) {
			p->oom = true;
			n = 0;
		}
	}
	for (i = 0; i < n; i++) {
		if (cidr_parse(items[i], &l->proxy_from[l->nproxy_from], err,
		               sizeof(err)) < 0) {
			KEY_ERR(p, key, "bad prefix \"%s\": %s", items[i], err);
			continue;
		}
		l->nproxy_from++;
	}
	free(copy);
}

/* "V4, V6": the prefix lengths that make one source, IPv4 first. */
static void set_source_prefix(struct parser *p, struct listener_cfg *l,
                              const char *key, const char *value)
{
	char *copy, *items[2], err[REASON_MAX];
	uint64_t v4, v6;
	int n = cfg_split_value(p, key, value, &copy, items, 2, "prefix lengths");

	if (n == 0)
		goto out;
	if (n != 2) {
		KEY_ERR(p, key, "bad value \"%s\": expected two prefix "
		        "lengths, IPv4 then IPv6 (e.g. 32, 64)", value);
		goto out;
	}
	if (parse_uint(items[0], 1, 32, &v4, err, sizeof(err)) < 0) {
		KEY_ERR(p, key, "IPv4 prefix length: %s", err);
		goto out;
	}
	if (parse_uint(items[1], 1, 128, &v6, err, sizeof(err)) < 0) {
		KEY_ERR(p, key, "IPv6 prefix length: %s", err);
		goto out;
	}
	l->source_v4_bits = (unsigned)v4;
	l->source_v6_bits = (unsigned)v6;
out:
	free(copy);
}

void cfg_listener_key(struct parser *p, const char *name, const char *value)
{
	struct listener_cfg *l = &p->cfg->listeners[p->cur];
	char err[REASON_MAX];
	uint64_t ms;
	int k, b;

	k = cfg_key_claim(p, name, value, cfg_listener_keys,
	                  p->lst[p->cur].key_line, cfg_global_keys, "[global]");
	if (k < 0)
		return;

	switch ((enum lkey)k) {
	case L_BIND:
		set_binds(p, l, name, value);
		break;
	case L_V6ONLY:
		cfg_set_bool(p, name, value, &l->v6only);
		break;
	case L_MPTCP:
		if (strcasecmp(value, "required") == 0)
			l->mptcp = MPTCP_MODE_REQUIRED;
		else if (parse_bool(value, &b, err, sizeof(err)) == 0)
			l->mptcp = b ? MPTCP_MODE_ON : MPTCP_MODE_OFF;
		else
			KEY_ERR(p, name, "bad value \"%s\": expected on, off or "
			        "required", value);
		break;
	case L_BACKEND:
		set_backends(p, l, name, value);
		break;
	case L_PROXY_PROTOCOL:
		if (strcasecmp(value, "v1") == 0)
			l->proxy_protocol = PP_MODE_V1;
		else if (strcasecmp(value, "v2") == 0)
			l->proxy_protocol = PP_MODE_V2;
		else if (strcasecmp(value, "off") == 0)
			l->proxy_protocol = PP_MODE_OFF;
		else
			KEY_ERR(p, name, "bad value \"%s\": expected v1, v2 or "
			        "off", value);
		break;
	case L_ACCEPT_PROXY:
		cfg_set_bool(p, name, value, &l->accept_proxy);
		break;
	case L_ACCEPT_PROXY_FROM:
		set_proxy_from(p, l, name, value);
		break;
	case L_CONNECT_TIMEOUT:
	case L_IDLE_TIMEOUT:
	case L_ACCEPT_PROXY_TIMEOUT:
		if (parse_duration_ms(value, &ms, err, sizeof(err)) < 0) {
			KEY_ERR(p, name, "%s", err);
			break;
		}
		if (ms == 0) {
			KEY_ERR(p, name, "bad duration \"%s\": must be greater "
			        "than 0", value);
			break;
		}
		if (k == L_CONNECT_TIMEOUT)
			l->connect_timeout_ms = ms;
		else if (k == L_IDLE_TIMEOUT)
			l->idle_timeout_ms = ms;
		else
			l->accept_proxy_timeout_ms = ms;
		break;
	case L_BACKEND_RETRY:
		if (parse_duration_ms(value, &ms, err, sizeof(err)) < 0)
			KEY_ERR(p, name, "%s", err);
		else if (ms != 0 && (ms < BACKEND_RETRY_MIN_MS ||
		                     ms > BACKEND_RETRY_MAX_MS))
			KEY_ERR(p, name, "bad duration \"%s\": must be 0 (off) "
			        "or between 100ms and 1h", value);
		else
			l->backend_retry_ms = ms;
		break;
	case L_MAX_CONNECTIONS:
		if (parse_uint(value, 0, MAX_CONNECTIONS_LIMIT,
		               &l->max_connections, err, sizeof(err)) < 0)
			KEY_ERR(p, name, "%s", err);
		break;
	case L_MAX_PER_SOURCE:
		if (parse_uint(value, 0, MAX_CONNECTIONS_LIMIT,
		               &l->max_per_source, err, sizeof(err)) < 0)
			KEY_ERR(p, name, "%s", err);
		break;
	case L_SOURCE_PREFIX:
		set_source_prefix(p, l, name, value);
		break;
	case L_PROXY_PROTOCOL_TLVS:
	case L_TLS_CERT:
	case L_TLS_KEY:
	case L_TLS_MIN_VERSION:
	case L_TLS_CIPHERS:
	case L_TLS_CIPHERSUITES:
	case L_TLS_ALPN:
	case L_TLS_VERIFY:
	case L_TLS_CLIENT_CA:
	case L_TLS_HANDSHAKE_TIMEOUT:
		cfg_tls_key(p, l, k, name, value);
		break;
	case L_NKEYS:
		break;
	}
}
