/* PROXY protocol v1/v2 header decoding (see include/proxy_decode.h).
 *
 * Every call starts from scratch on the whole buffer.  Each version runs,
 * in order, the checks that the bytes present already allow, and only
 * then waits for the rest; so bytes that cannot begin a valid header are
 * refused as soon as they arrive, and a prefix of a valid header never is.
 * Every read is bounded by len and, once the header's own length is
 * known, by that length: bytes after the header belong to the client. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#include "proxy_decode.h"

#define V1_PREFIX "PROXY "
#define V1_PREFIX_LEN 6
/* The shortest complete headers: "PROXY UNKNOWN\r\n" and a bare v2. */
#define V1_MIN_LEN 15
/* Room for the longest IPv6 text inet_pton reads, with its NUL. */
#define V1_ADDR_MAX 46

static enum pp_dec_status need_more(struct pp_dec_result *res, size_t need)
{
	res->need = need > 0 ? need : 1;
	return PP_DEC_NEED_MORE;
}

static enum pp_dec_status fail(struct pp_dec_result *res, const char *why)
{
	res->error = why;
	return PP_DEC_ERROR;
}

/* Do the n bytes at p agree with the first n bytes of s (as far as s
 * goes)? */
static int agrees(const uint8_t *p, size_t n, const char *s, size_t slen)
{
	return memcmp(p, s, n < slen ? n : slen) == 0;
}

/* ---- CRC32C ---- */

static uint32_t crc32c_update(uint32_t crc, const uint8_t *p, size_t n)
{
	size_t i;
	int k;

	/* Bitwise over the reflected polynomial: headers are small and a
	 * 1 KiB table is not worth it here. */
	for (i = 0; i < n; i++) {
		crc ^= p[i];
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (UINT32_C(0x82F63B78) & (0U - (crc & 1)));
	}
	return crc;
}

uint32_t pp_crc32c(const uint8_t *buf, size_t len)
{
	return ~crc32c_update(~UINT32_C(0), buf, len);
}

const char *pp_dec_family_name(enum pp_dec_family fam)
{
	switch (fam) {
	case PP_DEC_FAM_UNSPEC: return "UNSPEC";
	case PP_DEC_FAM_UNKNOWN: return "UNKNOWN";
	case PP_DEC_FAM_TCP4: return "TCP4";
	case PP_DEC_FAM_TCP6: return "TCP6";
	case PP_DEC_FAM_UNIX: return "UNIX";
	}
	return "?";
}

/* ---- v1 ---- */

