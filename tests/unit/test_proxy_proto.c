/* PROXY protocol encoders against vectors written out by hand from the
 * specification (haproxy doc/proxy-protocol.txt): every expected header
 * below is a literal, never the output of the code under test. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "proxy_proto.h"
#include "unit.h"

#define CANARY 0xA5

static struct sockaddr_storage mk4(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
	return ss;
}

static struct sockaddr_storage mk6(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
	return ss;
}

static struct sockaddr_storage mkunix(const char *path)
{
	struct sockaddr_storage ss;
	struct sockaddr_un *un = (struct sockaddr_un *)&ss;

	memset(&ss, 0, sizeof(ss));
	un->sun_family = AF_UNIX;
	strncpy(un->sun_path, path, sizeof(un->sun_path) - 1);
	return ss;
}

#define SA(ss) ((const struct sockaddr *)&(ss))

/* Encode a v1 line into a buffer of exactly `cap` bytes followed by a
 * canary, compare it with `want`, and check the canary survived. */
static void check_v1(const struct sockaddr *src, const struct sockaddr *dst,
                     const char *want)
{
	char buf[PP1_MAX_LEN + 1];
	size_t wlen = strlen(want);
	int n;

	memset(buf, CANARY, sizeof(buf));
	n = pp_encode_v1(buf, PP1_MAX_LEN, src, dst);
	ck_assert_int_eq(n, (int)wlen);
	ck_assert_mem_eq(buf, want, wlen);
	/* No NUL or anything else after the line. */
	ck_assert_uint_eq((unsigned char)buf[wlen], CANARY);
	ck_assert_uint_eq((unsigned char)buf[PP1_MAX_LEN], CANARY);
}

static void check_v2(const struct sockaddr *src, const struct sockaddr *dst,
                     const struct pp_tlv *tlvs, size_t ntlvs,
                     const uint8_t *want, size_t wlen)
{
	uint8_t buf[512];
	int n;

	ck_assert_uint_lt(wlen, sizeof(buf));
	memset(buf, CANARY, sizeof(buf));
	n = pp_encode_v2(buf, sizeof(buf) - 1, src, dst, tlvs, ntlvs);
	ck_assert_int_eq(n, (int)wlen);
	ck_assert_mem_eq(buf, want, wlen);
	ck_assert_uint_eq(buf[wlen], CANARY);
}

/* ---- v1 ---- */

START_TEST(v1_tcp4)
{
	struct sockaddr_storage s = mk4("192.0.2.1", 56324);
	struct sockaddr_storage d = mk4("198.51.100.7", 443);

	check_v1(SA(s), SA(d), "PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\r\n");
}
END_TEST

START_TEST(v1_tcp6)
{
	struct sockaddr_storage s = mk6("2001:db8::1", 40000);
	struct sockaddr_storage d = mk6("2001:db8:0:1:0:0:0:80", 8443);

	check_v1(SA(s), SA(d),
	         "PROXY TCP6 2001:db8::1 2001:db8:0:1::80 40000 8443\r\n");
}
END_TEST

START_TEST(v1_v4mapped_is_tcp4)
{
	struct sockaddr_storage s = mk6("::ffff:192.0.2.1", 1234);
	struct sockaddr_storage d = mk6("::ffff:127.0.0.1", 8000);

	check_v1(SA(s), SA(d), "PROXY TCP4 192.0.2.1 127.0.0.1 1234 8000\r\n");
}
END_TEST

START_TEST(v1_mixed_v4_src_is_tcp6)
{
	struct sockaddr_storage s = mk4("192.0.2.1", 1234);
	struct sockaddr_storage d = mk6("2001:db8::2", 443);

	check_v1(SA(s), SA(d),
	         "PROXY TCP6 ::ffff:192.0.2.1 2001:db8::2 1234 443\r\n");
}
END_TEST

