/* The path record: synthetic samples and path-manager events merged, the
 * event decoder fed hand-made netlink attributes, the text formats. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <netinet/tcp.h>
#include <string.h>

#include "mptcp_nl.h"
#include "mptcp_paths.h"
#include "mptcp_pm_events.h"
#include "unit.h"

static struct mptcp_pm_addr v4(const char *ip, uint16_t port)
{
	struct mptcp_pm_addr a;

	memset(&a, 0, sizeof(a));
	a.family = AF_INET;
	a.port = port;
	ck_assert_int_eq(inet_pton(AF_INET, ip, &a.a.v4), 1);
	return a;
}

static struct mptcp_pm_addr v6(const char *ip, uint16_t port)
{
	struct mptcp_pm_addr a;

	memset(&a, 0, sizeof(a));
	a.family = AF_INET6;
	a.port = port;
	ck_assert_int_eq(inet_pton(AF_INET6, ip, &a.a.v6), 1);
	return a;
}

/* A FULL_INFO-like sample of the subflows given as (id, remote ip, acked). */
static void sample(struct mptcp_paths_sample *s, unsigned n,
                   const uint32_t *id, const char *const *remote,
                   const uint64_t *acked)
{
	memset(s, 0, sizeof(*s));
	s->how = MPTCP_HOW_MPTCP;
	s->source = MPTCP_PREC_FULL_INFO;
	s->complete = 1;
	s->has_token = 1;
	s->token = 0xabcd;
	s->n = n;
	for (unsigned i = 0; i < n; i++) {
		s->sf[i].id = id[i];
		s->sf[i].local = v4("192.0.2.2", 443);
		s->sf[i].remote = v4(remote[i], (uint16_t)(40000 + id[i]));
		s->sf[i].tcp.bytes_acked = acked[i];
		s->sf[i].tcp.bytes_received = 10 * id[i];
		s->sf[i].tcp.state = TCP_ESTABLISHED;
	}
}

static const char *const two_remotes[] = { "192.0.2.1", "198.51.100.1" };
static const uint32_t two_ids[] = { 1, 2 };

START_TEST(closed_between_samples_keeps_last_bytes)
{
	struct mptcp_paths r;
	struct mptcp_paths_sample s;
	uint64_t a1[] = { 100, 50 }, a2[] = { 200, 150 }, a3[] = { 900 };
	char prec[64];

	mptcp_paths_init(&r);
	sample(&s, 2, two_ids, two_remotes, a1);
	mptcp_paths_sample(&r, &s, 0, 0);
	sample(&s, 2, two_ids, two_remotes, a2);
	mptcp_paths_sample(&r, &s, 1000, 0);
	sample(&s, 1, two_ids, two_remotes, a3);        /* id 2 is gone */
	mptcp_paths_sample(&r, &s, 2000, 0);
	mptcp_paths_sample(&r, &s, 2500, 1);
	ck_assert_uint_eq(r.n, 2);
	ck_assert_uint_eq(mptcp_paths_joins(&r), 1);
	ck_assert_int_eq(r.how, MPTCP_HOW_MPTCP);
	ck_assert_uint_eq(r.token, 0xabcd);
	ck_assert_uint_eq(r.path[1].tcp.bytes_acked, 150);
	ck_assert_int_eq(r.path[1].end, MPTCP_PATH_GONE);
	ck_assert_int_eq(r.path[1].closed_ms, 2000);
	ck_assert_int_eq(r.path[1].last_seen_ms, 1000);
	ck_assert_str_eq(mptcp_paths_precision_text(r.path[1].precision, prec,
	                                             sizeof(prec)),
	                 "full_info+last_sample");
	ck_assert_uint_eq(r.path[0].tcp.bytes_acked, 900);
	ck_assert_int_eq(r.path[0].end, MPTCP_PATH_UP_AT_END);
	ck_assert_int_eq(r.path[0].closed_ms, 2500);
	ck_assert_str_eq(mptcp_paths_precision_text(r.path[0].precision, prec,
	                                             sizeof(prec)),
	                 "full_info+final");
}
END_TEST

