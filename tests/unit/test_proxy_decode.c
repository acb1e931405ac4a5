/* PROXY protocol decoder against vectors written out by hand from the
 * specification (haproxy doc/proxy-protocol.txt): every header and every
 * expected address below is a literal, never the output of the code under
 * test.  Round trips with the encoder come last. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "proxy_decode.h"
#include "unit.h"

#define SIG 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A

static struct pp_header hdr;
static struct pp_dec_result res;

static enum pp_dec_status dec(const void *buf, size_t len, size_t max_len)
{
	return pp_decode(buf, len, max_len, &hdr, &res);
}

/* buf[0..len) is exactly one valid header: every proper prefix asks for
 * more (and never for more than the rest), the whole is DONE, and the
 * same with client data behind it.  Leaves hdr/res from the whole. */
static void check_complete(const uint8_t *buf, size_t len, size_t max_len)
{
	static const uint8_t tail[] = "GET / HTTP/1.1\r\n\r\n\r\n\r\n";
	uint8_t *more = malloc(len + sizeof(tail));
	size_t k;

	ck_assert_ptr_nonnull(more);
	for (k = 0; k < len; k++) {
		ck_assert_msg(dec(buf, k, max_len) == PP_DEC_NEED_MORE,
		              "prefix of %zu/%zu bytes: %s", k, len,
		              res.error ? res.error : "DONE");
		ck_assert_uint_ge(res.need, 1);
		ck_assert_uint_le(k + res.need, len);
	}
	memcpy(more, buf, len);
	memcpy(more + len, tail, sizeof(tail));
	ck_assert_int_eq(dec(more, len + sizeof(tail), max_len), PP_DEC_DONE);
	ck_assert_uint_eq(res.len, len);
	free(more);
	ck_assert_msg(dec(buf, len, max_len) == PP_DEC_DONE, "whole: %s",
	              res.error ? res.error : "NEED_MORE");
	ck_assert_uint_eq(res.len, len);
	ck_assert_ptr_null(res.error);
}

static void check_str_complete(const char *s)
{
	check_complete((const uint8_t *)s, strlen(s), 0);
}

static void check_error(const void *buf, size_t len, size_t max_len,
                        const char *why)
{
	ck_assert_msg(dec(buf, len, max_len) == PP_DEC_ERROR,
	              "expected \"%s\", got %s", why,
	              res.len ? "DONE" : "NEED_MORE");
	ck_assert_str_eq(res.error, why);
	/* Nothing half-decoded is left behind. */
	ck_assert_int_eq(hdr.version, 0);
	ck_assert_uint_eq(hdr.ntlvs, 0);
	ck_assert_int_eq(hdr.src.ss_family, AF_UNSPEC);
}

static void check_str_error(const char *s, const char *why)
{
	check_error(s, strlen(s), 0, why);
}

/* Expected endpoints as raw bytes in network order. */
static void check_in4(const struct sockaddr_storage *ss, socklen_t len,
                      const uint8_t ip[4], uint16_t port)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

	ck_assert_int_eq(ss->ss_family, AF_INET);
	ck_assert_uint_eq(len, sizeof(struct sockaddr_in));
	ck_assert_mem_eq(&sin->sin_addr, ip, 4);
	ck_assert_uint_eq(ntohs(sin->sin_port), port);
}

static void check_in6(const struct sockaddr_storage *ss, socklen_t len,
                      const uint8_t ip[16], uint16_t port)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

	ck_assert_int_eq(ss->ss_family, AF_INET6);
	ck_assert_uint_eq(len, sizeof(struct sockaddr_in6));
	ck_assert_mem_eq(&sin6->sin6_addr, ip, 16);
	ck_assert_uint_eq(ntohs(sin6->sin6_port), port);
}

static void check_no_addresses(void)
{
	ck_assert_int_eq(hdr.src.ss_family, AF_UNSPEC);
	ck_assert_int_eq(hdr.dst.ss_family, AF_UNSPEC);
	ck_assert_uint_eq(hdr.src_len, 0);
	ck_assert_uint_eq(hdr.dst_len, 0);
}

static const uint8_t ip_192_168_0_1[4] = { 192, 168, 0, 1 };
static const uint8_t ip_192_168_0_11[4] = { 192, 168, 0, 11 };
static const uint8_t ip_192_0_2_1[4] = { 0xC0, 0x00, 0x02, 0x01 };
static const uint8_t ip_198_51_100_7[4] = { 0xC6, 0x33, 0x64, 0x07 };
static const uint8_t ip6_db8_1[16] = {
	0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
};
static const uint8_t ip6_db8_1_80[16] = {
	0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0x80,
};

/* ---- v1 ---- */

/* The example of section 2.1, with the request that follows it. */
START_TEST(v1_spec_example)
{
	static const char in[] =
		"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n"
		"GET / HTTP/1.1\r\nHost: 192.168.0.11\r\n\r\n";

	ck_assert_int_eq(dec(in, sizeof(in) - 1, 0), PP_DEC_DONE);
	ck_assert_uint_eq(res.len, 47);
	ck_assert_int_eq(hdr.version, 1);
	ck_assert_int_eq(hdr.command, PP_DEC_CMD_PROXY);
	ck_assert_int_eq(hdr.family, PP_DEC_FAM_TCP4);
	check_in4(&hdr.src, hdr.src_len, ip_192_168_0_1, 56324);
	check_in4(&hdr.dst, hdr.dst_len, ip_192_168_0_11, 443);
	ck_assert_uint_eq(hdr.ntlvs, 0);
	check_complete((const uint8_t *)in, 47, 0);
}
END_TEST

