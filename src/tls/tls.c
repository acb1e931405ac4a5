/* A listener's TLS context (see include/tls.h).  Built on the main thread
 * while the configuration loads; afterwards only read, by every worker. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "tls.h"

#define MSG_MAX 512

struct tls_cert {
	X509 *leaf;
	STACK_OF(X509) *chain;          /* may be NULL */
	EVP_PKEY *key;
	char **names;                   /* lower case; "*.example.com" */
	size_t nnames;
	char sig_alg[48];               /* "RSA-SHA256", "ecdsa-with-SHA256" */
	char key_alg[24];               /* "RSA2048", "EC256", "ED25519" */
};

struct tls_ctx {
	SSL_CTX *ctx;
	struct tls_cert *certs;         /* [0] is the default */
	size_t ncerts;
	uint8_t *alpn;                  /* our ALPN list, wire format */
	size_t alpn_len;
	/* Longest strings, for tls_pp_header_max. */
	size_t alpn_max, cipher_max, sig_alg_max, key_alg_max;
	enum tls_verify verify;
};

/* ---- errors ---- */

struct reporter {
	tls_err_fn *fn;
	void *arg;
	int failed;
};

/* OpenSSL's reason for the last error in its queue (then emptied). */
static const char *ossl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();
	const char *r;

	if (e == 0) {
		snprintf(buf, len, "unknown OpenSSL error");
	} else if ((r = ERR_reason_error_string(e)) != NULL) {
		snprintf(buf, len, "%s", r);
	} else {
		ERR_error_string_n(e, buf, len);
	}
	ERR_clear_error();
	return buf;
}

static void report(struct reporter *r, enum tls_err_what what,
                   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void report(struct reporter *r, enum tls_err_what what,
                   const char *fmt, ...)
{
	char msg[MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->failed = 1;
	if (r->fn != NULL)
		r->fn(r->arg, what, msg);
}

/* ---- certificates and keys ---- */

static int lower_dup(char **out, const unsigned char *s, size_t len)
{
	char *d = malloc(len + 1);

	if (d == NULL)
		return -1;
	for (size_t i = 0; i < len; i++)
		d[i] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);
	d[len] = '\0';
	*out = d;
	return 0;
}

static int add_name(struct tls_cert *c, const unsigned char *s, size_t len)
{
	char **n;

	if (len == 0 || memchr(s, '\0', len) != NULL)
		return 0;       /* not a usable DNS name */
	n = realloc(c->names, (c->nnames + 1) * sizeof(*n));
	if (n == NULL)
		return -1;
	c->names = n;
	if (lower_dup(&c->names[c->nnames], s, len) < 0)
		return -1;
	c->nnames++;
	return 0;
}

/* The names SNI is matched against: the SAN DNS entries, or, when there
 * are none, the subject CN (as browsers did before SAN was required). */
static int collect_names(struct tls_cert *c)
{
	GENERAL_NAMES *san;
	X509_NAME *subj;
	int rc = 0, i;

	san = X509_get_ext_d2i(c->leaf, NID_subject_alt_name, NULL, NULL);
	for (i = 0; san != NULL && i < sk_GENERAL_NAME_num(san); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(san, i);
		if (g->type == GEN_DNS &&
		    add_name(c, ASN1_STRING_get0_data(g->d.dNSName),
		             (size_t)ASN1_STRING_length(g->d.dNSName)) < 0)
			rc = -1;
	}
	GENERAL_NAMES_free(san);
	if (c->nnames > 0 || rc < 0)
		return rc;
	subj = X509_get_subject_name(c->leaf);
	i = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
	if (i >= 0) {
		const ASN1_STRING *d =
			X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i));
		rc = add_name(c, ASN1_STRING_get0_data(d),
		              (size_t)ASN1_STRING_length(d));
	}
	return rc;
}

/* What the SSL TLV says about our certificate: its signature algorithm
 * and its key type and size. */