START_TEST(joins_count_every_subflow_after_the_first)
{
	struct mptcp_paths r;
	struct mptcp_paths_sample s;
	const uint32_t ids[] = { 1, 2, 3 };
	const char *const rem[] = { "192.0.2.1", "198.51.100.1", "203.0.113.1" };
	uint64_t acked[] = { 1, 2, 3 };

	mptcp_paths_init(&r);
	sample(&s, 2, ids, rem, acked);
	mptcp_paths_sample(&r, &s, 0, 0);
	sample(&s, 2, ids + 1, rem + 1, acked);         /* 1 gone, 3 new */
	mptcp_paths_sample(&r, &s, 1000, 0);
	ck_assert_uint_eq(r.n, 3);
	ck_assert_uint_eq(mptcp_paths_joins(&r), 2);
	ck_assert_int_eq(r.path[2].established_ms, 1000);
	/* A kernel id match wins over changed addresses. */
	s.sf[0].remote = v4("203.0.113.9", 1);
	mptcp_paths_sample(&r, &s, 2000, 0);
	ck_assert_uint_eq(r.n, 3);
}
END_TEST

START_TEST(record_full_counts_dropped)
{
	struct mptcp_paths r;
	struct mptcp_paths_sample s;
	uint64_t acked[1] = { 1 };

	mptcp_paths_init(&r);
	for (uint32_t i = 1; i <= MPTCP_PATHS_MAX + 3; i++) {
		const char *rem[] = { "192.0.2.1" };

		sample(&s, 1, &i, rem, acked);
		mptcp_paths_sample(&r, &s, i, 0);
	}
	ck_assert_uint_eq(r.n, MPTCP_PATHS_MAX);
	ck_assert_uint_eq(r.dropped, 3);
	ck_assert_uint_eq(mptcp_paths_joins(&r), MPTCP_PATHS_MAX + 2);
}
END_TEST

START_TEST(mptcp_then_tcp_is_fallback)
{
	struct mptcp_paths r;
	struct mptcp_paths_sample s;
	uint64_t acked[] = { 5 };

	mptcp_paths_init(&r);
	sample(&s, 1, two_ids, two_remotes, acked);
	mptcp_paths_sample(&r, &s, 0, 0);
	s.how = MPTCP_HOW_TCP;
	s.source = MPTCP_PREC_TCP_INFO;
	s.has_token = 0;
	s.sf[0].id = 0;
	s.sf[0].tcp.bytes_acked = 0;    /* a bad read keeps the last value */
	mptcp_paths_sample(&r, &s, 100, 1);
	ck_assert_str_eq(mptcp_paths_how_name(r.how), "fallback");
	ck_assert_uint_eq(r.n, 1);
	ck_assert_uint_eq(r.path[0].tcp.bytes_acked, 5);
	ck_assert_uint_eq(mptcp_paths_joins(&r), 0);

	mptcp_paths_init(&r);
	mptcp_paths_sample(&r, &s, 0, 0);
	ck_assert_str_eq(mptcp_paths_how_name(r.how), "tcp");
	ck_assert_uint_eq(mptcp_paths_joins(&r), 0);
}
END_TEST

/* ---------------------------------------------------------------- events */

struct msg {
	unsigned char b[1024];
	size_t n;
};

static void put(struct msg *m, uint16_t type, const void *data, size_t len)
{
	struct nlattr a = { .nla_len = (uint16_t)(NLA_HDRLEN + len),
	                    .nla_type = type };

	ck_assert_uint_le(m->n + NLA_ALIGN(a.nla_len), sizeof(m->b));
	memcpy(m->b + m->n, &a, sizeof(a));
	memcpy(m->b + m->n + NLA_HDRLEN, data, len);
	m->n += NLA_ALIGN(a.nla_len);
}