START_TEST(v1_tcp4_extremes)
{
	static const uint8_t zero[4] = { 0, 0, 0, 0 };
	static const uint8_t ones[4] = { 255, 255, 255, 255 };

	check_str_complete("PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n");
	check_in4(&hdr.src, hdr.src_len, zero, 0);
	check_in4(&hdr.dst, hdr.dst_len, ones, 65535);
	/* The longest TCP4 line of section 2.1: 56 bytes. */
	check_str_complete("PROXY TCP4 255.255.255.255 255.255.255.255 "
	                   "65535 65535\r\n");
	ck_assert_uint_eq(res.len, 56);
}
END_TEST

START_TEST(v1_tcp6)
{
	check_str_complete("PROXY TCP6 2001:db8::1 2001:db8:0:1::80 40000 8443\r\n");
	ck_assert_uint_eq(res.len, 52);
	ck_assert_int_eq(hdr.family, PP_DEC_FAM_TCP6);
	check_in6(&hdr.src, hdr.src_len, ip6_db8_1, 40000);
	check_in6(&hdr.dst, hdr.dst_len, ip6_db8_1_80, 8443);

	/* Upper case hex and the uncompressed form are the same address. */
	check_str_complete("PROXY TCP6 2001:DB8:0:0:0:0:0:1 "
	                   "2001:0db8:0000:0001:0000:0000:0000:0080 1 2\r\n");
	check_in6(&hdr.src, hdr.src_len, ip6_db8_1, 1);
	check_in6(&hdr.dst, hdr.dst_len, ip6_db8_1_80, 2);
}
END_TEST

START_TEST(v1_tcp6_longest)
{
	static const char in[] =
		"PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
	uint8_t ones[16];

	memset(ones, 0xff, sizeof(ones));
	ck_assert_uint_eq(sizeof(in) - 1, 104);
	check_str_complete(in);
	check_in6(&hdr.src, hdr.src_len, ones, 65535);
	check_in6(&hdr.dst, hdr.dst_len, ones, 65535);
}
END_TEST

START_TEST(v1_tcp6_v4mapped_kept)
{
	/* What our own encoder sends for a mixed pair; the decoder reports
	 * it as sent. */
	static const uint8_t mapped[16] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xC0, 0x00, 0x02, 0x01,
	};
	static const uint8_t db8_2[16] = {
		0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
	};

	check_str_complete("PROXY TCP6 ::ffff:192.0.2.1 2001:db8::2 1234 443\r\n");
	check_in6(&hdr.src, hdr.src_len, mapped, 1234);
	check_in6(&hdr.dst, hdr.dst_len, db8_2, 443);
}
END_TEST

START_TEST(v1_unknown)
{
	check_str_complete("PROXY UNKNOWN\r\n");
	ck_assert_uint_eq(res.len, 15);
	ck_assert_int_eq(hdr.version, 1);
	ck_assert_int_eq(hdr.family, PP_DEC_FAM_UNKNOWN);
	check_no_addresses();

	/* The rest of the line is ignored, whatever it says. */
	check_str_complete("PROXY UNKNOWN 192.0.2.1 nonsense 99999 x\r\n");
	ck_assert_int_eq(hdr.family, PP_DEC_FAM_UNKNOWN);
	check_no_addresses();
	check_str_complete("PROXY UNKNOWN \r\n");
}
END_TEST

START_TEST(v1_line_limit)
{
	/* The worst case of section 2.1 is exactly 107 bytes. */
	static const char worst[] =
		"PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
	char line[200];

	ck_assert_uint_eq(sizeof(worst) - 1, 107);
	check_str_complete(worst);

	/* 106 bytes and no CRLF yet: could still end at 107. */
	memset(line, 'x', sizeof(line));
	memcpy(line, "PROXY UNKNOWN ", 14);
	ck_assert_int_eq(dec(line, 106, 0), PP_DEC_NEED_MORE);
	ck_assert_int_eq(dec(line, 105, 0), PP_DEC_NEED_MORE);
	/* 107 bytes without the CRLF: refused then, not later. */
	check_error(line, 107, 0, "v1 line too long");
	check_error(line, sizeof(line), 0, "v1 line too long");
	/* 106 bytes + CRLF = 108: refused when the CR is the 107th byte. */
	memcpy(line + 106, "\r\n", 2);
	check_error(line, 107, 0, "v1 line too long");
	check_error(line, 108, 0, "v1 line too long");
	/* 105 + CRLF = 107 fits. */
	memcpy(line + 105, "\r\n", 2);
	check_complete((const uint8_t *)line, 107, 0);
}
END_TEST

struct bad_line {
	const char *in;
	const char *why;
};

