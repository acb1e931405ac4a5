/* Generic netlink client for the MPTCP path manager, on a raw
 * NETLINK_GENERIC socket: resolve the "mptcp_pm" family id, then ask for
 * the limits (GET_LIMITS), dump the endpoints (GET_ADDR), and encode the
 * endpoint that ADD_ADDR / DEL_ADDR carry (mptcp_pm.c sends those).
 *
 * Nothing received is trusted: headers are copied out (no alignment is
 * assumed), every message and attribute length is checked against what is
 * left of the datagram, and fixed-size attributes must have their size. */
#include "auto-config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "mptcp_nl.h"

#ifdef HAVE_LINUX_MPTCP_H
#include <linux/mptcp.h>
/* Our ABI constants must agree with the installed header's. */
#define SAME(ours, theirs) _Static_assert((int)(ours) == (int)(theirs), #theirs)
SAME(MPTCP_NL_CMD_ADD_ADDR, MPTCP_PM_CMD_ADD_ADDR);
SAME(MPTCP_NL_CMD_DEL_ADDR, MPTCP_PM_CMD_DEL_ADDR);
SAME(MPTCP_NL_CMD_GET_ADDR, MPTCP_PM_CMD_GET_ADDR);
SAME(MPTCP_NL_CMD_GET_LIMITS, MPTCP_PM_CMD_GET_LIMITS);
SAME(MPTCP_NL_ATTR_ADDR, MPTCP_PM_ATTR_ADDR);
SAME(MPTCP_NL_ATTR_RCV_ADD_ADDRS, MPTCP_PM_ATTR_RCV_ADD_ADDRS);
SAME(MPTCP_NL_ATTR_SUBFLOWS, MPTCP_PM_ATTR_SUBFLOWS);
SAME(MPTCP_NL_ADDR_FAMILY, MPTCP_PM_ADDR_ATTR_FAMILY);
SAME(MPTCP_NL_ADDR_IF_IDX, MPTCP_PM_ADDR_ATTR_IF_IDX);
SAME(MPTCP_NL_FLAG_SIGNAL, MPTCP_PM_ADDR_FLAG_SIGNAL);
SAME(MPTCP_NL_FLAG_BACKUP, MPTCP_PM_ADDR_FLAG_BACKUP);
#undef SAME
#endif

#define NL_BUF_SIZE 32768       /* the most the kernel puts in one dump datagram */
#define NL_TIMEOUT_S 2          /* the kernel answers at once or not at all */

/* ---------------------------------------------------------------- decoding */

int mptcp_nl_attr_next(const unsigned char **p, size_t *left,
                       struct mptcp_nl_attr *a)
{
	struct nlattr h;
	size_t step;

	if (*left == 0)
		return 0;
	if (*left < sizeof(h))
		return -EBADMSG;
	memcpy(&h, *p, sizeof(h));
	if (h.nla_len < NLA_HDRLEN || h.nla_len > *left)
		return -EBADMSG;
	a->type = h.nla_type & NLA_TYPE_MASK;
	a->data = *p + NLA_HDRLEN;
	a->len = h.nla_len - NLA_HDRLEN;
	/* The last attribute's padding may be missing. */
	step = NLA_ALIGN(h.nla_len);
	if (step > *left)
		step = *left;
	*p += step;
	*left -= step;
	return 1;
}

int mptcp_nl_attr_copy(const struct mptcp_nl_attr *a, void *out, size_t size)
{
	if (a->len != size)
		return -EBADMSG;
	memcpy(out, a->data, size);
	return 0;
}

int mptcp_nl_parse_family_id(const void *attrs, size_t len, uint16_t *id)
{
	const unsigned char *p = attrs;
	struct mptcp_nl_attr a;
	int rc, found = 0;

	while ((rc = mptcp_nl_attr_next(&p, &len, &a)) > 0) {
		if (a.type != CTRL_ATTR_FAMILY_ID)
			continue;
		if (mptcp_nl_attr_copy(&a, id, sizeof(*id)) < 0)
			return -EBADMSG;
		found = 1;
	}
	if (rc < 0)
		return rc;
	return found ? 0 : -ENOENT;
}

