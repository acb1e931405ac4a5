/* Constants of the PROXY protocol specification (haproxy's
 * doc/proxy-protocol.txt, versions 1 and 2). */
#ifndef FRONTD_PROXY_PROTO_SPEC_H
#define FRONTD_PROXY_PROTO_SPEC_H

/* v1: a single text line, at most 107 bytes including CRLF. */
#define PP1_MAX_LEN 107

/* v2: 12-byte signature, then ver_cmd, fam, len (network order). */
#define PP2_SIGNATURE "\r\n\r\n\0\r\nQUIT\n"
#define PP2_SIGNATURE_LEN 12
#define PP2_HEADER_LEN 16

#define PP2_VERSION 0x20
#define PP2_CMD_LOCAL 0x00
#define PP2_CMD_PROXY 0x01

#define PP2_FAM_UNSPEC 0x00
#define PP2_FAM_TCP4 0x11
#define PP2_FAM_TCP6 0x21
#define PP2_FAM_UNIX_STREAM 0x31

#define PP2_ADDR_LEN_INET 12
#define PP2_ADDR_LEN_INET6 36
#define PP2_ADDR_LEN_UNIX 216

#define PP2_TYPE_ALPN 0x01
#define PP2_TYPE_AUTHORITY 0x02
#define PP2_TYPE_CRC32C 0x03
#define PP2_TYPE_NOOP 0x04
#define PP2_TYPE_UNIQUE_ID 0x05
#define PP2_TYPE_SSL 0x20
#define PP2_SUBTYPE_SSL_VERSION 0x21
#define PP2_SUBTYPE_SSL_CN 0x22
#define PP2_SUBTYPE_SSL_CIPHER 0x23
#define PP2_SUBTYPE_SSL_SIG_ALG 0x24
#define PP2_SUBTYPE_SSL_KEY_ALG 0x25
#define PP2_TYPE_NETNS 0x30
/* The `client` bit field of a PP2_TYPE_SSL value (1 byte, then a 4-byte
 * `verify` in network order, then sub-TLVs): connected over TLS; sent a
 * certificate on this connection; sent one at least once in the TLS
 * session this connection resumed or started. */
#define PP2_CLIENT_SSL 0x01
#define PP2_CLIENT_CERT_CONN 0x02
#define PP2_CLIENT_CERT_SESS 0x04
#define PP2_SSL_FIXED_LEN 5

/* TLV header: type, 16-bit length. */
#define PP2_TLV_HEADER_LEN 3

#define PP2_TYPE_MIN_CUSTOM 0xE0
#define PP2_TYPE_MAX_CUSTOM 0xEF

/* Ours, in the application range: how the client reached us, as ASCII so
 * nginx's $proxy_protocol_tlv_0xe0 logs it readably: "mptcp" when the
 * client negotiated Multipath TCP, "tcp" when it connected (or fell back
 * to) plain TCP. */
#define PP2_TYPE_FRONTD_MPTCP 0xE0

#endif