static const struct bad_line v1_bad[] = {
	/* Not a PROXY header at all. */
	{ "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "not a PROXY header" },
	{ "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", "not a PROXY header" },
	{ "SSH-2.0-OpenSSH_9.2\r\n", "not a PROXY header" },
	{ "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "not a PROXY header" },
	{ "PROXY\tTCP4 1.2.3.4 5.6.7.8 1 2\r\n", "not a PROXY header" },
	{ "PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n", "not a PROXY header" },
	{ " PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "not a PROXY header" },
	/* Line endings. */
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "bad v1 line ending" },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n", "bad v1 line ending" },
	{ "PROXY TCP4 1.2.3.4\r5.6.7.8 1 2\r\n", "bad v1 line ending" },
	{ "PROXY UNKNOWN\n", "bad v1 line ending" },
	{ "PROXY UNKNOWN\r \n", "bad v1 line ending" },
	/* Characters. */
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\t\r\n", "bad v1 character" },
	{ "PROXY TCP4 1.2.3.4\x7f 5.6.7.8 1 2\r\n", "bad v1 character" },
	{ "PROXY UNKNOWN \x80\r\n", "bad v1 character" },
	{ "PROXY UNKNOWN \x1b[0m\r\n", "bad v1 character" },
	/* Protocol field. */
	{ "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", "bad v1 protocol" },
	{ "PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", "bad v1 protocol" },
	{ "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", "bad v1 protocol" },
	{ "PROXY TCP 1.2.3.4 5.6.7.8 1 2\r\n", "bad v1 protocol" },
	{ "PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "bad v1 protocol" },
	{ "PROXY UNKNOWNX\r\n", "bad v1 protocol" },
	{ "PROXY UNKNOWN4 1.2.3.4 5.6.7.8 1 2\r\n", "bad v1 protocol" },
	{ "PROXY TCP4\r\n", "bad v1 protocol" },
	{ "PROXY \r\n", "bad v1 protocol" },
	/* Field layout. */
	{ "PROXY TCP4 \r\n", "bad v1 syntax" },
	{ "PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", "bad v1 syntax" },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "bad v1 syntax" },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", "bad v1 syntax" },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", "bad v1 syntax" },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1  2\r\n", "bad v1 syntax" },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8\r\n", "bad v1 syntax" },
	/* Addresses. */
	{ "PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n", "bad v1 address" },
	{ "PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n", "bad v1 address" },
	{ "PROXY TCP4 1.2.3.00 5.6.7.8 1 2\r\n", "bad v1 address" },
	{ "PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n", "bad v1 address" },
	{ "PROXY TCP4 1.2.3.1000 5.6.7.8 1 2\r\n", "bad v1 address" },
	{ "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", "bad v1 address" },
	{ "PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n", "bad v1 address" },
	{ "PROXY TCP4 1..3.4 5.6.7.8 1 2\r\n", "bad v1 address" },
	{ "PROXY TCP4 1.2.3.4. 5.6.7.8 1 2\r\n", "bad v1 address" },
	{ "PROXY TCP4 .1.2.3 5.6.7.8 1 2\r\n", "bad v1 address" },
	{ "PROXY TCP4 0x1.2.3.4 5.6.7.8 1 2\r\n", "bad v1 address" },
	{ "PROXY TCP4 1.2.3.-4 5.6.7.8 1 2\r\n", "bad v1 address" },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8:9 1 2\r\n", "bad v1 address" },
	{ "PROXY TCP4 localhost 5.6.7.8 1 2\r\n", "bad v1 address" },
	{ "PROXY TCP4 ::1 5.6.7.8 1 2\r\n", "bad v1 address" },
	{ "PROXY TCP4 ::ffff:1.2.3.4 5.6.7.8 1 2\r\n", "bad v1 address" },
	{ "PROXY TCP6 1.2.3.4 ::1 1 2\r\n", "bad v1 address" },
	{ "PROXY TCP6 ::1 2001:db8::g 1 2\r\n", "bad v1 address" },
	{ "PROXY TCP6 ::1 2001:db8:::1 1 2\r\n", "bad v1 address" },
	{ "PROXY TCP6 ::1 1:2:3:4:5:6:7:8:9 1 2\r\n", "bad v1 address" },
	{ "PROXY TCP6 ::1 1:2:3:4:5:6:7 1 2\r\n", "bad v1 address" },
	{ "PROXY TCP6 ::1 1::2::3 1 2\r\n", "bad v1 address" },
	{ "PROXY TCP6 ::1 [::1] 1 2\r\n", "bad v1 address" },
	{ "PROXY TCP6 ::1 fe80::1%eth0 1 2\r\n", "bad v1 address" },
	{ "PROXY TCP6 ::1 12345::1 1 2\r\n", "bad v1 address" },
	/* Ports. */
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", "bad v1 port" },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n", "bad v1 port" },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 123456\r\n", "bad v1 port" },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n", "bad v1 port" },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1 00\r\n", "bad v1 port" },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n", "bad v1 port" },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n", "bad v1 port" },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 1a 2\r\n", "bad v1 port" },
	{ "PROXY TCP4 1.2.3.4 5.6.7.8 0x10 2\r\n", "bad v1 port" },
	{ "PROXY TCP6 ::1 ::2 443 https\r\n", "bad v1 port" },
};

START_TEST(v1_errors)
{
	size_t i;

	for (i = 0; i < sizeof(v1_bad) / sizeof(v1_bad[0]); i++) {
		ck_assert_msg(dec(v1_bad[i].in, strlen(v1_bad[i].in), 0) ==
		              PP_DEC_ERROR, "accepted: %s", v1_bad[i].in);
		ck_assert_msg(strcmp(res.error, v1_bad[i].why) == 0,
		              "%s: \"%s\", expected \"%s\"", v1_bad[i].in,
		              res.error, v1_bad[i].why);
	}
}
END_TEST

START_TEST(v1_early)
{
	/* Refused at the first byte that cannot fit, not at the CRLF. */
	check_str_error("G", "not a PROXY header");
	check_str_error("\x16", "not a PROXY header");
	check_str_error("PROXZ", "not a PROXY header");
	check_str_error("PROXY X", "bad v1 protocol");
	check_str_error("PROXY TCP4\r", "bad v1 protocol");
	check_str_error("PROXY UNKNOWNX", "bad v1 protocol");
	check_str_error("PROXY TCP4 1.2.3.4\t", "bad v1 character");
	check_str_error("PROXY TCP4 1.2\n", "bad v1 line ending");
	check_str_error("PROXY TCP4 1.2\rX", "bad v1 line ending");

	ck_assert_int_eq(dec("", 0, 0), PP_DEC_NEED_MORE);
	ck_assert_uint_eq(res.need, 15);
	ck_assert_int_eq(dec("P", 1, 0), PP_DEC_NEED_MORE);
	ck_assert_uint_eq(res.need, 14);
	ck_assert_int_eq(dec("PROXY TCP4 ", 11, 0), PP_DEC_NEED_MORE);
	ck_assert_int_eq(dec("PROXY UNKNOWN", 13, 0), PP_DEC_NEED_MORE);
	ck_assert_uint_eq(res.need, 2);
	ck_assert_int_eq(dec("PROXY UNKNOWN\r", 14, 0), PP_DEC_NEED_MORE);
	ck_assert_uint_eq(res.need, 1);
	/* A CR at the end may still be followed by its LF. */
	ck_assert_int_eq(dec("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r", 31, 0),
	                 PP_DEC_NEED_MORE);
}
END_TEST

