/* --check: the netlink decoders fed hand-made kernel replies, and the
 * judgement of hand-made facts. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "compat.h"
#include "mptcp_check.h"
#include "mptcp_nl.h"
#include "unit.h"

/* ---------------------------------------------------------------- builder */

/* Bytes as the kernel would send them; one spare byte in front lets a test
 * start the data at an odd address. */
struct msg {
	unsigned char raw[4096 + 1];
	unsigned char *b;
	size_t n;
};

static void msg_init(struct msg *m, int misalign)
{
	memset(m, 0, sizeof(*m));
	m->b = m->raw + (misalign ? 1 : 0);
}

static size_t put(struct msg *m, const void *data, size_t len)
{
	size_t at = m->n;

	ck_assert_uint_le(m->n + NLA_ALIGN(len), sizeof(m->raw) - 1);
	if (len > 0)
		memcpy(m->b + m->n, data, len);
	m->n += NLA_ALIGN(len);
	return at;
}

static size_t attr(struct msg *m, uint16_t type, const void *data, size_t len)
{
	struct nlattr a = { .nla_len = (uint16_t)(NLA_HDRLEN + len),
	                    .nla_type = type };
	size_t at = put(m, &a, sizeof(a));

	put(m, data, len);
	return at;
}

static void attr_u8(struct msg *m, uint16_t type, uint8_t v) { attr(m, type, &v, 1); }
static void attr_u16(struct msg *m, uint16_t type, uint16_t v) { attr(m, type, &v, 2); }
static void attr_u32(struct msg *m, uint16_t type, uint32_t v) { attr(m, type, &v, 4); }

/* Close a nest or message opened at `at`: patch its length field. */
static void nest_end(struct msg *m, size_t at)
{
	uint16_t len = (uint16_t)(m->n - at);

	memcpy(m->b + at, &len, sizeof(len));
}

static size_t nlmsg_begin(struct msg *m, uint16_t type, uint32_t seq)
{
	struct nlmsghdr h = { .nlmsg_type = type, .nlmsg_seq = seq };
	struct genlmsghdr g = { .cmd = 1 };
	size_t at = put(m, &h, sizeof(h));

	if (type >= NLMSG_MIN_TYPE)
		put(m, &g, sizeof(g));
	return at;
}

static void nlmsg_end(struct msg *m, size_t at)
{
	uint32_t len = (uint32_t)(m->n - at);

	memcpy(m->b + at, &len, sizeof(len));
}

static void nlmsg_control(struct msg *m, uint16_t type, uint32_t seq, int err)
{
	size_t at = nlmsg_begin(m, type, seq);

	put(m, &err, sizeof(err));
	nlmsg_end(m, at);
}

/* The attribute area of one GET_ADDR reply for 192.0.2.1 id 1 signal on
 * ifindex 1, port 0 unless given. */
static void endpoint_v4(struct msg *m, uint16_t port)
{
	struct in_addr a;
	size_t nest = attr(m, MPTCP_NL_ATTR_ADDR | NLA_F_NESTED, NULL, 0);

	inet_pton(AF_INET, "192.0.2.1", &a);
	attr_u16(m, MPTCP_NL_ADDR_FAMILY, AF_INET);
	attr_u8(m, MPTCP_NL_ADDR_ID, 1);
	attr(m, MPTCP_NL_ADDR_ADDR4, &a, sizeof(a));
	if (port)
		attr_u16(m, MPTCP_NL_ADDR_PORT, port);
	attr_u32(m, MPTCP_NL_ADDR_FLAGS, MPTCP_NL_FLAG_SIGNAL);
	attr_u32(m, MPTCP_NL_ADDR_IF_IDX, 1);
	nest_end(m, nest);
}

/* ---------------------------------------------------------------- decoders */

START_TEST(limits_decoded)
{
	struct mptcp_nl_limits l = { 0 };
	struct msg m;

	msg_init(&m, _i);
	attr_u32(&m, 99, 7);    /* unknown: skipped */
	attr_u32(&m, MPTCP_NL_ATTR_RCV_ADD_ADDRS, 3);
	attr_u32(&m, MPTCP_NL_ATTR_SUBFLOWS, 2);
	ck_assert_int_eq(mptcp_nl_parse_limits(m.b, m.n, &l), 0);
	ck_assert(l.have_subflows && l.have_add_addr_accepted);
	ck_assert_uint_eq(l.subflows, 2);
	ck_assert_uint_eq(l.add_addr_accepted, 3);
}
END_TEST

