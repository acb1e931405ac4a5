/* The path record of one connection: every subflow it ever had, with its
 * addresses, lifetime, how it ended, and its bytes, RTT, cwnd and
 * retransmissions; plus how the client connected (mptcp / tcp / fallback)
 * and the connection's MPTCP totals.
 *
 * Who feeds it (the connection owns the record; nothing here allocates,
 * blocks or knows about libevent):
 *   accept      mptcp_paths_init(), then mptcp_paths_poll(fd, r, 0, 0):
 *               classifies the socket and learns the token that the
 *               path-manager events carry (r->token when r->has_token);
 *   probe tick  mptcp_paths_poll(fd, r, ms_since_accept, 0);
 *   pm event    mptcp_paths_event(r, ev, ms_since_accept) for the record
 *               whose token is ev->token (mptcp_pm_events.h);
 *   close       mptcp_paths_poll(fd, r, ms_since_accept, 1) while fd is
 *               still open, then the formatters below.
 * Samples are MPTCP_FULL_INFO (Linux 6.5+), else MPTCP_TCPINFO paired with
 * MPTCP_SUBFLOW_ADDRS (5.16+), else TCP_INFO for a plain or fallen-back
 * connection; each subflow's `precision` says which, and how fresh its
 * figures are (mptcp_paths_precision_text()). */
#ifndef FRONTD_MPTCP_PATHS_H
#define FRONTD_MPTCP_PATHS_H

#include <stddef.h>
#include <stdint.h>

#include "mptcp_pm_events.h"

/* Subflows kept per connection; a connection that ever had more counts the
 * rest in `dropped` (joins still counts them).  The kernel allows at most
 * 8 additional subflows at a time (MPTCP_PM_ADDR_MAX). */
#define MPTCP_PATHS_MAX 10

enum mptcp_how {
	MPTCP_HOW_UNKNOWN = 0,          /* not classified yet */
	MPTCP_HOW_MPTCP,                /* MPTCP, not fallen back (yet) */
	MPTCP_HOW_TCP,                  /* the client did not ask for MPTCP */
	MPTCP_HOW_FALLBACK,             /* MP_CAPABLE negotiated, then plain TCP */
};

enum mptcp_path_end {
	MPTCP_PATH_UP = 0,              /* up at the last sample */
	MPTCP_PATH_UP_AT_END,           /* still up when the connection closed */
	MPTCP_PATH_CLOSED,              /* closed without error (event) */
	MPTCP_PATH_RESET,               /* reset: ECONNRESET or an MP_TCPRST (event) */
	MPTCP_PATH_ERROR,               /* closed with the path's error (event) */
	MPTCP_PATH_GONE,                /* vanished between samples, or seen in
	                                 * state CLOSE; no event said why */
};

/* Where a subflow's figures come from (bits). */
enum {
	MPTCP_PREC_EVENTS = 1 << 0,     /* times and end from pm events (ms) */
	MPTCP_PREC_FULL_INFO = 1 << 1,  /* bytes from MPTCP_FULL_INFO, by id */
	MPTCP_PREC_TCPINFO = 1 << 2,    /* MPTCP_TCPINFO + SUBFLOW_ADDRS, paired
	                                 * by position in two reads */
	MPTCP_PREC_TCP_INFO = 1 << 3,   /* TCP_INFO: the one path of a plain or
	                                 * fallen-back connection */
	MPTCP_PREC_FINAL = 1 << 4,      /* sampled at the connection's close
	                                 * while up: the bytes are final */
};

/* One subflow's TCP figures (from its struct tcp_info). */
struct mptcp_path_tcp {
	uint64_t bytes_acked;           /* sent and acknowledged: "SENT" */
	uint64_t bytes_sent;            /* sent, retransmissions included */
	uint64_t bytes_retrans;
	uint64_t bytes_received;
	uint32_t srtt_us;
	uint32_t cwnd;                  /* segments */
	uint32_t retrans;               /* retransmitted segments, total */
	uint8_t state;                  /* TCP_ESTABLISHED ... */
};

struct mptcp_path {
	uint32_t id;                    /* kernel subflow id (6.5+); 0: none */
	struct mptcp_pm_addr local, remote;
	int64_t established_ms;         /* since accept; -1: unknown */
	int64_t closed_ms;              /* -1 while up */
	int64_t last_seen_ms;           /* last sample that saw it; -1: never */
	uint8_t end;                    /* enum mptcp_path_end */
	int8_t backup;                  /* -1: unknown */
	uint8_t precision;              /* MPTCP_PREC_* */
	uint8_t has_reset;
	int error;                      /* errno the kernel gave at close; 0 */
	uint32_t reset_reason;          /* MPTCP_RST_* when has_reset */
	uint32_t seen_gen;              /* sample number that last saw it */
	struct mptcp_path_tcp tcp;
};

