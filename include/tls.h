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

#include "config.h"
#include "proxy_proto.h"

/* The longest client certificate CN passed on (ub-common-name, X.520);
 * a longer one is left out of the PROXY header. */
#define TLS_CN_MAX 64

/* Longest SNI host name OpenSSL accepts (RFC 6066 host_name). */
#define TLS_SNI_MAX 255

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

/* Everything a finished handshake tells the backend.  Pointers refer to
 * OpenSSL's or the context's memory, or to `cn` below: valid while the
 * SSL object lives. */
struct tls_facts {
	const uint8_t *alpn;    /* negotiated protocol, NULL when none */
	unsigned alpn_len;
	const char *sni;        /* NULL when the client sent none */
	int resumed;
	struct pp_ssl ssl;
	char cn[TLS_CN_MAX + 1];
};

void tls_facts_get(SSL *ssl, const struct tls_ctx *t, struct tls_facts *f);

/* A v2 PROXY header from src to dst with the TLVs of cfg's set: ours
 * (tls_pp_tlvs; f NULL on a plain listener), then the balancer's to pass
 * on (fwd[0..fwd_len), as on the wire; proxy_protocol_tlvs = upstream).
 * Returns its length, or -1 when it does not fit in cap. */
int tls_pp_encode_v2(uint8_t *buf, size_t cap, const struct listener_cfg *cfg,
                     int is_mptcp, const struct tls_facts *f,
                     const uint8_t *fwd, size_t fwd_len,
                     const struct sockaddr *src, const struct sockaddr *dst);

/* Room for the largest header a TLS listener sends: addresses, the MPTCP
 * TLV, ALPN, SNI and the SSL TLV at their longest. */
#define TLS_PP_HEADER_MAX 1024

/* The TLVs for `set` (enum pp_tlv_bit) into tlvs[] (room for 4), with the
 * SSL TLV's value written to `scratch`.  f is NULL for a plain listener.
 * Returns how many TLVs, or -1 when scratch is too small. */
int tls_pp_tlvs(unsigned set, int is_mptcp, const struct tls_facts *f,
                struct pp_tlv *tlvs, uint8_t *scratch, size_t cap);

/* The longest v2 header listener `l` can send with its TLV set: an IPv6
 * address block, and every TLV at the longest its settings allow (the SNI
 * at TLS_SNI_MAX, the CN at TLS_CN_MAX when client certificates are
 * asked for, the longest ALPN protocol and cipher name configured). */
size_t tls_pp_header_max(const struct listener_cfg *l);

/* nginx before 1.23.2 reads at most this many bytes of PROXY header in
 * its stream and mail modules (NGX_PROXY_PROTOCOL_MAX_HEADER); a longer
 * v2 header fails there.  Its http module has no such limit. */
#define PP_NGINX_OLD_MAX 107

/* Log, for every listener of cfg (at start and after each reload), what
 * its TLS context serves, and warn when its PROXY v2 header can grow past
 * PP_NGINX_OLD_MAX. */
void tls_announce(const struct config *cfg);

#endif
