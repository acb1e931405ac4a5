/* Path-manager events: decode the attributes of one event, and drain the
 * event socket.  The socket itself (family lookup, group join) is
 * mptcp_nl.c's; so is the walk over netlink messages and attributes. */
#include "auto-config.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "mptcp_nl.h"
#include "mptcp_pm_events.h"

#ifdef HAVE_LINUX_MPTCP_H
#include <linux/mptcp.h>
#ifdef MPTCP_PM_EV_GRP_NAME
/* Our ABI constants must agree with the installed header's. */
#define SAME(ours, theirs) _Static_assert((int)(ours) == (int)(theirs), #theirs)
SAME(MPTCP_PM_EV_SUB_CLOSED, MPTCP_EVENT_SUB_CLOSED);
SAME(MPTCP_PM_EV_SUB_PRIORITY, MPTCP_EVENT_SUB_PRIORITY);
SAME(MPTCP_PM_EV_ATTR_DPORT, MPTCP_ATTR_DPORT);
SAME(MPTCP_PM_EV_ATTR_ERROR, MPTCP_ATTR_ERROR);
SAME(MPTCP_PM_EV_ATTR_RESET_FLAGS, MPTCP_ATTR_RESET_FLAGS);
#undef SAME
#endif
#endif

#define EV_BUF_SIZE 8192        /* one event is a few hundred bytes */
#define EV_MAX_DATAGRAMS 64

/* The address parts of an event, gathered before the family is known. */
struct ev_addrs {
	uint16_t family;
	int have4[2], have6[2], have_port[2];
	struct in_addr v4[2];
	struct in6_addr v6[2];
	uint16_t port[2];               /* network order */
};

/* Fill one side (0 local, 1 remote) from what was gathered. */
static int side_to_addr(const struct ev_addrs *x, int i,
                        struct mptcp_pm_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (x->have4[i] && x->have6[i])
		return -EBADMSG;
	if (x->have4[i]) {
		if (x->family != 0 && x->family != AF_INET)
			return -EBADMSG;
		out->family = AF_INET;
		out->a.v4 = x->v4[i];
	} else if (x->have6[i]) {
		if (x->family != 0 && x->family != AF_INET6)
			return -EBADMSG;
		/* An IPv4 subflow of a dual-stack socket comes as v4-mapped
		 * IPv6 (Linux 6.18, measured): stored as IPv4, as the
		 * samples store it, so both name the same subflow. */
		if (IN6_IS_ADDR_V4MAPPED(&x->v6[i])) {
			out->family = AF_INET;
			memcpy(&out->a.v4, &x->v6[i].s6_addr[12], 4);
		} else {
			out->family = AF_INET6;
			out->a.v6 = x->v6[i];
		}
	}
	out->port = x->have_port[i] ? ntohs(x->port[i]) : 0;
	return 0;
}

/* One attribute into ev or x; -EBADMSG on a wrong size. */
static int take_attr(const struct mptcp_nl_attr *a, struct mptcp_pm_event *ev,
                     struct ev_addrs *x, int *have_token)
{
	uint8_t u8;
	uint32_t u32;

	switch (a->type) {
	case MPTCP_PM_EV_ATTR_TOKEN:
		*have_token = 1;
		return mptcp_nl_attr_copy(a, &ev->token, 4);
	case MPTCP_PM_EV_ATTR_FAMILY:
		return mptcp_nl_attr_copy(a, &x->family, 2);
	case MPTCP_PM_EV_ATTR_LOC_ID:
		return mptcp_nl_attr_copy(a, &ev->loc_id, 1);
	case MPTCP_PM_EV_ATTR_REM_ID:
		return mptcp_nl_attr_copy(a, &ev->rem_id, 1);
	case MPTCP_PM_EV_ATTR_SADDR4:
	case MPTCP_PM_EV_ATTR_DADDR4: {
		int i = a->type == MPTCP_PM_EV_ATTR_DADDR4;

		x->have4[i] = 1;
		return mptcp_nl_attr_copy(a, &x->v4[i], 4);
	}
	case MPTCP_PM_EV_ATTR_SADDR6:
	case MPTCP_PM_EV_ATTR_DADDR6: {
		int i = a->type == MPTCP_PM_EV_ATTR_DADDR6;

		x->have6[i] = 1;
		return mptcp_nl_attr_copy(a, &x->v6[i], 16);
	}
	case MPTCP_PM_EV_ATTR_SPORT:
	case MPTCP_PM_EV_ATTR_DPORT: {
		int i = a->type == MPTCP_PM_EV_ATTR_DPORT;

		x->have_port[i] = 1;
		return mptcp_nl_attr_copy(a, &x->port[i], 2);
	}
	case MPTCP_PM_EV_ATTR_BACKUP:
		if (mptcp_nl_attr_copy(a, &u8, 1) < 0)
			return -EBADMSG;
		ev->backup = u8 != 0;
		return 0;
	case MPTCP_PM_EV_ATTR_ERROR:
		if (mptcp_nl_attr_copy(a, &u8, 1) < 0)
			return -EBADMSG;
		ev->error = u8;
		return 0;
	case MPTCP_PM_EV_ATTR_IF_IDX:
		return mptcp_nl_attr_copy(a, &ev->ifindex, 4);
	case MPTCP_PM_EV_ATTR_RESET_REASON:
		ev->has_reset = 1;
		return mptcp_nl_attr_copy(a, &ev->reset_reason, 4);
	case MPTCP_PM_EV_ATTR_SERVER_SIDE:
		if (mptcp_nl_attr_copy(a, &u8, 1) < 0)
			return -EBADMSG;
		ev->server_side = u8 != 0;
		return 0;
	case MPTCP_PM_EV_ATTR_RESET_FLAGS:
	case MPTCP_PM_EV_ATTR_TIMEOUT:
		return mptcp_nl_attr_copy(a, &u32, 4);
	default:
		return 0;               /* newer than us, or FLAGS: not needed */
	}
}