static void describe(struct tls_cert *c)
{
	int nid = X509_get_signature_nid(c->leaf);
	int id = EVP_PKEY_get_base_id(c->key);
	const char *sn = nid != NID_undef ? OBJ_nid2sn(nid) : NULL;

	snprintf(c->sig_alg, sizeof(c->sig_alg), "%s", sn ? sn : "unknown");
	switch (id) {
	case EVP_PKEY_RSA:
	case EVP_PKEY_RSA_PSS:
		snprintf(c->key_alg, sizeof(c->key_alg), "RSA%d",
		         EVP_PKEY_get_bits(c->key));
		break;
	case EVP_PKEY_EC:
		snprintf(c->key_alg, sizeof(c->key_alg), "EC%d",
		         EVP_PKEY_get_bits(c->key));
		break;
	case EVP_PKEY_ED25519:
		snprintf(c->key_alg, sizeof(c->key_alg), "ED25519");
		break;
	case EVP_PKEY_ED448:
		snprintf(c->key_alg, sizeof(c->key_alg), "ED448");
		break;
	default:
		sn = OBJ_nid2sn(id);
		snprintf(c->key_alg, sizeof(c->key_alg), "%s%d",
		         sn ? sn : "unknown", EVP_PKEY_get_bits(c->key));
		break;
	}
}

/* The certificate and the chain after it in one PEM file. */
static int load_cert(struct reporter *r, struct tls_cert *c, const char *path)
{
	char why[256];
	FILE *f = fopen(path, "r");
	X509 *x;

	if (f == NULL) {
		report(r, TLS_ERR_CERT, "%s: cannot open: %s", path,
		       strerror(errno));
		return -1;
	}
	c->leaf = PEM_read_X509_AUX(f, NULL, NULL, NULL);
	if (c->leaf == NULL) {
		report(r, TLS_ERR_CERT, "%s: no PEM certificate: %s", path,
		       ossl_reason(why, sizeof(why)));
		fclose(f);
		return -1;
	}
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
		if ((c->chain == NULL && (c->chain = sk_X509_new_null()) == NULL) ||
		    !sk_X509_push(c->chain, x)) {
			X509_free(x);
			report(r, TLS_ERR_CERT, "%s: out of memory", path);
			fclose(f);
			return -1;
		}
	}
	/* The end of the file shows up as "no start line"; anything else is
	 * a broken certificate in the chain. */
	if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE &&
	    ERR_peek_last_error() != 0) {
		report(r, TLS_ERR_CERT, "%s: bad chain certificate: %s", path,
		       ossl_reason(why, sizeof(why)));
		fclose(f);
		return -1;
	}
	ERR_clear_error();
	fclose(f);
	if (collect_names(c) < 0) {
		report(r, TLS_ERR_CERT, "%s: out of memory", path);
		return -1;
	}
	return 0;
}

/* A passphrase cannot be typed in at a daemon's start: say so instead of
 * OpenSSL's "bad decrypt". */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	*(int *)u = 1;
	return -1;
}

static int load_key(struct reporter *r, struct tls_cert *c, const char *path)
{
	char why[256];
	int encrypted = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		report(r, TLS_ERR_KEY, "%s: cannot open: %s", path,
		       strerror(errno));
		return -1;
	}
	c->key = PEM_read_PrivateKey(f, NULL, no_passphrase, &encrypted);
	fclose(f);
	if (c->key == NULL) {
		if (encrypted) {
			ERR_clear_error();
			report(r, TLS_ERR_KEY, "%s: the key is encrypted; "
			       "give it unencrypted (openssl pkey -in KEY "
			       "-out NEWKEY) and protect the file instead", path);
		} else if (ERR_GET_REASON(ERR_peek_last_error()) ==
		           ERR_R_UNSUPPORTED) {
			/* OpenSSL 3's decoders say "unsupported" for a file
			 * without any key in it. */
			ERR_clear_error();
			report(r, TLS_ERR_KEY, "%s: no PEM private key in it "
			       "(a \"BEGIN ... PRIVATE KEY\" block)", path);
		} else {
			report(r, TLS_ERR_KEY, "%s: no PEM private key: %s", path,
			       ossl_reason(why, sizeof(why)));
		}
		return -1;
	}
	return 0;
}

