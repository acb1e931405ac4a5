/* -T: the effective configuration as ini text, every key with the value
 * in force (defaults filled in), that config_load() reads back to the same
 * configuration.  Keys that cannot be written with their value are shown
 * as comments: those whose default has no spelling (v6only's automatic
 * choice, no pidfile, no user) and those the loader refuses where they
 * would have no effect (tls_* without TLS, pipe_size with splice = off).
 * Host names in `backend` appear as the addresses they resolved to. */
#include <stdio.h>
#include <string.h>

#include "config_internal.h"

/* A value as the loader reads it: "${" would be an environment
 * reference, so it is written "$${". */
static void put_value(FILE *out, const char *v)
{
	const char *d;

	while ((d = strstr(v, "${")) != NULL) {
		fprintf(out, "%.*s$${", (int)(d - v), v);
		v = d + 2;
	}
	fputs(v, out);
}

static void key(FILE *out, const char *k, const char *v)
{
	fprintf(out, "%s = ", k);
	put_value(out, v);
	fputc('\n', out);
}

/* The largest unit that divides ms exactly. */
static void key_ms(FILE *out, const char *k, uint64_t ms)
{
	static const struct {
		uint64_t ms;
		const char *unit;
	} units[] = { { 3600000, "h" }, { 60000, "m" }, { 1000, "s" } };
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (ms != 0 && ms % units[i].ms == 0) {
			fprintf(out, "%s = %llu%s\n", k,
			        (unsigned long long)(ms / units[i].ms),
			        units[i].unit);
			return;
		}
	fprintf(out, "%s = %llums\n", k, (unsigned long long)ms);
}

static void key_u(FILE *out, const char *k, uint64_t n)
{
	fprintf(out, "%s = %llu\n", k, (unsigned long long)n);
}

static void key_bool(FILE *out, const char *k, int b)
{
	key(out, k, b ? "on" : "off");
}

static void key_addrs(FILE *out, const char *k, const struct addr *a,
                      size_t n, size_t stride)
{
	char buf[ADDR_STRLEN];
	size_t i;

	fprintf(out, "%s = ", k);
	for (i = 0; i < n; i++) {
		const struct addr *x =
			(const struct addr *)((const char *)a + i * stride);

		fprintf(out, "%s%s", i ? ", " : "",
		        addr_format((const struct sockaddr *)&x->ss, x->len, buf,
		                    sizeof(buf)));
	}
	fputc('\n', out);
}

static void key_list(FILE *out, const char *k, char *const *v, size_t n)
{
	size_t i;

	fprintf(out, "%s = ", k);
	for (i = 0; i < n; i++) {
		fputs(i ? ", " : "", out);
		put_value(out, v[i]);
	}
	fputc('\n', out);
}

static void dump_global(FILE *out, const struct config *cfg)
{
	char buf[ADDR_STRLEN];

	fputs("[global]\n", out);
	key(out, "log_level", log_level_name(cfg->log_level));
	key(out, "log", cfg->log);
	key(out, "access_log", cfg->access_log ? cfg->access_log : "off");
	key(out, "access_log_format", cfg->access_log_json ? "json" : "kv");
	if (cfg->pidfile != NULL)
		key(out, "pidfile", cfg->pidfile);
	else
		fputs("; pidfile: none\n", out);
	key_u(out, "max_connections", cfg->max_connections);
	key_ms(out, "shutdown_timeout", cfg->shutdown_timeout_ms);
	if (cfg->workers == 0)
		key(out, "workers", "auto");
	else
		key_u(out, "workers", cfg->workers);
	key_bool(out, "splice", cfg->splice);
	if (!cfg->splice)
		fputs("; pipe_size: not used with splice = off\n", out);
	else if (cfg->pipe_size == 0)
		key(out, "pipe_size", "default");
	else
		key_u(out, "pipe_size", cfg->pipe_size);
	if (cfg->stats_enabled)
		key(out, "stats", addr_format((const struct sockaddr *)
		                              &cfg->stats.ss, cfg->stats.len, buf,
		                              sizeof(buf)));
	else
		key(out, "stats", "off");
	if (cfg->user != NULL) {
		key(out, "user", cfg->user);
		if (cfg->group != NULL)
			key(out, "group", cfg->group);
		else
			fputs("; group: the user's groups\n", out);
	} else {
		fputs("; user: none (privileges are not dropped)\n", out);
	}
}

