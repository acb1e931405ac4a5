/* `--check`, "behind an L4 load balancer": what a node needs when a
 * balancer hashes each subflow on its own (RFC 8684's C flag; see
 * conf/fleet/README.md) -- net.mptcp.allow_join_initial_addr_port = 0, a
 * `signal` endpoint with the node's own address -- and the symptom when
 * it is missing: joins refused for a token nobody here knows. */
#include "auto-config.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "mptcp_check_internal.h"

#define SECTION "behind an L4 load balancer"
#define REMEDY \
	"on every node, announce its own unicast address and keep clients " \
	"off the balanced one: `announce = NODE_ADDR` in [global] of " \
	"mptcp-frontd.ini (or `ip mptcp endpoint add NODE_ADDR signal` and " \
	"`sysctl -w net.mptcp.allow_join_initial_addr_port=0`); behind a NAT " \
	"balancer, announce an address other than the one it sends to"

/* "192.0.2.1, 2001:db8::1" of the signal endpoints; returns their count
 * (unknown dropped ones included: they may signal). */
static size_t signal_endpoints(const struct mptcp_nl_state *nl, char *buf,
                               size_t size)
{
	size_t n = 0, used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < nl->n_endpoints; i++) {
		char a[INET6_ADDRSTRLEN] = "?";

		if (!(nl->ep[i].flags & MPTCP_NL_FLAG_SIGNAL))
			continue;
		if (nl->ep[i].family == AF_INET || nl->ep[i].family == AF_INET6)
			inet_ntop(nl->ep[i].family, &nl->ep[i].addr, a, sizeof(a));
		if (used < size)
			used += (size_t)snprintf(buf + used, size - used, "%s%s",
			                         n ? ", " : "", a);
		n++;
	}
	return n + nl->n_dropped;
}

static void judge_allow_join(const struct mptcp_check_facts *f, size_t nsig,
                             struct mptcp_check_report *r)
{
	struct mptcp_check_finding *x;

	if (f->allow_join_initial < 0)
		return;         /* kernels before 5.17 always allow it */
	if (f->allow_join_initial != 0) {
		mptcp_check_add(r, MPTCP_CHECK_OK, "net.mptcp.allow_join_"
		                "initial_addr_port = %d: clients may add subflows "
		                "to the address they first reached; behind an L4 "
		                "load balancer set it to 0 and add a `signal` "
		                "endpoint with this host's own address",
		                f->allow_join_initial);
	} else if (mptcp_check_pm_in_kernel(f) && f->nl.endpoints_err == 0 &&
	           nsig == 0) {
		x = mptcp_check_add(r, MPTCP_CHECK_WARN, "net.mptcp.allow_join_"
		                    "initial_addr_port = 0 and no `signal` "
		                    "endpoint: clients have no address to add "
		                    "subflows to");
		mptcp_check_fix(x, "run `ip mptcp endpoint add ADDR dev IF "
		                "signal` with this host's own address (or set "
		                "`announce = ADDR`)");
	} else {
		mptcp_check_add(r, MPTCP_CHECK_OK, "net.mptcp.allow_join_"
		                "initial_addr_port = 0: clients add subflows only "
		                "to announced (`signal`) addresses, as an L4 load "
		                "balancer needs");
	}
}

static void judge_joins(const struct mptcp_check_facts *f, int fixed,
                        struct mptcp_check_report *r)
{
	struct mptcp_check_finding *x;

	if (f->mib_err != 0)
		return;         /* no MPTcpExt: said above, no MPTCP */
	mptcp_check_add(r, MPTCP_CHECK_OK, "kernel counters: %llu joins "
	                "received (MPJoinSynRx), %llu subflows added "
	                "(MPJoinAckRx), %llu joins refused for an unknown token "
	                "(MPJoinNoTokenFound), %llu ADD_ADDR sent (AddAddrTx)",
	                (unsigned long long)f->join_syn_rx,
	                (unsigned long long)f->join_ack_rx,
	                (unsigned long long)f->join_no_token,
	                (unsigned long long)f->add_addr_tx);
	if (f->join_no_token == 0)
		return;
	x = mptcp_check_add(r, MPTCP_CHECK_WARN, "%llu MP_JOIN%s refused: no "
	                    "connection in this network namespace has %s token "
	                    "(MPJoinNoTokenFound); behind an L4 load balancer "
	                    "this means joins reach nodes that do not hold "
	                    "their connection, which then stays on one path",
	                    (unsigned long long)f->join_no_token,
	                    f->join_no_token == 1 ? " was" : "s were",
	                    f->join_no_token == 1 ? "its" : "their");
	if (fixed)
		mptcp_check_fix(x, "this node's set-up above is right (the "
		                "counter counts since the namespace was made): if "
		                "it still rises, another node lacks it, or an "
		                "announced address reaches this node through the "
		                "balancer rather than directly");
	else
		mptcp_check_fix(x, "%s", REMEDY);
}

void mptcp_check_balancer(const struct mptcp_check_facts *f,
                          struct mptcp_check_report *r)
{
	char list[256];
	size_t nsig = f->nl.endpoints_err == 0
	              ? signal_endpoints(&f->nl, list, sizeof(list)) : 0;

	r->section = SECTION;
	judge_allow_join(f, nsig, r);
	if (f->nl.endpoints_err == 0 && nsig > 0)
		mptcp_check_add(r, MPTCP_CHECK_OK, "signal endpoints (announced "
		                "to every MPTCP client): %s", list);
	else if (f->nl.endpoints_err == 0)
		mptcp_check_add(r, MPTCP_CHECK_OK, "no `signal` endpoint: clients "
		                "learn no address of this host but the one they "
		                "reached");
	judge_joins(f, f->allow_join_initial == 0 && nsig > 0, r);
	r->section = NULL;
}
