/* The TLS keys of a [listener:NAME] section (tls_*) and the PROXY v2 TLV
 * set (proxy_protocol_tlvs), then, once the section is complete, the
 * checks between them and the TLS context itself: certificates and keys
 * are read here, at load time, so that -t and a reload report an
 * unreadable key or a key that does not match its certificate with the
 * line that names it and OpenSSL's reason. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_internal.h"
#include "parse.h"
#include "log.h"
#include "pp_build.h"
#include "tls.h"

static const struct {
	const char *name;
	unsigned bit;
} tlv_names[] = {
	{ "mptcp", PP_TLV_MPTCP },
	{ "alpn", PP_TLV_ALPN },
	{ "authority", PP_TLV_AUTHORITY },
	{ "ssl", PP_TLV_SSL },
	{ "upstream", PP_TLV_UPSTREAM },
};

#define NTLV_NAMES (sizeof(tlv_names) / sizeof(tlv_names[0]))

const char *cfg_tlv_text(unsigned set, char *buf, size_t len)
{
	size_t off = 0, j;

	buf[0] = '\0';
	for (j = 0; j < NTLV_NAMES && off < len; j++)
		if (set & tlv_names[j].bit)
			off += (size_t)snprintf(buf + off, len - off, "%s%s",
			                        off ? ", " : "", tlv_names[j].name);
	return off ? buf : "none";
}

/* Split value into at most max items (pointers into *copy, which the
 * caller frees).  Returns the count, or 0 after reporting. */
static int split(struct parser *p, const char *key, const char *value,
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
	if (n > 0)
		return n;
	for (c = value; *c != '\0'; c++)
		count += *c == ',';
	if (count > max)
		KEY_ERR(p, key, "too many %s (at most %d)", what, max);
	else
		KEY_ERR(p, key, "empty item in list");
	return 0;
}

static void set_tlvs(struct parser *p, struct listener_cfg *l,
                     const char *key, const char *value)
{
	char *items[NTLV_NAMES + 1];
	char *copy;
	unsigned set = 0;
	int n, i;
	size_t j;

	if (strcasecmp(value, "none") == 0) {
		l->pp_tlvs = 0;
		return;
	}
	n = split(p, key, value, &copy, items, (int)NTLV_NAMES + 1, "items");
	for (i = 0; i < n; i++) {
		for (j = 0; j < NTLV_NAMES; j++)
			if (strcasecmp(items[i], tlv_names[j].name) == 0)
				break;
		if (j == NTLV_NAMES) {
			KEY_ERR(p, key, "unknown TLV \"%s\": expected none, or a "
			        "list of mptcp, alpn, authority, ssl, upstream",
			        items[i]);
			set = 0;
			break;
		}
		if (set & tlv_names[j].bit) {
			KEY_ERR(p, key, "\"%s\" is listed twice", items[i]);
			set = 0;
			break;
		}
		set |= tlv_names[j].bit;
	}
	if (set != 0)
		l->pp_tlvs = set;
	free(copy);
}

/* tls_cert / tls_key: absolute paths, in pair order. */
static void set_paths(struct parser *p, const char *key, const char *value,
                      char **out, size_t *nout)
{
	char *items[TLS_MAX_CERTS];
	char *copy;
	int n, i;

	n = split(p, key, value, &copy, items, TLS_MAX_CERTS, "files");
	for (i = 0; i < n; i++) {
		if (items[i][0] != '/') {
			KEY_ERR(p, key, "bad value \"%s\": expected an absolute "
			        "path", items[i]);
			continue;
		}
		out[*nout] = strdup(items[i]);
		if (out[*nout] == NULL) {
			p->oom = true;
			break;
		}
		(*nout)++;
	}
	free(copy);
}

static void set_string(struct parser *p, const char *value, char **out)
{
	free(*out);
	*out = strdup(value);
	if (*out == NULL)
		p->oom = true;
}

/* tls_alpn: protocol names as RFC 7301 registers them ("h2",
 * "http/1.1"), our preference first, kept in ALPN wire format. */