START_TEST(v1_mixed_mapped_src_v6_dst)
{
	/* A mapped client on a dual-stack socket whose local address is a real
	 * IPv6 one: unmapping then remapping must still give TCP6. */
	struct sockaddr_storage s = mk6("::ffff:203.0.113.9", 5);
	struct sockaddr_storage d = mk6("2001:db8::2", 443);

	check_v1(SA(s), SA(d),
	         "PROXY TCP6 ::ffff:203.0.113.9 2001:db8::2 5 443\r\n");
}
END_TEST

START_TEST(v1_mixed_v6_src_v4_dst)
{
	struct sockaddr_storage s = mk6("2001:db8::7", 65000);
	struct sockaddr_storage d = mk4("10.0.0.1", 80);

	check_v1(SA(s), SA(d),
	         "PROXY TCP6 2001:db8::7 ::ffff:10.0.0.1 65000 80\r\n");
}
END_TEST

START_TEST(v1_unknown_unix)
{
	struct sockaddr_storage s = mkunix("/run/client.sock");
	struct sockaddr_storage d = mk4("127.0.0.1", 8000);

	check_v1(SA(s), SA(d), "PROXY UNKNOWN\r\n");
	check_v1(SA(d), SA(s), "PROXY UNKNOWN\r\n");
}
END_TEST

START_TEST(v1_unknown_unspec)
{
	struct sockaddr_storage s;
	struct sockaddr_storage d = mk6("2001:db8::2", 443);

	memset(&s, 0, sizeof(s));
	s.ss_family = AF_UNSPEC;
	check_v1(SA(s), SA(d), "PROXY UNKNOWN\r\n");
}
END_TEST

START_TEST(v1_max_length_fits)
{
	static const char want[] =
		"PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
	struct sockaddr_storage s =
		mk6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
	struct sockaddr_storage d =
		mk6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);

	ck_assert_uint_eq(sizeof(want) - 1, 104);
	check_v1(SA(s), SA(d), want);
}
END_TEST

START_TEST(v1_exact_cap_ok)
{
	static const char want[] = "PROXY TCP4 10.1.2.3 10.4.5.6 1 2\r\n";
	struct sockaddr_storage s = mk4("10.1.2.3", 1);
	struct sockaddr_storage d = mk4("10.4.5.6", 2);
	char buf[sizeof(want)];   /* line + one canary byte */
	int n;

	memset(buf, CANARY, sizeof(buf));
	n = pp_encode_v1(buf, sizeof(want) - 1, SA(s), SA(d));
	ck_assert_int_eq(n, (int)sizeof(want) - 1);
	ck_assert_mem_eq(buf, want, sizeof(want) - 1);
	ck_assert_uint_eq((unsigned char)buf[sizeof(want) - 1], CANARY);
}
END_TEST

START_TEST(v1_cap_too_small)
{
	struct sockaddr_storage s =
		mk6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
	struct sockaddr_storage d =
		mk6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
	char buf[PP1_MAX_LEN + 1];
	size_t caps[] = { 0, 1, 15, 50, 103 };
	size_t i, j;

	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		memset(buf, CANARY, sizeof(buf));
		ck_assert_int_eq(pp_encode_v1(buf, caps[i], SA(s), SA(d)), -1);
		/* Nothing at or beyond cap was touched. */
		for (j = caps[i]; j < sizeof(buf); j++)
			ck_assert_uint_eq((unsigned char)buf[j], CANARY);
	}

	/* "PROXY UNKNOWN\r\n" is 15 bytes: 14 is too few. */
	s = mkunix("/x");
	memset(buf, CANARY, sizeof(buf));
	ck_assert_int_eq(pp_encode_v1(buf, 14, SA(s), SA(d)), -1);
	ck_assert_uint_eq((unsigned char)buf[14], CANARY);
	ck_assert_int_eq(pp_encode_v1(buf, 15, SA(s), SA(d)), 15);
}
END_TEST

/* ---- v2 ---- */

#define SIG 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A