static void cert_free(struct tls_cert *c)
{
	X509_free(c->leaf);
	sk_X509_pop_free(c->chain, X509_free);
	EVP_PKEY_free(c->key);
	for (size_t i = 0; i < c->nnames; i++)
		free(c->names[i]);
	free(c->names);
}

/* Load pair i and try it on a connection object, so that what OpenSSL
 * would refuse at handshake time (a key too small for the security level,
 * a weak signature) is refused now. */
static int load_pair(struct reporter *r, struct tls_ctx *t,
                     const struct tls_cfg *cfg, size_t i)
{
	struct tls_cert *c = &t->certs[i];
	char why[256];
	SSL *probe;
	int ok;

	/* Both, so that one run reports the problems of both. */
	int bad = load_cert(r, c, cfg->certs[i]) < 0;

	if (load_key(r, c, cfg->keys[i]) < 0 || bad)
		return -1;
	if (X509_check_private_key(c->leaf, c->key) != 1) {
		report(r, TLS_ERR_KEY, "%s does not match certificate %s: %s",
		       cfg->keys[i], cfg->certs[i],
		       ossl_reason(why, sizeof(why)));
		return -1;
	}
	if (i == 0) {
		ok = SSL_CTX_use_cert_and_key(t->ctx, c->leaf, c->key, c->chain,
		                              1);
	} else {
		probe = SSL_new(t->ctx);
		ok = probe != NULL &&
		     SSL_use_cert_and_key(probe, c->leaf, c->key, c->chain, 1);
		SSL_free(probe);
	}
	if (ok != 1) {
		report(r, TLS_ERR_CERT, "%s: cannot be used: %s", cfg->certs[i],
		       ossl_reason(why, sizeof(why)));
		return -1;
	}
	describe(c);
	return 0;
}

/* ---- callbacks (worker threads; the context is read-only) ---- */

static int name_matches(const char *pattern, const char *name)
{
	const char *dot;

	if (strcmp(pattern, name) == 0)
		return 1;
	/* "*.example.com" covers exactly one more label. */
	if (pattern[0] != '*' || pattern[1] != '.')
		return 0;
	dot = strchr(name, '.');
	return dot != NULL && dot != name && strcmp(dot, pattern + 1) == 0;
}

size_t tls_cert_for_name(const struct tls_ctx *t, const char *name)
{
	char lower[PP_SNI_MAX + 1];
	size_t len = strlen(name), i, j;

	if (len == 0 || len > PP_SNI_MAX)
		return 0;
	for (i = 0; i <= len; i++)
		lower[i] = (char)((name[i] >= 'A' && name[i] <= 'Z')
		                  ? name[i] + 32 : name[i]);
	/* Exact names win over wildcards, in configuration order. */
	for (i = 0; i < t->ncerts; i++)
		for (j = 0; j < t->certs[i].nnames; j++)
			if (strcmp(t->certs[i].names[j], lower) == 0)
				return i;
	for (i = 0; i < t->ncerts; i++)
		for (j = 0; j < t->certs[i].nnames; j++)
			if (name_matches(t->certs[i].names[j], lower))
				return i;
	return 0;
}

