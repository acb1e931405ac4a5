/* PROXY protocol header encoding: pure functions over two addresses, no
 * libevent, no I/O.  The client address is `src`, the address the client
 * connected to is `dst`.  v4-mapped IPv6 addresses are sent as IPv4 (as
 * nginx does); when, after unmapping, one side is IPv4 and the other IPv6,
 * the IPv4 side is sent as v4-mapped IPv6 so both share a family.  Any
 * other family (AF_UNIX, AF_UNSPEC) yields "PROXY UNKNOWN" in v1 and the
 * UNSPEC family with no address block in v2. */
#ifndef FRONTD_PROXY_PROTO_H
#define FRONTD_PROXY_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "proxy_proto_spec.h"

struct pp_tlv {
	uint8_t type;
	uint16_t len;
	const uint8_t *value;
};

/* Largest header pp_encode_v2 writes without TLVs. */
#define PP2_MAX_LEN_NO_TLV (PP2_HEADER_LEN + PP2_ADDR_LEN_INET6)

/* The value of a PP2_TYPE_SSL TLV: the client flags and verify result,
 * then the sub-TLVs whose strings are not NULL, in the order
 * SSL_VERSION, SSL_CIPHER, SSL_SIG_ALG, SSL_KEY_ALG, SSL_CN (strings are
 * sent without their NUL). */
struct pp_ssl {
	uint8_t client;         /* PP2_CLIENT_* */
	uint32_t verify;        /* 0: a client certificate was verified */
	const char *version;    /* "TLSv1.3" */
	const char *cipher;     /* "TLS_AES_128_GCM_SHA256" */
	const char *sig_alg;    /* our certificate's signature: "RSA-SHA256" */
	const char *key_alg;    /* our certificate's key: "RSA2048", "EC256" */
	const char *cn;         /* client certificate's subject CN */
};

/* TLV bytes a received v2 header may carry (the decoder's default bound,
 * proxy_decode.h, is built from it), so also the most a balancer's TLVs
 * passed on (proxy_protocol_tlvs = upstream) can take. */
#define PP_FWD_TLVS_MAX 1024

/* Read TLVs as they are on the wire (type, 16-bit length, value) from
 * blob[0..len) into tlvs[*n..max), advancing *n; values point into blob.
 * Returns 0, or -1 when blob is not a whole number of TLVs or they do not
 * fit. */
int pp_tlvs_parse(const uint8_t *blob, size_t len, struct pp_tlv *tlvs,
                  size_t *n, size_t max);

/* Write that value to buf.  Returns its length, or -1 when cap is too
 * small or a string is longer than a TLV can hold. */
int pp_encode_ssl(uint8_t *buf, size_t cap, const struct pp_ssl *ssl);

/* Write a v1 line (with CRLF, no NUL) to buf.  Returns its length, or -1
 * when cap is too small (PP1_MAX_LEN always suffices). */
int pp_encode_v1(char *buf, size_t cap, const struct sockaddr *src,
                 const struct sockaddr *dst);

/* Write a v2 header with command PROXY, followed by the TLVs in order.
 * Returns its length, or -1 when cap is too small or the total length does
 * not fit in 16 bits. */
int pp_encode_v2(uint8_t *buf, size_t cap, const struct sockaddr *src,
                 const struct sockaddr *dst, const struct pp_tlv *tlvs,
                 size_t ntlvs);

#endif