START_TEST(limits_wrong_size_rejected)
{
	struct mptcp_nl_limits l = { 0 };
	uint64_t wide = 2;
	struct msg m;

	msg_init(&m, 0);
	attr_u16(&m, MPTCP_NL_ATTR_SUBFLOWS, 2);
	ck_assert_int_eq(mptcp_nl_parse_limits(m.b, m.n, &l), -EBADMSG);
	msg_init(&m, 0);
	attr(&m, MPTCP_NL_ATTR_RCV_ADD_ADDRS, &wide, sizeof(wide));
	ck_assert_int_eq(mptcp_nl_parse_limits(m.b, m.n, &l), -EBADMSG);
}
END_TEST

START_TEST(attribute_lengths_checked)
{
	struct mptcp_nl_limits l = { 0 };
	struct nlattr bad = { .nla_len = 8, .nla_type = MPTCP_NL_ATTR_SUBFLOWS };
	struct msg m;

	/* Runs past the end of the area. */
	msg_init(&m, 0);
	attr_u32(&m, MPTCP_NL_ATTR_SUBFLOWS, 2);
	ck_assert_int_eq(mptcp_nl_parse_limits(m.b, m.n - 1, &l), -EBADMSG);
	/* Shorter than its own header. */
	bad.nla_len = 3;
	msg_init(&m, 0);
	put(&m, &bad, sizeof(bad));
	ck_assert_int_eq(mptcp_nl_parse_limits(m.b, m.n, &l), -EBADMSG);
	/* Two stray bytes after the last attribute. */
	msg_init(&m, 0);
	attr_u32(&m, MPTCP_NL_ATTR_SUBFLOWS, 2);
	ck_assert_int_eq(mptcp_nl_parse_limits(m.b, m.n + 2, &l), -EBADMSG);
	/* An empty area is fine, and says nothing. */
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(mptcp_nl_parse_limits(m.b, 0, &l), 0);
	ck_assert(!l.have_subflows);
}
END_TEST

START_TEST(endpoint_v4_decoded)
{
	struct mptcp_nl_endpoint ep;
	char s[INET_ADDRSTRLEN];
	struct msg m;

	msg_init(&m, _i);
	endpoint_v4(&m, 8443);
	ck_assert_int_eq(mptcp_nl_parse_endpoint(m.b, m.n, &ep), 0);
	ck_assert_int_eq(ep.family, AF_INET);
	ck_assert_str_eq(inet_ntop(AF_INET, &ep.addr.v4, s, sizeof(s)),
	                 "192.0.2.1");
	ck_assert_uint_eq(ep.id, 1);
	ck_assert_uint_eq(ep.port, 8443);
	ck_assert_uint_eq(ep.flags, MPTCP_NL_FLAG_SIGNAL);
	ck_assert_int_eq(ep.ifindex, 1);
	ck_assert_str_eq(ep.ifname, "");
}
END_TEST

START_TEST(endpoint_v6_decoded)
{
	struct mptcp_nl_endpoint ep;
	struct in6_addr a, want;
	struct msg m;
	size_t nest;

	inet_pton(AF_INET6, "2001:db8::7", &a);
	msg_init(&m, 0);
	nest = attr(&m, MPTCP_NL_ATTR_ADDR, NULL, 0);
	attr_u16(&m, MPTCP_NL_ADDR_FAMILY, AF_INET6);
	attr_u8(&m, MPTCP_NL_ADDR_ID, 9);
	attr(&m, MPTCP_NL_ADDR_ADDR6, &a, sizeof(a));
	attr_u32(&m, MPTCP_NL_ADDR_FLAGS,
	         MPTCP_NL_FLAG_SUBFLOW | MPTCP_NL_FLAG_BACKUP);
	nest_end(&m, nest);
	ck_assert_int_eq(mptcp_nl_parse_endpoint(m.b, m.n, &ep), 0);
	ck_assert_int_eq(ep.family, AF_INET6);
	want = a;
	ck_assert_mem_eq(&ep.addr.v6, &want, sizeof(want));
	ck_assert_uint_eq(ep.id, 9);
	ck_assert_uint_eq(ep.port, 0);
	ck_assert_int_eq(ep.ifindex, 0);
}
END_TEST