static int on_servername(SSL *ssl, int *alert, void *arg)
{
	const struct tls_ctx *t = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	const struct tls_cert *c;
	size_t i;

	if (name == NULL || t->ncerts < 2)
		return SSL_TLSEXT_ERR_OK;
	i = tls_cert_for_name(t, name);
	if (i == 0)
		return SSL_TLSEXT_ERR_OK;       /* the default is in place */
	c = &t->certs[i];
	/* Replace, not add: with two key types present OpenSSL would pick
	 * by the client's signature algorithms, maybe the default's. */
	SSL_certs_clear(ssl);
	if (SSL_use_cert_and_key(ssl, c->leaf, c->key, c->chain, 1) != 1) {
		ERR_clear_error();
		*alert = SSL_AD_INTERNAL_ERROR;
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	return SSL_TLSEXT_ERR_OK;
}

/* Our list's order decides (as nginx and HAProxy do); no common protocol
 * is a fatal no_application_protocol alert (RFC 7301, section 3.2). */
static int on_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                   const unsigned char *in, unsigned int inlen, void *arg)
{
	const struct tls_ctx *t = arg;
	unsigned char *sel = NULL;
	unsigned char sel_len = 0;

	if (SSL_select_next_proto(&sel, &sel_len, t->alpn,
	                          (unsigned)t->alpn_len, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	*out = sel;
	*outlen = sel_len;
	return SSL_TLSEXT_ERR_OK;
}

/* tls_verify = optional: ask for a certificate, verify it, but let the
 * handshake go on whatever the result; the backend gets the result in the
 * SSL TLV (SSL_get_verify_result keeps it). */
static int verify_keep_going(int ok, X509_STORE_CTX *x)
{
	return 1;
}

/* ---- building ---- */

static int set_lists(struct reporter *r, struct tls_ctx *t,
                     const struct tls_cfg *cfg)
{
	char why[256];
	STACK_OF(SSL_CIPHER) *sk;

	if (cfg->ciphers != NULL &&
	    SSL_CTX_set_cipher_list(t->ctx, cfg->ciphers) != 1) {
		report(r, TLS_ERR_CIPHERS, "\"%s\": %s", cfg->ciphers,
		       ossl_reason(why, sizeof(why)));
		return -1;
	}
	if (cfg->ciphersuites != NULL &&
	    SSL_CTX_set_ciphersuites(t->ctx, cfg->ciphersuites) != 1) {
		report(r, TLS_ERR_CIPHERSUITES, "\"%s\": %s", cfg->ciphersuites,
		       ossl_reason(why, sizeof(why)));
		return -1;
	}
	/* The header-size estimate needs the longest name that can be
	 * negotiated. */
	sk = SSL_CTX_get_ciphers(t->ctx);
	for (int i = 0; sk != NULL && i < sk_SSL_CIPHER_num(sk); i++) {
		size_t n = strlen(SSL_CIPHER_get_name(sk_SSL_CIPHER_value(sk, i)));
		if (n > t->cipher_max)
			t->cipher_max = n;
	}
	if (t->cipher_max == 0) {
		report(r, cfg->ciphers != NULL ? TLS_ERR_CIPHERS
		                               : TLS_ERR_CIPHERSUITES,
		       "no cipher left to negotiate");
		return -1;
	}
	return 0;
}

static int set_client_ca(struct reporter *r, struct tls_ctx *t,
                         const struct tls_cfg *cfg)
{
	STACK_OF(X509_NAME) *names;
	char why[256];
	FILE *f;

	if (cfg->verify == TLS_VERIFY_OFF)
		return 0;
	/* fopen first: OpenSSL's message for a missing file is vague. */
	f = fopen(cfg->client_ca, "r");
	if (f == NULL) {
		report(r, TLS_ERR_CLIENT_CA, "%s: cannot open: %s",
		       cfg->client_ca, strerror(errno));
		return -1;
	}
	fclose(f);
	if (SSL_CTX_load_verify_locations(t->ctx, cfg->client_ca, NULL) != 1) {
		report(r, TLS_ERR_CLIENT_CA, "%s: %s", cfg->client_ca,
		       ossl_reason(why, sizeof(why)));
		return -1;
	}
	/* The names sent in the CertificateRequest, so that clients with
	 * several certificates pick one from these CAs. */
	names = SSL_load_client_CA_file(cfg->client_ca);
	if (names == NULL) {
		report(r, TLS_ERR_CLIENT_CA, "%s: no CA certificate: %s",
		       cfg->client_ca, ossl_reason(why, sizeof(why)));
		return -1;
	}
	SSL_CTX_set_client_CA_list(t->ctx, names);
	if (cfg->verify == TLS_VERIFY_REQUIRED)
		SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER |
		                   SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	else
		SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, verify_keep_going);
	return 0;
}

static void set_alpn(struct tls_ctx *t, const struct tls_cfg *cfg)
{
	size_t i = 0;

	if (cfg->alpn == NULL)
		return;
	t->alpn = malloc(cfg->alpn_len);
	if (t->alpn == NULL)
		return;         /* reported by the caller */
	memcpy(t->alpn, cfg->alpn, cfg->alpn_len);
	t->alpn_len = cfg->alpn_len;
	while (i < t->alpn_len) {
		if (t->alpn[i] > t->alpn_max)
			t->alpn_max = t->alpn[i];
		i += 1 + (size_t)t->alpn[i];
	}
	SSL_CTX_set_alpn_select_cb(t->ctx, on_alpn, t);
}

/* Settings that do not depend on the configuration. */
static int set_fixed(struct tls_ctx *t, const char *name,
                     const struct tls_cfg *cfg)
{
	unsigned char sid[SSL_MAX_SID_CTX_LENGTH];
	size_t n = strlen(name);

	if (SSL_CTX_set_min_proto_version(t->ctx,
	                                  cfg->min_version == TLS_VERSION_1_3
	                                  ? TLS1_3_VERSION : TLS1_2_VERSION) != 1)
		return -1;
	/* Renegotiation is an old attack surface and of no use to a proxy;
	 * a client that closes without close_notify has just closed (the
	 * backend sees its FIN), as HTTP clients commonly do. */
	SSL_CTX_set_options(t->ctx, SSL_OP_NO_RENEGOTIATION |
	                    SSL_OP_CIPHER_SERVER_PREFERENCE |
	                    SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_COMPRESSION);
	/* RELEASE_BUFFERS: an idle connection holds no OpenSSL buffers.
	 * PARTIAL_WRITE: SSL_write returns after each record written, so
	 * the relay knows what left its buffer. */
	SSL_CTX_set_mode(t->ctx, SSL_MODE_RELEASE_BUFFERS |
	                 SSL_MODE_ENABLE_PARTIAL_WRITE |
	                 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* One read(2) per buffer of records rather than two per record. */
	SSL_CTX_set_read_ahead(t->ctx, 1);
	SSL_CTX_set_dh_auto(t->ctx, 1);
	/* Resumption by session tickets only (stateless; OpenSSL's ticket
	 * keys are random per context, so new with every configuration
	 * load): no per-context session cache shared by the workers. */
	SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_OFF);
	/* Needed for resumption once client certificates are verified;
	 * the listener's name keeps sessions of two listeners apart. */
	if (n > sizeof(sid))
		n = sizeof(sid);
	memcpy(sid, name, n);
	if (SSL_CTX_set_session_id_context(t->ctx, sid, (unsigned)n) != 1)
		return -1;
	SSL_CTX_set_tlsext_servername_callback(t->ctx, on_servername);
	SSL_CTX_set_tlsext_servername_arg(t->ctx, t);
	return 0;
}

struct tls_ctx *tls_ctx_new(const char *name, const struct tls_cfg *cfg,
                            tls_err_fn *err, void *arg)
{
	struct reporter r = { err, arg, 0 };
	struct tls_ctx *t;
	char why[256];

	ERR_clear_error();
	t = calloc(1, sizeof(*t));
	if (t == NULL || cfg->ncerts == 0 || cfg->ncerts != cfg->nkeys) {
		report(&r, TLS_ERR_OTHER, t == NULL ? "out of memory"
		       : "one tls_key per tls_cert is needed");
		free(t);
		return NULL;
	}
	t->verify = cfg->verify;
	t->ctx = SSL_CTX_new(TLS_server_method());
	t->certs = calloc(cfg->ncerts, sizeof(*t->certs));
	if (t->ctx == NULL || t->certs == NULL || set_fixed(t, name, cfg) < 0) {
		report(&r, TLS_ERR_OTHER, "cannot set up OpenSSL: %s",
		       ossl_reason(why, sizeof(why)));
		tls_ctx_free(t);
		return NULL;
	}
	t->ncerts = cfg->ncerts;
	/* Every pair is tried, so that one run of -t shows every problem. */
	for (size_t i = 0; i < cfg->ncerts; i++) {
		if (load_pair(&r, t, cfg, i) < 0)
			continue;
		if (strlen(t->certs[i].sig_alg) > t->sig_alg_max)
			t->sig_alg_max = strlen(t->certs[i].sig_alg);
		if (strlen(t->certs[i].key_alg) > t->key_alg_max)
			t->key_alg_max = strlen(t->certs[i].key_alg);
	}
	set_lists(&r, t, cfg);
	set_client_ca(&r, t, cfg);
	set_alpn(t, cfg);
	if (cfg->alpn != NULL && t->alpn == NULL)
		report(&r, TLS_ERR_OTHER, "out of memory");
	if (r.failed) {
		tls_ctx_free(t);
		return NULL;
	}
	return t;
}

void tls_ctx_free(struct tls_ctx *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->ncerts; i++)
		cert_free(&t->certs[i]);
	free(t->certs);
	free(t->alpn);
	SSL_CTX_free(t->ctx);
	free(t);
}

