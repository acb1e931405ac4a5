/* The kernel's MPTCP counters (the "MPTcpExt" lines of /proc/net/netstat,
 * which `nstat` shows as MPTcpExt*) of the current network namespace:
 * joins received, refused for an unknown token, ADD_ADDR sent...  The
 * parser is pure so the unit tests feed it text; mptcp_mib_read() is the
 * only part that reads the file. */
#ifndef FRONTD_MPTCP_MIB_H
#define FRONTD_MPTCP_MIB_H

#include <stddef.h>
#include <stdint.h>

#define MPTCP_MIB_MAX 160               /* Linux 6.18 has 78 */
#define MPTCP_MIB_NAME_MAX 40

struct mptcp_mib {
	size_t n;
	char name[MPTCP_MIB_MAX][MPTCP_MIB_NAME_MAX];
	uint64_t value[MPTCP_MIB_MAX];
};

/* Parse netstat text: the "MPTcpExt:" names line and the values line that
 * follows it.  Names past MPTCP_MIB_MAX or too long are skipped.  Returns
 * 0, -ENOENT when there is no MPTcpExt pair (no MPTCP in this kernel), or
 * -EBADMSG when the two lines do not match up. */
int mptcp_mib_parse(const char *text, struct mptcp_mib *out);

/* /proc/net/netstat.  Returns 0 or -errno. */
int mptcp_mib_read(struct mptcp_mib *out);

/* The value of counter `name` in *v: 0, or -1 when this kernel lacks it. */
int mptcp_mib_get(const struct mptcp_mib *m, const char *name, uint64_t *v);

#endif
