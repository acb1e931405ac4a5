/* Reading a connection's subflows from the kernel, best source first:
 * MPTCP_FULL_INFO (one consistent snapshot with subflow ids, Linux 6.5+),
 * MPTCP_TCPINFO + MPTCP_SUBFLOW_ADDRS (5.16+: two reads paired by
 * position), TCP_INFO for a connection that is not (or no more) MPTCP. */
#include "auto-config.h"

#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "compat.h"
#include "mptcp_kabi.h"
#include "mptcp_paths.h"

#ifdef HAVE_LINUX_MPTCP_H
#include <linux/mptcp.h>
#define SAME_SIZE(ours, theirs) \
	_Static_assert(sizeof(ours) == sizeof(theirs), #theirs)
SAME_SIZE(struct mptcp_kabi_subflow_data, struct mptcp_subflow_data);
SAME_SIZE(struct mptcp_kabi_subflow_addrs, struct mptcp_subflow_addrs);
#ifdef MPTCP_FULL_INFO
SAME_SIZE(struct mptcp_kabi_subflow_info, struct mptcp_subflow_info);
_Static_assert(offsetof(struct mptcp_kabi_full_info, mptcp_info) ==
               offsetof(struct mptcp_full_info, mptcp_info), "full_info");
#endif
#undef SAME_SIZE
#endif
/* The kernel's MIN_FULL_INFO_OPTLEN_SIZE: the header before mptcp_info. */
_Static_assert(offsetof(struct mptcp_kabi_full_info, mptcp_info) == 40,
               "mptcp_full_info header");
_Static_assert(sizeof(struct mptcp_kabi_info) == 96, "mptcp_info (6.10)");

/* A kernel address into ours; v4-mapped IPv6 becomes IPv4. */
static void addr_from_kernel(const struct sockaddr_storage *ss,
                             struct mptcp_pm_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		out->family = AF_INET;
		out->port = ntohs(sin->sin_port);
		out->a.v4 = sin->sin_addr;
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		out->port = ntohs(s6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			out->family = AF_INET;
			memcpy(&out->a.v4, &s6->sin6_addr.s6_addr[12], 4);
		} else {
			out->family = AF_INET6;
			out->a.v6 = s6->sin6_addr;
		}
	}
}

static void tcp_from_kernel(const struct tcp_info *ti,
                            struct mptcp_path_tcp *out)
{
	out->bytes_acked = ti->tcpi_bytes_acked;
	out->bytes_sent = ti->tcpi_bytes_sent;
	out->bytes_retrans = ti->tcpi_bytes_retrans;
	out->bytes_received = ti->tcpi_bytes_received;
	out->srtt_us = ti->tcpi_rtt;
	out->cwnd = ti->tcpi_snd_cwnd;
	out->retrans = ti->tcpi_total_retrans;
	out->state = ti->tcpi_state;
}

static void totals_from_kernel(const struct mptcp_kabi_info *mi,
                               struct mptcp_paths_sample *s)
{
	s->token = mi->token;
	s->has_token = 1;
	s->has_totals = 1;
	s->totals.bytes_sent = mi->bytes_sent;
	s->totals.bytes_received = mi->bytes_received;
	s->totals.bytes_acked = mi->bytes_acked;
	s->totals.bytes_retrans = mi->bytes_retrans;
	s->totals.retransmits = mi->retransmits;
	s->totals.flags = mi->flags;
	s->totals.csum_enabled = mi->csum_enabled;
	s->totals.subflows_now = mi->subflows_total ? mi->subflows_total
	                                            : (uint8_t)(mi->subflows + 1);
	if (mi->flags & MPTCP_KABI_INFO_FLAG_FALLBACK)
		s->how = MPTCP_HOW_FALLBACK;
}

enum mptcp_how mptcp_paths_classify(int fd)
{
	struct mptcp_kabi_info mi;
	socklen_t len = sizeof(mi);
	int proto = 0;
	socklen_t plen = sizeof(proto);

	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &plen) < 0 ||
	    proto != IPPROTO_MPTCP)
		return MPTCP_HOW_TCP;
	memset(&mi, 0, sizeof(mi));
	if (getsockopt(fd, SOL_MPTCP, MPTCP_KABI_INFO, &mi, &len) < 0)
		return MPTCP_HOW_FALLBACK;
	return (mi.flags & MPTCP_KABI_INFO_FLAG_FALLBACK) ? MPTCP_HOW_FALLBACK
	                                                 : MPTCP_HOW_MPTCP;
}