int mptcp_nl_parse_mcast_group(const void *attrs, size_t len,
                               const char *name, uint32_t *id)
{
	const unsigned char *p = attrs;
	struct mptcp_nl_attr a;
	int rc;

	while ((rc = mptcp_nl_attr_next(&p, &len, &a)) > 0) {
		const unsigned char *g = a.data;
		size_t glen = a.len;
		struct mptcp_nl_attr grp;

		if (a.type != CTRL_ATTR_MCAST_GROUPS)
			continue;
		/* A nest of nests, one per group: name and id. */
		while ((rc = mptcp_nl_attr_next(&g, &glen, &grp)) > 0) {
			const unsigned char *q = grp.data;
			size_t qlen = grp.len;
			struct mptcp_nl_attr f;
			uint32_t gid = 0;
			int named = 0;

			while ((rc = mptcp_nl_attr_next(&q, &qlen, &f)) > 0) {
				if (f.type == CTRL_ATTR_MCAST_GRP_ID &&
				    mptcp_nl_attr_copy(&f, &gid, 4) < 0)
					return -EBADMSG;
				if (f.type == CTRL_ATTR_MCAST_GRP_NAME)
					named = f.len == strlen(name) + 1 &&
					        memcmp(f.data, name, f.len) == 0;
			}
			if (rc < 0)
				return rc;
			if (named && gid != 0) {
				*id = gid;
				return 0;
			}
		}
		if (rc < 0)
			return rc;
	}
	return rc < 0 ? rc : -ENOENT;
}

int mptcp_nl_parse_limits(const void *attrs, size_t len,
                          struct mptcp_nl_limits *out)
{
	const unsigned char *p = attrs;
	struct mptcp_nl_attr a;
	int rc;

	while ((rc = mptcp_nl_attr_next(&p, &len, &a)) > 0) {
		if (a.type == MPTCP_NL_ATTR_SUBFLOWS) {
			if (mptcp_nl_attr_copy(&a, &out->subflows, 4) < 0)
				return -EBADMSG;
			out->have_subflows = 1;
		} else if (a.type == MPTCP_NL_ATTR_RCV_ADD_ADDRS) {
			if (mptcp_nl_attr_copy(&a, &out->add_addr_accepted, 4) < 0)
				return -EBADMSG;
			out->have_add_addr_accepted = 1;
		}
	}
	return rc;
}

/* The attributes inside the MPTCP_NL_ATTR_ADDR nest. */
static int parse_addr_nest(const unsigned char *p, size_t len,
                           struct mptcp_nl_endpoint *ep)
{
	struct mptcp_nl_attr a;
	uint16_t family = 0;
	int rc, have4 = 0, have6 = 0;

	while ((rc = mptcp_nl_attr_next(&p, &len, &a)) > 0) {
		switch (a.type) {
		case MPTCP_NL_ADDR_FAMILY:
			rc = mptcp_nl_attr_copy(&a, &family, 2);
			break;
		case MPTCP_NL_ADDR_ID:
			rc = mptcp_nl_attr_copy(&a, &ep->id, 1);
			break;
		case MPTCP_NL_ADDR_ADDR4:
			rc = mptcp_nl_attr_copy(&a, &ep->addr.v4, 4);
			have4 = 1;
			break;
		case MPTCP_NL_ADDR_ADDR6:
			rc = mptcp_nl_attr_copy(&a, &ep->addr.v6, 16);
			have6 = 1;
			break;
		case MPTCP_NL_ADDR_PORT:
			rc = mptcp_nl_attr_copy(&a, &ep->port, 2);
			break;
		case MPTCP_NL_ADDR_FLAGS:
			rc = mptcp_nl_attr_copy(&a, &ep->flags, 4);
			break;
		case MPTCP_NL_ADDR_IF_IDX:
			rc = mptcp_nl_attr_copy(&a, &ep->ifindex, 4);
			break;
		default:
			rc = 0;
			break;
		}
		if (rc < 0)
			return rc;
	}
	if (rc < 0 || have4 + have6 > 1)
		return -EBADMSG;
	if (family == 0)
		family = have4 ? AF_INET : have6 ? AF_INET6 : 0;
	/* An address must match the family it is sent with. */
	if ((family == AF_INET && !have4) || (family == AF_INET6 && !have6) ||
	    (have4 && family != AF_INET) || (have6 && family != AF_INET6))
		return -EBADMSG;
	ep->family = family;
	return 0;
}

int mptcp_nl_parse_endpoint(const void *attrs, size_t len,
                            struct mptcp_nl_endpoint *out)
{
	const unsigned char *p = attrs;
	struct mptcp_nl_attr a;
	int rc;