/* A SUB_* event as the kernel sends it for 192.0.2.2:443 <-> REMOTE:PORT. */
static void sub_event(struct msg *m, const char *remote, uint16_t port,
                      int error)
{
	uint32_t token = 0xabcd;
	uint16_t fam = AF_INET, sport = htons(443), dport = htons(port);
	struct in_addr s4, d4;
	uint8_t backup = 0, err = (uint8_t)error;

	memset(m, 0, sizeof(*m));
	inet_pton(AF_INET, "192.0.2.2", &s4);
	inet_pton(AF_INET, remote, &d4);
	put(m, MPTCP_PM_EV_ATTR_TOKEN, &token, 4);
	put(m, MPTCP_PM_EV_ATTR_FAMILY, &fam, 2);
	put(m, MPTCP_PM_EV_ATTR_SADDR4, &s4, 4);
	put(m, MPTCP_PM_EV_ATTR_DADDR4, &d4, 4);
	put(m, MPTCP_PM_EV_ATTR_SPORT, &sport, 2);
	put(m, MPTCP_PM_EV_ATTR_DPORT, &dport, 2);
	put(m, MPTCP_PM_EV_ATTR_BACKUP, &backup, 1);
	if (error)
		put(m, MPTCP_PM_EV_ATTR_ERROR, &err, 1);
}

START_TEST(events_give_times_and_close_reason)
{
	struct mptcp_paths r;
	struct mptcp_paths_sample s;
	struct mptcp_pm_event ev;
	struct msg m;
	uint64_t acked[] = { 100, 70 };
	char prec[64];

	mptcp_paths_init(&r);
	sample(&s, 1, two_ids, two_remotes, acked);
	mptcp_paths_sample(&r, &s, 0, 0);
	sub_event(&m, "198.51.100.1", 40002, 0);
	ck_assert_int_eq(mptcp_pm_event_parse(MPTCP_PM_EV_SUB_ESTABLISHED, m.b,
	                                      m.n, &ev), 0);
	ck_assert_uint_eq(ev.token, 0xabcd);
	ck_assert_uint_eq(ev.remote.port, 40002);
	mptcp_paths_event(&r, &ev, 37);
	ck_assert_uint_eq(r.n, 2);
	ck_assert_int_eq(r.path[1].established_ms, 37);
	sample(&s, 2, two_ids, two_remotes, acked);     /* matched by address */
	mptcp_paths_sample(&r, &s, 1000, 0);
	ck_assert_uint_eq(r.n, 2);
	ck_assert_uint_eq(r.path[1].id, 2);
	ck_assert_int_eq(r.path[1].established_ms, 37);
	sub_event(&m, "198.51.100.1", 40002, ECONNRESET);
	ck_assert_int_eq(mptcp_pm_event_parse(MPTCP_PM_EV_SUB_CLOSED, m.b, m.n,
	                                      &ev), 0);
	mptcp_paths_event(&r, &ev, 1500);
	ck_assert_int_eq(r.path[1].end, MPTCP_PATH_RESET);
	ck_assert_int_eq(r.path[1].error, ECONNRESET);
	ck_assert_int_eq(r.path[1].closed_ms, 1500);
	sample(&s, 1, two_ids, two_remotes, acked);
	mptcp_paths_sample(&r, &s, 2000, 1);
	ck_assert_int_eq(r.path[1].end, MPTCP_PATH_RESET);     /* kept */
	ck_assert_uint_eq(r.path[1].tcp.bytes_acked, 70);
	ck_assert_str_eq(mptcp_paths_precision_text(r.path[1].precision, prec,
	                                             sizeof(prec)),
	                 "events+full_info+last_sample");
	/* After the close sample, events change nothing. */
	sub_event(&m, "203.0.113.1", 1, 0);
	mptcp_pm_event_parse(MPTCP_PM_EV_SUB_ESTABLISHED, m.b, m.n, &ev);
	mptcp_paths_event(&r, &ev, 3000);
	ck_assert_uint_eq(r.n, 2);
}
END_TEST

