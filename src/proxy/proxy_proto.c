/* PROXY protocol v1/v2 header encoding (see include/proxy_proto.h).
 *
 * Both encoders first reduce the two socket addresses to one shared family
 * (pp_pair_prepare), then size the header completely before writing a single
 * byte, so a call that fails leaves buf untouched. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "proxy_proto.h"

enum pp_family { PP_FAM_UNKNOWN, PP_FAM_INET, PP_FAM_INET6 };

/* One endpoint in network byte order.  For PP_FAM_INET only the first four
 * bytes of ip are used. */
struct pp_end {
	enum pp_family fam;
	uint8_t ip[16];
	uint16_t port_be;
};

struct pp_pair {
	enum pp_family fam;     /* shared by src and dst, or UNKNOWN */
	struct pp_end src;
	struct pp_end dst;
};

static const uint8_t pp_v4mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* Read sa into e, turning ::ffff:a.b.c.d into plain IPv4.  The sockaddr is
 * copied rather than cast so that callers may pass any suitably sized
 * buffer, aligned or not. */
static void pp_end_load(struct pp_end *e, const struct sockaddr *sa)
{
	memset(e, 0, sizeof(*e));
	e->fam = PP_FAM_UNKNOWN;
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in sin;

		memcpy(&sin, sa, sizeof(sin));
		e->fam = PP_FAM_INET;
		memcpy(e->ip, &sin.sin_addr, 4);
		e->port_be = sin.sin_port;
	} else if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, sa, sizeof(sin6));
		e->port_be = sin6.sin6_port;
		if (memcmp(&sin6.sin6_addr, pp_v4mapped_prefix,
		           sizeof(pp_v4mapped_prefix)) == 0) {
			e->fam = PP_FAM_INET;
			memcpy(e->ip, (const uint8_t *)&sin6.sin6_addr + 12, 4);
		} else {
			e->fam = PP_FAM_INET6;
			memcpy(e->ip, &sin6.sin6_addr, 16);
		}
	}
}

/* Rewrite an IPv4 endpoint as ::ffff:a.b.c.d. */
static void pp_end_map6(struct pp_end *e)
{
	uint8_t v4[4];

	memcpy(v4, e->ip, 4);
	memcpy(e->ip, pp_v4mapped_prefix, sizeof(pp_v4mapped_prefix));
	memcpy(e->ip + 12, v4, 4);
	e->fam = PP_FAM_INET6;
}

static void pp_pair_prepare(struct pp_pair *p, const struct sockaddr *src,
                            const struct sockaddr *dst)
{
	pp_end_load(&p->src, src);
	pp_end_load(&p->dst, dst);

	if (p->src.fam == PP_FAM_UNKNOWN || p->dst.fam == PP_FAM_UNKNOWN) {
		p->fam = PP_FAM_UNKNOWN;
		return;
	}
	/* The header has a single family for both ends: when they differ,
	 * only IPv6 can express both. */
	if (p->src.fam != p->dst.fam) {
		if (p->src.fam == PP_FAM_INET)
			pp_end_map6(&p->src);
		else
			pp_end_map6(&p->dst);
	}
	p->fam = p->src.fam;
}

int pp_encode_v1(char *buf, size_t cap, const struct sockaddr *src,
                 const struct sockaddr *dst)
{
	/* PP1_MAX_LEN bytes plus the NUL snprintf insists on. */
	char line[PP1_MAX_LEN + 1];
	struct pp_pair p;
	int n;

	pp_pair_prepare(&p, src, dst);
	if (p.fam == PP_FAM_UNKNOWN) {
		n = snprintf(line, sizeof(line), "PROXY UNKNOWN\r\n");
	} else {
		char sa[INET6_ADDRSTRLEN], da[INET6_ADDRSTRLEN];
		int af = p.fam == PP_FAM_INET ? AF_INET : AF_INET6;

		if (inet_ntop(af, p.src.ip, sa, sizeof(sa)) == NULL ||
		    inet_ntop(af, p.dst.ip, da, sizeof(da)) == NULL)
			return -1;
		n = snprintf(line, sizeof(line), "PROXY %s %s %s %u %u\r\n",
		             p.fam == PP_FAM_INET ? "TCP4" : "TCP6", sa, da,
		             (unsigned)ntohs(p.src.port_be),
		             (unsigned)ntohs(p.dst.port_be));
	}
	/* The longest possible line (TCP6, two 39-character addresses, two
	 * 5-digit ports) is 104 bytes, so truncation cannot happen; checked
	 * anyway rather than trusted. */
	if (n < 0 || (size_t)n >= sizeof(line) || (size_t)n > cap)
		return -1;
	memcpy(buf, line, (size_t)n);
	return n;
}

static uint8_t *pp_put16(uint8_t *w, uint16_t v)
{
	w[0] = (uint8_t)(v >> 8);
	w[1] = (uint8_t)(v & 0xff);
	return w + 2;
}

