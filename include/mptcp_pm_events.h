/* The MPTCP path manager's events ("mptcp_pm_events" generic netlink
 * group): which connection (token) gained or lost which subflow, when, and
 * with what error.  mptcp_pm_event_parse() is a pure decoder for the unit
 * tests; mptcp_pm_events_read() drains the socket mptcp_nl_events_open()
 * gave and hands each event to a callback, which finds the connection by
 * its token (mptcp_paths_sample() records each connection's). */
#ifndef FRONTD_MPTCP_PM_EVENTS_H
#define FRONTD_MPTCP_PM_EVENTS_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

/* enum mptcp_event_type and enum mptcp_event_attr of the kernel's uapi
 * <linux/mptcp.h> (Linux 5.12+; SERVER_SIDE 6.7+). */
enum {
	MPTCP_PM_EV_CREATED = 1,
	MPTCP_PM_EV_ESTABLISHED = 2,
	MPTCP_PM_EV_CLOSED = 3,
	MPTCP_PM_EV_ANNOUNCED = 6,
	MPTCP_PM_EV_REMOVED = 7,
	MPTCP_PM_EV_SUB_ESTABLISHED = 10,
	MPTCP_PM_EV_SUB_CLOSED = 11,
	MPTCP_PM_EV_SUB_PRIORITY = 13,
};
enum {
	MPTCP_PM_EV_ATTR_TOKEN = 1,         /* u32 */
	MPTCP_PM_EV_ATTR_FAMILY = 2,        /* u16 */
	MPTCP_PM_EV_ATTR_LOC_ID = 3,        /* u8 */
	MPTCP_PM_EV_ATTR_REM_ID = 4,        /* u8 */
	MPTCP_PM_EV_ATTR_SADDR4 = 5,        /* be32 */
	MPTCP_PM_EV_ATTR_SADDR6 = 6,        /* struct in6_addr */
	MPTCP_PM_EV_ATTR_DADDR4 = 7,        /* be32 */
	MPTCP_PM_EV_ATTR_DADDR6 = 8,        /* struct in6_addr */
	MPTCP_PM_EV_ATTR_SPORT = 9,         /* be16 */
	MPTCP_PM_EV_ATTR_DPORT = 10,        /* be16 */
	MPTCP_PM_EV_ATTR_BACKUP = 11,       /* u8 */
	MPTCP_PM_EV_ATTR_ERROR = 12,        /* u8: the subflow's sk_err */
	MPTCP_PM_EV_ATTR_FLAGS = 13,        /* u16 */
	MPTCP_PM_EV_ATTR_TIMEOUT = 14,      /* u32 */
	MPTCP_PM_EV_ATTR_IF_IDX = 15,       /* s32 */
	MPTCP_PM_EV_ATTR_RESET_REASON = 16, /* u32: MP_TCPRST reason */
	MPTCP_PM_EV_ATTR_RESET_FLAGS = 17,  /* u32 */
	MPTCP_PM_EV_ATTR_SERVER_SIDE = 18,  /* u8 */
};

/* An IPv4 or IPv6 address and port as the record keeps them (v4-mapped
 * IPv6 is stored as IPv4, so an event and a getsockopt sample of the same
 * subflow compare equal). */
struct mptcp_pm_addr {
	uint16_t family;                /* AF_INET, AF_INET6 or 0: unknown */
	uint16_t port;                  /* host byte order */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} a;
};

struct mptcp_pm_event {
	uint8_t type;                   /* MPTCP_PM_EV_* */
	uint32_t token;
	struct mptcp_pm_addr local;     /* saddr/sport: this host's side */
	struct mptcp_pm_addr remote;    /* daddr/dport */
	int has_addrs;                  /* local and remote are both known */
	uint8_t loc_id, rem_id;
	int backup;                     /* -1: not sent */
	int error;                      /* the subflow's errno; 0: none sent */
	int has_reset;
	uint32_t reset_reason;          /* MPTCP_RST_* when has_reset */
	int32_t ifindex;
	int server_side;                /* -1: not sent (before 6.7) */
};

/* Decode one event (cmd = the genetlink command, attrs after the genetlink
 * header).  Returns 0, -ENOENT when it has no token, -EBADMSG when an
 * attribute has the wrong size or the addresses contradict the family. */
int mptcp_pm_event_parse(uint8_t cmd, const void *attrs, size_t len,
                         struct mptcp_pm_event *ev);

typedef void (*mptcp_pm_event_fn)(const struct mptcp_pm_event *ev, void *arg);

/* Read what is waiting on fd (from mptcp_nl_events_open(), whose family
 * id is `family`), at most 64 datagrams per call so one busy namespace
 * cannot hold the event loop, and call fn for each event.  Returns the
 * number of events, or -ENOBUFS when the kernel had to drop events because
 * we read too slowly (what was read is still handed over; the records of
 * live connections then rely on samples), or another -errno. */
int mptcp_pm_events_read(int fd, uint16_t family, mptcp_pm_event_fn fn,
                         void *arg);

/* Keep only the subflow events (established, closed, priority) on fd, in
 * the kernel (a socket filter): the group also carries an event or three
 * for every connection of the namespace, ours and everyone's, which a
 * server that only records subflows would be woken for.  Returns 0 or
 * -errno. */
int mptcp_pm_events_subflows_only(int fd);

#endif
