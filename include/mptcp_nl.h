/* A small generic netlink client for the kernel's MPTCP path manager
 * ("mptcp_pm" family): the limits and the endpoints that `ip mptcp limits`
 * and `ip mptcp endpoint` show, for `mptcp-frontd --check`.
 *
 * The decoders are pure functions over byte buffers (no alignment assumed,
 * every length checked) so the unit tests feed them hand-made replies;
 * mptcp_nl_query() is the only part that talks to the kernel. */
#ifndef FRONTD_MPTCP_NL_H
#define FRONTD_MPTCP_NL_H

#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Values fixed by the kernel ABI (uapi linux/mptcp.h, linux/mptcp_pm.h);
 * ours, so the build does not depend on how new the installed header is.
 * mptcp_nl.c checks them against the header when there is one. */
#define MPTCP_NL_FAMILY_NAME "mptcp_pm"
#define MPTCP_NL_EVENTS_GROUP "mptcp_pm_events"
#define MPTCP_NL_VERSION 1
enum {
	MPTCP_NL_CMD_ADD_ADDR = 1,
	MPTCP_NL_CMD_DEL_ADDR = 2,
	MPTCP_NL_CMD_GET_ADDR = 3,
	MPTCP_NL_CMD_GET_LIMITS = 6,
};
enum {
	MPTCP_NL_ATTR_ADDR = 1,         /* nested endpoint */
	MPTCP_NL_ATTR_RCV_ADD_ADDRS = 2, /* u32: add_addr_accepted limit */
	MPTCP_NL_ATTR_SUBFLOWS = 3,     /* u32: subflow limit */
};
enum {
	MPTCP_NL_ADDR_FAMILY = 1,       /* u16 */
	MPTCP_NL_ADDR_ID = 2,           /* u8 */
	MPTCP_NL_ADDR_ADDR4 = 3,        /* struct in_addr */
	MPTCP_NL_ADDR_ADDR6 = 4,        /* struct in6_addr */
	MPTCP_NL_ADDR_PORT = 5,         /* u16, host byte order */
	MPTCP_NL_ADDR_FLAGS = 6,        /* u32 */
	MPTCP_NL_ADDR_IF_IDX = 7,       /* s32 */
};
#define MPTCP_NL_FLAG_SIGNAL (1u << 0)
#define MPTCP_NL_FLAG_SUBFLOW (1u << 1)
#define MPTCP_NL_FLAG_BACKUP (1u << 2)
#define MPTCP_NL_FLAG_FULLMESH (1u << 3)
#define MPTCP_NL_FLAG_IMPLICIT (1u << 4)

/* Endpoints kept for the report; the kernel allows more, rarely used. */
#define MPTCP_NL_MAX_ENDPOINTS 64

struct mptcp_nl_limits {
	uint32_t subflows;
	uint32_t add_addr_accepted;
	int have_subflows;              /* the kernel sent the attribute */
	int have_add_addr_accepted;
};

struct mptcp_nl_endpoint {
	int family;                     /* AF_INET, AF_INET6 or 0 (none sent) */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} addr;
	uint8_t id;
	uint16_t port;                  /* 0: none */
	uint32_t flags;                 /* MPTCP_NL_FLAG_* */
	int32_t ifindex;                /* 0: none */
	char ifname[IF_NAMESIZE];       /* "" unless resolved by the caller */
};

/* What mptcp_nl_query() found.  Each *_err is 0 when that part was read,
 * or the errno that stopped it (ENOENT: no "mptcp_pm" family, i.e. no
 * MPTCP in this kernel; EPERM: not allowed; EBADMSG: malformed reply). */
struct mptcp_nl_state {
	int limits_err;
	struct mptcp_nl_limits limits;
	int endpoints_err;
	size_t n_endpoints;             /* kept in ep[] */
	size_t n_dropped;               /* beyond MPTCP_NL_MAX_ENDPOINTS */
	struct mptcp_nl_endpoint ep[MPTCP_NL_MAX_ENDPOINTS];
};

/* Called for each generic netlink message of the expected family: cmd is
 * the genetlink command (for events: the event type), attrs points after
 * the genetlink header.  Returns 0, or -errno to stop. */
typedef int (*mptcp_nl_msg_fn)(uint8_t cmd, const void *attrs, size_t len,
                               void *arg);

/* One attribute, pointing into the received datagram. */
struct mptcp_nl_attr {
	uint16_t type;
	const unsigned char *data;
	size_t len;
};

/* The next attribute of the area [*p, *p + *left): 1 with *a filled and
 * *p, *left moved past it, 0 at the end, or -EBADMSG when a length does
 * not add up. */
