/* `announce` and what serves it: the configuration key with its exact
 * errors, the address checks, the ADD_ADDR / DEL_ADDR encoding, the
 * MPTcpExt counter parser, and --check's "behind an L4 load balancer"
 * findings. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "config.h"
#include "mptcp_check.h"
#include "mptcp_mib.h"
#include "mptcp_nl.h"
#include "unit.h"

#define LISTENER \
	"[listener:web]\n" \
	"bind = 127.0.0.1:8000\n" \
	"backend = 127.0.0.1:8080\n"

/* Load "[global]\nannounce = VALUE\n" + LISTENER: NULL and the first
 * error in err when refused. */
static struct config *load(const char *value, char *err, size_t size)
{
	struct config_errors errs = { 0 };
	struct config *cfg = NULL;
	char text[512];

	snprintf(text, sizeof(text), "[global]\nannounce = %s\n" LISTENER,
	         value);
	err[0] = '\0';
	if (config_load_string(text, "t.ini", &cfg, &errs) < 0)
		snprintf(err, size, "%s (%zu)", errs.msg[0], errs.n);
	config_errors_free(&errs);
	return cfg;
}

START_TEST(announce_values)
{
	char err[512], buf[CIDR_STRLEN];
	struct config *cfg = load("203.0.113.7, 2001:db8::7", err, sizeof(err));

	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_uint_eq(cfg->nannounce, 2);
	ck_assert_str_eq(cidr_format(&cfg->announce[0], buf, sizeof(buf)),
	                 "203.0.113.7/32");
	ck_assert_str_eq(cidr_format(&cfg->announce[1], buf, sizeof(buf)),
	                 "2001:db8::7/128");
	config_free(cfg);
}
END_TEST

#define ALONE \
	"expected an IPv4 or IPv6 address alone (no prefix, port, brackets " \
	"or host name)"

START_TEST(announce_errors)
{
	static const struct {
		const char *value, *error;
	} bad[] = {
		{ "203.0.113.7:443", "bad address \"203.0.113.7:443\": " ALONE },
		{ "203.0.113.0/24", "bad address \"203.0.113.0/24\": " ALONE },
		{ "[2001:db8::1]", "bad address \"[2001:db8::1]\": " ALONE },
		{ "0.0.0.0", "bad address \"0.0.0.0\": not a unicast address "
		  "another host can reach (wildcard, loopback, multicast or "
		  "broadcast)" },
		{ "127.0.0.1", NULL }, { "::1", NULL }, { "::", NULL },
		{ "224.0.0.1", NULL }, { "255.255.255.255", NULL },
		{ "ff02::1", NULL }, { "fe80::1", NULL }, { "169.254.1.1", NULL },
		{ "node1.example", "bad address \"node1.example\": " ALONE },
		{ "203.0.113.7, 203.0.113.7", "address \"203.0.113.7\" listed "
		  "twice" },
		{ "203.0.113.7,,203.0.113.8", "empty item in list" },
		{ "1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,1.1.1.7,"
		  "1.1.1.8,1.1.1.9", "too many addresses (at most 8)" },
	};
	char err[512], want[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct config *cfg = load(bad[i].value, err, sizeof(err));

		ck_assert_msg(cfg == NULL, "accepted \"%s\"", bad[i].value);
		if (bad[i].error != NULL)
			snprintf(want, sizeof(want), "t.ini:2: [global] announce: "
			         "%s (1)", bad[i].error);
		else
			snprintf(want, sizeof(want), "t.ini:2: [global] announce: "
			         "bad address \"%s\": not a unicast address "
			         "another host can reach (wildcard, loopback, "
			         "multicast or broadcast) (1)", bad[i].value);
		ck_assert_str_eq(err, want);
	}
}
END_TEST

START_TEST(announce_in_listener_section_is_refused)
{
	struct config_errors errs = { 0 };
	struct config *cfg = NULL;

	ck_assert_int_eq(config_load_string(LISTENER "announce = 203.0.113.7\n",
	                                    "t.ini", &cfg, &errs), -1);
	ck_assert_uint_eq(errs.n, 1);
	ck_assert_str_eq(errs.msg[0], "t.ini:4: [listener:web] announce: "
	                 "unknown key here; it belongs in [global]");
	config_errors_free(&errs);
}
END_TEST

