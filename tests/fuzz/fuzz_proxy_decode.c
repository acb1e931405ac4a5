/* Fuzz target: the PROXY protocol decoder (pp_decode) on arbitrary bytes
 * as a client would send them.  Beyond "no crash, no out-of-bounds read"
 * it checks what the session code will rely on:
 *   - the answer is consistent: a result says what the struct holds, a
 *     DONE header lies inside the input, its TLVs inside the header;
 *   - feeding less gives a compatible answer: every shorter prefix of a
 *     DONE header is NEED_MORE (never ERROR), need never overshoots, and a
 *     prefix that is already DONE or ERROR stays so;
 *   - a larger v2 bound never refuses what a smaller one accepts;
 *   - what was decoded survives the encoders: re-encoding the addresses
 *     and TLVs as v1 and v2 decodes to the same. */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "fuzz.h"
#include "proxy_decode.h"

/* Up to this input size every prefix is tried; beyond it, a sample. */
#define ALL_PREFIXES_UP_TO 256

static void check_result(const uint8_t *data, size_t size,
                         enum pp_dec_status st, const struct pp_header *h,
                         const struct pp_dec_result *r)
{
	size_t i;

	switch (st) {
	case PP_DEC_NEED_MORE:
		FUZZ_CHECK(r->need >= 1 && r->error == NULL && r->len == 0);
		FUZZ_CHECK(h->version == 0);
		return;
	case PP_DEC_ERROR:
		FUZZ_CHECK(r->error != NULL && r->error[0] != '\0');
		FUZZ_CHECK(h->version == 0 && h->ntlvs == 0);
		return;
	case PP_DEC_DONE:
		break;
	default:
		FUZZ_CHECK(!"unknown status");
	}
	FUZZ_CHECK(r->error == NULL);
	FUZZ_CHECK(r->len >= 15 && r->len <= size);
	FUZZ_CHECK(h->version == 1 || h->version == 2);
	if (h->version == 1) {
		FUZZ_CHECK(r->len <= PP1_MAX_LEN);
		FUZZ_CHECK(data[r->len - 2] == '\r' && data[r->len - 1] == '\n');
		FUZZ_CHECK(h->command == PP_DEC_CMD_PROXY && h->ntlvs == 0);
		FUZZ_CHECK(h->family == PP_DEC_FAM_TCP4 ||
		           h->family == PP_DEC_FAM_TCP6 ||
		           h->family == PP_DEC_FAM_UNKNOWN);
	} else {
		FUZZ_CHECK(r->len >= PP2_HEADER_LEN);
		FUZZ_CHECK(r->len == PP2_HEADER_LEN +
		           ((size_t)data[14] << 8 | data[15]));
		FUZZ_CHECK(h->family != PP_DEC_FAM_UNKNOWN);
	}
	FUZZ_CHECK(h->ntlvs <= PP_DEC_MAX_TLVS);
	FUZZ_CHECK(h->tlvs_dropped == 0 || h->ntlvs == PP_DEC_MAX_TLVS);
	for (i = 0; i < h->ntlvs; i++) {
		const struct pp_tlv *t = &h->tlvs[i];

		FUZZ_CHECK(t->type != PP2_TYPE_NOOP);
		FUZZ_CHECK(t->value >= data + PP2_HEADER_LEN + 3);
		FUZZ_CHECK(t->value + t->len <= data + r->len);
	}
	switch (h->family) {
	case PP_DEC_FAM_TCP4:
		FUZZ_CHECK(h->src.ss_family == AF_INET &&
		           h->dst.ss_family == AF_INET &&
		           h->src_len == sizeof(struct sockaddr_in));
		break;
	case PP_DEC_FAM_TCP6:
		FUZZ_CHECK(h->src.ss_family == AF_INET6 &&
		           h->dst.ss_family == AF_INET6 &&
		           h->src_len == sizeof(struct sockaddr_in6));
		break;
	case PP_DEC_FAM_UNIX:
		FUZZ_CHECK(h->src.ss_family == AF_UNIX && h->version == 2);
		break;
	default:
		FUZZ_CHECK(h->src.ss_family == AF_UNSPEC &&
		           h->dst.ss_family == AF_UNSPEC &&
		           h->src_len == 0 && h->dst_len == 0);
	}
}

/* The answer for buf[0..k) against the answer for the whole input. */
static void check_prefix(const uint8_t *data, size_t k, enum pp_dec_status st,
                         const struct pp_dec_result *r)
{
	struct pp_header hk;
	struct pp_dec_result rk;
	enum pp_dec_status sk = pp_decode(data, k, 0, &hk, &rk);

	if (st == PP_DEC_NEED_MORE)
		FUZZ_CHECK(sk == PP_DEC_NEED_MORE);
	if (sk == PP_DEC_DONE)
		FUZZ_CHECK(st == PP_DEC_DONE && rk.len == r->len);
	if (sk == PP_DEC_ERROR)
		FUZZ_CHECK(st == PP_DEC_ERROR);
	if (st == PP_DEC_DONE && k < r->len)
		FUZZ_CHECK(sk == PP_DEC_NEED_MORE && k + rk.need <= r->len);
	if (st == PP_DEC_DONE && k >= r->len)
		FUZZ_CHECK(sk == PP_DEC_DONE && rk.len == r->len);
}

