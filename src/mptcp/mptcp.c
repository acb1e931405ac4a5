/* MPTCP facts from the kernel.  struct mptcp_info grows between kernel
 * versions: we zero our copy of its layout (mptcp_kabi.h) and trust only
 * what the kernel says it filled in. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "compat.h"
#include "mptcp.h"
#include "mptcp_kabi.h"

int mptcp_conn_info(int fd, unsigned *subflows)
{
	struct mptcp_kabi_info info;
	socklen_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (getsockopt(fd, SOL_MPTCP, MPTCP_INFO, &info, &len) < 0) {
		*subflows = 1;
		return 0;
	}
	if (len > offsetof(struct mptcp_kabi_info, subflows_total) &&
	    info.subflows_total > 0)
		*subflows = info.subflows_total;
	else
		*subflows = (unsigned)info.subflows + 1;
	return 1;
}

int mptcp_refused_errno(int err)
{
	return err == EPROTONOSUPPORT || err == ENOPROTOOPT ||
	       err == EAFNOSUPPORT || err == EINVAL;
}