SSL *tls_ssl_new(const struct tls_ctx *t, int fd)
{
	char why[256];
	SSL *ssl = SSL_new(t->ctx);

	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1) {
		log_warn("TLS: cannot create a connection object: %s",
		         ossl_reason(why, sizeof(why)));
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_accept_state(ssl);
	return ssl;
}

size_t tls_cert_count(const struct tls_ctx *t)
{
	return t->ncerts;
}

size_t tls_cert_names(const struct tls_ctx *t, size_t i,
                      const char *const **names)
{
	*names = (const char *const *)t->certs[i].names;
	return t->certs[i].nnames;
}

/* ---- after the handshake ---- */

/* The subject CN of the client certificate as UTF-8, when it fits. */
static void client_cn(X509 *peer, char *out)
{
	X509_NAME *subj = X509_get_subject_name(peer);
	int i = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
	unsigned char *utf8 = NULL;
	int n;

	out[0] = '\0';
	if (i < 0)
		return;
	n = ASN1_STRING_to_UTF8(&utf8,
	                        X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i)));
	if (n > 0 && n <= PP_CN_MAX && memchr(utf8, '\0', (size_t)n) == NULL) {
		memcpy(out, utf8, (size_t)n);
		out[n] = '\0';
	}
	OPENSSL_free(utf8);
}