static void set_alpn(struct parser *p, struct tls_cfg *t, const char *key,
                     const char *value)
{
	char *items[TLS_MAX_ALPN];
	uint8_t *wire;
	char *copy;
	size_t len = 0;
	int n, i, j;

	n = split(p, key, value, &copy, items, TLS_MAX_ALPN, "protocols");
	for (i = 0; i < n; i++) {
		size_t il = strlen(items[i]);
		for (const char *c = items[i]; *c != '\0'; c++) {
			if (*c <= ' ' || *c > '~') {
				KEY_ERR(p, key, "bad protocol name \"%s\": "
				        "printable ASCII without blanks expected",
				        items[i]);
				goto out;
			}
		}
		if (il > 255) {
			KEY_ERR(p, key, "protocol name longer than 255 bytes");
			goto out;
		}
		for (j = 0; j < i; j++) {
			if (strcmp(items[i], items[j]) == 0) {
				KEY_ERR(p, key, "\"%s\" is listed twice",
				        items[i]);
				goto out;
			}
		}
		len += 1 + il;
	}
	if (n == 0)
		goto out;
	wire = malloc(len);
	if (wire == NULL) {
		p->oom = true;
		goto out;
	}
	free(t->alpn);
	t->alpn = wire;
	t->alpn_len = len;
	for (i = 0; i < n; i++) {
		size_t il = strlen(items[i]);
		*wire++ = (uint8_t)il;
		memcpy(wire, items[i], il);
		wire += il;
	}
out:
	free(copy);
}

static void set_min_version(struct parser *p, struct tls_cfg *t,
                            const char *key, const char *value)
{
	const char *v = value;

	if (strncasecmp(v, "tlsv", 4) == 0)
		v += 4;
	if (strcmp(v, "1.2") == 0) {
		t->min_version = TLS_VERSION_1_2;
	} else if (strcmp(v, "1.3") == 0) {
		t->min_version = TLS_VERSION_1_3;
	} else if (strcmp(v, "1") == 0 || strcmp(v, "1.0") == 0 ||
	           strcmp(v, "1.1") == 0) {
		KEY_ERR(p, key, "bad value \"%s\": TLS 1.0 and 1.1 are not "
		        "supported (deprecated by RFC 8996); expected 1.2 or 1.3",
		        value);
	} else {
		KEY_ERR(p, key, "bad value \"%s\": expected 1.2 or 1.3", value);
	}
}

void cfg_tls_key(struct parser *p, struct listener_cfg *l, int k,
                 const char *name, const char *value)
{
	struct tls_cfg *t = &l->tls;
	char err[REASON_MAX];
	uint64_t ms;

	switch ((enum lkey)k) {
	case L_PROXY_PROTOCOL_TLVS:
		set_tlvs(p, l, name, value);
		break;
	case L_TLS_CERT:
		set_paths(p, name, value, t->certs, &t->ncerts);
		break;
	case L_TLS_KEY:
		set_paths(p, name, value, t->keys, &t->nkeys);
		break;
	case L_TLS_MIN_VERSION:
		set_min_version(p, t, name, value);
		break;
	case L_TLS_CIPHERS:
		set_string(p, value, &t->ciphers);
		break;
	case L_TLS_CIPHERSUITES:
		set_string(p, value, &t->ciphersuites);
		break;
	case L_TLS_ALPN:
		set_alpn(p, t, name, value);
		break;
	case L_TLS_VERIFY:
		if (strcasecmp(value, "off") == 0)
			t->verify = TLS_VERIFY_OFF;
		else if (strcasecmp(value, "optional") == 0)
			t->verify = TLS_VERIFY_OPTIONAL;
		else if (strcasecmp(value, "required") == 0)
			t->verify = TLS_VERIFY_REQUIRED;
		else
			KEY_ERR(p, name, "bad value \"%s\": expected off, "
			        "optional or required", value);
		break;
	case L_TLS_CLIENT_CA:
		if (value[0] != '/')
			KEY_ERR(p, name, "bad value \"%s\": expected an absolute "
			        "path", value);
		else
			set_string(p, value, &t->client_ca);
		break;
	case L_TLS_HANDSHAKE_TIMEOUT:
		if (parse_duration_ms(value, &ms, err, sizeof(err)) < 0)
			KEY_ERR(p, name, "%s", err);
		else if (ms == 0)
			KEY_ERR(p, name, "bad duration \"%s\": must be greater "
			        "than 0", value);
		else
			t->handshake_timeout_ms = ms;
		break;
	default:
		break;
	}
}