	memset(out, 0, sizeof(*out));
	while ((rc = mptcp_nl_attr_next(&p, &len, &a)) > 0)
		if (a.type == MPTCP_NL_ATTR_ADDR)
			return parse_addr_nest(a.data, a.len, out);
	return rc < 0 ? rc : -ENOENT;
}

/* One message of a reply: see mptcp_nl_walk(). */
static int walk_one(const struct nlmsghdr *h, const unsigned char *payload,
                    size_t len, uint16_t type, mptcp_nl_msg_fn fn, void *arg)
{
	int err = 0;

	switch (h->nlmsg_type) {
	case NLMSG_ERROR:
		/* struct nlmsgerr starts with the error; 0 is the ack. */
		if (len < sizeof(err))
			return -EBADMSG;
		memcpy(&err, payload, sizeof(err));
		return err == 0 ? 1 : err < 0 ? err : -EBADMSG;
	case NLMSG_DONE:
		/* A dump's end may carry its error. */
		if (len >= sizeof(err))
			memcpy(&err, payload, sizeof(err));
		return err < 0 ? err : 1;
	default:
		if (h->nlmsg_type != type || fn == NULL)
			return 0;
		if (len < GENL_HDRLEN)
			return -EBADMSG;
		err = fn(payload[0], payload + GENL_HDRLEN, len - GENL_HDRLEN,
		         arg);
		return err < 0 ? err : 0;
	}
}

int mptcp_nl_walk(const void *buf, size_t len, uint32_t seq, uint16_t type,
                  mptcp_nl_msg_fn fn, void *arg)
{
	const unsigned char *p = buf;
	struct nlmsghdr h;
	int rc;

	while (len > 0) {
		size_t step;

		if (len < sizeof(h))
			return -EBADMSG;
		memcpy(&h, p, sizeof(h));
		if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > len)
			return -EBADMSG;
		if (h.nlmsg_seq == seq) {
			rc = walk_one(&h, p + NLMSG_HDRLEN,
			              h.nlmsg_len - NLMSG_HDRLEN, type, fn, arg);
			if (rc != 0)
				return rc;
		}
		step = NLMSG_ALIGN(h.nlmsg_len);
		if (step >= len)
			break;
		p += step;
		len -= step;
	}
	return 0;
}

/* ---------------------------------------------------------------- I/O */

/* Send one request: the genetlink header, then attrs (len bytes, already
 * encoded).  Returns 0 or -errno. */
