/* PROXY protocol header decoding, for listeners with accept_proxy = on:
 * pure functions over the bytes received so far; no allocation, no I/O,
 * no state kept between calls.
 *
 * Call pp_decode() with everything received since accept() each time more
 * arrives.  It answers
 *   PP_DEC_NEED_MORE  the bytes so far are a valid beginning; res->need is
 *                     a lower bound (>= 1) on how many more are needed;
 *   PP_DEC_ERROR      they cannot begin a valid header; res->error is one
 *                     of the static reasons below.  Decided as early as the
 *                     bytes allow: a client that sends "GET /" or a TLS
 *                     hello is refused at its first byte, not at the
 *                     header timeout;
 *   PP_DEC_DONE       a complete, valid header of res->len bytes; the
 *                     client's own data starts at buf + res->len and is
 *                     never looked at.
 * A prefix of a valid header is always NEED_MORE, so feeding one byte at a
 * time gives the same answer as feeding everything at once.
 *
 * Strictness follows the specification (haproxy doc/proxy-protocol.txt):
 *   v1  "PROXY " then TCP4, TCP6 or UNKNOWN; a line of printable US-ASCII
 *       ending in CRLF within PP1_MAX_LEN (107) bytes; fields separated by
 *       exactly one space; IPv4 as four decimal numbers 0-255 without
 *       leading zeros; IPv6 as inet_pton(3) reads it; ports 0-65535 in
 *       decimal without leading zeros.  After "UNKNOWN" anything up to the
 *       CRLF is ignored (it must still be printable).
 *   v2  the 12-byte signature, version 2, command LOCAL or PROXY, a family
 *       byte the specification lists (0x00, 0x11, 0x12, 0x21, 0x22, 0x31,
 *       0x32), a total length (16 + the length field) at most max_len, an
 *       address block as long as the family needs, then TLVs that exactly
 *       fill the rest.  A CRC32C TLV, when present, must be 4 bytes and
 *       match; a UNIQUE_ID TLV is at most 128 bytes; other TLV types are
 *       not interpreted (PP2_TYPE_SSL's sub-TLVs are not checked).
 *       LOCAL: the specification says to discard the block "including the
 *       family", so neither the family byte nor the body is examined and
 *       family is PP_DEC_FAM_UNSPEC.
 *
 * What the caller must still decide: PP_DEC_FAM_UNKNOWN (v1), UNSPEC and
 * LOCAL mean "use the real connection endpoints" (or refuse); UNIX is
 * decoded but a TCP relay should refuse it.
 *
 * Error reasons (res->error): "not a PROXY header", "bad v1 character",
 * "bad v1 line ending", "v1 line too long", "bad v1 protocol",
 * "bad v1 syntax", "bad v1 address", "bad v1 port", "bad v2 version",
 * "bad v2 command", "bad v2 family", "v2 length exceeds limit",
 * "v2 address block too short", "truncated TLV", "bad CRC32C",
 * "bad UNIQUE_ID TLV". */
#ifndef FRONTD_PROXY_DECODE_H
#define FRONTD_PROXY_DECODE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "proxy_proto.h"

/* TLVs recorded per header; later ones are counted in tlvs_dropped. */
#define PP_DEC_MAX_TLVS 16

/* Default bound on a v2 header's total length: the fixed part, the largest
 * address block (AF_UNIX) and 1 KiB of TLVs -- room for ALPN, authority,
 * a unique ID, SSL details and a cloud balancer's own TLVs, while a peer
 * cannot make us hold 64 KiB per connection before it has said anything.
 * A caller's receive buffer of max(PP1_MAX_LEN, max_len) bytes always
 * suffices. */
#define PP_DEC_V2_MAX_LEN_DEFAULT (PP2_HEADER_LEN + PP2_ADDR_LEN_UNIX + \
                                   PP_FWD_TLVS_MAX)

/* The largest v2 header the length field can describe. */
#define PP_DEC_V2_MAX_LEN_LIMIT (PP2_HEADER_LEN + 65535)

/* Longest UNIQUE_ID value the specification allows. */
#define PP2_UNIQUE_ID_MAX 128

enum pp_dec_status { PP_DEC_NEED_MORE, PP_DEC_ERROR, PP_DEC_DONE };

enum pp_dec_command { PP_DEC_CMD_LOCAL, PP_DEC_CMD_PROXY };

enum pp_dec_family {
	PP_DEC_FAM_UNSPEC,      /* v2 AF_UNSPEC, LOCAL, or UDP / UNIX dgram */
	PP_DEC_FAM_UNKNOWN,     /* v1 "PROXY UNKNOWN" */
	PP_DEC_FAM_TCP4,
	PP_DEC_FAM_TCP6,
	PP_DEC_FAM_UNIX,        /* v2 UNIX stream */
};

struct pp_header {
	int version;                    /* 1 or 2 */
	enum pp_dec_command command;    /* always PROXY for v1 */
	enum pp_dec_family family;
	uint8_t v2_fam;                 /* v2: the raw family byte, for logs */
	/* TCP4: AF_INET; TCP6: AF_INET6 (v4-mapped kept as sent); UNIX:
	 * AF_UNIX with the 108 path bytes as sent.  Otherwise AF_UNSPEC and
	 * the lengths are 0. */
	struct sockaddr_storage src;
	struct sockaddr_storage dst;
	socklen_t src_len;
	socklen_t dst_len;
	/* v2 TLVs in order, NOOP padding left out; values point into the
	 * caller's buffer and live as long as it does. */
	struct pp_tlv tlvs[PP_DEC_MAX_TLVS];
	size_t ntlvs;
	size_t tlvs_dropped;            /* valid TLVs beyond PP_DEC_MAX_TLVS */
};

struct pp_dec_result {
	size_t need;            /* NEED_MORE: at least this many more bytes */
	size_t len;             /* DONE: the header's length */
	const char *error;      /* ERROR: why (static string) */
};

/* Decode the header at the start of buf[0..len).  max_len bounds a v2
 * header's total length; 0 means PP_DEC_V2_MAX_LEN_DEFAULT.  hdr and res
 * are always overwritten; hdr is meaningful only on PP_DEC_DONE. */
enum pp_dec_status pp_decode(const uint8_t *buf, size_t len, size_t max_len,
                             struct pp_header *hdr,
                             struct pp_dec_result *res);

/* CRC32C (Castagnoli, as in RFC 4960 appendix B) of buf[0..len). */
uint32_t pp_crc32c(const uint8_t *buf, size_t len);

/* Short names for logs: "TCP4", "TCP6", "UNKNOWN", "UNSPEC", "UNIX". */
const char *pp_dec_family_name(enum pp_dec_family fam);

#endif