START_TEST(endpoint_malformed_rejected)
{
	struct mptcp_nl_endpoint ep;
	struct in_addr a = { 0 };
	struct msg m;
	size_t nest;

	/* No nest at all. */
	msg_init(&m, 0);
	attr_u32(&m, MPTCP_NL_ATTR_SUBFLOWS, 2);
	ck_assert_int_eq(mptcp_nl_parse_endpoint(m.b, m.n, &ep), -ENOENT);
	/* An IPv4 address sent as IPv6. */
	msg_init(&m, 0);
	nest = attr(&m, MPTCP_NL_ATTR_ADDR, NULL, 0);
	attr_u16(&m, MPTCP_NL_ADDR_FAMILY, AF_INET6);
	attr(&m, MPTCP_NL_ADDR_ADDR4, &a, sizeof(a));
	nest_end(&m, nest);
	ck_assert_int_eq(mptcp_nl_parse_endpoint(m.b, m.n, &ep), -EBADMSG);
	/* A 3-byte IPv4 address. */
	msg_init(&m, 0);
	nest = attr(&m, MPTCP_NL_ATTR_ADDR, NULL, 0);
	attr(&m, MPTCP_NL_ADDR_ADDR4, &a, 3);
	nest_end(&m, nest);
	ck_assert_int_eq(mptcp_nl_parse_endpoint(m.b, m.n, &ep), -EBADMSG);
	/* A nest longer than the message. */
	msg_init(&m, 0);
	endpoint_v4(&m, 0);
	ck_assert_int_eq(mptcp_nl_parse_endpoint(m.b, m.n - 4, &ep), -EBADMSG);
}
END_TEST

START_TEST(family_id_decoded)
{
	uint16_t id = 0;
	struct msg m;

	msg_init(&m, 0);
	attr(&m, CTRL_ATTR_FAMILY_NAME, "mptcp_pm", 9);
	attr_u16(&m, CTRL_ATTR_FAMILY_ID, 0x1d);
	ck_assert_int_eq(mptcp_nl_parse_family_id(m.b, m.n, &id), 0);
	ck_assert_uint_eq(id, 0x1d);
	msg_init(&m, 0);
	attr(&m, CTRL_ATTR_FAMILY_NAME, "mptcp_pm", 9);
	ck_assert_int_eq(mptcp_nl_parse_family_id(m.b, m.n, &id), -ENOENT);
	msg_init(&m, 0);
	attr_u32(&m, CTRL_ATTR_FAMILY_ID, 0x1d);
	ck_assert_int_eq(mptcp_nl_parse_family_id(m.b, m.n, &id), -EBADMSG);
}
END_TEST

/* ---------------------------------------------------------------- walker */

static int collect(uint8_t cmd, const void *attrs, size_t len, void *arg)
{
	struct mptcp_nl_state *st = arg;

	(void)cmd;

	if (st->n_endpoints == MPTCP_NL_MAX_ENDPOINTS)
		return -ENOSPC;
	return mptcp_nl_parse_endpoint(attrs, len, &st->ep[st->n_endpoints++]);
}

START_TEST(walk_dump_to_done)
{
	static struct mptcp_nl_state st;
	struct msg m;
	size_t at;

	memset(&st, 0, sizeof(st));
	msg_init(&m, _i);
	at = nlmsg_begin(&m, 0x1d, 7);
	endpoint_v4(&m, 0);
	nlmsg_end(&m, at);
	at = nlmsg_begin(&m, 0x1d, 6);  /* stale reply: ignored */
	endpoint_v4(&m, 0);
	nlmsg_end(&m, at);
	at = nlmsg_begin(&m, 0x1d, 7);
	endpoint_v4(&m, 80);
	nlmsg_end(&m, at);
	/* Without the end yet: more to come. */
	ck_assert_int_eq(mptcp_nl_walk(m.b, m.n, 7, 0x1d, collect, &st), 0);
	ck_assert_uint_eq(st.n_endpoints, 2);
	ck_assert_uint_eq(st.ep[1].port, 80);
	st.n_endpoints = 0;
	nlmsg_control(&m, NLMSG_DONE, 7, 0);
	ck_assert_int_eq(mptcp_nl_walk(m.b, m.n, 7, 0x1d, collect, &st), 1);
	ck_assert_uint_eq(st.n_endpoints, 2);
}
END_TEST