/* ---- the section as a whole ---- */

struct tls_report {
	struct parser *p;
	const char *label;
	const int *key_line;
	int fallback_line;
};

static void on_tls_error(void *arg, enum tls_err_what what, const char *msg)
{
	struct tls_report *r = arg;
	static const enum lkey keys[] = {
		[TLS_ERR_CERT] = L_TLS_CERT,
		[TLS_ERR_KEY] = L_TLS_KEY,
		[TLS_ERR_CIPHERS] = L_TLS_CIPHERS,
		[TLS_ERR_CIPHERSUITES] = L_TLS_CIPHERSUITES,
		[TLS_ERR_CLIENT_CA] = L_TLS_CLIENT_CA,
		[TLS_ERR_OTHER] = L_TLS_CERT,
	};
	enum lkey k = keys[what];
	int line = r->key_line[k];

	if (line == 0) {
		/* OpenSSL's defaults (no tls_ciphers given) left nothing:
		 * blame the certificate line, which turned TLS on. */
		k = L_TLS_CERT;
		line = r->fallback_line;
	}
	cfg_err_add(r->p, line, r->label, cfg_listener_keys[k], "%s", msg);
}

/* Keys that only mean something with TLS termination on. */
static const enum lkey tls_only[] = {
	L_TLS_MIN_VERSION, L_TLS_CIPHERS, L_TLS_CIPHERSUITES, L_TLS_ALPN,
	L_TLS_VERIFY, L_TLS_CLIENT_CA, L_TLS_HANDSHAKE_TIMEOUT,
};

void cfg_tls_validate(struct parser *p, size_t i, const char *label)
{
	struct listener_cfg *l = &p->cfg->listeners[i];
	const int *kl = p->lst[i].key_line;
	struct tls_cfg *t = &l->tls;
	bool tls = kl[L_TLS_CERT] != 0;
	bool ok = true;
	size_t j;

#define ERR_AT(k, ...) do { \
	cfg_err_add(p, kl[k], label, cfg_listener_keys[k], __VA_ARGS__); \
	ok = false; \
} while (0)

	if (tls && kl[L_TLS_KEY] == 0)
		ERR_AT(L_TLS_CERT, "needs tls_key (the private key of each "
		       "certificate, in the same order)");
	if (!tls && kl[L_TLS_KEY] != 0 && !cfg_err_on_line(p, kl[L_TLS_KEY]))
		ERR_AT(L_TLS_KEY, "has no effect without tls_cert");
	if (tls && kl[L_TLS_KEY] != 0 && t->ncerts != t->nkeys &&
	    !cfg_err_on_line(p, kl[L_TLS_CERT]) &&
	    !cfg_err_on_line(p, kl[L_TLS_KEY]))
		ERR_AT(L_TLS_KEY, "%zu key%s for %zu certificate%s: give one key "
		       "per certificate, in the same order", t->nkeys,
		       t->nkeys == 1 ? "" : "s", t->ncerts,
		       t->ncerts == 1 ? "" : "s");
	/* A bad value on that line is reported already. */
	for (j = 0; j < sizeof(tls_only) / sizeof(tls_only[0]); j++)
		if (!tls && kl[tls_only[j]] != 0 &&
		    !cfg_err_on_line(p, kl[tls_only[j]]))
			ERR_AT(tls_only[j], "has no effect without tls_cert");
	if (tls && t->verify != TLS_VERIFY_OFF && kl[L_TLS_CLIENT_CA] == 0)
		ERR_AT(L_TLS_VERIFY, "%s needs tls_client_ca (the CAs that "
		       "issue client certificates)",
		       t->verify == TLS_VERIFY_REQUIRED ? "required"
		                                        : "optional");
	if (tls && t->verify == TLS_VERIFY_OFF && kl[L_TLS_CLIENT_CA] != 0 &&
	    !cfg_err_on_line(p, kl[L_TLS_VERIFY]))
		ERR_AT(L_TLS_CLIENT_CA, "has no effect with tls_verify = off");

	/* The TLV set: by default the MPTCP TLV and, with TLS, the ALPN
	 * one, which together stay under the 107 bytes nginx before 1.23.2
	 * reads in its stream and mail modules (see config_pp_header_max). */
	if (kl[L_PROXY_PROTOCOL_TLVS] == 0) {
		l->pp_tlvs = PP_TLV_MPTCP | (tls ? PP_TLV_ALPN : 0);
	} else if (l->proxy_protocol != PP_MODE_V2) {
		ERR_AT(L_PROXY_PROTOCOL_TLVS, "has no effect with "
		       "proxy_protocol = %s (TLVs are a v2 feature)",
		       config_pp_mode_name(l->proxy_protocol));
	} else if ((l->pp_tlvs & PP_TLV_UPSTREAM) && !l->accept_proxy) {
		ERR_AT(L_PROXY_PROTOCOL_TLVS, "upstream needs accept_proxy = "
		       "on (they are the TLVs of the PROXY header a balancer "
		       "sends)");
	} else if (!tls && (l->pp_tlvs & ~(unsigned)(PP_TLV_MPTCP |
	                                             PP_TLV_UPSTREAM)) != 0) {
		ERR_AT(L_PROXY_PROTOCOL_TLVS, "alpn, authority and ssl need "
		       "TLS termination (tls_cert) on this listener");
	}