static const uint8_t v2_tcp4[] = {
	SIG, 0x21, 0x11, 0x00, 0x0C,
	0xC0, 0x00, 0x02, 0x01,         /* 192.0.2.1 */
	0xC6, 0x33, 0x64, 0x07,         /* 198.51.100.7 */
	0xDC, 0x04,                     /* 56324 */
	0x01, 0xBB,                     /* 443 */
};

START_TEST(v2_ipv4)
{
	struct sockaddr_storage s = mk4("192.0.2.1", 56324);
	struct sockaddr_storage d = mk4("198.51.100.7", 443);

	check_v2(SA(s), SA(d), NULL, 0, v2_tcp4, sizeof(v2_tcp4));
}
END_TEST

START_TEST(v2_ipv6)
{
	static const uint8_t want[] = {
		SIG, 0x21, 0x21, 0x00, 0x24,
		0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0x01,              /* 2001:db8::1 */
		0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0x01,
		0, 0, 0, 0, 0, 0, 0, 0x80,              /* 2001:db8:0:1::80 */
		0x9C, 0x40,                             /* 40000 */
		0x20, 0xFB,                             /* 8443 */
	};
	struct sockaddr_storage s = mk6("2001:db8::1", 40000);
	struct sockaddr_storage d = mk6("2001:db8:0:1::80", 8443);

	ck_assert_uint_eq(sizeof(want), PP2_MAX_LEN_NO_TLV);
	check_v2(SA(s), SA(d), NULL, 0, want, sizeof(want));
}
END_TEST

START_TEST(v2_v4mapped_is_tcp4)
{
	struct sockaddr_storage s = mk6("::ffff:192.0.2.1", 56324);
	struct sockaddr_storage d = mk6("::ffff:198.51.100.7", 443);

	check_v2(SA(s), SA(d), NULL, 0, v2_tcp4, sizeof(v2_tcp4));
	/* Only one side mapped: still both IPv4 after unmapping. */
	d = mk4("198.51.100.7", 443);
	check_v2(SA(s), SA(d), NULL, 0, v2_tcp4, sizeof(v2_tcp4));
}
END_TEST

START_TEST(v2_mixed_is_tcp6)
{
	static const uint8_t want[] = {
		SIG, 0x21, 0x21, 0x00, 0x24,
		0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0xFF, 0xFF, 0xC0, 0x00, 0x02, 0x01, /* ::ffff:192.0.2.1 */
		0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0x02,              /* 2001:db8::2 */
		0x04, 0xD2,                             /* 1234 */
		0x01, 0xBB,                             /* 443 */
	};
	struct sockaddr_storage s = mk4("192.0.2.1", 1234);
	struct sockaddr_storage d = mk6("2001:db8::2", 443);

	check_v2(SA(s), SA(d), NULL, 0, want, sizeof(want));
}
END_TEST

START_TEST(v2_unspec)
{
	static const uint8_t want[] = { SIG, 0x21, 0x00, 0x00, 0x00 };
	struct sockaddr_storage s = mkunix("/run/client.sock");
	struct sockaddr_storage d = mk4("127.0.0.1", 8000);
	struct sockaddr_storage u;

	check_v2(SA(s), SA(d), NULL, 0, want, sizeof(want));
	check_v2(SA(d), SA(s), NULL, 0, want, sizeof(want));
	memset(&u, 0, sizeof(u));
	u.ss_family = AF_UNSPEC;
	check_v2(SA(u), SA(d), NULL, 0, want, sizeof(want));
}
END_TEST

START_TEST(v2_one_tlv)
{
	static const uint8_t val[] = { 0x01 };
	static const struct pp_tlv tlv = { 0xE0, 1, val };
	static const uint8_t want[] = {
		SIG, 0x21, 0x11, 0x00, 0x10,    /* 12 + 4 */
		0xC0, 0x00, 0x02, 0x01,
		0xC6, 0x33, 0x64, 0x07,
		0xDC, 0x04, 0x01, 0xBB,
		0xE0, 0x00, 0x01, 0x01,
	};
	struct sockaddr_storage s = mk4("192.0.2.1", 56324);
	struct sockaddr_storage d = mk4("198.51.100.7", 443);

	check_v2(SA(s), SA(d), &tlv, 1, want, sizeof(want));
}
END_TEST