static void dump_alpn(FILE *out, const struct tls_cfg *t)
{
	size_t off = 0;

	fputs("tls_alpn = ", out);
	while (off < t->alpn_len) {
		size_t n = t->alpn[off];

		fprintf(out, "%s%.*s", off ? ", " : "", (int)n,
		        (const char *)t->alpn + off + 1);
		off += 1 + n;
	}
	fputc('\n', out);
}

static void dump_tls(FILE *out, const struct listener_cfg *l)
{
	const struct tls_cfg *t = &l->tls;

	if (t->ncerts == 0) {
		fputs("; tls_*: no TLS termination (no tls_cert)\n", out);
		return;
	}
	key_list(out, "tls_cert", t->certs, t->ncerts);
	key_list(out, "tls_key", t->keys, t->nkeys);
	key(out, "tls_min_version",
	    t->min_version == TLS_VERSION_1_3 ? "1.3" : "1.2");
	if (t->ciphers != NULL)
		key(out, "tls_ciphers", t->ciphers);
	else
		fputs("; tls_ciphers: OpenSSL's default\n", out);
	if (t->ciphersuites != NULL)
		key(out, "tls_ciphersuites", t->ciphersuites);
	else
		fputs("; tls_ciphersuites: OpenSSL's default\n", out);
	if (t->alpn != NULL)
		dump_alpn(out, t);
	else
		fputs("; tls_alpn: none (no ALPN)\n", out);
	key(out, "tls_verify", t->verify == TLS_VERIFY_OFF ? "off"
	    : t->verify == TLS_VERIFY_OPTIONAL ? "optional" : "required");
	if (t->verify != TLS_VERIFY_OFF)
		key(out, "tls_client_ca", t->client_ca);
	key_ms(out, "tls_handshake_timeout", t->handshake_timeout_ms);
}

static void dump_listener(FILE *out, const struct listener_cfg *l)
{
	char buf[64];
	size_t i;

	fprintf(out, "\n[listener:%s]\n", l->name);
	key_addrs(out, "bind", &l->binds[0].addr, l->nbinds,
	          sizeof(l->binds[0]));
	if (l->v6only >= 0)
		key_bool(out, "v6only", l->v6only);
	else
		fputs("; v6only: automatic (on for an IPv6 bind that shares its "
		      "port with an IPv4 one)\n", out);
	key(out, "mptcp", config_mptcp_mode_name(l->mptcp));
	key_addrs(out, "backend", l->backends, l->nbackends,
	          sizeof(l->backends[0]));
	key(out, "proxy_protocol", config_pp_mode_name(l->proxy_protocol));
	if (l->proxy_protocol == PP_MODE_V2)
		key(out, "proxy_protocol_tlvs",
		    cfg_tlv_text(l->pp_tlvs, buf, sizeof(buf)));
	key_ms(out, "connect_timeout", l->connect_timeout_ms);
	key_ms(out, "backend_retry", l->backend_retry_ms);
	key_ms(out, "idle_timeout", l->idle_timeout_ms);
	key_u(out, "max_connections", l->max_connections);
	key_u(out, "max_connections_per_source", l->max_per_source);
	if (l->max_per_source != 0)
		fprintf(out, "source_prefix = %u, %u\n", l->source_v4_bits,
		        l->source_v6_bits);
	key_bool(out, "accept_proxy", l->accept_proxy);
	if (l->accept_proxy) {
		fputs("accept_proxy_from = ", out);
		for (i = 0; i < l->nproxy_from; i++) {
			char c[CIDR_STRLEN];

			fprintf(out, "%s%s", i ? ", " : "",
			        cidr_format(&l->proxy_from[i], c, sizeof(c)));
		}
		fputc('\n', out);
		key_ms(out, "accept_proxy_timeout", l->accept_proxy_timeout_ms);
	}
	dump_tls(out, l);
}

int config_dump(FILE *out, const struct config *cfg)
{
	size_t i;

	fprintf(out, "; effective configuration of %s", cfg->path);
	for (i = 1; i < cfg->nfiles; i++)
		fprintf(out, "%s%s", i == 1 ? " with " : ", ", cfg->files[i]);
	fputs("\n; every default filled in; host names shown as the addresses "
	      "they resolved to\n", out);
	dump_global(out, cfg);
	for (i = 0; i < cfg->nlisteners; i++)
		dump_listener(out, &cfg->listeners[i]);
	return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}
