#include <stdlib.h>

#include "gen.h"

void gen_unref(struct gen *g)
{
	if (atomic_fetch_sub(&g->refs, 1) != 1)
		return;
	config_free(g->cfg);
	free(g->stats);
	free(g->health);
	free(g);
}

int gen_set_drained(const struct listener_set *set)
{
	for (size_t i = 0; i < gen_set_size(set); i++)
		if (listener_has_conns(&set->listeners[i]))
			return 0;
	return 1;
}

void gen_set_free(struct listener_set *set)
{
	for (size_t i = 0; i < gen_set_size(set); i++)
		listener_close(&set->listeners[i]);
	free(set->listeners);
	gen_unref(set->gen);
	free(set);
}
