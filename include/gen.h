/* A loaded configuration is a generation; each worker holds one listener
 * set per generation it still serves: the current one, which accepts, and
 * retired ones, which only keep their connections until they end. */
#ifndef FRONTD_GEN_H
#define FRONTD_GEN_H

#include <stdatomic.h>
#include <stddef.h>

#include "config.h"
#include "listener.h"
#include "stats.h"

struct gen {
	struct config *cfg;             /* owned */
	unsigned id;                    /* 1, 2, ...: for the logs */
	_Atomic unsigned refs;          /* listener sets using it */
	struct listener_stats **stats;  /* per cfg listener, from the registry */
	/* health[i][j]: listener i's backend j, from stats[i]->backends (one
	 * allocation: free(health) frees it all). */
	struct backend_health ***health;
};

struct listener_set {
	struct gen *gen;
	struct listener *listeners;     /* gen->cfg->nlisteners of them */
	struct listener_set *next;      /* worker's retired list */
};

/* Drop a reference; the last frees the configuration. */
void gen_unref(struct gen *g);

static inline size_t gen_set_size(const struct listener_set *set)
{
	return set->gen->cfg->nlisteners;
}

/* Whether no listener of set has a connection left. */
int gen_set_drained(const struct listener_set *set);

/* Close set's listeners (their connections must be gone), free it and
 * drop its generation reference. */
void gen_set_free(struct listener_set *set);

#endif