static int nl_send(int fd, uint32_t seq, uint16_t type, uint16_t flags,
                   uint8_t cmd, uint8_t version, const void *attrs,
                   size_t alen)
{
	union {
		struct nlmsghdr h;
		unsigned char b[NLMSG_HDRLEN + GENL_HDRLEN + MPTCP_NL_ATTRS_MAX];
	} req;
	struct genlmsghdr g = { .cmd = cmd, .version = version };
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	size_t len = NLMSG_HDRLEN + GENL_HDRLEN;
	ssize_t n;

	if (alen > MPTCP_NL_ATTRS_MAX)
		return -EINVAL;
	memset(&req, 0, sizeof(req));
	memcpy(req.b + NLMSG_HDRLEN, &g, sizeof(g));
	if (alen > 0)
		memcpy(req.b + len, attrs, alen);
	len += alen;
	req.h.nlmsg_len = (uint32_t)len;
	req.h.nlmsg_type = type;
	req.h.nlmsg_flags = flags;
	req.h.nlmsg_seq = seq;
	n = sendto(fd, req.b, len, 0, (struct sockaddr *)&kernel,
	           sizeof(kernel));
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

ssize_t mptcp_nl_recv(int fd, void *buf, size_t len, int flags)
{
	struct sockaddr_nl from;
	struct iovec iov = { buf, len };
	struct msghdr m = {
		.msg_name = &from,
		.msg_namelen = sizeof(from),
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};
	ssize_t n = recvmsg(fd, &m, flags);

	if (n < 0)
		return -errno;
	if (m.msg_flags & MSG_TRUNC)
		return -EMSGSIZE;
	if (m.msg_namelen < sizeof(from) || from.nl_pid != 0)
		return 0;       /* not from the kernel */
	return n;
}

/* Send a request and feed every datagram of the reply to fn until the
 * kernel says it is complete.  Returns 0 or -errno. */
static int nl_transact(int fd, uint32_t seq, uint16_t type, uint16_t flags,
                       uint8_t cmd, uint8_t version, const void *attrs,
                       size_t alen, mptcp_nl_msg_fn fn, void *arg)
{
	union {
		struct nlmsghdr h;
		unsigned char b[NL_BUF_SIZE];
	} buf;
	int rc = nl_send(fd, seq, type, flags, cmd, version, attrs, alen);

	/* Bounded: a reply longer than this many datagrams is not ours. */
	for (int i = 0; rc == 0 && i < 1024; i++) {
		ssize_t n = mptcp_nl_recv(fd, buf.b, sizeof(buf.b), 0);

		if (n == -EINTR || n == 0)
			continue;
		if (n < 0)
			return n == -EAGAIN || n == -EWOULDBLOCK ? -ETIMEDOUT
			                                         : (int)n;
		rc = mptcp_nl_walk(buf.b, (size_t)n, seq, type, fn, arg);
		if (rc != 0)
			return rc < 0 ? rc : 0;
	}
	return rc < 0 ? rc : -EOVERFLOW;
}

/* What CTRL_CMD_GETFAMILY told about "mptcp_pm". */
struct family_reply {
	uint16_t id;
	uint32_t events_group;          /* 0: no "mptcp_pm_events" group */
};

static int on_family(uint8_t cmd, const void *attrs, size_t len, void *arg)
{
	struct family_reply *f = arg;
	int rc;

	(void)cmd;
	rc = mptcp_nl_parse_family_id(attrs, len, &f->id);
	/* The family exists (else the kernel says ENOENT) but its id is
	 * missing from the reply. */
	if (rc < 0)
		return rc == -ENOENT ? -EBADMSG : rc;
	rc = mptcp_nl_parse_mcast_group(attrs, len, MPTCP_NL_EVENTS_GROUP,
	                                &f->events_group);
	return rc == -ENOENT ? 0 : rc;
}

/* Append one attribute to buf (capacity size, *used so far). */
static int put_attr(unsigned char *buf, size_t size, size_t *used,
                    uint16_t type, const void *data, size_t dlen)
{
	struct nlattr na = { .nla_type = type,
	                     .nla_len = (uint16_t)(NLA_HDRLEN + dlen) };

	if (*used + NLA_HDRLEN + NLA_ALIGN(dlen) > size)
		return -EMSGSIZE;
	memset(buf + *used, 0, NLA_HDRLEN + NLA_ALIGN(dlen));
	memcpy(buf + *used, &na, sizeof(na));
	if (dlen > 0)
		memcpy(buf + *used + NLA_HDRLEN, data, dlen);
	*used += NLA_HDRLEN + NLA_ALIGN(dlen);
	return 0;
}

int mptcp_nl_open(struct mptcp_nl_sock *s)
{
	struct family_reply f = { 0 };
	struct sockaddr_nl self = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = NL_TIMEOUT_S };
	unsigned char name[NLA_HDRLEN + NLA_ALIGN(sizeof(MPTCP_NL_FAMILY_NAME))];
	size_t used = 0;
	int rc = 0;

	s->family = 0;
	s->seq = 0;
	s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (s->fd < 0)
		return -errno;
	if (setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    bind(s->fd, (struct sockaddr *)&self, sizeof(self)) < 0)
		rc = -errno;
	if (rc == 0)
		rc = put_attr(name, sizeof(name), &used, CTRL_ATTR_FAMILY_NAME,
		              MPTCP_NL_FAMILY_NAME, sizeof(MPTCP_NL_FAMILY_NAME));
	if (rc == 0)
		rc = nl_transact(s->fd, ++s->seq, GENL_ID_CTRL,
		                 NLM_F_REQUEST | NLM_F_ACK, CTRL_CMD_GETFAMILY, 1,
		                 name, used, on_family, &f);
	if (rc == 0 && f.id == 0)
		rc = -EBADMSG;  /* acknowledged without an answer */
	s->family = f.id;
	s->events_group = f.events_group;
	if (rc < 0) {
		close(s->fd);
		s->fd = -1;
	}
	return rc;
}

