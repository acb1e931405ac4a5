/* Socket addresses as the configuration and the logs spell them:
 *   IPv4   "192.0.2.1:443"
 *   IPv6   "[2001:db8::1]:443"
 *   unix   "unix:/run/nginx.sock"          (only where allowed)
 * Pure functions: no DNS, no I/O. */
#ifndef FRONTD_ADDR_H
#define FRONTD_ADDR_H

#include <stddef.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <sys/un.h>

/* Longest text addr_format() can produce, including the NUL:
 * "unix:" + sun_path (108) is the longest. */
#define ADDR_STRLEN 128

struct addr {
	struct sockaddr_storage ss;     /* AF_INET, AF_INET6 or AF_UNIX */
	socklen_t len;                  /* meaningful length of ss */
};

enum addr_allow {
	ADDR_ALLOW_INET = 1,
	ADDR_ALLOW_UNIX = 2,
};

/* Parse one address.  `allow` is a mask of ADDR_ALLOW_*.  Port 0 is allowed
 * (bind to an ephemeral port).  Returns 0, or -1 with a reason in err such
 * as "missing port", "bad IPv6 address", "port out of range". */
int addr_parse(const char *s, int allow, struct addr *out, char *err,
               size_t errlen);

/* Split "HOST:PORT" where HOST is a DNS name (labels of letters, digits,
 * '-' and '_'; not an IP literal), for callers that resolve names, which
 * addr_parse() refuses.  Returns 0 with host (NUL-terminated) and port, or
 * -1 with a reason when s is not of that form. */
int addr_split_hostname(const char *s, char *host, size_t hostlen, int *port,
                        char *err, size_t errlen);

/* Format a socket address into buf (at least ADDR_STRLEN bytes) in the
 * syntax above.  v4-mapped IPv6 addresses are printed as IPv4.  Returns buf.
 * Unknown families print as "unknown". */
char *addr_format(const struct sockaddr *sa, socklen_t len, char *buf,
                  size_t buflen);

/* If ss holds a v4-mapped IPv6 address (::ffff:a.b.c.d), rewrite it in
 * place as the AF_INET address and port; updates *len when non-NULL.
 * Returns 1 when it rewrote, 0 otherwise. */
int addr_unmap_v4(struct sockaddr_storage *ss, socklen_t *len);

/* An IP socket address as a connection reports it (to the backend, in
 * the logs): v4-mapped IPv6 addresses are stored as IPv4. */
union addr_sa {
	struct sockaddr sa;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
};

/* Store `from` (len bytes) into `to`, v4-mapped as IPv4. */
void addr_sa_store(union addr_sa *to, const struct sockaddr_storage *from,
                   socklen_t len);

/* Family-aware helpers. */
int addr_is_wildcard(const struct addr *a);   /* 0.0.0.0 or :: */
/* 127.0.0.0/8, ::1 or ::ffff:127.x.y.z */
int addr_is_loopback(const struct addr *a);
int addr_port(const struct addr *a);          /* -1 for unix */
int addr_equal(const struct addr *a, const struct addr *b); /* family, ip, port / path */

#endif