/* ---- v2 ---- */

static const uint8_t v2_tcp4[] = {
	SIG, 0x21, 0x11, 0x00, 0x0C,
	0xC0, 0x00, 0x02, 0x01,         /* 192.0.2.1 */
	0xC6, 0x33, 0x64, 0x07,         /* 198.51.100.7 */
	0xDC, 0x04,                     /* 56324 */
	0x01, 0xBB,                     /* 443 */
};

START_TEST(v2_ipv4)
{
	check_complete(v2_tcp4, sizeof(v2_tcp4), 0);
	ck_assert_uint_eq(res.len, 28);
	ck_assert_int_eq(hdr.version, 2);
	ck_assert_int_eq(hdr.command, PP_DEC_CMD_PROXY);
	ck_assert_int_eq(hdr.family, PP_DEC_FAM_TCP4);
	ck_assert_uint_eq(hdr.v2_fam, 0x11);
	check_in4(&hdr.src, hdr.src_len, ip_192_0_2_1, 56324);
	check_in4(&hdr.dst, hdr.dst_len, ip_198_51_100_7, 443);
	ck_assert_uint_eq(hdr.ntlvs, 0);
	ck_assert_uint_eq(hdr.tlvs_dropped, 0);
}
END_TEST

START_TEST(v2_ipv6)
{
	static const uint8_t in[] = {
		SIG, 0x21, 0x21, 0x00, 0x24,
		0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0x01,              /* 2001:db8::1 */
		0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0x01,
		0, 0, 0, 0, 0, 0, 0, 0x80,              /* 2001:db8:0:1::80 */
		0x9C, 0x40,                             /* 40000 */
		0x20, 0xFB,                             /* 8443 */
	};

	check_complete(in, sizeof(in), 0);
	ck_assert_uint_eq(res.len, 52);
	ck_assert_int_eq(hdr.family, PP_DEC_FAM_TCP6);
	check_in6(&hdr.src, hdr.src_len, ip6_db8_1, 40000);
	check_in6(&hdr.dst, hdr.dst_len, ip6_db8_1_80, 8443);
}
END_TEST

START_TEST(v2_unix)
{
	uint8_t in[16 + 216];
	static const uint8_t head[] = { SIG, 0x21, 0x31, 0x00, 0xD8 };
	const struct sockaddr_un *s = (const struct sockaddr_un *)&hdr.src;
	const struct sockaddr_un *d = (const struct sockaddr_un *)&hdr.dst;

	memset(in, 0, sizeof(in));
	memcpy(in, head, sizeof(head));
	memcpy(in + 16, "/run/a.sock", 11);
	memcpy(in + 16 + 108, "/run/b.sock", 11);
	check_complete(in, sizeof(in), 0);
	ck_assert_int_eq(hdr.family, PP_DEC_FAM_UNIX);
	ck_assert_int_eq(s->sun_family, AF_UNIX);
	ck_assert_int_eq(d->sun_family, AF_UNIX);
	ck_assert_str_eq(s->sun_path, "/run/a.sock");
	ck_assert_str_eq(d->sun_path, "/run/b.sock");
	ck_assert_uint_eq(hdr.src_len, sizeof(struct sockaddr_un));

	/* All 108 bytes used, no NUL: still copied whole, nothing beyond. */
	memset(in + 16, 'a', 108);
	memset(in + 16 + 108, 'b', 108);
	check_complete(in, sizeof(in), 0);
	ck_assert_uint_eq((uint8_t)s->sun_path[107], 'a');
	ck_assert_uint_eq((uint8_t)d->sun_path[0], 'b');
	ck_assert_uint_eq((uint8_t)d->sun_path[107], 'b');
}
END_TEST

START_TEST(v2_local)
{
	static const uint8_t bare[] = { SIG, 0x20, 0x00, 0x00, 0x00 };
	/* A health check that still sends addresses and a TLV: the block,
	 * family included, is ignored. */
	static const uint8_t with_block[] = {
		SIG, 0x20, 0x11, 0x00, 0x10,
		0xC0, 0x00, 0x02, 0x01, 0xC6, 0x33, 0x64, 0x07,
		0xDC, 0x04, 0x01, 0xBB, 0xE0, 0x00, 0x01, 0x01,
	};
	/* Even a family the spec does not list, and a body that is not
	 * TLVs. */
	static const uint8_t odd[] = { SIG, 0x20, 0xFF, 0x00, 0x02, 0xAA, 0xBB };

	check_complete(bare, sizeof(bare), 0);
	ck_assert_uint_eq(res.len, 16);
	ck_assert_int_eq(hdr.command, PP_DEC_CMD_LOCAL);
	ck_assert_int_eq(hdr.family, PP_DEC_FAM_UNSPEC);
	check_no_addresses();

	check_complete(with_block, sizeof(with_block), 0);
	ck_assert_uint_eq(res.len, 32);
	ck_assert_int_eq(hdr.command, PP_DEC_CMD_LOCAL);
	ck_assert_int_eq(hdr.family, PP_DEC_FAM_UNSPEC);
	ck_assert_uint_eq(hdr.v2_fam, 0x11);
	ck_assert_uint_eq(hdr.ntlvs, 0);
	check_no_addresses();

	check_complete(odd, sizeof(odd), 0);
	ck_assert_int_eq(hdr.command, PP_DEC_CMD_LOCAL);
}
END_TEST