START_TEST(walk_errors_and_acks)
{
	static struct mptcp_nl_state st;
	struct msg m;

	msg_init(&m, 0);
	nlmsg_control(&m, NLMSG_ERROR, 1, -EPERM);
	ck_assert_int_eq(mptcp_nl_walk(m.b, m.n, 1, 0x1d, collect, &st), -EPERM);
	msg_init(&m, 0);
	nlmsg_control(&m, NLMSG_ERROR, 1, 0);
	ck_assert_int_eq(mptcp_nl_walk(m.b, m.n, 1, 0x1d, collect, &st), 1);
	msg_init(&m, 0);
	nlmsg_control(&m, NLMSG_DONE, 1, -EINTR);
	ck_assert_int_eq(mptcp_nl_walk(m.b, m.n, 1, 0x1d, collect, &st), -EINTR);
}
END_TEST

START_TEST(walk_lengths_checked)
{
	static struct mptcp_nl_state st;
	struct nlmsghdr h = { .nlmsg_len = 8, .nlmsg_type = 0x1d, .nlmsg_seq = 1 };
	struct msg m;
	size_t at;

	memset(&st, 0, sizeof(st));
	/* Message longer than the datagram. */
	msg_init(&m, 0);
	at = nlmsg_begin(&m, 0x1d, 1);
	endpoint_v4(&m, 0);
	nlmsg_end(&m, at);
	ck_assert_int_eq(mptcp_nl_walk(m.b, m.n - 4, 1, 0x1d, collect, &st),
	                 -EBADMSG);
	/* Shorter than its header. */
	msg_init(&m, 0);
	put(&m, &h, sizeof(h));
	ck_assert_int_eq(mptcp_nl_walk(m.b, m.n, 1, 0x1d, collect, &st), -EBADMSG);
	/* A datagram shorter than one header. */
	ck_assert_int_eq(mptcp_nl_walk(m.b, 10, 1, 0x1d, collect, &st), -EBADMSG);
	/* No room for the genetlink header. */
	h.nlmsg_len = NLMSG_HDRLEN + 2;
	msg_init(&m, 0);
	put(&m, &h, sizeof(h));
	ck_assert_int_eq(mptcp_nl_walk(m.b, NLMSG_HDRLEN + 2, 1, 0x1d, collect,
	                               &st), -EBADMSG);
	/* An error message without its error code. */
	h.nlmsg_len = NLMSG_HDRLEN;
	h.nlmsg_type = NLMSG_ERROR;
	msg_init(&m, 0);
	put(&m, &h, sizeof(h));
	ck_assert_int_eq(mptcp_nl_walk(m.b, m.n, 1, 0x1d, collect, &st), -EBADMSG);
	/* A bad attribute inside a good message reaches the caller. */
	msg_init(&m, 0);
	at = nlmsg_begin(&m, 0x1d, 1);
	attr_u16(&m, MPTCP_NL_ATTR_ADDR, 0);
	nlmsg_end(&m, at);
	st.n_endpoints = 0;
	ck_assert_int_eq(mptcp_nl_walk(m.b, m.n, 1, 0x1d, collect, &st), -EBADMSG);
}
END_TEST

/* ---------------------------------------------------------------- verdict */

static struct mptcp_check_facts facts;
static struct mptcp_check_report report;

/* A healthy host: MPTCP on, in-kernel path manager, limits 2/2, one
 * signal endpoint on lo, both socket families working. */