START_TEST(event_decoder_refuses_bad_input)
{
	struct mptcp_pm_event ev;
	struct msg m;
	uint16_t fam6 = AF_INET6, bad = 1;
	uint32_t token = 7;

	sub_event(&m, "198.51.100.1", 1, 0);
	ck_assert_int_eq(mptcp_pm_event_parse(MPTCP_PM_EV_SUB_CLOSED, m.b,
	                                      m.n - 4, &ev), -EBADMSG);
	/* An IPv4 address under an IPv6 family. */
	memset(&m, 0, sizeof(m));
	put(&m, MPTCP_PM_EV_ATTR_TOKEN, &token, 4);
	put(&m, MPTCP_PM_EV_ATTR_FAMILY, &fam6, 2);
	put(&m, MPTCP_PM_EV_ATTR_SADDR4, &token, 4);
	ck_assert_int_eq(mptcp_pm_event_parse(1, m.b, m.n, &ev), -EBADMSG);
	/* A token of the wrong size. */
	memset(&m, 0, sizeof(m));
	put(&m, MPTCP_PM_EV_ATTR_TOKEN, &bad, 2);
	ck_assert_int_eq(mptcp_pm_event_parse(1, m.b, m.n, &ev), -EBADMSG);
	/* No token. */
	memset(&m, 0, sizeof(m));
	put(&m, MPTCP_PM_EV_ATTR_FAMILY, &fam6, 2);
	ck_assert_int_eq(mptcp_pm_event_parse(1, m.b, m.n, &ev), -ENOENT);
	/* Only a token: a CLOSED event. */
	memset(&m, 0, sizeof(m));
	put(&m, MPTCP_PM_EV_ATTR_TOKEN, &token, 4);
	ck_assert_int_eq(mptcp_pm_event_parse(MPTCP_PM_EV_CLOSED, m.b, m.n, &ev),
	                 0);
	ck_assert_int_eq(ev.has_addrs, 0);
	/* An IPv4 subflow of a dual-stack socket, as v4-mapped IPv6: IPv4,
	 * as the samples store it. */
	{
		struct in6_addr m6, r6;
		uint16_t port = htons(443);

		inet_pton(AF_INET6, "::ffff:192.0.2.2", &m6);
		inet_pton(AF_INET6, "::ffff:198.51.100.1", &r6);
		memset(&m, 0, sizeof(m));
		put(&m, MPTCP_PM_EV_ATTR_TOKEN, &token, 4);
		put(&m, MPTCP_PM_EV_ATTR_FAMILY, &fam6, 2);
		put(&m, MPTCP_PM_EV_ATTR_SADDR6, &m6, 16);
		put(&m, MPTCP_PM_EV_ATTR_DADDR6, &r6, 16);
		put(&m, MPTCP_PM_EV_ATTR_SPORT, &port, 2);
		put(&m, MPTCP_PM_EV_ATTR_DPORT, &port, 2);
		ck_assert_int_eq(mptcp_pm_event_parse(MPTCP_PM_EV_SUB_ESTABLISHED,
		                                      m.b, m.n, &ev), 0);
		ck_assert_int_eq(ev.has_addrs, 1);
		ck_assert_uint_eq(ev.local.family, AF_INET);
		ck_assert_uint_eq(ev.remote.family, AF_INET);
		ck_assert_uint_eq(ev.local.a.v4.s_addr, htonl(0xc0000202));
		ck_assert_uint_eq(ev.local.port, 443);
	}
}
END_TEST

START_TEST(mcast_group_found_by_name)
{
	struct msg grp, grps, top;
	uint32_t id = 0, cmd_id = 4, ev_id = 9;

	memset(&top, 0, sizeof(top));
	memset(&grps, 0, sizeof(grps));
	memset(&grp, 0, sizeof(grp));
	put(&grp, CTRL_ATTR_MCAST_GRP_NAME, "mptcp_pm_cmds", 14);
	put(&grp, CTRL_ATTR_MCAST_GRP_ID, &cmd_id, 4);
	put(&grps, 1, grp.b, grp.n);
	memset(&grp, 0, sizeof(grp));
	put(&grp, CTRL_ATTR_MCAST_GRP_NAME, "mptcp_pm_events", 16);
	put(&grp, CTRL_ATTR_MCAST_GRP_ID, &ev_id, 4);
	put(&grps, 2, grp.b, grp.n);
	put(&top, CTRL_ATTR_MCAST_GROUPS, grps.b, grps.n);
	ck_assert_int_eq(mptcp_nl_parse_mcast_group(top.b, top.n,
	                                            MPTCP_NL_EVENTS_GROUP, &id), 0);
	ck_assert_uint_eq(id, 9);
	ck_assert_int_eq(mptcp_nl_parse_mcast_group(top.b, top.n, "mptcp_pm",
	                                            &id), -ENOENT);
}
END_TEST