START_TEST(v2_unspec_and_dgram)
{
	static const uint8_t unspec[] = {
		SIG, 0x21, 0x00, 0x00, 0x04, 0xE0, 0x00, 0x01, 0x00,
	};
	static const uint8_t udp4[] = {
		SIG, 0x21, 0x12, 0x00, 0x0F,
		0xC0, 0x00, 0x02, 0x01, 0xC6, 0x33, 0x64, 0x07,
		0x00, 0x35, 0x00, 0x35, 0xE1, 0x00, 0x00,
	};

	check_complete(unspec, sizeof(unspec), 0);
	ck_assert_int_eq(hdr.command, PP_DEC_CMD_PROXY);
	ck_assert_int_eq(hdr.family, PP_DEC_FAM_UNSPEC);
	check_no_addresses();
	ck_assert_uint_eq(hdr.ntlvs, 1);
	ck_assert_uint_eq(hdr.tlvs[0].type, 0xE0);
	ck_assert_uint_eq(hdr.tlvs[0].len, 1);
	ck_assert_ptr_eq(hdr.tlvs[0].value, unspec + 19);

	/* UDP is listed by the spec but not carried here: UNSPEC, the TLVs
	 * after its 12-byte block still found. */
	check_complete(udp4, sizeof(udp4), 0);
	ck_assert_int_eq(hdr.family, PP_DEC_FAM_UNSPEC);
	ck_assert_uint_eq(hdr.v2_fam, 0x12);
	check_no_addresses();
	ck_assert_uint_eq(hdr.ntlvs, 1);
	ck_assert_uint_eq(hdr.tlvs[0].type, 0xE1);
	ck_assert_uint_eq(hdr.tlvs[0].len, 0);
}
END_TEST

START_TEST(v2_tlvs)
{
	static const uint8_t in[] = {
		SIG, 0x21, 0x11, 0x00, 0x2D,    /* 12 + 5 + 14 + 3 + 8 + 3 */
		0xC0, 0x00, 0x02, 0x01, 0xC6, 0x33, 0x64, 0x07,
		0xDC, 0x04, 0x01, 0xBB,
		0x01, 0x00, 0x02, 'h', '2',                     /* ALPN */
		0x02, 0x00, 0x0B, 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.',
		'c', 'o', 'm',                                  /* AUTHORITY */
		0x04, 0x00, 0x00,                               /* NOOP */
		0xE0, 0x00, 0x05, 'm', 'p', 't', 'c', 'p',      /* ours */
		0xF7, 0x00, 0x00,                               /* experimental */
	};

	ck_assert_uint_eq(sizeof(in), 16 + 45);
	check_complete(in, sizeof(in), 0);
	check_in4(&hdr.src, hdr.src_len, ip_192_0_2_1, 56324);
	/* NOOP is padding and left out; unknown types are kept in order. */
	ck_assert_uint_eq(hdr.ntlvs, 4);
	ck_assert_uint_eq(hdr.tlvs[0].type, PP2_TYPE_ALPN);
	ck_assert_uint_eq(hdr.tlvs[0].len, 2);
	ck_assert_ptr_eq(hdr.tlvs[0].value, in + 31);
	ck_assert_mem_eq(hdr.tlvs[0].value, "h2", 2);
	ck_assert_uint_eq(hdr.tlvs[1].type, PP2_TYPE_AUTHORITY);
	ck_assert_uint_eq(hdr.tlvs[1].len, 11);
	ck_assert_mem_eq(hdr.tlvs[1].value, "example.com", 11);
	ck_assert_uint_eq(hdr.tlvs[2].type, 0xE0);
	ck_assert_uint_eq(hdr.tlvs[2].len, 5);
	ck_assert_ptr_eq(hdr.tlvs[2].value, in + 53);
	ck_assert_mem_eq(hdr.tlvs[2].value, "mptcp", 5);
	ck_assert_uint_eq(hdr.tlvs[3].type, 0xF7);
	ck_assert_uint_eq(hdr.tlvs[3].len, 0);
	ck_assert_uint_eq(hdr.tlvs_dropped, 0);
}
END_TEST

START_TEST(v2_many_tlvs)
{
	/* 23 empty TLVs after an UNSPEC block, numbers 3, 10 and 20 NOOPs:
	 * the first 16 others recorded, 4 counted as dropped, the NOOPs in
	 * neither. */
	uint8_t in[16 + 23 * 3];
	size_t i;

	memcpy(in, (const uint8_t[]){ SIG, 0x21, 0x00, 0x00, 23 * 3 }, 16);
	for (i = 0; i < 23; i++) {
		int noop = i == 3 || i == 10 || i == 20;

		in[16 + 3 * i] = noop ? PP2_TYPE_NOOP : (uint8_t)(0xE0 + i % 16);
		in[16 + 3 * i + 1] = 0;
		in[16 + 3 * i + 2] = 0;
	}
	check_complete(in, sizeof(in), 0);
	ck_assert_uint_eq(hdr.ntlvs, PP_DEC_MAX_TLVS);
	ck_assert_uint_eq(hdr.tlvs_dropped, 4);
	ck_assert_uint_eq(hdr.tlvs[0].type, 0xE0);
	ck_assert_uint_eq(hdr.tlvs[3].type, 0xE4);      /* i = 4 */
	ck_assert_uint_eq(hdr.tlvs[9].type, 0xEB);      /* i = 11 */
	ck_assert_uint_eq(hdr.tlvs[15].type, 0xE1);     /* i = 17 */
}
END_TEST