static void healthy(void)
{
	struct mptcp_nl_endpoint *ep = &facts.nl.ep[0];

	memset(&facts, 0, sizeof(facts));
	snprintf(facts.kernel, sizeof(facts.kernel), "6.18.0");
	facts.enabled = 1;
	facts.pm = MPTCP_CHECK_PM_KERNEL;
	snprintf(facts.pm_setting, sizeof(facts.pm_setting),
	         "net.mptcp.path_manager = kernel");
	facts.allow_join_initial = 1;
	facts.nl.limits.subflows = 2;
	facts.nl.limits.add_addr_accepted = 2;
	facts.nl.limits.have_subflows = 1;
	facts.nl.limits.have_add_addr_accepted = 1;
	facts.nl.n_endpoints = 1;
	ep->family = AF_INET;
	inet_pton(AF_INET, "192.0.2.1", &ep->addr.v4);
	ep->id = 1;
	ep->flags = MPTCP_NL_FLAG_SIGNAL;
	ep->ifindex = 1;
	snprintf(ep->ifname, sizeof(ep->ifname), "lo");
	facts.sock4.protocol = IPPROTO_MPTCP;
	facts.sock6.protocol = IPPROTO_MPTCP;
}

/* The finding whose text contains `needle`; fails the test if none. */
static const struct mptcp_check_finding *find(const char *needle)
{
	for (size_t i = 0; i < report.n; i++)
		if (strstr(report.f[i].text, needle) != NULL)
			return &report.f[i];
	ck_abort_msg("no finding contains \"%s\"", needle);
	return NULL;
}

static int has(const char *needle)
{
	for (size_t i = 0; i < report.n; i++)
		if (strstr(report.f[i].text, needle) != NULL)
			return 1;
	return 0;
}

static size_t count(enum mptcp_check_level level)
{
	size_t n = 0;

	for (size_t i = 0; i < report.n; i++)
		n += report.f[i].level == level;
	return n;
}

START_TEST(healthy_host_can_serve)
{
	healthy();
	ck_assert_int_eq(mptcp_check_evaluate(&facts, &report), 1);
	ck_assert_uint_eq(count(MPTCP_CHECK_WARN), 0);
	ck_assert_uint_eq(count(MPTCP_CHECK_ERROR), 0);
	ck_assert_str_eq(find("endpoint id")->text,
	                 "endpoint id 1: 192.0.2.1 signal dev lo (ifindex 1)");
	ck_assert_str_eq(find("net.mptcp.enabled")->text, "net.mptcp.enabled = 1");
	ck_assert_str_eq(find("limits:")->text, "limits: subflow 2 "
	                 "add_addr_accepted 2 (each connection may gain up to "
	                 "2 more subflows)");
	find("socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP) works (SO_PROTOCOL = 262)");
	find("socket(AF_INET6, SOCK_STREAM, IPPROTO_MPTCP) works");
	find("path manager: in-kernel (net.mptcp.path_manager = kernel)");
	ck_assert_ptr_nonnull(strstr(find("allow_join_initial_addr_port = 1")->text,
	                             "L4 load balancer"));
}
END_TEST

START_TEST(disabled_cannot_serve)
{
	const struct mptcp_check_finding *f;

	healthy();
	facts.enabled = 0;
	facts.sock4.err = ENOPROTOOPT;
	facts.sock6.err = ENOPROTOOPT;
	ck_assert_int_eq(mptcp_check_evaluate(&facts, &report), 0);
	f = find("net.mptcp.enabled = 0");
	ck_assert_int_eq(f->level, MPTCP_CHECK_ERROR);
	ck_assert_ptr_nonnull(strstr(f->fix, "sysctl -w net.mptcp.enabled=1"));
	f = find("socket(AF_INET, ");
	ck_assert_int_eq(f->level, MPTCP_CHECK_ERROR);
	ck_assert_ptr_nonnull(strstr(f->text, "ENOPROTOOPT"));
	ck_assert_uint_eq(count(MPTCP_CHECK_ERROR), 3);
}
END_TEST

