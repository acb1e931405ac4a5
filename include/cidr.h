/* Address prefixes ("192.0.2.0/24", "2001:db8::/32", or one address) and
 * matching a peer against a list of them: who may send a PROXY header
 * (accept_proxy_from).  Pure functions: no DNS, no I/O. */
#ifndef FRONTD_CIDR_H
#define FRONTD_CIDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Longest text cidr_format() writes, with the NUL. */
#define CIDR_STRLEN 48

struct cidr {
	sa_family_t family;     /* AF_INET or AF_INET6 */
	uint8_t prefix;         /* 0..32 or 0..128 */
	uint8_t addr[16];       /* network, host bits zero; IPv4 in addr[0..3] */
};

/* Parse "ADDR/PREFIX" or a bare address (a prefix of 32 or 128).  IPv6
 * without brackets.  Refuses host bits set below the prefix (the writer
 * may have meant another network; the message names the one it would
 * be) and v4-mapped IPv6 prefixes (peers are compared as IPv4).  Returns
 * 0, or -1 with a reason in err. */
int cidr_parse(const char *s, struct cidr *out, char *err, size_t errlen);

/* "192.0.2.0/24", "2001:db8::/32". */
char *cidr_format(const struct cidr *c, char *buf, size_t buflen);

/* Whether sa (AF_INET, or AF_INET6 where v4-mapped counts as the IPv4
 * address) lies in one of list[0..n). */
int cidr_match(const struct cidr *list, size_t n, const struct sockaddr *sa);

/* Same family, prefix and network. */
int cidr_equal(const struct cidr *a, const struct cidr *b);

/* Whether c is one whole address (prefix 32 or 128) that another host can
 * reach: not the wildcard, loopback, multicast, 240.0.0.0/4 (broadcast
 * included) or link-local.  For `announce`. */
int cidr_is_unicast_host(const struct cidr *c);

#endif
