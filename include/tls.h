/* TLS termination with OpenSSL: a listener's TLS context, built from its
 * tls_* settings when the configuration is loaded and shared by every
 * worker (an SSL_CTX is thread-safe once built), and what a finished
 * handshake tells the backend in PROXY v2 TLVs.
 *
 * The context holds the certificate/key pairs (the first is the default;
 * the others are chosen by SNI against their DNS names), the minimum
 * version, cipher lists, ALPN list, client certificate verification and
 * OpenSSL's built-in session ticket keys, which are random per context:
 * each load of the configuration (start, SIGHUP) makes new ones. */
#ifndef FRONTD_TLS_H
#define FRONTD_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>

#include "pp_build.h"

#define TLS_MAX_CERTS 16        /* tls_cert / tls_key pairs per listener */
#define TLS_MAX_ALPN 8          /* protocols in tls_alpn */

enum tls_version { TLS_VERSION_1_2, TLS_VERSION_1_3 };
enum tls_verify { TLS_VERIFY_OFF, TLS_VERIFY_OPTIONAL, TLS_VERIFY_REQUIRED };

/* TLS termination (the tls_* keys of a listener); a listener terminates
 * TLS when it has at least one certificate.  Paths are absolute. */
struct tls_cfg {
	char *certs[TLS_MAX_CERTS];     /* PEM: certificate, then its chain */
	char *keys[TLS_MAX_CERTS];      /* PEM private key of certs[i] */
	size_t ncerts, nkeys;           /* certs[0] is the default */
	enum tls_version min_version;
	char *ciphers;                  /* TLS 1.2 list; NULL: OpenSSL's */
	char *ciphersuites;             /* TLS 1.3 list; NULL: OpenSSL's */
	uint8_t *alpn;                  /* ALPN wire format; NULL: no ALPN */
	size_t alpn_len;
	enum tls_verify verify;
	char *client_ca;                /* PEM bundle; NULL when unset */
	uint64_t handshake_timeout_ms;
};

/* What a configuration problem is about, so that the caller can name the
 * key (and its line). */
enum tls_err_what {
	TLS_ERR_CERT,
	TLS_ERR_KEY,
	TLS_ERR_CIPHERS,
	TLS_ERR_CIPHERSUITES,
	TLS_ERR_CLIENT_CA,
	TLS_ERR_OTHER,
};

typedef void tls_err_fn(void *arg, enum tls_err_what what, const char *msg);

/* Build the context for listener `name`: read every certificate (with its
 * chain) and key, check that each key matches its certificate and passes
 * OpenSSL's security level, apply the lists.  Every problem found goes to
 * err(arg, ...) with OpenSSL's reason; returns NULL when there was any. */
struct tls_ctx *tls_ctx_new(const char *name, const struct tls_cfg *cfg,
                            tls_err_fn *err, void *arg);

void tls_ctx_free(struct tls_ctx *t);   /* NULL is a no-op */

/* A server-side SSL object for an accepted socket, or NULL (logged). */
SSL *tls_ssl_new(const struct tls_ctx *t, int fd);

/* The DNS names certificate i serves (SAN, else the subject CN). */
size_t tls_cert_count(const struct tls_ctx *t);
size_t tls_cert_names(const struct tls_ctx *t, size_t i,
                      const char *const **names);

/* Index of the certificate a handshake for SNI `name` gets (exact names
 * first, then one-label wildcards, else 0, the default). */
size_t tls_cert_for_name(const struct tls_ctx *t, const char *name);

/* Everything a finished handshake tells the backend, into f.  Pointers
 * refer to OpenSSL's or the context's memory, or to f->cn: valid while
 * the SSL object lives. */
void tls_facts_get(SSL *ssl, const struct tls_ctx *t, struct pp_tls_facts *f);

/* The longest strings this context's settings allow in a PROXY v2
 * header (see pp_build_max_len). */
void tls_ctx_limits(const struct tls_ctx *t, struct pp_tls_limits *lim);

#endif