START_TEST(zero_subflow_limit_warns_but_serves)
{
	const struct mptcp_check_finding *f;

	healthy();
	facts.nl.limits.subflows = 0;
	facts.nl.limits.add_addr_accepted = 0;
	ck_assert_int_eq(mptcp_check_evaluate(&facts, &report), 1);
	f = find("subflow limit is 0");
	ck_assert_int_eq(f->level, MPTCP_CHECK_WARN);
	ck_assert_str_eq(f->text, "subflow limit is 0: clients cannot add paths "
	                 "to a connection (add_addr_accepted 0)");
	ck_assert_str_eq(f->fix, "run `ip mptcp limits set subflow 2 "
	                 "add_addr_accepted 2`");
	ck_assert_uint_eq(count(MPTCP_CHECK_WARN), 1);
}
END_TEST

START_TEST(kernel_without_mptcp)
{
	healthy();
	facts.enabled = -1;
	facts.allow_join_initial = -1;
	facts.pm = MPTCP_CHECK_PM_UNKNOWN;
	facts.nl.limits_err = facts.nl.endpoints_err = ENOENT;
	facts.nl.n_endpoints = 0;
	facts.sock4.err = facts.sock6.err = EPROTONOSUPPORT;
	ck_assert_int_eq(mptcp_check_evaluate(&facts, &report), 0);
	ck_assert_ptr_nonnull(strstr(find("this kernel has no MPTCP")->fix,
	                             "CONFIG_MPTCP=y"));
	ck_assert(!has("path manager"));
	ck_assert(!has("limits"));
	ck_assert_ptr_nonnull(strstr(find("socket(AF_INET6")->text,
	                             "EPROTONOSUPPORT"));
}
END_TEST

START_TEST(userspace_pm)
{
	const struct mptcp_check_finding *f;

	healthy();
	facts.pm = MPTCP_CHECK_PM_USERSPACE;
	snprintf(facts.pm_setting, sizeof(facts.pm_setting),
	         "net.mptcp.path_manager = userspace");
	facts.nl.limits.subflows = 0;   /* unused: no warning for it */
	ck_assert_int_eq(mptcp_check_evaluate(&facts, &report), 1);
	f = find("path manager: userspace");
	ck_assert_int_eq(f->level, MPTCP_CHECK_WARN);
	ck_assert_ptr_nonnull(strstr(f->text, "no mptcpd is running"));
	ck_assert_ptr_nonnull(strstr(f->fix, "net.mptcp.path_manager=kernel"));
	ck_assert(!has("subflow limit is 0"));
	ck_assert_int_eq(find("unused by the userspace")->level, MPTCP_CHECK_OK);

	facts.pm_via_type = 1;
	mptcp_check_evaluate(&facts, &report);
	ck_assert_ptr_nonnull(strstr(find("path manager")->fix,
	                             "net.mptcp.pm_type=0"));

	facts.mptcpd_running = 1;
	mptcp_check_evaluate(&facts, &report);
	ck_assert_int_eq(find("path manager")->level, MPTCP_CHECK_OK);
	ck_assert_uint_eq(count(MPTCP_CHECK_WARN), 0);
}
END_TEST

START_TEST(older_kernel_path_manager)
{
	healthy();
	facts.pm = MPTCP_CHECK_PM_UNKNOWN;
	facts.pm_setting[0] = '\0';
	facts.allow_join_initial = -1;
	ck_assert_int_eq(mptcp_check_evaluate(&facts, &report), 1);
	find("path manager: in-kernel (this kernel has no other)");
	ck_assert(!has("allow_join_initial_addr_port"));
}
END_TEST

START_TEST(one_family_is_enough)
{
	healthy();
	facts.sock6.err = EAFNOSUPPORT;
	ck_assert_int_eq(mptcp_check_evaluate(&facts, &report), 1);
	ck_assert_int_eq(find("socket(AF_INET6")->level, MPTCP_CHECK_WARN);
	ck_assert_ptr_nonnull(strstr(find("socket(AF_INET6")->fix, "IPv6"));

	healthy();
	facts.sock4.err = EACCES;
	facts.sock6.err = EACCES;
	ck_assert_int_eq(mptcp_check_evaluate(&facts, &report), 0);
	ck_assert_ptr_nonnull(strstr(find("socket(AF_INET,")->fix, "seccomp"));
}
END_TEST