START_TEST(v2_two_tlvs)
{
	/* The second TLV is 300 bytes long so the length's high byte is
	 * exercised, in the TLV (0x01 0x2C) and in the header
	 * (12 + 5 + 303 = 320 = 0x0140). */
	static const uint8_t v1[] = { 0x61, 0x62 };
	uint8_t v2[300];
	struct pp_tlv tlvs[2] = {
		{ 0xE1, 2, v1 },
		{ PP2_TYPE_NOOP, 300, v2 },
	};
	static const uint8_t head[] = {
		SIG, 0x21, 0x11, 0x01, 0x40,
		0xC0, 0x00, 0x02, 0x01,
		0xC6, 0x33, 0x64, 0x07,
		0xDC, 0x04, 0x01, 0xBB,
		0xE1, 0x00, 0x02, 0x61, 0x62,
		0x04, 0x01, 0x2C,
	};
	uint8_t want[sizeof(head) + 300];
	struct sockaddr_storage s = mk4("192.0.2.1", 56324);
	struct sockaddr_storage d = mk4("198.51.100.7", 443);

	memset(v2, 0x5A, sizeof(v2));
	memcpy(want, head, sizeof(head));
	memset(want + sizeof(head), 0x5A, 300);
	ck_assert_uint_eq(sizeof(want), 16 + 320);
	check_v2(SA(s), SA(d), tlvs, 2, want, sizeof(want));
}
END_TEST

START_TEST(v2_tlv_on_unspec)
{
	static const uint8_t val[] = { 0x00 };
	static const struct pp_tlv tlv = { 0xE0, 1, val };
	static const uint8_t want[] = {
		SIG, 0x21, 0x00, 0x00, 0x04, 0xE0, 0x00, 0x01, 0x00,
	};
	struct sockaddr_storage s = mkunix("/x");
	struct sockaddr_storage d = mkunix("/y");

	check_v2(SA(s), SA(d), &tlv, 1, want, sizeof(want));
}
END_TEST

START_TEST(v2_empty_tlv)
{
	static const struct pp_tlv tlv = { PP2_TYPE_NOOP, 0, NULL };
	static const uint8_t want[] = {
		SIG, 0x21, 0x11, 0x00, 0x0F,
		0xC0, 0x00, 0x02, 0x01,
		0xC6, 0x33, 0x64, 0x07,
		0xDC, 0x04, 0x01, 0xBB,
		0x04, 0x00, 0x00,
	};
	struct sockaddr_storage s = mk4("192.0.2.1", 56324);
	struct sockaddr_storage d = mk4("198.51.100.7", 443);

	check_v2(SA(s), SA(d), &tlv, 1, want, sizeof(want));
}
END_TEST