/* Linux 6.5+.  Returns 0 or -errno. */
static int read_full_info(int fd, struct mptcp_paths_sample *s)
{
	struct mptcp_kabi_subflow_info sfi[MPTCP_PATHS_SAMPLE_MAX];
	struct tcp_info ti[MPTCP_PATHS_SAMPLE_MAX];
	struct mptcp_kabi_full_info fi;
	socklen_t len = sizeof(fi);

	memset(&fi, 0, sizeof(fi));
	memset(sfi, 0, sizeof(sfi));
	memset(ti, 0, sizeof(ti));
	fi.size_tcpinfo_user = sizeof(ti[0]);
	fi.size_sfinfo_user = sizeof(sfi[0]);
	fi.size_arrays_user = MPTCP_PATHS_SAMPLE_MAX;
	fi.subflow_info = (uint64_t)(uintptr_t)sfi;
	fi.tcp_info = (uint64_t)(uintptr_t)ti;
	if (getsockopt(fd, SOL_MPTCP, MPTCP_KABI_FULL_INFO, &fi, &len) < 0)
		return -errno;
	if (len < offsetof(struct mptcp_kabi_full_info, mptcp_info))
		return -EBADMSG;
	s->n = fi.num_subflows < MPTCP_PATHS_SAMPLE_MAX ? fi.num_subflows
	                                                : MPTCP_PATHS_SAMPLE_MAX;
	s->complete = fi.num_subflows <= MPTCP_PATHS_SAMPLE_MAX;
	for (unsigned i = 0; i < s->n; i++) {
		s->sf[i].id = sfi[i].id;
		addr_from_kernel(&sfi[i].addrs.local, &s->sf[i].local);
		addr_from_kernel(&sfi[i].addrs.remote, &s->sf[i].remote);
		tcp_from_kernel(&ti[i], &s->sf[i].tcp);
	}
	totals_from_kernel(&fi.mptcp_info, s);
	s->source = MPTCP_PREC_FULL_INFO;
	return 0;
}

/* Linux 5.16 to 6.4: the same figures in two reads (a subflow that comes
 * or goes between them can pair wrongly; precision says so). */
static int read_tcpinfo_addrs(int fd, struct mptcp_paths_sample *s)
{
	struct {
		struct mptcp_kabi_subflow_data d;
		struct tcp_info ti[MPTCP_PATHS_SAMPLE_MAX];
	} t;
	struct {
		struct mptcp_kabi_subflow_data d;
		struct mptcp_kabi_subflow_addrs a[MPTCP_PATHS_SAMPLE_MAX];
	} a;
	socklen_t tlen = sizeof(t), alen = sizeof(a);
	unsigned n;

	memset(&t, 0, sizeof(t));
	memset(&a, 0, sizeof(a));
	t.d.size_subflow_data = a.d.size_subflow_data = sizeof(t.d);
	t.d.size_user = sizeof(t.ti[0]);
	a.d.size_user = sizeof(a.a[0]);
	if (getsockopt(fd, SOL_MPTCP, MPTCP_KABI_TCPINFO, &t, &tlen) < 0 ||
	    getsockopt(fd, SOL_MPTCP, MPTCP_KABI_SUBFLOW_ADDRS, &a, &alen) < 0)
		return -errno;
	n = t.d.num_subflows < a.d.num_subflows ? t.d.num_subflows
	                                        : a.d.num_subflows;
	s->n = n < MPTCP_PATHS_SAMPLE_MAX ? n : MPTCP_PATHS_SAMPLE_MAX;
	s->complete = t.d.num_subflows == a.d.num_subflows &&
	              n <= MPTCP_PATHS_SAMPLE_MAX;
	for (unsigned i = 0; i < s->n; i++) {
		addr_from_kernel(&a.a[i].local, &s->sf[i].local);
		addr_from_kernel(&a.a[i].remote, &s->sf[i].remote);
		tcp_from_kernel(&t.ti[i], &s->sf[i].tcp);
	}
	s->source = MPTCP_PREC_TCPINFO;
	return 0;
}