START_TEST(v2_crc32c)
{
	/* Checksums computed outside this code (an independent CRC32C with
	 * the RFC 4960 parameters) over the header with the field zeroed. */
	static const uint8_t ok4[] = {
		SIG, 0x21, 0x11, 0x00, 0x13,
		0xC0, 0x00, 0x02, 0x01, 0xC6, 0x33, 0x64, 0x07,
		0xDC, 0x04, 0x01, 0xBB,
		0x03, 0x00, 0x04, 0xD4, 0x5A, 0x11, 0xB9,
	};
	static const uint8_t ok_mid[] = {
		SIG, 0x21, 0x00, 0x00, 0x0D,
		0xE0, 0x00, 0x03, 't', 'c', 'p',
		0x03, 0x00, 0x04, 0xA7, 0xA9, 0xE6, 0x7B,
	};
	uint8_t bad[sizeof(ok4)];
	static const uint8_t short_crc[] = {
		SIG, 0x21, 0x00, 0x00, 0x06, 0x03, 0x00, 0x03, 0x00, 0x00, 0x00,
	};
	static const uint8_t two_crc[] = {
		SIG, 0x21, 0x00, 0x00, 0x0E,
		0x03, 0x00, 0x04, 0, 0, 0, 0, 0x03, 0x00, 0x04, 0, 0, 0, 0,
	};

	/* The check value of the CRC-32C catalogue entry. */
	ck_assert_uint_eq(pp_crc32c((const uint8_t *)"123456789", 9),
	                  0xE3069283);
	check_complete(ok4, sizeof(ok4), 0);
	ck_assert_uint_eq(hdr.ntlvs, 1);
	ck_assert_uint_eq(hdr.tlvs[0].type, PP2_TYPE_CRC32C);
	check_complete(ok_mid, sizeof(ok_mid), 0);
	ck_assert_uint_eq(hdr.ntlvs, 2);

	memcpy(bad, ok4, sizeof(bad));
	bad[31] ^= 0x01;                /* the checksum */
	check_error(bad, sizeof(bad), 0, "bad CRC32C");
	memcpy(bad, ok4, sizeof(bad));
	bad[16] ^= 0x80;                /* the source address */
	check_error(bad, sizeof(bad), 0, "bad CRC32C");
	check_error(short_crc, sizeof(short_crc), 0, "bad CRC32C");
	check_error(two_crc, sizeof(two_crc), 0, "bad CRC32C");
}
END_TEST

START_TEST(v2_unique_id)
{
	uint8_t in[16 + 3 + 129];

	memset(in, 0x55, sizeof(in));
	memcpy(in, (const uint8_t[]){ SIG, 0x21, 0x00, 0x00, 3 + 128,
	                              PP2_TYPE_UNIQUE_ID, 0x00, 128 }, 19);
	check_complete(in, 16 + 3 + 128, 0);
	ck_assert_uint_eq(hdr.tlvs[0].len, 128);
	in[15] = 3 + 129;
	in[18] = 129;
	check_error(in, sizeof(in), 0, "bad UNIQUE_ID TLV");
}
END_TEST

START_TEST(v2_length_limit)
{
	/* Default: 16 + 216 + 1024 = 1256 bytes in all, i.e. a length field
	 * of 1240 (0x04D8). */
	size_t big = PP_DEC_V2_MAX_LEN_LIMIT;
	uint8_t *in = calloc(1, big);
	static const uint8_t over[] = { SIG, 0x21, 0x00, 0x04, 0xD9 };

	ck_assert_ptr_nonnull(in);
	ck_assert_uint_eq(PP_DEC_V2_MAX_LEN_DEFAULT, 1256);
	memcpy(in, (const uint8_t[]){ SIG, 0x21, 0x00, 0x04, 0xD8,
	                              0xE0, 0x04, 0xD5 }, 19);
	ck_assert_int_eq(dec(in, 1256, 0), PP_DEC_DONE);
	ck_assert_uint_eq(res.len, 1256);
	ck_assert_uint_eq(hdr.tlvs[0].len, 1237);
	ck_assert_int_eq(dec(in, 1255, 0), PP_DEC_NEED_MORE);
	ck_assert_uint_eq(res.need, 1);
	/* One more byte is refused as soon as the length field is in. */
	check_error(over, sizeof(over), 0, "v2 length exceeds limit");
	check_error(over, sizeof(over), 1256, "v2 length exceeds limit");
	ck_assert_int_eq(dec(over, sizeof(over), 1257), PP_DEC_NEED_MORE);
	ck_assert_uint_eq(res.need, 1241);

	/* A caller's own bound: the bare IPv4 header and no more. */
	ck_assert_int_eq(dec(v2_tcp4, sizeof(v2_tcp4), 28), PP_DEC_DONE);
	check_error(v2_tcp4, sizeof(v2_tcp4), 27, "v2 length exceeds limit");

	/* The largest header the field can describe, when allowed. */
	memcpy(in, (const uint8_t[]){ SIG, 0x21, 0x00, 0xFF, 0xFF,
	                              0xE0, 0xFF, 0xFC }, 19);
	ck_assert_int_eq(dec(in, big, big), PP_DEC_DONE);
	ck_assert_uint_eq(res.len, big);
	ck_assert_uint_eq(hdr.tlvs[0].len, 65532);
	check_error(in, big, 0, "v2 length exceeds limit");
	free(in);
}
END_TEST

struct bad_bytes {
	uint8_t in[40];
	size_t len;             /* refused with exactly this many bytes */
	const char *why;
};