START_TEST(wrong_so_protocol)
{
	healthy();
	facts.sock4.protocol = IPPROTO_TCP;
	facts.sock6.protocol = IPPROTO_TCP;
	ck_assert_int_eq(mptcp_check_evaluate(&facts, &report), 0);
	ck_assert_str_eq(find("socket(AF_INET,")->text,
	                 "socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP) gives a "
	                 "socket whose SO_PROTOCOL is 6, not 262");
	/* Unreadable is not wrong. */
	facts.sock4.protocol = -1;
	ck_assert_int_eq(mptcp_check_evaluate(&facts, &report), 1);
	ck_assert_int_eq(find("socket(AF_INET,")->level, MPTCP_CHECK_WARN);
}
END_TEST

START_TEST(no_endpoints_is_fine_for_a_server)
{
	const struct mptcp_check_finding *f;

	healthy();
	facts.nl.n_endpoints = 0;
	ck_assert_int_eq(mptcp_check_evaluate(&facts, &report), 1);
	f = find("no MPTCP endpoints");
	ck_assert_int_eq(f->level, MPTCP_CHECK_OK);
	ck_assert_ptr_nonnull(strstr(f->text, "needs none"));
	ck_assert_ptr_nonnull(strstr(f->text, "`signal`"));
}
END_TEST

START_TEST(allow_join_zero_needs_a_signal_endpoint)
{
	const struct mptcp_check_finding *f;

	healthy();
	facts.allow_join_initial = 0;
	ck_assert_int_eq(mptcp_check_evaluate(&facts, &report), 1);
	ck_assert_int_eq(find("allow_join_initial_addr_port = 0")->level,
	                 MPTCP_CHECK_OK);
	facts.nl.ep[0].flags = MPTCP_NL_FLAG_SUBFLOW;
	ck_assert_int_eq(mptcp_check_evaluate(&facts, &report), 1);
	f = find("allow_join_initial_addr_port = 0");
	ck_assert_int_eq(f->level, MPTCP_CHECK_WARN);
	ck_assert_ptr_nonnull(strstr(f->fix, "signal"));
}
END_TEST

START_TEST(endpoint_details)
{
	struct mptcp_nl_endpoint *ep = &facts.nl.ep[1];
	const struct mptcp_check_finding *f;

	healthy();
	facts.nl.n_endpoints = 2;
	ep->family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::2", &ep->addr.v6);
	ep->id = 2;
	ep->port = 8443;
	ep->flags = MPTCP_NL_FLAG_SUBFLOW | MPTCP_NL_FLAG_BACKUP |
	            MPTCP_NL_FLAG_FULLMESH | 0x40;
	facts.nl.n_dropped = 3;
	ck_assert_int_eq(mptcp_check_evaluate(&facts, &report), 1);
	ck_assert_str_eq(find("endpoint id 2:")->text, "endpoint id 2: "
	                 "2001:db8::2 port 8443 subflow,backup,fullmesh,0x40");
	f = find("without a device");
	ck_assert_int_eq(f->level, MPTCP_CHECK_WARN);
	ck_assert_str_eq(f->fix, "run `ip mptcp endpoint del id 2` and add it "
	                 "again with `dev IFNAME`");
	find("... and 3 more endpoints not shown");
	/* An interface that has gone keeps its index. */
	facts.nl.ep[0].ifname[0] = '\0';
	facts.nl.ep[1].flags = 0;
	mptcp_check_evaluate(&facts, &report);
	find("endpoint id 1: 192.0.2.1 signal ifindex 1");
	find("endpoint id 2: 2001:db8::2 port 8443 no flags");
}
END_TEST

START_TEST(netlink_not_permitted)
{
	const struct mptcp_check_finding *f;

	healthy();
	facts.nl.limits_err = EPERM;
	facts.nl.endpoints_err = EPERM;
	facts.nl.n_endpoints = 0;
	ck_assert_int_eq(mptcp_check_evaluate(&facts, &report), 1);
	f = find("cannot read the path manager limits");
	ck_assert_int_eq(f->level, MPTCP_CHECK_WARN);
	ck_assert_ptr_nonnull(strstr(f->text, "EPERM"));
	ck_assert_str_eq(f->fix, "run --check as root");
	ck_assert(!has("cannot list"));         /* said once */
	ck_assert(!has("allow_join_initial_addr_port = 0"));

	facts.nl.limits_err = 0;
	facts.nl.endpoints_err = EBADMSG;
	mptcp_check_evaluate(&facts, &report);
	ck_assert_ptr_nonnull(strstr(find("cannot list the MPTCP endpoints")->text,
	                             "EBADMSG"));
}
END_TEST