/* Plain TCP, or an MPTCP socket that fell back: one path. */
static int read_tcp_info(int fd, struct mptcp_paths_sample *s)
{
	struct sockaddr_storage l, r;
	socklen_t ll = sizeof(l), rl = sizeof(r), tl = sizeof(struct tcp_info);
	struct tcp_info ti;

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) < 0)
		return -errno;
	/* Once the peer has closed there is no peer name: the record then
	 * takes the figures for the path it already knows. */
	if (getsockname(fd, (struct sockaddr *)&l, &ll) == 0 &&
	    getpeername(fd, (struct sockaddr *)&r, &rl) == 0) {
		addr_from_kernel(&l, &s->sf[0].local);
		addr_from_kernel(&r, &s->sf[0].remote);
	}
	tcp_from_kernel(&ti, &s->sf[0].tcp);
	s->n = 1;
	s->complete = 1;
	s->source = MPTCP_PREC_TCP_INFO;
	return 0;
}

enum mptcp_how mptcp_paths_accept(int fd, uint32_t *token,
                                  unsigned *subflows)
{
	struct mptcp_kabi_info mi;
	socklen_t len = sizeof(mi);
	int proto = 0;
	socklen_t plen = sizeof(proto);

	*token = 0;
	*subflows = 1;
	memset(&mi, 0, sizeof(mi));
	if (getsockopt(fd, SOL_MPTCP, MPTCP_KABI_INFO, &mi, &len) == 0) {
		*token = mi.token;
		if (len > offsetof(struct mptcp_kabi_info, subflows_total) &&
		    mi.subflows_total > 0)
			*subflows = mi.subflows_total;
		else
			*subflows = (unsigned)mi.subflows + 1;
		return (mi.flags & MPTCP_KABI_INFO_FLAG_FALLBACK)
		       ? MPTCP_HOW_FALLBACK : MPTCP_HOW_MPTCP;
	}
	/* Not (or no more) MPTCP: the protocol the socket was accepted as
	 * tells a plain TCP client from a fallback. */
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &plen) == 0 &&
	    proto == IPPROTO_MPTCP)
		return MPTCP_HOW_FALLBACK;
	return MPTCP_HOW_TCP;
}

int mptcp_paths_read(int fd, struct mptcp_paths_sample *s)
{
	struct mptcp_kabi_info mi;
	socklen_t len = sizeof(mi);
	int rc;

	memset(s, 0, sizeof(*s));
	/* FULL_INFO first: when it answers, the connection is MPTCP (its
	 * flags say whether it fell back) and one syscall was enough; the
	 * live connections of a busy server are sampled on every tick. */
	if (read_full_info(fd, s) == 0) {
		if (s->how == MPTCP_HOW_UNKNOWN)
			s->how = MPTCP_HOW_MPTCP;
		return 0;
	}
	memset(s, 0, sizeof(*s));
	s->how = (uint8_t)mptcp_paths_classify(fd);
	if (s->how == MPTCP_HOW_MPTCP) {
		/* Before 6.5 the option is unknown (EOPNOTSUPP); any other
		 * failure is as final for the older options. */
		memset(&mi, 0, sizeof(mi));
		if (getsockopt(fd, SOL_MPTCP, MPTCP_KABI_INFO, &mi, &len) == 0) {
			totals_from_kernel(&mi, s);
			if (read_tcpinfo_addrs(fd, s) == 0)
				return 0;
		}
	}
	rc = read_tcp_info(fd, s);
	if (rc < 0)
		s->source = 0;
	return rc;
}

void mptcp_paths_poll(int fd, struct mptcp_paths *r, int64_t now_ms,
                      int final)
{
	struct mptcp_paths_sample s;

	/* A failed read still classifies and still closes the record. */
	(void)mptcp_paths_read(fd, &s);
	mptcp_paths_sample(r, &s, now_ms, final);
}
