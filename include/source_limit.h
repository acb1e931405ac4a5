/* Connections counted per client source, for max_connections_per_source:
 * a table of source -> open connections that every worker shares (one per
 * listener name, kept with its counters in struct listener_stats).  A
 * source is the client address cut to a prefix: by default each IPv4
 * address, and each IPv6 /64 (what one customer line usually gets, so an
 * attacker with a /64 cannot multiply itself by its addresses).
 *
 * The table is lock-striped: a source's entry is looked at and changed
 * under its stripe's mutex only, so the check and the count are one step
 * and the limit holds exactly across workers.  An entry exists only while
 * its source has a connection open, so the table is bounded by the open
 * connections; a refusal never allocates. */
#ifndef FRONTD_SOURCE_LIMIT_H
#define FRONTD_SOURCE_LIMIT_H

#include <stdint.h>
#include <sys/socket.h>

struct source_table;

struct source_key {
	uint8_t family;         /* 4 or 6 */
	uint8_t bits;           /* the prefix length applied */
	uint8_t addr[16];       /* the masked address (4 bytes for IPv4) */
};

/* The source of sa: an IPv4 address (or an IPv4-mapped IPv6 one) cut to
 * v4_bits, an IPv6 address to v6_bits.  0, or -1 for another family. */
int source_key_make(const struct sockaddr *sa, unsigned v4_bits,
                    unsigned v6_bits, struct source_key *k);

/* NULL after logging when out of memory. */
struct source_table *source_table_new(void);
void source_table_free(struct source_table *t);         /* NULL: no-op */

/* One more open connection from k, unless it has `limit` already.
 * Returns 1 when counted, 0 at the limit, -1 when out of memory. */
int source_acquire(struct source_table *t, const struct source_key *k,
                   uint64_t limit);

/* One connection from k ended (it was counted). */
void source_release(struct source_table *t, const struct source_key *k);

/* Open connections counted for k (tests). */
uint64_t source_count(struct source_table *t, const struct source_key *k);

#endif