START_TEST(cidr_equal_and_unicast)
{
	struct cidr a, b;
	char err[128];

	ck_assert_int_eq(cidr_parse("192.0.2.1", &a, err, sizeof(err)), 0);
	ck_assert_int_eq(cidr_parse("192.0.2.1", &b, err, sizeof(err)), 0);
	ck_assert(cidr_equal(&a, &b));
	ck_assert(cidr_is_unicast_host(&a));
	ck_assert_int_eq(cidr_parse("192.0.2.0/24", &b, err, sizeof(err)), 0);
	ck_assert(!cidr_equal(&a, &b));
	ck_assert(!cidr_is_unicast_host(&b));   /* a prefix, not a host */
	ck_assert_int_eq(cidr_parse("2001:db8::1", &b, err, sizeof(err)), 0);
	ck_assert(!cidr_equal(&a, &b));
	ck_assert(cidr_is_unicast_host(&b));
}
END_TEST

/* ADD_ADDR's nest, byte for byte: what `ip mptcp endpoint add 192.0.2.1
 * signal` sends. */
START_TEST(endpoint_encoded)
{
	static const unsigned char want[] = {
		28, 0, 1, 0x80,         /* type 1 | NLA_F_NESTED */
		6, 0, 1, 0, 2, 0, 0, 0,                 /* family AF_INET */
		8, 0, 3, 0, 192, 0, 2, 1,               /* addr4 */
		8, 0, 6, 0, 1, 0, 0, 0,                 /* flags: signal */
	};
	struct mptcp_nl_endpoint ep, back;
	unsigned char buf[MPTCP_NL_ATTRS_MAX];
	int len;

	memset(&ep, 0, sizeof(ep));
	ep.family = AF_INET;
	inet_pton(AF_INET, "192.0.2.1", &ep.addr.v4);
	ep.flags = MPTCP_NL_FLAG_SIGNAL;
	len = mptcp_nl_encode_endpoint(&ep, buf, sizeof(buf));
	ck_assert_int_eq(len, (int)sizeof(want));
	ck_assert_mem_eq(buf, want, sizeof(want));
	/* The decoder reads back what the encoder wrote. */
	ck_assert_int_eq(mptcp_nl_parse_endpoint(buf, (size_t)len, &back), 0);
	ck_assert_int_eq(back.family, AF_INET);
	ck_assert_uint_eq(back.flags, MPTCP_NL_FLAG_SIGNAL);
	ck_assert_mem_eq(&back.addr.v4, &ep.addr.v4, 4);

	/* DEL_ADDR: the id alone. */
	memset(&ep, 0, sizeof(ep));
	ep.id = 7;
	len = mptcp_nl_encode_endpoint(&ep, buf, sizeof(buf));
	ck_assert_int_eq(len, 12);
	ck_assert_int_eq(buf[4 + 2], 2);        /* MPTCP_NL_ADDR_ID */
	ck_assert_int_eq(buf[4 + 4], 7);
	/* Neither: refused; too small a buffer: refused. */
	ep.id = 0;
	ck_assert_int_eq(mptcp_nl_encode_endpoint(&ep, buf, sizeof(buf)),
	                 -EINVAL);
	ep.family = AF_INET6;
	ck_assert_int_eq(mptcp_nl_encode_endpoint(&ep, buf, 20), -EMSGSIZE);
}
END_TEST

START_TEST(mib_parsed)
{
	static const char text[] =
		"TcpExt: SyncookiesSent SyncookiesRecv\n"
		"TcpExt: 0 0\n"
		"MPTcpExt: MPCapableSYNRX MPJoinNoTokenFound MPJoinSynRx AddAddrTx\n"
		"MPTcpExt: 12 5 9 18446744073709551615\n";
	struct mptcp_mib *m = calloc(1, sizeof(*m));
	uint64_t v = 0;

	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(mptcp_mib_parse(text, m), 0);
	ck_assert_uint_eq(m->n, 4);
	ck_assert_int_eq(mptcp_mib_get(m, "MPJoinNoTokenFound", &v), 0);
	ck_assert_uint_eq(v, 5);
	ck_assert_int_eq(mptcp_mib_get(m, "AddAddrTx", &v), 0);
	ck_assert(v == UINT64_MAX);
	ck_assert_int_eq(mptcp_mib_get(m, "MPJoinAckRx", &v), -1);
	ck_assert_int_eq(mptcp_mib_parse("TcpExt: A\nTcpExt: 1\n", m), -ENOENT);
	ck_assert_int_eq(mptcp_mib_parse("MPTcpExt: A B\nMPTcpExt: 1\n", m),
	                 -EBADMSG);
	ck_assert_int_eq(mptcp_mib_parse("MPTcpExt: A\nMPTcpExt: 1 2\n", m),
	                 -EBADMSG);
	ck_assert_int_eq(mptcp_mib_parse("MPTcpExt: A\nMPTcpExt: x\n", m),
	                 -EBADMSG);
	ck_assert_int_eq(mptcp_mib_parse("MPTcpExt: A\n", m), -EBADMSG);
	free(m);
}
END_TEST