/* ---------------------------------------------------------------- text */

static void two_families(struct mptcp_paths *r)
{
	struct mptcp_paths_sample s;
	uint64_t acked[] = { 1000, 2000 };

	mptcp_paths_init(r);
	sample(&s, 2, two_ids, two_remotes, acked);
	s.sf[1].local = v6("2001:db8:b::2", 443);
	s.sf[1].remote = v6("2001:db8:b::1", 50000);
	mptcp_paths_sample(r, &s, 0, 1);
}

START_TEST(log_format_lists_every_path)
{
	struct mptcp_paths r;
	char buf[512];

	two_families(&r);
	ck_assert_uint_eq(mptcp_paths_format_log(&r, buf, sizeof(buf)),
	                  strlen(buf));
	ck_assert_str_eq(buf, "192.0.2.2:443>192.0.2.1:40001:1000/10,"
	                      "[2001:db8:b::2]:443>[2001:db8:b::1]:50000:2000/20");
	/* Too small for the second entry: whole entries, then "...". */
	mptcp_paths_format_log(&r, buf, 44);
	ck_assert_str_eq(buf, "192.0.2.2:443>192.0.2.1:40001:1000/10,...");
	mptcp_paths_init(&r);
	mptcp_paths_format_log(&r, buf, sizeof(buf));
	ck_assert_str_eq(buf, "-");
}
END_TEST

/* Every buffer size gives a valid array: '[' ... ']' of whole objects. */
START_TEST(json_is_bounded_and_whole)
{
	struct mptcp_paths r;
	char buf[2048], full[2048];
	size_t n_full, n;

	two_families(&r);
	n_full = mptcp_paths_format_json(&r, full, sizeof(full));
	ck_assert_uint_eq(n_full, strlen(full));
	ck_assert_ptr_nonnull(strstr(full, "\"local\":\"[2001:db8:b::2]:443\""));
	ck_assert_ptr_nonnull(strstr(full, "\"end\":\"up_at_end\""));
	ck_assert_ptr_nonnull(strstr(full, "\"established_ms\":0,\"closed_ms\":0"));
	for (size_t len = 3; len <= n_full + 1; len++) {
		memset(buf, 'x', sizeof(buf));
		n = mptcp_paths_format_json(&r, buf, len);
		ck_assert_uint_lt(n, len);
		ck_assert_uint_eq(buf[n], '\0');
		ck_assert_int_eq(buf[0], '[');
		ck_assert_int_eq(buf[n - 1], ']');
		ck_assert(n == 2 || buf[n - 2] == '}');
		ck_assert_int_eq(strncmp(buf, full, n - 1), 0);
	}
	ck_assert_uint_eq(mptcp_paths_format_json(&r, buf, 2), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("mptcp_paths");

	UNIT_ADD(s, closed_between_samples_keeps_last_bytes);
	UNIT_ADD(s, joins_count_every_subflow_after_the_first);
	UNIT_ADD(s, record_full_counts_dropped);
	UNIT_ADD(s, mptcp_then_tcp_is_fallback);
	UNIT_ADD(s, events_give_times_and_close_reason);
	UNIT_ADD(s, event_decoder_refuses_bad_input);
	UNIT_ADD(s, mcast_group_found_by_name);
	UNIT_ADD(s, log_format_lists_every_path);
	UNIT_ADD(s, json_is_bounded_and_whole);
	return s;
}

UNIT_MAIN(suite)
