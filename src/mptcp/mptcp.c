/* MPTCP facts from the kernel.  struct mptcp_info grows between kernel
 * versions, so we declare the prefix we read ourselves (layout of the
 * kernel's uapi linux/mptcp.h), zero it and trust only what the kernel
 * says it filled in. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "compat.h"
#include "mptcp.h"

struct mptcp_info_prefix {
	uint8_t subflows;               /* additional subflows */
	uint8_t add_addr_signal;
	uint8_t add_addr_accepted;
	uint8_t subflows_max;
	uint8_t add_addr_signal_max;
	uint8_t add_addr_accepted_max;
	uint32_t flags;
	uint32_t token;
	uint64_t write_seq;
	uint64_t snd_una;
	uint64_t rcv_nxt;
	uint8_t local_addr_used;
	uint8_t local_addr_max;
	uint8_t csum_enabled;
	uint32_t retransmits;
	uint64_t bytes_retrans;
	uint64_t bytes_sent;
	uint64_t bytes_received;
	uint64_t bytes_acked;
	uint8_t subflows_total;         /* Linux 6.8+: all subflows */
	uint8_t reserved[3];
	uint32_t last_data_sent;
	uint32_t last_data_recv;
	uint32_t last_ack_recv;
	uint32_t reserved2;
};

int mptcp_conn_info(int fd, unsigned *subflows)
{
	struct mptcp_info_prefix info;
	socklen_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (getsockopt(fd, SOL_MPTCP, MPTCP_INFO, &info, &len) < 0) {
		*subflows = 1;
		return 0;
	}
	if (len > offsetof(struct mptcp_info_prefix, subflows_total) &&
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
