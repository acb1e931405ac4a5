/* Counters per listener (include/stats.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stats.h"

static const unsigned bucket_le[STATS_SUBFLOW_BUCKETS - 1] = {
	STATS_SUBFLOW_BUCKET_LE
};

void stats_closed(struct listener_stats *st, enum end_reason why, int is_mptcp,
                  unsigned max_subflows)
{
	unsigned b = 0;
	uint64_t cur;

	if ((unsigned)why < END_REASON_COUNT)
		stats_add(&st->closed[why], 1);
	if (!is_mptcp)
		return;
	while (b < STATS_SUBFLOW_BUCKETS - 1 && max_subflows > bucket_le[b])
		b++;
	stats_add(&st->subflow_hist[b], 1);
	stats_add(&st->subflow_sum, max_subflows);
	cur = atomic_load_explicit(&st->subflow_max, memory_order_relaxed);
	while (max_subflows > cur &&
	       !atomic_compare_exchange_weak(&st->subflow_max, &cur,
	                                     max_subflows))
		;
}

struct listener_stats *stats_lookup(struct listener_stats **head,
                                    const char *name)
{
	struct listener_stats **pp = head;

	for (; *pp != NULL; pp = &(*pp)->next)
		if (strcmp((*pp)->name, name) == 0)
			return *pp;
	*pp = calloc(1, sizeof(**pp));
	if (*pp == NULL)
		return NULL;
	snprintf((*pp)->name, sizeof((*pp)->name), "%s", name);
	(*pp)->sources = source_table_new();
	if ((*pp)->sources == NULL) {
		free(*pp);
		*pp = NULL;
	}
	return *pp;
}

struct backend_health *stats_backend(struct listener_stats *st,
                                     const char *addr)
{
	struct backend_health **pp = &st->backends, *h;

	for (; *pp != NULL; pp = &(*pp)->next)
		if (strcmp((*pp)->addr, addr) == 0)
			return *pp;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
	snprintf(h->addr, sizeof(h->addr), "%s", addr);
	*pp = h;        /* complete before /metrics can see it */
	return h;
}

void stats_free_all(struct listener_stats *head)
{
	while (head != NULL) {
		struct listener_stats *next = head->next;
		while (head->backends != NULL) {
			struct backend_health *h = head->backends;
			head->backends = h->next;
			free(h);
		}
		source_table_free(head->sources);
		free(head);
		head = next;
	}
}


void stats_config_loaded(struct stats_config *c, int is_reload, int ok,
                         unsigned generation)
{
	if (is_reload)
		stats_add(ok ? &c->reloads_ok : &c->reloads_failed, 1);
	atomic_store(&c->last_reload_time, (int64_t)time(NULL));
	atomic_store(&c->last_reload_ok, ok ? 1 : 0);
	if (ok)
		atomic_store(&c->generation, generation);
}
