/* Keys: inih hands each "key = value" here; the current section (tracked
 * by the reader) decides who takes it.  This file holds the key tables,
 * the checks every key goes through (known, set once, not empty) and the
 * [global] values; config_listener.c takes [listener:NAME]. */
#include <errno.h>
#include <limits.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "config_internal.h"
#include "parse.h"

const char *const cfg_global_keys[G_NKEYS + 1] = {
	"log_level", "log", "access_log", "access_log_format", "pidfile", "max_connections",
	"shutdown_timeout", "workers", "splice", "pipe_size", "stats", "user",
	"group", "announce", NULL
};

const char *const cfg_listener_keys[L_NKEYS + 1] = {
	"bind", "v6only", "mptcp", "backend", "proxy_protocol",
	"connect_timeout", "idle_timeout", "max_connections",
	"proxy_protocol_tlvs", "tls_cert", "tls_key", "tls_min_version",
	"tls_ciphers", "tls_ciphersuites", "tls_alpn", "tls_verify",
	"tls_client_ca", "tls_handshake_timeout", "accept_proxy",
	"accept_proxy_from", "accept_proxy_timeout", "backend_retry",
	"max_connections_per_source", "source_prefix", NULL
};

static int key_index(const char *const *keys, const char *name)
{
	int i;

	for (i = 0; keys[i] != NULL; i++) {
		if (strcmp(keys[i], name) == 0)
			return i;
	}
	return -1;
}

static void unknown_key(struct parser *p, const char *name,
                        const char *const *keys,
                        const char *const *other_keys, const char *other)
{
	const char *s;

	if (key_index(other_keys, name) >= 0) {
		KEY_ERR(p, name, "unknown key here; it belongs in %s", other);
		return;
	}
	s = parse_suggest(name, keys);
	if (s != NULL)
		KEY_ERR(p, name, "unknown key; did you mean \"%s\"?", s);
	else
		KEY_ERR(p, name, "unknown key");
}

int cfg_key_claim(struct parser *p, const char *name, const char *value,
                  const char *const *keys, int *key_line,
                  const char *const *other_keys, const char *other)
{
	int k = key_index(keys, name);

	if (k < 0) {
		unknown_key(p, name, keys, other_keys, other);
		return -1;
	}
	if (key_line[k] != 0) {
		char where[PATH_MAX + 16];

		KEY_ERR(p, name, "duplicate key, first set on %s",
		        cfg_where(p, key_line[k], p->lineno, where,
		                  sizeof(where)));
		return -1;
	}
	key_line[k] = p->lineno;
	if (p->value_failed)
		return -1;
	if (value[0] == '\0') {
		KEY_ERR(p, name, "empty value");
		return -1;
	}
	return k;
}

/* "stderr" / "syslog" / "off" or an absolute path; NULL for "off". */
static int set_target(struct parser *p, const char *key, const char *value,
                      bool allow_syslog, bool allow_off, char **out)
{
	const char *keyword = NULL;

	if (strcasecmp(value, "stderr") == 0)
		keyword = "stderr";
	else if (allow_syslog && strcasecmp(value, "syslog") == 0)
		keyword = "syslog";
	else if (allow_off && strcasecmp(value, "off") == 0) {
		free(*out);
		*out = NULL;
		return 0;
	} else if (value[0] != '/') {
		KEY_ERR(p, key, "bad value \"%s\": expected %s", value,
		        allow_syslog ? "stderr, syslog or an absolute path"
		        : allow_off ? "off, stderr or an absolute path"
		                    : "stderr or an absolute path");
		return -1;
	}
	free(*out);
	*out = strdup(keyword != NULL ? keyword : value);
	if (*out == NULL)
		p->oom = true;
	return 0;
}

/* "auto" (one per CPU: 0) or 1..WORKERS_MAX. */
static void set_workers(struct parser *p, const char *key, const char *value)
{
	char err[REASON_MAX];
	uint64_t n;

	if (strcasecmp(value, "auto") == 0)
		p->cfg->workers = 0;
	else if (parse_uint(value, 1, WORKERS_MAX, &n, err, sizeof(err)) == 0)
		p->cfg->workers = (unsigned)n;
	else
		KEY_ERR(p, key, "bad value \"%s\": expected auto or an integer "
		        "from 1 to %d", value, WORKERS_MAX);
}