static int same_endpoint(const struct sockaddr_storage *a,
                         const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return memcmp(&x->sin_addr, &y->sin_addr, 4) == 0 &&
		       x->sin_port == y->sin_port;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a,
		                          *y = (const void *)b;

		return memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0 &&
		       x->sin6_port == y->sin6_port;
	}
	return 1;
}

/* The encoders send ::ffff:a.b.c.d as IPv4, and a pair that is then
 * mixed as IPv6 with the IPv4 side mapped: compare with both unmapped. */
static void check_same_addresses(const struct pp_header *want,
                                 const struct pp_header *got)
{
	struct sockaddr_storage ws = want->src, wd = want->dst;
	struct sockaddr_storage gs = got->src, gd = got->dst;

	addr_unmap_v4(&ws, NULL);
	addr_unmap_v4(&wd, NULL);
	addr_unmap_v4(&gs, NULL);
	addr_unmap_v4(&gd, NULL);
	FUZZ_CHECK(same_endpoint(&ws, &gs));
	FUZZ_CHECK(same_endpoint(&wd, &gd));
	FUZZ_CHECK(got->family == (ws.ss_family == AF_INET &&
	                           wd.ss_family == AF_INET ?
	                           PP_DEC_FAM_TCP4 : PP_DEC_FAM_TCP6));
}

static void check_round_trip(const struct pp_header *h)
{
	static uint8_t bin[PP_DEC_V2_MAX_LEN_LIMIT];
	struct pp_tlv tlvs[PP_DEC_MAX_TLVS];
	char line[PP1_MAX_LEN];
	struct pp_header h2;
	struct pp_dec_result r2;
	size_t i, n = 0;
	int len;
	int inet = h->family == PP_DEC_FAM_TCP4 || h->family == PP_DEC_FAM_TCP6;
	const struct sockaddr *src = (const struct sockaddr *)&h->src;
	const struct sockaddr *dst = (const struct sockaddr *)&h->dst;

	if (h->command != PP_DEC_CMD_PROXY)
		return;
	len = pp_encode_v1(line, sizeof(line), src, dst);
	FUZZ_CHECK(len > 0);
	FUZZ_CHECK(pp_decode((const uint8_t *)line, (size_t)len, 0, &h2, &r2) ==
	           PP_DEC_DONE && r2.len == (size_t)len);
	if (inet)
		check_same_addresses(h, &h2);
	else
		FUZZ_CHECK(h2.family == PP_DEC_FAM_UNKNOWN);

	/* A checksum would not match the re-encoded header. */
	for (i = 0; i < h->ntlvs; i++) {
		if (h->tlvs[i].type != PP2_TYPE_CRC32C)
			tlvs[n++] = h->tlvs[i];
	}
	len = pp_encode_v2(bin, sizeof(bin), src, dst, tlvs, n);
	FUZZ_CHECK(len > 0);
	FUZZ_CHECK(pp_decode(bin, (size_t)len, PP_DEC_V2_MAX_LEN_LIMIT, &h2,
	                     &r2) == PP_DEC_DONE && r2.len == (size_t)len);
	FUZZ_CHECK(h2.command == PP_DEC_CMD_PROXY && h2.ntlvs == n);
	if (inet)
		check_same_addresses(h, &h2);
	else
		FUZZ_CHECK(h2.family == PP_DEC_FAM_UNSPEC);
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(h2.tlvs[i].type == tlvs[i].type);
		FUZZ_CHECK(h2.tlvs[i].len == tlvs[i].len);
		FUZZ_CHECK(memcmp(h2.tlvs[i].value, tlvs[i].value,
		                  tlvs[i].len) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pp_header h, hb;
	struct pp_dec_result r, rb;
	enum pp_dec_status st, sb;
	size_t k, step;

	st = pp_decode(data, size, 0, &h, &r);
	check_result(data, size, st, &h, &r);

	step = size <= ALL_PREFIXES_UP_TO ? 1 : size / 64;
	for (k = 0; k < size; k += (k < 64 ? 1 : step))
		check_prefix(data, k, st, &r);
	if (st == PP_DEC_DONE && r.len > 0)
		check_prefix(data, r.len - 1, st, &r);

	sb = pp_decode(data, size, PP_DEC_V2_MAX_LEN_LIMIT, &hb, &rb);
	check_result(data, size, sb, &hb, &rb);
	if (st == PP_DEC_DONE)
		FUZZ_CHECK(sb == PP_DEC_DONE && rb.len == r.len);
	if (st == PP_DEC_ERROR &&
	    strcmp(r.error, "v2 length exceeds limit") != 0)
		FUZZ_CHECK(sb == PP_DEC_ERROR && strcmp(rb.error, r.error) == 0);

	if (st == PP_DEC_DONE)
		check_round_trip(&h);
	else if (sb == PP_DEC_DONE)
		check_round_trip(&hb);
	return 0;
}