START_TEST(printed_format)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	int ok;

	ck_assert_ptr_nonnull(out);
	healthy();
	facts.kernel[0] = '\0';
	facts.allow_join_initial = -1;
	facts.nl.limits.subflows = 0;
	facts.nl.n_endpoints = 0;
	ok = mptcp_check_evaluate(&facts, &report);
	mptcp_check_print(&report, ok, out);
	facts.enabled = 0;
	ok = mptcp_check_evaluate(&facts, &report);
	report.n = 1;
	mptcp_check_print(&report, ok, out);
	fclose(out);
	ck_assert_str_eq(text,
		"ok: net.mptcp.enabled = 1\n"
		"ok: socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP) works (SO_PROTOCOL = 262)\n"
		"ok: socket(AF_INET6, SOCK_STREAM, IPPROTO_MPTCP) works (SO_PROTOCOL = 262)\n"
		"ok: path manager: in-kernel (net.mptcp.path_manager = kernel)\n"
		"warn: subflow limit is 0: clients cannot add paths to a connection (add_addr_accepted 2)\n"
		"  fix: run `ip mptcp limits set subflow 2 add_addr_accepted 2`\n"
		"ok: no MPTCP endpoints: a server needs none to accept extra subflows "
		"from clients; `signal` endpoints (ip mptcp endpoint add ADDR dev IF "
		"signal) let it announce more of its addresses\n"
		"== behind an L4 load balancer ==\n"
		"ok: no `signal` endpoint: clients learn no address of this host "
		"but the one they reached\n"
		"ok: kernel counters: 0 joins received (MPJoinSynRx), 0 subflows "
		"added (MPJoinAckRx), 0 joins refused for an unknown token "
		"(MPJoinNoTokenFound), 0 ADD_ADDR sent (AddAddrTx)\n"
		"verdict: this host can serve MPTCP\n"
		"error: net.mptcp.enabled = 0: MPTCP is disabled in this network namespace\n"
		"  fix: run `sysctl -w net.mptcp.enabled=1` (and set it in /etc/sysctl.d/ to keep it)\n"
		"verdict: this host cannot serve MPTCP\n");
	free(text);
}
END_TEST

#define ADD(s, t) UNIT_ADD(s, t)
/* Run with the data at an aligned and at an odd address (_i = 0, 1). */
#define ADD_ALIGNED(s, t) UNIT_ADD_LOOP(s, t, 2)

static Suite *make_suite(void)
{
	Suite *s = suite_create("mptcp_check");

	ADD_ALIGNED(s, limits_decoded);
	ADD(s, limits_wrong_size_rejected);
	ADD(s, attribute_lengths_checked);
	ADD_ALIGNED(s, endpoint_v4_decoded);
	ADD(s, endpoint_v6_decoded);
	ADD(s, endpoint_malformed_rejected);
	ADD(s, family_id_decoded);
	ADD_ALIGNED(s, walk_dump_to_done);
	ADD(s, walk_errors_and_acks);
	ADD(s, walk_lengths_checked);
	ADD(s, healthy_host_can_serve);
	ADD(s, disabled_cannot_serve);
	ADD(s, zero_subflow_limit_warns_but_serves);
	ADD(s, kernel_without_mptcp);
	ADD(s, userspace_pm);
	ADD(s, older_kernel_path_manager);
	ADD(s, one_family_is_enough);
	ADD(s, wrong_so_protocol);
	ADD(s, no_endpoints_is_fine_for_a_server);
	ADD(s, allow_join_zero_needs_a_signal_endpoint);
	ADD(s, endpoint_details);
	ADD(s, netlink_not_permitted);
	ADD(s, printed_format);
	return s;
}

UNIT_MAIN(make_suite)