/* "default" (the kernel's: 0) or a size in PIPE_SIZE_MIN..MAX. */
static void set_pipe_size(struct parser *p, const char *key,
                          const char *value)
{
	char err[REASON_MAX];
	uint64_t n;

	if (strcasecmp(value, "default") == 0)
		p->cfg->pipe_size = 0;
	else if (parse_size(value, &n, err, sizeof(err)) == 0 &&
	         n >= PIPE_SIZE_MIN && n <= PIPE_SIZE_MAX)
		p->cfg->pipe_size = (unsigned)n;
	else
		KEY_ERR(p, key, "bad size \"%s\": expected default or a size "
		        "from 4k to 1m", value);
}

/* "off" or an IP address and port (0: an ephemeral port).  Clashes with
 * listener binds are found by cfg_validate(). */
static void set_stats(struct parser *p, const char *key, const char *value)
{
	char err[REASON_MAX];

	if (strcasecmp(value, "off") == 0) {
		p->cfg->stats_enabled = 0;
		return;
	}
	if (strpbrk(value, ":[") == NULL) {
		KEY_ERR(p, key, "bad value \"%s\": expected off or an address "
		        "and port, as 127.0.0.1:9090", value);
		return;
	}
	if (addr_parse(value, ADDR_ALLOW_INET, &p->cfg->stats, err,
	               sizeof(err)) < 0) {
		KEY_ERR(p, key, "bad address \"%s\": %s", value, err);
		return;
	}
	p->cfg->stats_enabled = 1;
	p->cfg->stats_line = p->lineno;
}

/* user / group: a name this system knows (checked now, so that -t tells;
 * the switch itself happens at start-up, after binding). */
static void set_account(struct parser *p, const char *key, const char *value,
                        bool is_group, char **out)
{
	const char *what = is_group ? "group" : "user";
	bool found;

	errno = 0;
	found = is_group ? getgrnam(value) != NULL : getpwnam(value) != NULL;
	if (!found) {
		if (errno != 0 && errno != ENOENT && errno != ESRCH)
			KEY_ERR(p, key, "cannot look up %s \"%s\": %s", what,
			        value, strerror(errno));
		else
			KEY_ERR(p, key, "no such %s \"%s\"", what, value);
		return;
	}
	free(*out);
	*out = strdup(value);
	if (*out == NULL)
		p->oom = true;
}

/* announce: whole unicast addresses (no port, no prefix), each once. */
static void set_announce(struct parser *p, const char *key, const char *value)
{
	char *items[CONFIG_MAX_ANNOUNCE];
	char err[REASON_MAX], *copy = NULL;
	int n = cfg_split_value(p, key, value, &copy, items, CONFIG_MAX_ANNOUNCE,
	                        "addresses");

	for (int i = 0; i < n; i++) {
		struct cidr *c = &p->cfg->announce[p->cfg->nannounce];

		/* cidr_parse() takes prefixes too: an address alone here. */
		if (strpbrk(items[i], "/[") != NULL ||
		    cidr_parse(items[i], c, err, sizeof(err)) < 0) {
			KEY_ERR(p, key, "bad address \"%s\": expected an IPv4 or "
			        "IPv6 address alone (no prefix, port, brackets or "
			        "host name)", items[i]);
			continue;
		}
		if (!cidr_is_unicast_host(c)) {
			KEY_ERR(p, key, "bad address \"%s\": not a unicast "
			        "address another host can reach (wildcard, "
			        "loopback, multicast or broadcast)", items[i]);
			continue;
		}
		for (size_t j = 0; j < p->cfg->nannounce; j++)
			if (cidr_equal(&p->cfg->announce[j], c)) {
				KEY_ERR(p, key, "address \"%s\" listed twice",
				        items[i]);
				c = NULL;
				break;
			}
		if (c != NULL)
			p->cfg->nannounce++;
	}
	free(copy);
}