int mptcp_pm_event_parse(uint8_t cmd, const void *attrs, size_t len,
                         struct mptcp_pm_event *ev)
{
	const unsigned char *p = attrs;
	struct mptcp_nl_attr a;
	struct ev_addrs x;
	int rc, have_token = 0;

	memset(ev, 0, sizeof(*ev));
	memset(&x, 0, sizeof(x));
	ev->type = cmd;
	ev->backup = -1;
	ev->server_side = -1;
	while ((rc = mptcp_nl_attr_next(&p, &len, &a)) > 0)
		if (take_attr(&a, ev, &x, &have_token) < 0)
			return -EBADMSG;
	if (rc < 0)
		return rc;
	if (side_to_addr(&x, 0, &ev->local) < 0 ||
	    side_to_addr(&x, 1, &ev->remote) < 0)
		return -EBADMSG;
	ev->has_addrs = ev->local.family != 0 && ev->remote.family != 0;
	return have_token ? 0 : -ENOENT;
}

/* The callback's context while walking one datagram. */
struct ev_walk {
	mptcp_pm_event_fn fn;
	void *arg;
	int n;
};

static int on_event(uint8_t cmd, const void *attrs, size_t len, void *arg)
{
	struct ev_walk *w = arg;
	struct mptcp_pm_event ev;

	/* An event we cannot read is skipped, not fatal: the samples still
	 * see the subflow. */
	if (mptcp_pm_event_parse(cmd, attrs, len, &ev) == 0) {
		w->fn(&ev, w->arg);
		w->n++;
	}
	return 0;
}

int mptcp_pm_events_read(int fd, uint16_t family, mptcp_pm_event_fn fn,
                         void *arg)
{
	union {
		struct nlmsghdr h;
		unsigned char b[EV_BUF_SIZE];
	} buf;
	struct ev_walk w = { fn, arg, 0 };
	int lost = 0;

	for (int i = 0; i < EV_MAX_DATAGRAMS; i++) {
		ssize_t n = mptcp_nl_recv(fd, buf.b, sizeof(buf.b), MSG_DONTWAIT);

		if (n == -EINTR || n == -EMSGSIZE || n == 0)
			continue;       /* not a whole event from the kernel */
		if (n == -ENOBUFS) {
			lost = 1;       /* overrun: read on */
			continue;
		}
		if (n == -EAGAIN || n == -EWOULDBLOCK)
			break;
		if (n < 0)
			return (int)n;
		/* Events are sent with sequence number 0. */
		(void)mptcp_nl_walk(buf.b, (size_t)n, 0, family, on_event, &w);
	}
	return lost ? -ENOBUFS : w.n;
}

int mptcp_pm_events_subflows_only(int fd)
{
	/* The genetlink command is the byte after the netlink header; a
	 * datagram of the event group carries one event. */
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, NLMSG_HDRLEN +
		         offsetof(struct genlmsghdr, cmd)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MPTCP_PM_EV_SUB_ESTABLISHED,
		         3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MPTCP_PM_EV_SUB_CLOSED, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MPTCP_PM_EV_SUB_PRIORITY,
		         1, 0),
		BPF_STMT(BPF_RET | BPF_K, 0),           /* dropped */
		BPF_STMT(BPF_RET | BPF_K, 0xffffffffu), /* kept whole */
	};
	struct sock_fprog prog = {
		.len = (unsigned short)(sizeof(code) / sizeof(code[0])),
		.filter = code,
	};

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
	               sizeof(prog)) < 0)
		return -errno;
	return 0;
}