int mptcp_nl_attr_next(const unsigned char **p, size_t *left,
                       struct mptcp_nl_attr *a);
/* Copy a fixed-size value; -EBADMSG when the attribute has another size. */
int mptcp_nl_attr_copy(const struct mptcp_nl_attr *a, void *out, size_t size);

/* Walk one datagram received from the kernel.  Messages whose sequence
 * number is not seq are ignored (stale replies).  Returns 1 when the reply
 * is complete (NLMSG_DONE, or the acknowledgement), 0 when more datagrams
 * follow, or -errno: the kernel's error, the callback's, or -EBADMSG when a
 * length does not add up. */
int mptcp_nl_walk(const void *buf, size_t len, uint32_t seq, uint16_t type,
                  mptcp_nl_msg_fn fn, void *arg);

/* One datagram from the kernel into buf: its length, 0 for one to skip
 * (not sent by the kernel), or -errno (-EMSGSIZE: it did not fit). */
ssize_t mptcp_nl_recv(int fd, void *buf, size_t len, int flags);

/* Attribute decoders over the area after the genetlink header.  Unknown
 * attributes are skipped; a known one with the wrong size, or an attribute
 * running past len, gives -EBADMSG. */
int mptcp_nl_parse_family_id(const void *attrs, size_t len, uint16_t *id);
/* The id of multicast group `name` in a CTRL_CMD_GETFAMILY reply;
 * -ENOENT when the family has no such group. */
int mptcp_nl_parse_mcast_group(const void *attrs, size_t len,
                               const char *name, uint32_t *id);
int mptcp_nl_parse_limits(const void *attrs, size_t len,
                          struct mptcp_nl_limits *out);
/* One GET_ADDR reply: the MPTCP_NL_ATTR_ADDR nest.  -ENOENT without one. */
int mptcp_nl_parse_endpoint(const void *attrs, size_t len,
                            struct mptcp_nl_endpoint *out);

/* Longest attribute area a request carries (one endpoint nest). */
#define MPTCP_NL_ATTRS_MAX 128

/* Encode ep as the MPTCP_NL_ATTR_ADDR nest of an ADD_ADDR or DEL_ADDR
 * request into buf: family and address when ep->family is set, the id
 * when not 0, port, flags and ifindex when not 0.  Returns the length
 * written, or -EMSGSIZE / -EINVAL (neither address nor id). */
int mptcp_nl_encode_endpoint(const struct mptcp_nl_endpoint *ep, void *buf,
                             size_t size);

/* A generic netlink socket bound to the "mptcp_pm" family of the current
 * network namespace. */
struct mptcp_nl_sock {
	int fd;
	uint16_t family;                /* resolved family id */
	uint32_t events_group;          /* "mptcp_pm_events"; 0: none */
	uint32_t seq;
};

/* Open and resolve the family.  Returns 0, or -errno (s->fd is then -1;
 * -ENOENT: this kernel has no MPTCP). */
int mptcp_nl_open(struct mptcp_nl_sock *s);
void mptcp_nl_close(struct mptcp_nl_sock *s);

/* One request (cmd, extra nlmsg flags such as NLM_F_ACK or NLM_F_DUMP,
 * encoded attributes); fn sees each reply message (NULL-safe only when the
 * reply is a bare acknowledgement).  Returns 0 or -errno. */
int mptcp_nl_request(struct mptcp_nl_sock *s, uint8_t cmd, uint16_t flags,
                     const void *attrs, size_t len, mptcp_nl_msg_fn fn,
                     void *arg);

/* Dump the endpoints into st->ep / n_endpoints / n_dropped.  Returns 0 or
 * -errno. */
int mptcp_nl_endpoints(struct mptcp_nl_sock *s, struct mptcp_nl_state *st);

/* Ask the kernel (current network namespace).  Never fails as a whole:
 * what could not be read is said in st->limits_err / st->endpoints_err.
 * ifname is left empty (the caller resolves it). */
void mptcp_nl_query(struct mptcp_nl_state *st);

/* A non-blocking socket joined to the path manager's event group
 * ("mptcp_pm_events") of the current network namespace, for
 * mptcp_pm_events_read().  Open it before dropping privileges: joining
 * needs CAP_NET_ADMIN.  Returns the descriptor with the family id in
 * *family, or -errno: -ENOENT (no MPTCP, or no event group: Linux < 5.12),
 * -EPERM (no CAP_NET_ADMIN). */
int mptcp_nl_events_open(uint16_t *family);

#endif