void cfg_set_bool(struct parser *p, const char *key, const char *value,
                  int *out)
{
	char err[REASON_MAX];
	int b;

	if (parse_bool(value, &b, err, sizeof(err)) < 0)
		KEY_ERR(p, key, "%s", err);
	else
		*out = b;
}

static void global_key(struct parser *p, const char *name, const char *value)
{
	struct config *cfg = p->cfg;
	char err[REASON_MAX];
	int k, lvl;

	k = cfg_key_claim(p, name, value, cfg_global_keys, p->global_key_line,
	                  cfg_listener_keys, "a [listener:NAME] section");
	if (k < 0)
		return;

	switch ((enum gkey)k) {
	case G_LOG_LEVEL:
		lvl = log_level_parse(value);
		if (lvl < 0)
			KEY_ERR(p, name, "bad value \"%s\": expected error, warn, "
			        "info or debug", value);
		else
			cfg->log_level = (enum log_level)lvl;
		break;
	case G_LOG:
		set_target(p, name, value, true, false, &cfg->log);
		break;
	case G_ACCESS_LOG:
		set_target(p, name, value, false, true, &cfg->access_log);
		break;
	case G_ACCESS_LOG_FORMAT:
		if (strcasecmp(value, "kv") == 0)
			cfg->access_log_json = 0;
		else if (strcasecmp(value, "json") == 0)
			cfg->access_log_json = 1;
		else
			KEY_ERR(p, name, "bad value \"%s\": expected kv "
			        "(key=value, the default) or json", value);
		break;
	case G_PIDFILE:
		if (value[0] != '/') {
			KEY_ERR(p, name, "bad value \"%s\": expected an absolute "
			        "path", value);
			break;
		}
		free(cfg->pidfile);
		cfg->pidfile = strdup(value);
		if (cfg->pidfile == NULL)
			p->oom = true;
		break;
	case G_MAX_CONNECTIONS:
		if (parse_uint(value, 1, MAX_CONNECTIONS_LIMIT,
		               &cfg->max_connections, err, sizeof(err)) < 0)
			KEY_ERR(p, name, "%s", err);
		break;
	case G_SHUTDOWN_TIMEOUT:
		if (parse_duration_ms(value, &cfg->shutdown_timeout_ms, err,
		                      sizeof(err)) < 0)
			KEY_ERR(p, name, "%s", err);
		break;
	case G_WORKERS:
		set_workers(p, name, value);
		break;
	case G_SPLICE:
		cfg_set_bool(p, name, value, &cfg->splice);
		break;
	case G_PIPE_SIZE:
		set_pipe_size(p, name, value);
		break;
	case G_STATS:
		set_stats(p, name, value);
		break;
	case G_USER:
		set_account(p, name, value, false, &cfg->user);
		break;
	case G_GROUP:
		set_account(p, name, value, true, &cfg->group);
		break;
	case G_ANNOUNCE:
		set_announce(p, name, value);
		break;
	case G_NKEYS:
		break;
	}
}

int cfg_handler(void *user, const char *section, const char *name,
                const char *value)
{
	struct parser *p = user;
	char *v;

	(void)section; /* ours is tracked by the reader, with line numbers */
	free(p->prev_key);
	p->prev_key = strdup(name);
	if (p->prev_key == NULL)
		p->oom = true;
	v = cfg_expand(p, name, value);
	p->value_failed = v == NULL;
	if (strcmp(name, "include") == 0) {
		/* Anywhere: before the first section and inside any. */
		if (v != NULL)
			cfg_include(p, v);
		free(v);
		return 1;
	}
	switch (p->sec) {
	case SEC_NONE:
		cfg_err_add(p, p->lineno, NULL, name, "key outside any section; "
		            "put it under [global] or [listener:NAME]");
		break;
	case SEC_BAD:
		break;
	case SEC_GLOBAL:
		global_key(p, name, v != NULL ? v : "");
		break;
	case SEC_LISTENER:
		cfg_listener_key(p, name, v != NULL ? v : "");
		break;
	}
	free(v);
	return 1; /* errors are ours to collect; keep inih going */
}