START_TEST(v2_cap_too_small)
{
	static const uint8_t val[] = { 0x01 };
	static const struct pp_tlv tlv = { 0xE0, 1, val };
	struct sockaddr_storage s = mk4("192.0.2.1", 56324);
	struct sockaddr_storage d = mk4("198.51.100.7", 443);
	struct sockaddr_storage s6 = mk6("2001:db8::1", 1);
	struct sockaddr_storage d6 = mk6("2001:db8::2", 2);
	uint8_t buf[64];
	size_t cap, j;

	for (cap = 0; cap < 28; cap++) {
		memset(buf, CANARY, sizeof(buf));
		ck_assert_int_eq(pp_encode_v2(buf, cap, SA(s), SA(d), NULL, 0), -1);
		for (j = 0; j < sizeof(buf); j++)
			ck_assert_uint_eq(buf[j], CANARY);
	}
	ck_assert_int_eq(pp_encode_v2(buf, 28, SA(s), SA(d), NULL, 0), 28);

	/* The TLV needs 4 more bytes. */
	memset(buf, CANARY, sizeof(buf));
	ck_assert_int_eq(pp_encode_v2(buf, 31, SA(s), SA(d), &tlv, 1), -1);
	ck_assert_uint_eq(buf[31], CANARY);
	ck_assert_int_eq(pp_encode_v2(buf, 32, SA(s), SA(d), &tlv, 1), 32);
	ck_assert_uint_eq(buf[32], CANARY);

	memset(buf, CANARY, sizeof(buf));
	ck_assert_int_eq(pp_encode_v2(buf, 51, SA(s6), SA(d6), NULL, 0), -1);
	ck_assert_uint_eq(buf[51], CANARY);
	ck_assert_int_eq(pp_encode_v2(buf, 52, SA(s6), SA(d6), NULL, 0), 52);
	ck_assert_uint_eq(buf[52], CANARY);
}
END_TEST

START_TEST(v2_length_limit)
{
	/* The length field counts address block + TLVs and is 16 bits.  With
	 * UNSPEC (no address block) one TLV of 65532 bytes makes it exactly
	 * 0xFFFF; one byte more cannot be encoded. */
	size_t total = PP2_HEADER_LEN + 65535;
	uint8_t *buf = malloc(total + 1);
	uint8_t *val = calloc(1, 65535);
	struct pp_tlv tlv = { 0xE0, 65532, NULL };
	struct pp_tlv two[2] = { { 0xE0, 40000, NULL }, { 0xE1, 40000, NULL } };
	struct sockaddr_storage s = mkunix("/x");
	struct sockaddr_storage d = mkunix("/y");
	struct sockaddr_storage s4 = mk4("192.0.2.1", 1);
	struct sockaddr_storage d4 = mk4("192.0.2.2", 2);

	ck_assert_ptr_nonnull(buf);
	ck_assert_ptr_nonnull(val);
	tlv.value = val;
	two[0].value = val;
	two[1].value = val;

	memset(buf, CANARY, total + 1);
	ck_assert_int_eq(pp_encode_v2(buf, total, SA(s), SA(d), &tlv, 1),
	                 (int)total);
	ck_assert_uint_eq(buf[14], 0xFF);
	ck_assert_uint_eq(buf[15], 0xFF);
	ck_assert_uint_eq(buf[16], 0xE0);
	ck_assert_uint_eq(buf[17], 0xFF);       /* 65532 = 0xFFFC */
	ck_assert_uint_eq(buf[18], 0xFC);
	ck_assert_uint_eq(buf[total], CANARY);

	tlv.len = 65533;
	memset(buf, CANARY, total + 1);
	ck_assert_int_eq(pp_encode_v2(buf, total + 1, SA(s), SA(d), &tlv, 1),
	                 -1);
	ck_assert_uint_eq(buf[0], CANARY);

	/* With the 12-byte IPv4 block the same TLV limit drops by 12. */
	tlv.len = 65520;
	ck_assert_int_eq(pp_encode_v2(buf, total, SA(s4), SA(d4), &tlv, 1),
	                 (int)total);
	tlv.len = 65521;
	ck_assert_int_eq(pp_encode_v2(buf, total + 1, SA(s4), SA(d4), &tlv, 1),
	                 -1);

	/* Two TLVs that fit separately but not together. */
	ck_assert_int_eq(pp_encode_v2(buf, total + 1, SA(s), SA(d), two, 2), -1);

	free(val);
	free(buf);
}
END_TEST