#undef ERR_AT

	if (!tls || !ok || t->ncerts == 0 || t->ncerts != t->nkeys ||
	    cfg_err_on_line(p, kl[L_TLS_CERT]) ||
	    cfg_err_on_line(p, kl[L_TLS_KEY]))
		return;
	struct tls_report r = { p, label, kl, kl[L_TLS_CERT] };
	l->tls_ctx = tls_ctx_new(l->name, t, on_tls_error, &r);
}

void cfg_tls_free(struct listener_cfg *l)
{
	struct tls_cfg *t = &l->tls;

	for (size_t i = 0; i < t->ncerts; i++)
		free(t->certs[i]);
	for (size_t i = 0; i < t->nkeys; i++)
		free(t->keys[i]);
	free(t->ciphers);
	free(t->ciphersuites);
	free(t->alpn);
	free(t->client_ca);
	tls_ctx_free(l->tls_ctx);
	l->tls_ctx = NULL;
}

size_t config_pp_header_max(const struct listener_cfg *l)
{
	struct pp_tls_limits lim;

	if (l->tls_ctx == NULL)
		return pp_build_max_len(l->pp_tlvs, NULL);
	tls_ctx_limits(l->tls_ctx, &lim);
	return pp_build_max_len(l->pp_tlvs, &lim);
}

/* What listener l's TLS context serves, on one line. */
static void announce_tls(const struct listener_cfg *l)
{
	const struct tls_ctx *t = l->tls_ctx;
	size_t nc = tls_cert_count(t), off = 0;
	char names[512];

	names[0] = '\0';
	for (size_t c = 0; c < nc; c++) {
		const char *const *n;
		size_t nn = tls_cert_names(t, c, &n);

		for (size_t j = 0; j < nn && off < sizeof(names); j++)
			off += (size_t)snprintf(names + off, sizeof(names) - off,
			                        "%s%s%s", off ? ", " : "", n[j],
			                        c == 0 && j == 0 ? " (default)"
			                                         : "");
	}
	log_info("listener %s: TLS with %zu certificate%s for %s; client "
	         "certificates %s", l->name, nc, nc == 1 ? "" : "s",
	         off ? names : "(no DNS names: default only)",
	         l->tls.verify == TLS_VERIFY_OFF ? "not asked for"
	         : l->tls.verify == TLS_VERIFY_OPTIONAL ? "optional"
	                                                : "required");
}

void config_announce(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		const struct listener_cfg *l = &cfg->listeners[i];
		char set[64];
		size_t n;

		if (l->tls_ctx != NULL)
			announce_tls(l);
		if (l->proxy_protocol != PP_MODE_V2)
			continue;
		n = config_pp_header_max(l);
		if (n > PP_NGINX_OLD_MAX)
			log_warn("listener %s: the PROXY v2 header can reach %zu "
			         "bytes with proxy_protocol_tlvs = %s; nginx "
			         "before 1.23.2 refuses headers over %d bytes in "
			         "its stream and mail modules (http is not "
			         "limited)", l->name, n,
			         pp_build_set_text(l->pp_tlvs, set, sizeof(set)),
			         PP_NGINX_OLD_MAX);
	}
}