/* The connection-level figures of MPTCP_INFO (last read). */
struct mptcp_paths_totals {
	uint64_t bytes_sent, bytes_received, bytes_acked, bytes_retrans;
	uint32_t retransmits;
	uint32_t flags;                 /* MPTCP_KABI_INFO_FLAG_* */
	uint8_t subflows_now;           /* subflows at that moment */
	uint8_t csum_enabled;
};

struct mptcp_paths {
	uint8_t how;                    /* enum mptcp_how */
	uint8_t has_token, has_totals, finished, closed_event;
	uint8_t n;                      /* in path[] */
	uint16_t dropped;               /* subflows beyond MPTCP_PATHS_MAX */
	uint32_t token;                 /* the pm events' MPTCP token */
	uint32_t gen;                   /* samples taken */
	int64_t last_sample_ms;
	struct mptcp_paths_totals totals;
	struct mptcp_path path[MPTCP_PATHS_MAX];
};

/* What one reading of the kernel gave (mptcp_paths_read()). */
#define MPTCP_PATHS_SAMPLE_MAX 16
struct mptcp_paths_sample {
	uint8_t how;                    /* enum mptcp_how, from the socket alone */
	uint8_t source;                 /* MPTCP_PREC_FULL_INFO/TCPINFO/TCP_INFO
	                                 * or 0: nothing could be read */
	uint8_t has_token, has_totals;
	uint8_t complete;               /* sf[] lists every subflow */
	uint32_t token;
	struct mptcp_paths_totals totals;
	unsigned n;
	struct {
		uint32_t id;
		struct mptcp_pm_addr local, remote;
		struct mptcp_path_tcp tcp;
	} sf[MPTCP_PATHS_SAMPLE_MAX];
};

void mptcp_paths_init(struct mptcp_paths *r);

/* Merge one sample taken now_ms after accept; final = the close sample. */
void mptcp_paths_sample(struct mptcp_paths *r,
                        const struct mptcp_paths_sample *s, int64_t now_ms,
                        int final);

/* Merge one path-manager event for this record's token. */
void mptcp_paths_event(struct mptcp_paths *r, const struct mptcp_pm_event *ev,
                       int64_t now_ms);

/* ---- the kernel side (mptcp_paths_sock.c) */

/* How the client on accepted socket fd connected, from the socket alone
 * (Linux 6.18, measured): a client that did not ask for MPTCP is handed
 * over as a plain TCP socket (SO_PROTOCOL 6); an MPTCP socket whose
 * MPTCP_INFO fails (getsockopt passes through to the one TCP subflow) or
 * says MPTCP_INFO_FLAG_FALLBACK has fallen back. */
enum mptcp_how mptcp_paths_classify(int fd);

/* At accept, in one syscall for an MPTCP client (MPTCP_INFO; a second,
 * SO_PROTOCOL, only when that fails): how it connected, and for MPTCP the
 * token of its path-manager events and its subflows now (else 0 and 1).
 * The record itself is then only needed for connections that last. */
enum mptcp_how mptcp_paths_accept(int fd, uint32_t *token,
                                  unsigned *subflows);

/* Read fd's subflows and totals into s.  Returns 0, or -errno when
 * nothing could be read (s->source is then 0). */
int mptcp_paths_read(int fd, struct mptcp_paths_sample *s);

/* mptcp_paths_read() then mptcp_paths_sample(). */
void mptcp_paths_poll(int fd, struct mptcp_paths *r, int64_t now_ms,
                      int final);

/* ---- formatting (for the access log and the JSON views) */

const char *mptcp_paths_how_name(enum mptcp_how how); /* "mptcp", "tcp", ... */
const char *mptcp_path_end_name(enum mptcp_path_end end); /* "up", "reset", ... */

/* "events+full_info+final" and the like, into buf (at least 64 bytes). */
const char *mptcp_paths_precision_text(unsigned precision, char *buf,
                                       size_t len);

/* Subflows added after the first (0 for tcp and fallback). */
unsigned mptcp_paths_joins(const struct mptcp_paths *r);

/* "LOCAL>REMOTE:SENT/RECEIVED,..." (IPv6 in brackets, SENT = bytes_acked),
 * or "-" with no subflow.  Whole entries only: when the next one does not
 * fit, "..." ends the list.  Returns the length written (always
 * NUL-terminated when len > 0). */
size_t mptcp_paths_format_log(const struct mptcp_paths *r, char *buf,
                              size_t len);

/* A JSON array with one object per subflow and every field; always valid
 * JSON: objects that do not fit are left out whole.  Returns the length
 * written, 0 when len < 3. */
size_t mptcp_paths_format_json(const struct mptcp_paths *r, char *buf,
                               size_t len);

#endif