START_TEST(v2_length_field)
{
	/* The length field always equals the bytes that follow the 16-byte
	 * header, for every family and TLV combination. */
	static const uint8_t val[7] = { 1, 2, 3, 4, 5, 6, 7 };
	struct pp_tlv tlvs[3] = {
		{ 0xE0, 1, val }, { 0xE1, 7, val }, { PP2_TYPE_NOOP, 0, NULL },
	};
	struct sockaddr_storage a[3];
	/* Expected body lengths: address block + 3 per TLV + values. */
	static const int addr_len[3] = { 12, 36, 0 };
	static const int tlv_sum[4] = { 0, 4, 4 + 10, 4 + 10 + 3 };
	uint8_t buf[128];
	size_t f, k;
	int n;

	a[0] = mk4("192.0.2.1", 1);
	a[1] = mk6("2001:db8::1", 1);
	a[2] = mkunix("/x");
	for (f = 0; f < 3; f++) {
		for (k = 0; k <= 3; k++) {
			int body = addr_len[f] + tlv_sum[k];

			n = pp_encode_v2(buf, sizeof(buf), SA(a[f]), SA(a[f]),
			                 tlvs, k);
			ck_assert_int_eq(n, 16 + body);
			ck_assert_int_eq((buf[14] << 8) | buf[15], body);
			ck_assert_uint_eq(buf[12], 0x21);
		}
	}
}
END_TEST


START_TEST(ssl_value_exact_bytes)
{
	/* client, verify (network order), then the sub-TLVs in the order of
	 * the spec's numbering except CN last; NULL strings are left out. */
	static const uint8_t want[] = {
		0x07, 0x00, 0x00, 0x00, 0x14,
		0x21, 0x00, 0x07, 'T', 'L', 'S', 'v', '1', '.', '3',
		0x23, 0x00, 0x02, 'A', 'B',
		0x25, 0x00, 0x05, 'E', 'C', '2', '5', '6',
		0x22, 0x00, 0x01, 'x',
	};
	struct pp_ssl ssl = {
		.client = PP2_CLIENT_SSL | PP2_CLIENT_CERT_CONN |
		          PP2_CLIENT_CERT_SESS,
		.verify = 20, .version = "TLSv1.3", .cipher = "AB",
		.sig_alg = NULL, .key_alg = "EC256", .cn = "x",
	};
	uint8_t buf[64];
	int n = pp_encode_ssl(buf, sizeof(buf), &ssl);

	ck_assert_int_eq(n, (int)sizeof(want));
	ck_assert_mem_eq(buf, want, sizeof(want));
}
END_TEST

START_TEST(ssl_value_minimal_and_cap)
{
	struct pp_ssl ssl = { .client = PP2_CLIENT_SSL, .verify = 1 };
	static const uint8_t want[] = { 0x01, 0, 0, 0, 1 };
	uint8_t buf[16];

	ck_assert_int_eq(pp_encode_ssl(buf, sizeof(buf), &ssl), 5);
	ck_assert_mem_eq(buf, want, 5);
	ck_assert_int_eq(pp_encode_ssl(buf, 4, &ssl), -1);
	ssl.version = "TLSv1.2";
	/* 5 + 3 + 7 = 15 fits exactly; one byte less does not. */
	ck_assert_int_eq(pp_encode_ssl(buf, 15, &ssl), 15);
	ck_assert_int_eq(pp_encode_ssl(buf, 14, &ssl), -1);
}
END_TEST

START_TEST(ssl_value_inside_v2_header)
{
	/* The SSL TLV nests its sub-TLVs: the outer length covers them. */
	struct pp_ssl ssl = { .client = PP2_CLIENT_SSL, .verify = 0,
	                      .version = "TLSv1.3" };
	struct sockaddr_storage s = mk4("192.0.2.1", 1);
	uint8_t val[32], buf[128];
	int vn = pp_encode_ssl(val, sizeof(val), &ssl);
	struct pp_tlv tlv = { PP2_TYPE_SSL, (uint16_t)vn, val };
	int n = pp_encode_v2(buf, sizeof(buf), SA(s), SA(s), &tlv, 1);

	ck_assert_int_eq(vn, 15);
	ck_assert_int_eq(n, 16 + 12 + 3 + 15);
	ck_assert_uint_eq(buf[28], PP2_TYPE_SSL);
	ck_assert_uint_eq((buf[29] << 8) | buf[30], 15);
	ck_assert_uint_eq(buf[31], PP2_CLIENT_SSL);
	ck_assert_uint_eq(buf[36], PP2_SUBTYPE_SSL_VERSION);
}
END_TEST