#define B(...) { __VA_ARGS__ }, sizeof((uint8_t[]){ __VA_ARGS__ })

static const struct bad_bytes v2_bad[] = {
	/* Signature. */
	{ B(0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x58),
	  "not a PROXY header" },
	{ B(0x0D, 0x0A, 'G'), "not a PROXY header" },
	{ B(0x0D, 0x0A, 0x0D, 0x0A, 0x0D), "not a PROXY header" },
	/* Version and command, judged at byte 13. */
	{ B(SIG, 0x11), "bad v2 version" },
	{ B(SIG, 0x31), "bad v2 version" },
	{ B(SIG, 0x01), "bad v2 version" },
	{ B(SIG, 0xF1), "bad v2 version" },
	{ B(SIG, 0x22), "bad v2 command" },
	{ B(SIG, 0x2F), "bad v2 command" },
	/* Family, judged at byte 14 for PROXY. */
	{ B(SIG, 0x21, 0x41), "bad v2 family" },
	{ B(SIG, 0x21, 0x13), "bad v2 family" },
	{ B(SIG, 0x21, 0x10), "bad v2 family" },
	{ B(SIG, 0x21, 0x01), "bad v2 family" },
	{ B(SIG, 0x21, 0x23), "bad v2 family" },
	{ B(SIG, 0x21, 0x30), "bad v2 family" },
	{ B(SIG, 0x21, 0xFF), "bad v2 family" },
	/* Address block shorter than the family needs, at byte 16. */
	{ B(SIG, 0x21, 0x11, 0x00, 0x0B), "v2 address block too short" },
	{ B(SIG, 0x21, 0x11, 0x00, 0x00), "v2 address block too short" },
	{ B(SIG, 0x21, 0x12, 0x00, 0x0B), "v2 address block too short" },
	{ B(SIG, 0x21, 0x21, 0x00, 0x23), "v2 address block too short" },
	{ B(SIG, 0x21, 0x21, 0x00, 0x0C), "v2 address block too short" },
	{ B(SIG, 0x21, 0x31, 0x00, 0xD7), "v2 address block too short" },
	/* TLVs that do not exactly fill the rest. */
	{ B(SIG, 0x21, 0x00, 0x00, 0x01, 0xE0), "truncated TLV" },
	{ B(SIG, 0x21, 0x00, 0x00, 0x02, 0xE0, 0x00), "truncated TLV" },
	{ B(SIG, 0x21, 0x00, 0x00, 0x03, 0xE0, 0x00, 0x01), "truncated TLV" },
	{ B(SIG, 0x21, 0x00, 0x00, 0x05, 0xE0, 0x00, 0x01, 0xAA, 0xE1),
	  "truncated TLV" },
	{ B(SIG, 0x21, 0x00, 0x00, 0x04, 0xE0, 0xFF, 0xFF, 0xAA),
	  "truncated TLV" },
	{ B(SIG, 0x21, 0x11, 0x00, 0x0E, 0xC0, 0x00, 0x02, 0x01, 0xC6, 0x33,
	    0x64, 0x07, 0xDC, 0x04, 0x01, 0xBB, 0xE0, 0x00), "truncated TLV" },
	{ B(SIG, 0x21, 0x11, 0x00, 0x10, 0xC0, 0x00, 0x02, 0x01, 0xC6, 0x33,
	    0x64, 0x07, 0xDC, 0x04, 0x01, 0xBB, 0xE0, 0x00, 0x02, 0xAA),
	  "truncated TLV" },
};

START_TEST(v2_errors)
{
	size_t i, k;

	for (i = 0; i < sizeof(v2_bad) / sizeof(v2_bad[0]); i++) {
		const struct bad_bytes *b = &v2_bad[i];

		/* Every shorter prefix still waits: the error is found at
		 * the first byte that shows it. */
		for (k = 0; k < b->len; k++)
			ck_assert_msg(dec(b->in, k, 0) == PP_DEC_NEED_MORE,
			              "case %zu: prefix %zu: %s", i, k,
			              res.error ? res.error : "DONE");
		ck_assert_msg(dec(b->in, b->len, 0) == PP_DEC_ERROR &&
		              strcmp(res.error, b->why) == 0,
		              "case %zu: %s, expected %s", i,
		              res.error ? res.error : "no error", b->why);
		check_error(b->in, sizeof(b->in), 0, b->why);
	}
}
END_TEST

/* ---- round trips with the encoder ---- */

