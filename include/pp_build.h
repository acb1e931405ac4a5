/* The PROXY header a listener sends ahead of a client's bytes: v1 or v2,
 * with the TLVs its proxy_protocol_tlvs set asks for, built from plain
 * facts about the connection (MPTCP or not, what a TLS handshake settled,
 * a balancer's TLVs to pass on).  Pure: no OpenSSL, no libevent, no I/O;
 * the TLS layer fills struct pp_tls_facts. */
#ifndef FRONTD_PP_BUILD_H
#define FRONTD_PP_BUILD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "proxy_proto.h"

enum pp_mode { PP_MODE_OFF, PP_MODE_V1, PP_MODE_V2 };

/* proxy_protocol_tlvs: which TLVs a v2 header carries. */
enum pp_tlv_bit {
	PP_TLV_MPTCP = 1 << 0,          /* 0xE0: "mptcp" or "tcp" */
	PP_TLV_ALPN = 1 << 1,           /* PP2_TYPE_ALPN (TLS listeners) */
	PP_TLV_AUTHORITY = 1 << 2,      /* PP2_TYPE_AUTHORITY: the SNI */
	PP_TLV_SSL = 1 << 3,            /* PP2_TYPE_SSL and its sub-TLVs */
	PP_TLV_UPSTREAM = 1 << 4,       /* accept_proxy: the balancer's own */
};

/* The longest client certificate CN passed on (ub-common-name, X.520);
 * a longer one is left out of the header. */
#define PP_CN_MAX 64

/* Longest SNI host name passed on (RFC 6066 host_name). */
#define PP_SNI_MAX 255

/* What a finished TLS handshake tells the backend.  Pointers refer to
 * memory that outlives the header's building (the TLS session's), or to
 * `cn` below. */
struct pp_tls_facts {
	const uint8_t *alpn;    /* negotiated protocol, NULL when none */
	unsigned alpn_len;
	const char *sni;        /* NULL when the client sent none */
	int resumed;
	struct pp_ssl ssl;
	char cn[PP_CN_MAX + 1];
};

/* The longest strings a TLS listener's settings allow, for
 * pp_build_max_len. */
struct pp_tls_limits {
	size_t alpn_max;        /* longest ALPN protocol configured; 0: none */
	size_t cipher_max, sig_alg_max, key_alg_max;
	int client_cn;          /* client certificates asked for */
};

/* The 0xE0 TLV's value: how the client connected, as known when the
 * backend connection is made ("tcp", "mptcp", "fallback"). */
enum pp_how { PP_HOW_TCP = 0, PP_HOW_MPTCP = 1, PP_HOW_FALLBACK = 2 };

/* Everything one header is built from. */
struct pp_build_in {
	enum pp_mode mode;
	unsigned tlvs;                  /* enum pp_tlv_bit set (v2) */
	enum pp_how how;
	const struct pp_tls_facts *tls; /* NULL on a plain listener */
	const uint8_t *fwd;             /* a balancer's TLVs, as on the wire */
	size_t fwd_len;
	const struct sockaddr *src, *dst;
};

/* Room for the largest header any listener sends: addresses, the MPTCP
 * TLV, ALPN, SNI and the SSL TLV at their longest, and a balancer's TLVs. */
#define PP_BUILD_MAX (1024 + PP_FWD_TLVS_MAX)

/* Write the header to buf.  Returns its length (0 with PP_MODE_OFF), or -1
 * when it does not fit in cap. */
int pp_build(uint8_t *buf, size_t cap, const struct pp_build_in *in);

/* The TLVs for `set` into tlvs[] (room for 4), with the SSL TLV's value
 * written to `scratch`.  tls is NULL for a plain listener.  Returns how
 * many TLVs, or -1 when scratch is too small. */
int pp_build_tlvs(unsigned set, enum pp_how how, const struct pp_tls_facts *tls,
                  struct pp_tlv *tlvs, uint8_t *scratch, size_t cap);

/* The longest v2 header with TLV set `set`: an IPv6 address block, and
 * every TLV at the longest `tls` allows (NULL: a plain listener; the SNI
 * at PP_SNI_MAX, the CN at PP_CN_MAX when client certificates are asked
 * for). */
size_t pp_build_max_len(unsigned set, const struct pp_tls_limits *tls);

/* nginx before 1.23.2 reads at most this many bytes of PROXY header in
 * its stream and mail modules (NGX_PROXY_PROTOCOL_MAX_HEADER); a longer
 * v2 header fails there.  Its http module has no such limit. */
#define PP_NGINX_OLD_MAX 107

/* "mptcp, alpn, ..." for a TLV set, or "none". */
const char *pp_build_set_text(unsigned set, char *buf, size_t len);

#endif
