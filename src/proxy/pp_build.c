/* The PROXY header a listener sends (include/pp_build.h). */
#include <stdio.h>
#include <string.h>

#include "pp_build.h"
#include "proxy_decode.h"

int pp_build_tlvs(unsigned set, enum pp_how how, const struct pp_tls_facts *tls,
                  struct pp_tlv *tlvs, uint8_t *scratch, size_t cap)
{
	int n = 0;

	if (set & PP_TLV_MPTCP) {
		const char *v = how == PP_HOW_MPTCP      ? "mptcp"
		                : how == PP_HOW_FALLBACK ? "fallback"
		                                         : "tcp";
		tlvs[n].type = PP2_TYPE_FRONTD_MPTCP;
		tlvs[n].len = (uint16_t)strlen(v);
		tlvs[n].value = (const uint8_t *)v;
		n++;
	}
	if (tls == NULL)
		return n;
	if ((set & PP_TLV_ALPN) && tls->alpn != NULL) {
		tlvs[n].type = PP2_TYPE_ALPN;
		tlvs[n].len = (uint16_t)tls->alpn_len;
		tlvs[n].value = tls->alpn;
		n++;
	}
	if ((set & PP_TLV_AUTHORITY) && tls->sni != NULL) {
		tlvs[n].type = PP2_TYPE_AUTHORITY;
		tlvs[n].len = (uint16_t)strlen(tls->sni);
		tlvs[n].value = (const uint8_t *)tls->sni;
		n++;
	}
	if (set & PP_TLV_SSL) {
		int len = pp_encode_ssl(scratch, cap, &tls->ssl);
		if (len < 0)
			return -1;
		tlvs[n].type = PP2_TYPE_SSL;
		tlvs[n].len = (uint16_t)len;
		tlvs[n].value = scratch;
		n++;
	}
	return n;
}

/* Ours first, then the balancer's to pass on. */
static int build_v2(uint8_t *buf, size_t cap, const struct pp_build_in *in)
{
	struct pp_tlv tlvs[4 + PP_DEC_MAX_TLVS];
	uint8_t ssl_tlv[512];
	int nt = pp_build_tlvs(in->tlvs, in->how, in->tls, tlvs, ssl_tlv,
	                       sizeof(ssl_tlv));
	size_t n;

	if (nt < 0)
		return -1;
	n = (size_t)nt;
	if (pp_tlvs_parse(in->fwd, in->fwd_len, tlvs, &n,
	                  sizeof(tlvs) / sizeof(tlvs[0])) < 0)
		return -1;
	return pp_encode_v2(buf, cap, in->src, in->dst, tlvs, n);
}

int pp_build(uint8_t *buf, size_t cap, const struct pp_build_in *in)
{
	switch (in->mode) {
	case PP_MODE_V1:
		return pp_encode_v1((char *)buf, cap, in->src, in->dst);
	case PP_MODE_V2:
		return build_v2(buf, cap, in);
	case PP_MODE_OFF:
		break;
	}
	return 0;
}

size_t pp_build_max_len(unsigned set, const struct pp_tls_limits *tls)
{
	const size_t h = PP2_TLV_HEADER_LEN;
	size_t n = PP2_MAX_LEN_NO_TLV;

	if (set & PP_TLV_MPTCP)
		n += h + strlen("fallback");    /* the longest value */
	if (set & PP_TLV_UPSTREAM)
		n += PP_FWD_TLVS_MAX;
	if (tls == NULL)
		return n;
	if ((set & PP_TLV_ALPN) && tls->alpn_max > 0)
		n += h + tls->alpn_max;
	if (set & PP_TLV_AUTHORITY)
		n += h + PP_SNI_MAX;
	if (set & PP_TLV_SSL) {
		n += h + PP2_SSL_FIXED_LEN;
		n += h + strlen("TLSv1.3");
		n += h + tls->cipher_max;
		n += h + tls->sig_alg_max;
		n += h + tls->key_alg_max;
		if (tls->client_cn)
			n += h + PP_CN_MAX;
	}
	return n;
}

const char *pp_build_set_text(unsigned set, char *buf, size_t len)
{
	static const char *const names[] = { "mptcp", "alpn", "authority",
	                                     "ssl", "upstream" };
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (set & (1u << i))
			off += (size_t)snprintf(buf + off, len - off, "%s%s",
			                        off ? ", " : "", names[i]);
	return off ? buf : "none";
}