void mptcp_nl_close(struct mptcp_nl_sock *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

int mptcp_nl_request(struct mptcp_nl_sock *s, uint8_t cmd, uint16_t flags,
                     const void *attrs, size_t len, mptcp_nl_msg_fn fn,
                     void *arg)
{
	return nl_transact(s->fd, ++s->seq, s->family, NLM_F_REQUEST | flags,
	                   cmd, MPTCP_NL_VERSION, attrs, len, fn, arg);
}

int mptcp_nl_encode_endpoint(const struct mptcp_nl_endpoint *ep, void *buf,
                             size_t size)
{
	unsigned char inner[64];
	size_t used = 0, out = 0;
	uint16_t family = (uint16_t)ep->family;
	int rc;

	if (ep->family != AF_INET && ep->family != AF_INET6 && ep->id == 0)
		return -EINVAL;
	rc = ep->family == 0 ? 0
	     : put_attr(inner, sizeof(inner), &used, MPTCP_NL_ADDR_FAMILY,
	                &family, sizeof(family));
	if (rc == 0 && ep->id != 0)
		rc = put_attr(inner, sizeof(inner), &used, MPTCP_NL_ADDR_ID,
		              &ep->id, 1);
	if (rc == 0 && ep->family == AF_INET)
		rc = put_attr(inner, sizeof(inner), &used, MPTCP_NL_ADDR_ADDR4,
		              &ep->addr.v4, 4);
	else if (rc == 0 && ep->family == AF_INET6)
		rc = put_attr(inner, sizeof(inner), &used, MPTCP_NL_ADDR_ADDR6,
		              &ep->addr.v6, 16);
	if (rc == 0 && ep->port != 0)
		rc = put_attr(inner, sizeof(inner), &used, MPTCP_NL_ADDR_PORT,
		              &ep->port, 2);
	if (rc == 0 && ep->flags != 0)
		rc = put_attr(inner, sizeof(inner), &used, MPTCP_NL_ADDR_FLAGS,
		              &ep->flags, 4);
	if (rc == 0 && ep->ifindex != 0)
		rc = put_attr(inner, sizeof(inner), &used, MPTCP_NL_ADDR_IF_IDX,
		              &ep->ifindex, 4);
	if (rc == 0)
		rc = put_attr(buf, size, &out, NLA_F_NESTED | MPTCP_NL_ATTR_ADDR,
		              inner, used);
	return rc < 0 ? rc : (int)out;
}

static int on_limits(uint8_t cmd, const void *attrs, size_t len, void *arg)
{
	(void)cmd;
	return mptcp_nl_parse_limits(attrs, len, arg);
}

static int on_endpoint(uint8_t cmd, const void *attrs, size_t len, void *arg)
{
	struct mptcp_nl_state *st = arg;
	struct mptcp_nl_endpoint ep;
	int rc;

	(void)cmd;
	rc = mptcp_nl_parse_endpoint(attrs, len, &ep);
	if (rc < 0)
		return rc;
	if (st->n_endpoints < MPTCP_NL_MAX_ENDPOINTS)
		st->ep[st->n_endpoints++] = ep;
	else
		st->n_dropped++;
	return 0;
}

int mptcp_nl_endpoints(struct mptcp_nl_sock *s, struct mptcp_nl_state *st)
{
	st->n_endpoints = st->n_dropped = 0;
	return mptcp_nl_request(s, MPTCP_NL_CMD_GET_ADDR, NLM_F_DUMP, NULL, 0,
	                        on_endpoint, st);
}

void mptcp_nl_query(struct mptcp_nl_state *st)
{
	struct mptcp_nl_sock s;
	int rc;

	memset(st, 0, sizeof(*st));
	rc = mptcp_nl_open(&s);
	if (rc < 0) {
		st->limits_err = st->endpoints_err = -rc;
		return;
	}
	rc = mptcp_nl_request(&s, MPTCP_NL_CMD_GET_LIMITS, NLM_F_ACK, NULL, 0,
	                      on_limits, &st->limits);
	st->limits_err = -rc;
	st->endpoints_err = -mptcp_nl_endpoints(&s, st);
	mptcp_nl_close(&s);
}

int mptcp_nl_events_open(uint16_t *family)
{
	struct mptcp_nl_sock s;
	int fd, flags, rc = mptcp_nl_open(&s);

	if (rc < 0)
		return rc;
	fd = s.fd;
	if (s.events_group == 0) {
		close(fd);
		return -ENOENT;         /* a kernel before Linux 5.12 */
	}
	/* Joining needs CAP_NET_ADMIN (GENL_MCAST_CAP_NET_ADMIN); the
	 * membership outlives a later privilege drop. */
	if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
	               &s.events_group, sizeof(s.events_group)) < 0 ||
	    (flags = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	*family = s.family;
	return fd;
}
