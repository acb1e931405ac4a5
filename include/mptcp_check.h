/* `mptcp-frontd --check`: can this host (this network namespace) serve
 * Multipath TCP, and what should its operator change?
 *
 * Three steps, so the judgement is testable without a kernel:
 * mptcp_check_gather() reads the facts (sysctls, netlink, test sockets),
 * mptcp_check_evaluate() turns facts into findings (pure), and
 * mptcp_check_print() writes them. */
#ifndef FRONTD_MPTCP_CHECK_H
#define FRONTD_MPTCP_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mptcp_nl.h"

enum mptcp_check_pm {
	MPTCP_CHECK_PM_UNKNOWN,         /* no sysctl says: in-kernel only */
	MPTCP_CHECK_PM_KERNEL,
	MPTCP_CHECK_PM_USERSPACE,
	MPTCP_CHECK_PM_OTHER,           /* a name this version does not know */
};

/* A test socket(family, SOCK_STREAM, IPPROTO_MPTCP). */
struct mptcp_check_sock {
	int err;                        /* errno from socket(), 0 on success */
	int protocol;                   /* SO_PROTOCOL; -1 when unreadable */
};

/* Everything the verdict depends on.  A sysctl that does not exist reads
 * as -1 (older kernels lack some; all are missing without MPTCP). */
struct mptcp_check_facts {
	char kernel[65];                /* uname release, "" if unknown */
	int enabled;                    /* net.mptcp.enabled */
	enum mptcp_check_pm pm;
	char pm_setting[64];            /* "net.mptcp.path_manager = kernel",
	                                 * "net.mptcp.pm_type = 0" or "" */
	int pm_via_type;                /* only the older pm_type exists */
	int mptcpd_running;             /* in this network namespace */
	int allow_join_initial;         /* allow_join_initial_addr_port */
	/* The kernel's join counters (/proc/net/netstat MPTcpExt), for the
	 * "behind an L4 load balancer" section; mib_err is 0 when read, else
	 * the errno (ENOENT: no MPTcpExt). */
	int mib_err;
	uint64_t join_syn_rx;           /* MPJoinSynRx */
	uint64_t join_ack_rx;           /* MPJoinAckRx */
	uint64_t join_no_token;         /* MPJoinNoTokenFound */
	uint64_t add_addr_tx;           /* AddAddrTx */
	struct mptcp_nl_state nl;       /* limits and endpoints */
	struct mptcp_check_sock sock4, sock6;
};

enum mptcp_check_level {
	MPTCP_CHECK_OK,
	MPTCP_CHECK_WARN,
	MPTCP_CHECK_ERROR,              /* only for what stops MPTCP serving */
};

#define MPTCP_CHECK_TEXT_MAX 256
/* Room for two findings per endpoint and the rest. */
#define MPTCP_CHECK_MAX_FINDINGS (2 * MPTCP_NL_MAX_ENDPOINTS + 24)

struct mptcp_check_finding {
	enum mptcp_check_level level;
	const char *section;            /* heading it is under; NULL: none */
	char text[MPTCP_CHECK_TEXT_MAX];
	char fix[MPTCP_CHECK_TEXT_MAX]; /* "" when there is nothing to do */
};

struct mptcp_check_report {
	const char *section;            /* for the findings added next */
	size_t n;
	size_t n_dropped;               /* findings beyond the array */
	size_t n_errors;                /* counted even when dropped */
	struct mptcp_check_finding f[MPTCP_CHECK_MAX_FINDINGS];
};

/* Read the current network namespace's MPTCP state into *f. */
void mptcp_check_gather(struct mptcp_check_facts *f);

/* Judge the facts: fills *r, returns 1 when the host can serve MPTCP
 * (no finding at MPTCP_CHECK_ERROR), 0 when it cannot. */
int mptcp_check_evaluate(const struct mptcp_check_facts *f,
                         struct mptcp_check_report *r);

/* "ok: ...", "warn: ...", "error: ...", each followed by "  fix: ..."
 * when there is advice, a "== SECTION ==" line before the first finding
 * of each section, then the verdict line. */
void mptcp_check_print(const struct mptcp_check_report *r, int can_serve,
                       FILE *out);

/* The whole of --check, printing to out.  Returns the exit status: 0 when
 * the host can serve MPTCP, 1 when it cannot. */
int mptcp_check_run(FILE *out);

#endif