int pp_encode_v2(uint8_t *buf, size_t cap, const struct sockaddr *src,
                 const struct sockaddr *dst, const struct pp_tlv *tlvs,
                 size_t ntlvs)
{
	struct pp_pair p;
	size_t addr_len, body_len, ip_len, i;
	uint8_t fam;
	uint8_t *w;

	pp_pair_prepare(&p, src, dst);
	switch (p.fam) {
	case PP_FAM_INET:
		fam = PP2_FAM_TCP4;
		addr_len = PP2_ADDR_LEN_INET;
		ip_len = 4;
		break;
	case PP_FAM_INET6:
		fam = PP2_FAM_TCP6;
		addr_len = PP2_ADDR_LEN_INET6;
		ip_len = 16;
		break;
	default:
		fam = PP2_FAM_UNSPEC;
		addr_len = 0;
		ip_len = 0;
		break;
	}

	/* body_len is what the 16-bit length field counts: address block
	 * plus TLVs.  Stop summing as soon as it overflows the field so the
	 * sum itself can never wrap. */
	body_len = addr_len;
	for (i = 0; i < ntlvs; i++) {
		if (tlvs[i].len > 0 && tlvs[i].value == NULL)
			return -1;
		body_len += 3 + (size_t)tlvs[i].len;
		if (body_len > UINT16_MAX)
			return -1;
	}
	if (cap < PP2_HEADER_LEN || cap - PP2_HEADER_LEN < body_len)
		return -1;

	w = buf;
	memcpy(w, PP2_SIGNATURE, PP2_SIGNATURE_LEN);
	w += PP2_SIGNATURE_LEN;
	*w++ = PP2_VERSION | PP2_CMD_PROXY;
	*w++ = fam;
	w = pp_put16(w, (uint16_t)body_len);
	if (addr_len > 0) {
		memcpy(w, p.src.ip, ip_len);
		w += ip_len;
		memcpy(w, p.dst.ip, ip_len);
		w += ip_len;
		memcpy(w, &p.src.port_be, 2);
		w += 2;
		memcpy(w, &p.dst.port_be, 2);
		w += 2;
	}
	for (i = 0; i < ntlvs; i++) {
		*w++ = tlvs[i].type;
		w = pp_put16(w, tlvs[i].len);
		if (tlvs[i].len > 0) {
			memcpy(w, tlvs[i].value, tlvs[i].len);
			w += tlvs[i].len;
		}
	}
	return (int)(w - buf);
}

/* One sub-TLV; NULL strings are skipped.  Returns the new write position,
 * or NULL when it does not fit. */
static uint8_t *pp_put_str_tlv(uint8_t *w, const uint8_t *end, uint8_t type,
                               const char *str)
{
	size_t len;

	if (str == NULL)
		return w;
	len = strlen(str);
	if (len > UINT16_MAX || (size_t)(end - w) < PP2_TLV_HEADER_LEN + len)
		return NULL;
	*w++ = type;
	w = pp_put16(w, (uint16_t)len);
	memcpy(w, str, len);
	return w + len;
}

int pp_encode_ssl(uint8_t *buf, size_t cap, const struct pp_ssl *ssl)
{
	const uint8_t *end = buf + cap;
	uint8_t *w = buf;

	if (cap < PP2_SSL_FIXED_LEN)
		return -1;
	*w++ = ssl->client;
	*w++ = (uint8_t)(ssl->verify >> 24);
	*w++ = (uint8_t)(ssl->verify >> 16);
	*w++ = (uint8_t)(ssl->verify >> 8);
	*w++ = (uint8_t)ssl->verify;
	w = pp_put_str_tlv(w, end, PP2_SUBTYPE_SSL_VERSION, ssl->version);
	if (w != NULL)
		w = pp_put_str_tlv(w, end, PP2_SUBTYPE_SSL_CIPHER, ssl->cipher);
	if (w != NULL)
		w = pp_put_str_tlv(w, end, PP2_SUBTYPE_SSL_SIG_ALG, ssl->sig_alg);
	if (w != NULL)
		w = pp_put_str_tlv(w, end, PP2_SUBTYPE_SSL_KEY_ALG, ssl->key_alg);
	if (w != NULL)
		w = pp_put_str_tlv(w, end, PP2_SUBTYPE_SSL_CN, ssl->cn);
	if (w == NULL || w - buf > UINT16_MAX)
		return -1;
	return (int)(w - buf);
}

int pp_tlvs_parse(const uint8_t *blob, size_t len, struct pp_tlv *tlvs,
                  size_t *n, size_t max)
{
	size_t off = 0;

	while (off < len) {
		size_t vlen;

		if (len - off < PP2_TLV_HEADER_LEN || *n >= max)
			return -1;
		vlen = (size_t)blob[off + 1] << 8 | blob[off + 2];
		if (vlen > len - off - PP2_TLV_HEADER_LEN)
			return -1;
		tlvs[*n].type = blob[off];
		tlvs[*n].len = (uint16_t)vlen;
		tlvs[*n].value = blob + off + PP2_TLV_HEADER_LEN;
		(*n)++;
		off += PP2_TLV_HEADER_LEN + vlen;
	}
	return 0;
}