/* Decimal 0..max, 1 to `digits` digits, no leading zero (spec 2.1). */
static int v1_number(const char *s, unsigned max, int digits, unsigned *out)
{
	unsigned v = 0;
	int n;

	for (n = 0; s[n] != '\0'; n++) {
		if (s[n] < '0' || s[n] > '9' || n == digits)
			return -1;
		v = v * 10 + (unsigned)(s[n] - '0');
	}
	if (n == 0 || (n > 1 && s[0] == '0') || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Exactly four dot-separated numbers 0..255 into 4 bytes. */
static int v1_ipv4(const char *s, uint8_t ip[4])
{
	char part[4];
	unsigned v;
	int i;

	for (i = 0; i < 4; i++) {
		size_t n = strcspn(s, ".");

		if (n >= sizeof(part))
			return -1;
		memcpy(part, s, n);
		part[n] = '\0';
		if (v1_number(part, 255, 3, &v) < 0)
			return -1;
		ip[i] = (uint8_t)v;
		s += n;
		if (i < 3 && *s++ != '.')
			return -1;
	}
	return *s == '\0' ? 0 : -1;
}

/* Fill ss from an IPv4 (4 bytes) or IPv6 (16 bytes) address and a port,
 * both in network byte order. */
static void put_inet(int af, const uint8_t *ip, const uint8_t *port,
                     struct sockaddr_storage *ss, socklen_t *sslen)
{
	memset(ss, 0, sizeof(*ss));
	if (af == AF_INET) {
		struct sockaddr_in sin;

		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		memcpy(&sin.sin_addr, ip, 4);
		memcpy(&sin.sin_port, port, 2);
		memcpy(ss, &sin, sizeof(sin));
		*sslen = sizeof(sin);
	} else {
		struct sockaddr_in6 sin6;

		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		memcpy(&sin6.sin6_addr, ip, 16);
		memcpy(&sin6.sin6_port, port, 2);
		memcpy(ss, &sin6, sizeof(sin6));
		*sslen = sizeof(sin6);
	}
}

static int v1_address(int af, const char *s, unsigned port,
                      struct sockaddr_storage *ss, socklen_t *sslen)
{
	uint8_t ip[16];
	uint8_t pbe[2] = { (uint8_t)(port >> 8), (uint8_t)(port & 0xff) };

	if (af == AF_INET ? v1_ipv4(s, ip) < 0
	                  : strlen(s) >= V1_ADDR_MAX ||
	                    inet_pton(AF_INET6, s, ip) != 1)
		return -1;
	put_inet(af, ip, pbe, ss, sslen);
	return 0;
}

/* The protocol field and the character after it, as far as n bytes go.
 * "UNKNOWN" is followed by the CRLF or by a space and ignored text. */
static int v1_proto_agrees(const uint8_t *p, size_t n)
{
	static const char *const protos[] = {
		"TCP4 ", "TCP6 ", "UNKNOWN ", "UNKNOWN\r",
	};
	size_t i;

	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		if (agrees(p, n, protos[i], strlen(protos[i])))
			return 1;
	}
	return 0;
}

/* Parse a complete line without its CRLF (line[0..n), NUL-terminated,
 * starting after "PROXY "). */
static const char *v1_fields(char *line, struct pp_header *hdr)
{
	char *f[5];
	unsigned sport, dport;
	int nf = 0, af;
	char *p = line;

	/* v1_proto_agrees() has seen "TCP4 ", "TCP6 ", "UNKNOWN " or
	 * "UNKNOWN" at the end. */
	if (line[0] == 'U') {
		hdr->family = PP_DEC_FAM_UNKNOWN;
		return NULL;
	}
	af = line[3] == '4' ? AF_INET : AF_INET6;

	/* Exactly one space between fields: an empty field is an error. */
	for (;;) {
		char *sp = strchr(p, ' ');

		if (nf == 5)
			return "bad v1 syntax";
		f[nf++] = p;
		if (sp == NULL)
			break;
		*sp = '\0';
		p = sp + 1;
	}
	if (nf != 5 || f[1][0] == '\0' || f[2][0] == '\0' ||
	    f[3][0] == '\0' || f[4][0] == '\0')
		return "bad v1 syntax";
	if (v1_number(f[3], 65535, 5, &sport) < 0 ||
	    v1_number(f[4], 65535, 5, &dport) < 0)
		return "bad v1 port";
	if (v1_address(af, f[1], sport, &hdr->src, &hdr->src_len) < 0 ||
	    v1_address(af, f[2], dport, &hdr->dst, &hdr->dst_len) < 0)
		return "bad v1 address";
	hdr->family = af == AF_INET ? PP_DEC_FAM_TCP4 : PP_DEC_FAM_TCP6;
	return NULL;
}

static enum pp_dec_status v1_decode(const uint8_t *buf, size_t len,
                                    struct pp_header *hdr,
                                    struct pp_dec_result *res)
{
	size_t scan = len < PP1_MAX_LEN ? len : PP1_MAX_LEN;
	size_t i, end = 0;
	char line[PP1_MAX_LEN + 1];
	const char *why;

	for (i = 0; i < scan && end == 0; i++) {
		uint8_t c = buf[i];

		if (c == '\r') {
			/* A CR must be the CR of the CRLF. */
			if (i + 1 < len && buf[i + 1] != '\n')
				return fail(res, "bad v1 line ending");
		} else if (c == '\n') {
			if (i == 0 || buf[i - 1] != '\r')
				return fail(res, "bad v1 line ending");
			end = i + 1;
		} else if (c < 0x20 || c > 0x7e) {
			return fail(res, "bad v1 character");
		}
	}
	if (!v1_proto_agrees(buf + V1_PREFIX_LEN,
	                     (end ? end : scan) - V1_PREFIX_LEN))
		return fail(res, "bad v1 protocol");
	if (end == 0) {
		if (len >= PP1_MAX_LEN)
			return fail(res, "v1 line too long");
		if (len < V1_MIN_LEN)
			return need_more(res, V1_MIN_LEN - len);
		return need_more(res, buf[len - 1] == '\r' ? 1 : 2);
	}

	/* Copied so the fields can be NUL-terminated: buf is const. */
	memcpy(line, buf + V1_PREFIX_LEN, end - 2 - V1_PREFIX_LEN);
	line[end - 2 - V1_PREFIX_LEN] = '\0';
	why = v1_fields(line, hdr);
	if (why != NULL)
		return fail(res, why);
	hdr->version = 1;
	hdr->command = PP_DEC_CMD_PROXY;
	res->len = end;
	return PP_DEC_DONE;
}

/* ---- v2 ---- */

/* Address block length for a family byte the specification lists, -1 for
 * any other. */
static int v2_addr_len(uint8_t fam)
{
	switch (fam) {
	case 0x00: return 0;
	case 0x11: case 0x12: return PP2_ADDR_LEN_INET;
	case 0x21: case 0x22: return PP2_ADDR_LEN_INET6;
	case 0x31: case 0x32: return PP2_ADDR_LEN_UNIX;
	}
	return -1;
}

_Static_assert(sizeof(((struct sockaddr_un *)0)->sun_path) ==
               PP2_ADDR_LEN_UNIX / 2, "a v2 AF_UNIX address is sun_path");

static void v2_addresses(const uint8_t *a, uint8_t fam, struct pp_header *hdr)
{
	if (fam == PP2_FAM_TCP4) {
		put_inet(AF_INET, a, a + 8, &hdr->src, &hdr->src_len);
		put_inet(AF_INET, a + 4, a + 10, &hdr->dst, &hdr->dst_len);
		hdr->family = PP_DEC_FAM_TCP4;
	} else if (fam == PP2_FAM_TCP6) {
		put_inet(AF_INET6, a, a + 32, &hdr->src, &hdr->src_len);
		put_inet(AF_INET6, a + 16, a + 34, &hdr->dst, &hdr->dst_len);
		hdr->family = PP_DEC_FAM_TCP6;
	} else if (fam == PP2_FAM_UNIX_STREAM) {
		struct sockaddr_un un;

		memset(&un, 0, sizeof(un));
		un.sun_family = AF_UNIX;
		memcpy(un.sun_path, a, sizeof(un.sun_path));
		memcpy(&hdr->src, &un, sizeof(un));
		memcpy(un.sun_path, a + sizeof(un.sun_path),
		       sizeof(un.sun_path));
		memcpy(&hdr->dst, &un, sizeof(un));
		hdr->src_len = hdr->dst_len = sizeof(un);
		hdr->family = PP_DEC_FAM_UNIX;
	}
	/* UNSPEC and the datagram families stay PP_DEC_FAM_UNSPEC. */
}

/* Walk the TLVs in buf[off..end), where end is the header's end.  Returns
 * NULL or an error reason. */
static const char *v2_tlvs(const uint8_t *buf, size_t off, size_t end,
                           struct pp_header *hdr)
{
	size_t crc_at = 0;

	while (off < end) {
		uint8_t type;
		size_t vlen;

		if (end - off < 3)
			return "truncated TLV";
		type = buf[off];
		vlen = (size_t)buf[off + 1] << 8 | buf[off + 2];
		if (vlen > end - off - 3)
			return "truncated TLV";
		if (type == PP2_TYPE_CRC32C) {
			if (vlen != 4 || crc_at != 0)
				return "bad CRC32C";
			crc_at = off + 3;
		} else if (type == PP2_TYPE_UNIQUE_ID &&
		           vlen > PP2_UNIQUE_ID_MAX) {
			return "bad UNIQUE_ID TLV";
		}
		if (type != PP2_TYPE_NOOP) {
			if (hdr->ntlvs < PP_DEC_MAX_TLVS) {
				struct pp_tlv *t = &hdr->tlvs[hdr->ntlvs++];

				t->type = type;
				t->len = (uint16_t)vlen;
				t->value = buf + off + 3;
			} else {
				hdr->tlvs_dropped++;
			}
		}
		off += 3 + vlen;
	}
	if (crc_at != 0) {
		/* Over the whole header with the checksum field zeroed. */
		static const uint8_t zero[4];
		uint32_t crc = ~UINT32_C(0), want;

		crc = crc32c_update(crc, buf, crc_at);
		crc = crc32c_update(crc, zero, 4);
		crc = ~crc32c_update(crc, buf + crc_at + 4, end - crc_at - 4);
		want = (uint32_t)buf[crc_at] << 24 |
		       (uint32_t)buf[crc_at + 1] << 16 |
		       (uint32_t)buf[crc_at + 2] << 8 | buf[crc_at + 3];
		if (crc != want)
			return "bad CRC32C";
	}
	return NULL;
}

static enum pp_dec_status v2_decode(const uint8_t *buf, size_t len,
                                    size_t max_len, struct pp_header *hdr,
                                    struct pp_dec_result *res)
{
	uint8_t cmd, fam;
	size_t body, total;
	int addr_len = 0;
	const char *why;

	if (len <= PP2_SIGNATURE_LEN)
		return need_more(res, PP2_HEADER_LEN - len);
	if ((buf[12] & 0xF0) != PP2_VERSION)
		return fail(res, "bad v2 version");
	cmd = buf[12] & 0x0F;
	if (cmd != PP2_CMD_LOCAL && cmd != PP2_CMD_PROXY)
		return fail(res, "bad v2 command");
	if (len < 14)
		return need_more(res, PP2_HEADER_LEN - len);
	fam = buf[13];
	if (cmd == PP2_CMD_PROXY) {
		addr_len = v2_addr_len(fam);
		if (addr_len < 0)
			return fail(res, "bad v2 family");
	}
	if (len < PP2_HEADER_LEN)
		return need_more(res, PP2_HEADER_LEN - len);
	body = (size_t)buf[14] << 8 | buf[15];
	total = PP2_HEADER_LEN + body;
	if (total > max_len)
		return fail(res, "v2 length exceeds limit");
	if (body < (size_t)addr_len)
		return fail(res, "v2 address block too short");
	if (len < total)
		return need_more(res, total - len);

	hdr->version = 2;
	hdr->v2_fam = fam;
	if (cmd == PP2_CMD_LOCAL) {
		/* The block, family included, is discarded (spec 2.2). */
		hdr->command = PP_DEC_CMD_LOCAL;
	} else {
		hdr->command = PP_DEC_CMD_PROXY;
		v2_addresses(buf + PP2_HEADER_LEN, fam, hdr);
		why = v2_tlvs(buf, PP2_HEADER_LEN + (size_t)addr_len, total, hdr);
		if (why != NULL)
			return fail(res, why);
	}
	res->len = total;
	return PP_DEC_DONE;
}

enum pp_dec_status pp_decode(const uint8_t *buf, size_t len, size_t max_len,
                             struct pp_header *hdr,
                             struct pp_dec_result *res)
{
	enum pp_dec_status st;

	memset(hdr, 0, sizeof(*hdr));
	memset(res, 0, sizeof(*res));
	if (max_len == 0)
		max_len = PP_DEC_V2_MAX_LEN_DEFAULT;
	if (len == 0)
		return need_more(res, V1_MIN_LEN);

	/* The two signatures differ in their first byte ('\r' and 'P'). */
	if (agrees(buf, len, PP2_SIGNATURE, PP2_SIGNATURE_LEN))
		st = v2_decode(buf, len, max_len, hdr, res);
	else if (agrees(buf, len, V1_PREFIX, V1_PREFIX_LEN))
		st = len < V1_PREFIX_LEN ? need_more(res, V1_MIN_LEN - len)
		                         : v1_decode(buf, len, hdr, res);
	else
		st = fail(res, "not a PROXY header");
	if (st != PP_DEC_DONE)
		memset(hdr, 0, sizeof(*hdr));
	return st;
}