static struct mptcp_check_facts facts;
static struct mptcp_check_report report;

/* A kernel-PM host with no endpoints; `signal` adds one. */
static void host(int allow_join, int signal, uint64_t no_token)
{
	memset(&facts, 0, sizeof(facts));
	facts.enabled = 1;
	facts.pm = MPTCP_CHECK_PM_KERNEL;
	facts.allow_join_initial = allow_join;
	facts.nl.limits.subflows = 2;
	facts.nl.limits.have_subflows = 1;
	facts.nl.limits.have_add_addr_accepted = 1;
	facts.sock4.protocol = facts.sock6.protocol = IPPROTO_MPTCP;
	facts.join_syn_rx = 8;
	facts.join_ack_rx = 8 - no_token;
	facts.join_no_token = no_token;
	facts.add_addr_tx = 3;
	if (signal) {
		facts.nl.n_endpoints = 1;
		facts.nl.ep[0].family = AF_INET;
		inet_pton(AF_INET, "203.0.113.18", &facts.nl.ep[0].addr.v4);
		facts.nl.ep[0].id = 1;
		facts.nl.ep[0].flags = MPTCP_NL_FLAG_SIGNAL;
	}
	mptcp_check_evaluate(&facts, &report);
}

static const struct mptcp_check_finding *find(const char *needle)
{
	for (size_t i = 0; i < report.n; i++)
		if (strstr(report.f[i].text, needle) != NULL)
			return &report.f[i];
	return NULL;
}

START_TEST(balancer_section)
{
	const struct mptcp_check_finding *f;

	host(1, 0, 4);
	f = find("kernel counters");
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f->section, "behind an L4 load balancer");
	ck_assert_str_eq(f->text, "kernel counters: 8 joins received "
	                 "(MPJoinSynRx), 4 subflows added (MPJoinAckRx), 4 "
	                 "joins refused for an unknown token "
	                 "(MPJoinNoTokenFound), 3 ADD_ADDR sent (AddAddrTx)");
	f = find("MP_JOINs were refused");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(f->level, MPTCP_CHECK_WARN);
	ck_assert_ptr_nonnull(strstr(f->fix, "`announce = NODE_ADDR`"));
	ck_assert_ptr_nonnull(strstr(f->fix, "allow_join_initial_addr_port=0"));
	ck_assert_ptr_nonnull(find("no `signal` endpoint"));
	ck_assert_ptr_null(find("net.mptcp.enabled")->section);

	/* Set up for a balancer: still warned (the count is since the
	 * namespace was made), with other advice. */
	host(0, 1, 1);
	f = find("MP_JOIN was refused");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(strstr(f->fix, "set-up above is right"));
	ck_assert_str_eq(find("signal endpoints")->text, "signal endpoints "
	                 "(announced to every MPTCP client): 203.0.113.18");
	ck_assert_int_eq(find("allow_join_initial_addr_port = 0")->level,
	                 MPTCP_CHECK_OK);

	/* Nothing refused: no warning in the section. */
	host(1, 1, 0);
	for (size_t i = 0; i < report.n; i++)
		ck_assert_int_ne(report.f[i].level, MPTCP_CHECK_WARN);
	/* No MPTcpExt to read: no counters line. */
	facts.mib_err = ENOENT;
	mptcp_check_evaluate(&facts, &report);
	ck_assert_ptr_null(find("kernel counters"));
}
END_TEST

static Suite *make_suite(void)
{
	Suite *s = suite_create("fleet");

	UNIT_ADD(s, announce_values);
	UNIT_ADD(s, announce_errors);
	UNIT_ADD(s, announce_in_listener_section_is_refused);
	UNIT_ADD(s, cidr_equal_and_unicast);
	UNIT_ADD(s, endpoint_encoded);
	UNIT_ADD(s, mib_parsed);
	UNIT_ADD(s, balancer_section);
	return s;
}

UNIT_MAIN(make_suite)