static struct sockaddr_storage mk(int af, const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (af == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		ck_assert_int_eq(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
	} else if (af == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		ck_assert_int_eq(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
	} else {
		struct sockaddr_un *un = (struct sockaddr_un *)&ss;

		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, ip);
	}
	return ss;
}

static void same_addr(const struct sockaddr_storage *got,
                      const struct sockaddr_storage *want)
{
	ck_assert_int_eq(got->ss_family, want->ss_family);
	if (want->ss_family == AF_INET) {
		const struct sockaddr_in *g = (const void *)got;
		const struct sockaddr_in *w = (const void *)want;

		ck_assert_mem_eq(&g->sin_addr, &w->sin_addr, 4);
		ck_assert_uint_eq(g->sin_port, w->sin_port);
	} else {
		const struct sockaddr_in6 *g = (const void *)got;
		const struct sockaddr_in6 *w = (const void *)want;

		ck_assert_mem_eq(&g->sin6_addr, &w->sin6_addr, 16);
		ck_assert_uint_eq(g->sin6_port, w->sin6_port);
	}
}

struct pair {
	int saf;
	const char *sip;
	uint16_t sport;
	int daf;
	const char *dip;
	uint16_t dport;
	/* What comes out: the encoder unmaps ::ffff:a.b.c.d and maps an IPv4
	 * side when the other is IPv6. */
	enum pp_dec_family fam1, fam2;
	int oaf;
	const char *osip, *odip;
};

static const struct pair pairs[] = {
	{ AF_INET, "192.0.2.1", 56324, AF_INET, "198.51.100.7", 443,
	  PP_DEC_FAM_TCP4, PP_DEC_FAM_TCP4, AF_INET, "192.0.2.1", "198.51.100.7" },
	{ AF_INET6, "2001:db8::1", 1, AF_INET6, "2001:db8::2", 65535,
	  PP_DEC_FAM_TCP6, PP_DEC_FAM_TCP6, AF_INET6, "2001:db8::1", "2001:db8::2" },
	{ AF_INET6, "::ffff:10.0.0.1", 0, AF_INET6, "::ffff:10.0.0.2", 80,
	  PP_DEC_FAM_TCP4, PP_DEC_FAM_TCP4, AF_INET, "10.0.0.1", "10.0.0.2" },
	{ AF_INET, "203.0.113.9", 5, AF_INET6, "2001:db8::2", 443,
	  PP_DEC_FAM_TCP6, PP_DEC_FAM_TCP6, AF_INET6, "::ffff:203.0.113.9",
	  "2001:db8::2" },
	{ AF_UNIX, "/run/c.sock", 0, AF_INET, "127.0.0.1", 8000,
	  PP_DEC_FAM_UNKNOWN, PP_DEC_FAM_UNSPEC, AF_UNSPEC, NULL, NULL },
};

START_TEST(round_trip)
{
	static const uint8_t mptcp[] = "mptcp";
	uint8_t pad[300];
	struct pp_tlv tlvs[2] = { { 0xE0, 5, mptcp }, { 0xE1, 300, pad } };
	const struct pair *p = &pairs[_i];
	struct sockaddr_storage s = mk(p->saf, p->sip, p->sport);
	struct sockaddr_storage d = mk(p->daf, p->dip, p->dport);
	struct sockaddr_storage os = s, od = d;
	char line[PP1_MAX_LEN];
	uint8_t bin[512];
	size_t nt;
	int n;

	memset(pad, 0x5A, sizeof(pad));
	if (p->osip != NULL) {
		os = mk(p->oaf, p->osip, p->sport);
		od = mk(p->oaf, p->odip, p->dport);
	}

	n = pp_encode_v1(line, sizeof(line), (void *)&s, (void *)&d);
	ck_assert_int_gt(n, 0);
	check_complete((const uint8_t *)line, (size_t)n, 0);
	ck_assert_int_eq(hdr.family, p->fam1);
	if (p->osip != NULL) {
		same_addr(&hdr.src, &os);
		same_addr(&hdr.dst, &od);
	}

	for (nt = 0; nt <= 2; nt++) {
		n = pp_encode_v2(bin, sizeof(bin), (void *)&s, (void *)&d, tlvs,
		                 nt);
		ck_assert_int_gt(n, 0);
		check_complete(bin, (size_t)n, 0);
		ck_assert_int_eq(hdr.command, PP_DEC_CMD_PROXY);
		ck_assert_int_eq(hdr.family, p->fam2);
		ck_assert_uint_eq(hdr.ntlvs, nt);
		if (nt >= 1)
			ck_assert_mem_eq(hdr.tlvs[0].value, "mptcp", 5);
		if (nt == 2) {
			ck_assert_uint_eq(hdr.tlvs[1].type, 0xE1);
			ck_assert_uint_eq(hdr.tlvs[1].len, 300);
			ck_assert_ptr_eq(hdr.tlvs[1].value, bin + n - 300);
		}
		if (p->osip != NULL) {
			same_addr(&hdr.src, &os);
			same_addr(&hdr.dst, &od);
		}
	}
}
END_TEST

START_TEST(family_names)
{
	ck_assert_str_eq(pp_dec_family_name(PP_DEC_FAM_TCP4), "TCP4");
	ck_assert_str_eq(pp_dec_family_name(PP_DEC_FAM_TCP6), "TCP6");
	ck_assert_str_eq(pp_dec_family_name(PP_DEC_FAM_UNKNOWN), "UNKNOWN");
	ck_assert_str_eq(pp_dec_family_name(PP_DEC_FAM_UNSPEC), "UNSPEC");
	ck_assert_str_eq(pp_dec_family_name(PP_DEC_FAM_UNIX), "UNIX");
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("proxy_decode");

	UNIT_ADD(s, v1_spec_example);
	UNIT_ADD(s, v1_tcp4_extremes);
	UNIT_ADD(s, v1_tcp6);
	UNIT_ADD(s, v1_tcp6_longest);
	UNIT_ADD(s, v1_tcp6_v4mapped_kept);
	UNIT_ADD(s, v1_unknown);
	UNIT_ADD(s, v1_line_limit);
	UNIT_ADD(s, v1_errors);
	UNIT_ADD(s, v1_early);

	UNIT_ADD(s, v2_ipv4);
	UNIT_ADD(s, v2_ipv6);
	UNIT_ADD(s, v2_unix);
	UNIT_ADD(s, v2_local);
	UNIT_ADD(s, v2_unspec_and_dgram);
	UNIT_ADD(s, v2_tlvs);
	UNIT_ADD(s, v2_many_tlvs);
	UNIT_ADD(s, v2_crc32c);
	UNIT_ADD(s, v2_unique_id);
	UNIT_ADD(s, v2_length_limit);
	UNIT_ADD(s, v2_errors);

	UNIT_ADD_LOOP(s, round_trip, (int)(sizeof(pairs) / sizeof(pairs[0])));
	UNIT_ADD(s, family_names);
	return s;
}

UNIT_MAIN(make_suite)