START_TEST(tlvs_parse_reads_wire_format)
{
	static const uint8_t blob[] = {
		0x05, 0x00, 0x02, 'i', 'd',             /* UNIQUE_ID "id" */
		0xea, 0x00, 0x00,                       /* empty custom TLV */
		0x02, 0x00, 0x03, 'a', '.', 't',        /* AUTHORITY "a.t" */
	};
	struct pp_tlv t[4];
	size_t n = 1;

	ck_assert_int_eq(pp_tlvs_parse(blob, sizeof(blob), t, &n, 4), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_uint_eq(t[1].type, 0x05);
	ck_assert_uint_eq(t[1].len, 2);
	ck_assert_mem_eq(t[1].value, "id", 2);
	ck_assert_uint_eq(t[2].type, 0xea);
	ck_assert_uint_eq(t[2].len, 0);
	ck_assert_uint_eq(t[3].type, 0x02);
	ck_assert_mem_eq(t[3].value, "a.t", 3);
	/* Nothing to read is fine; too many, a cut header or a cut value
	 * is not. */
	n = 0;
	ck_assert_int_eq(pp_tlvs_parse(NULL, 0, t, &n, 4), 0);
	ck_assert_uint_eq(n, 0);
	n = 2;
	ck_assert_int_eq(pp_tlvs_parse(blob, sizeof(blob), t, &n, 4), -1);
	n = 0;
	ck_assert_int_eq(pp_tlvs_parse(blob, 2, t, &n, 4), -1);
	n = 0;
	ck_assert_int_eq(pp_tlvs_parse(blob, 4, t, &n, 4), -1);
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("proxy_proto");
	TCase *v1 = tcase_create("v1");
	TCase *v2 = tcase_create("v2");

	tcase_add_test(v1, v1_tcp4);
	tcase_add_test(v1, v1_tcp6);
	tcase_add_test(v1, v1_v4mapped_is_tcp4);
	tcase_add_test(v1, v1_mixed_v4_src_is_tcp6);
	tcase_add_test(v1, v1_mixed_mapped_src_v6_dst);
	tcase_add_test(v1, v1_mixed_v6_src_v4_dst);
	tcase_add_test(v1, v1_unknown_unix);
	tcase_add_test(v1, v1_unknown_unspec);
	tcase_add_test(v1, v1_max_length_fits);
	tcase_add_test(v1, v1_exact_cap_ok);
	tcase_add_test(v1, v1_cap_too_small);
	suite_add_tcase(s, v1);

	tcase_add_test(v2, v2_ipv4);
	tcase_add_test(v2, v2_ipv6);
	tcase_add_test(v2, v2_v4mapped_is_tcp4);
	tcase_add_test(v2, v2_mixed_is_tcp6);
	tcase_add_test(v2, v2_unspec);
	tcase_add_test(v2, v2_one_tlv);
	tcase_add_test(v2, v2_two_tlvs);
	tcase_add_test(v2, v2_tlv_on_unspec);
	tcase_add_test(v2, v2_empty_tlv);
	tcase_add_test(v2, v2_cap_too_small);
	tcase_add_test(v2, v2_length_limit);
	tcase_add_test(v2, v2_length_field);
	tcase_add_test(v2, ssl_value_exact_bytes);
	tcase_add_test(v2, ssl_value_minimal_and_cap);
	tcase_add_test(v2, ssl_value_inside_v2_header);
	suite_add_tcase(s, v2);
	UNIT_ADD(s, tlvs_parse_reads_wire_format);
	return s;
}

UNIT_MAIN(make_suite)
