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

int mptcp_refused_errno(int err)
{
	return err == EPROTONOSUPPORT || err == ENOPROTOOPT ||
	       err == EAFNOSUPPORT || err == EINVAL;
}