void tls_facts_get(SSL *ssl, const struct tls_ctx *t, struct pp_tls_facts *f)
{
	const unsigned char *alpn = NULL;
	unsigned alpn_len = 0;
	X509 *peer = SSL_get0_peer_certificate(ssl);
	X509 *ours = SSL_get_certificate(ssl);

	memset(f, 0, sizeof(*f));
	SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
	if (alpn != NULL && alpn_len > 0) {
		f->alpn = alpn;
		f->alpn_len = alpn_len;
	}
	f->sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	if (f->sni != NULL && (f->sni[0] == '\0' || strlen(f->sni) > PP_SNI_MAX))
		f->sni = NULL;
	f->resumed = SSL_session_reused(ssl);
	f->ssl.client = PP2_CLIENT_SSL;
	/* A resumed session remembers the certificate of the handshake that
	 * made it: presented in the session, not on this connection. */
	if (peer != NULL) {
		f->ssl.client |= PP2_CLIENT_CERT_SESS;
		if (!f->resumed)
			f->ssl.client |= PP2_CLIENT_CERT_CONN;
		f->ssl.verify = (uint32_t)SSL_get_verify_result(ssl);
		client_cn(peer, f->cn);
		if (f->cn[0] != '\0')
			f->ssl.cn = f->cn;
	} else {
		/* "non-zero otherwise": no certificate was verified. */
		f->ssl.verify = X509_V_ERR_UNSPECIFIED;
	}
	f->ssl.version = SSL_get_version(ssl);
	f->ssl.cipher = SSL_get_cipher_name(ssl);
	for (size_t i = 0; i < t->ncerts; i++) {
		if (t->certs[i].leaf == ours) {
			f->ssl.sig_alg = t->certs[i].sig_alg;
			f->ssl.key_alg = t->certs[i].key_alg;
			break;
		}
	}
}

void tls_ctx_limits(const struct tls_ctx *t, struct pp_tls_limits *lim)
{
	lim->alpn_max = t->alpn_max;
	lim->cipher_max = t->cipher_max;
	lim->sig_alg_max = t->sig_alg_max;
	lim->key_alg_max = t->key_alg_max;
	lim->client_cn = t->verify != TLS_VERIFY_OFF;
}
