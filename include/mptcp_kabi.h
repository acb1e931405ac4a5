/* MPTCP socket-option structures, as the kernel lays them out.
 *
 * Debian 12's <linux/mptcp.h> (Linux 6.1) stops at MPTCP_SUBFLOW_ADDRS and
 * a struct mptcp_info without the 6.2+ byte counters, so we declare the
 * layouts of Linux 6.10's include/uapi/linux/mptcp.h (unchanged through
 * 6.18 but for two former reserved bytes) under our own names: they never
 * clash with a newer installed header, and src/mptcp/mptcp_paths_sock.c
 * checks them against it when it has them.  The kernel copies
 * min(our size, its size) of each structure and says how much in the
 * returned lengths: zero everything first and trust only what it filled. */
#ifndef FRONTD_MPTCP_KABI_H
#define FRONTD_MPTCP_KABI_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

/* getsockopt(SOL_MPTCP, ...) option names. */
#define MPTCP_KABI_INFO 1
#define MPTCP_KABI_TCPINFO 2            /* Linux 5.16+ */
#define MPTCP_KABI_SUBFLOW_ADDRS 3      /* Linux 5.16+ */
#define MPTCP_KABI_FULL_INFO 4          /* Linux 6.5+ */

/* getsockopt(SOL_TCP, TCP_IS_MPTCP): 1 on an MPTCP socket that has not
 * fallen back (Linux 5.16+). */
#define MPTCP_KABI_TCP_IS_MPTCP 43

#define MPTCP_KABI_INFO_FLAG_FALLBACK (1u << 0)
#define MPTCP_KABI_INFO_FLAG_REMOTE_KEY_RECEIVED (1u << 1)

/* struct mptcp_info, Linux 6.10 (96 bytes).  Older kernels fill a prefix:
 * up to csum_enabled in 5.16, the byte counters from 6.2, subflows_total
 * from 6.8, the last_* times from 6.10. */
struct mptcp_kabi_info {
	uint8_t subflows;               /* additional subflows now */
	uint8_t add_addr_signal;
	uint8_t add_addr_accepted;
	uint8_t subflows_max;
	uint8_t add_addr_signal_max;
	uint8_t add_addr_accepted_max;
	uint32_t flags;                 /* MPTCP_KABI_INFO_FLAG_* */
	uint32_t token;                 /* the path-manager events' token */
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
	uint8_t subflows_total;         /* all subflows now (6.8+) */
	uint8_t reserved[3];
	uint32_t last_data_sent;
	uint32_t last_data_recv;
	uint32_t last_ack_recv;
};

/* struct mptcp_subflow_data: the header MPTCP_TCPINFO and
 * MPTCP_SUBFLOW_ADDRS read and write before their array. */
struct mptcp_kabi_subflow_data {
	uint32_t size_subflow_data;     /* sizeof this header */
	uint32_t num_subflows;          /* set by the kernel */
	uint32_t size_kernel;           /* set by the kernel */
	uint32_t size_user;             /* one element of the array */
} __attribute__((aligned(8)));

/* struct mptcp_subflow_addrs: two sockaddr_storage-sized unions. */
struct mptcp_kabi_subflow_addrs {
	struct sockaddr_storage local;
	struct sockaddr_storage remote;
};

/* struct mptcp_subflow_info (6.5+). */
struct mptcp_kabi_subflow_info {
	uint32_t id;                    /* the subflow's id within its connection */
	struct mptcp_kabi_subflow_addrs addrs;
};

/* struct mptcp_full_info (6.5+): the kernel writes up to size_arrays_user
 * elements into the two user arrays and says how many subflows there are
 * in num_subflows (possibly more than it wrote). */
struct mptcp_kabi_full_info {
	uint32_t size_tcpinfo_kernel;   /* set by the kernel */
	uint32_t size_tcpinfo_user;
	uint32_t size_sfinfo_kernel;    /* set by the kernel */
	uint32_t size_sfinfo_user;
	uint32_t num_subflows;          /* set by the kernel */
	uint32_t size_arrays_user;
	uint64_t subflow_info __attribute__((aligned(8))); /* user pointer */
	uint64_t tcp_info __attribute__((aligned(8)));     /* user pointer */
	struct mptcp_kabi_info mptcp_info;
};

#endif
