/* The checks that need the whole file, run once after the last line:
 * required keys, each IPv6 bind's v6only, binds that would collide (or,
 * with SO_REUSEPORT, silently share a port) within one listener, across
 * listeners or with the stats endpoint, and settings that cannot take
 * effect. */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "config_internal.h"

static char *listener_label(const struct listener_cfg *l)
{
	return cfg_str_printf("[listener:%s]", l->name);
}

/* Port 0 is never "the same port": each port-0 bind gets an ephemeral
 * port of its own, so it shares a port with nothing. */
static bool same_port(const struct addr *a, const struct addr *b)
{
	return addr_port(a) != 0 && addr_port(a) == addr_port(b);
}

/* Unless the listener says, an IPv6 bind is dual-stack, or v6-only when
 * the same listener binds IPv4 on its port (so that both can be bound). */
static void resolve_v6only(struct listener_cfg *l)
{
	size_t i, j;

	for (i = 0; i < l->nbinds; i++) {
		struct bind_cfg *b = &l->binds[i];

		b->v6only = 0;
		if (b->addr.ss.ss_family != AF_INET6)
			continue;
		if (l->v6only >= 0) {
			b->v6only = l->v6only;
			continue;
		}
		for (j = 0; j < l->nbinds; j++) {
			if (l->binds[j].addr.ss.ss_family == AF_INET &&
			    same_port(&l->binds[j].addr, &b->addr))
				b->v6only = 1;
		}
	}
}

enum overlap { OV_NONE, OV_SAME, OV_WILDCARD, OV_DUALSTACK };

/* Would binding both fail, or (with SO_REUSEPORT) split one port's
 * traffic between two sockets? */
static enum overlap bind_overlap(const struct bind_cfg *x,
                                 const struct bind_cfg *y)
{
	int fx = x->addr.ss.ss_family, fy = y->addr.ss.ss_family;

	if (!same_port(&x->addr, &y->addr))
		return OV_NONE;
	if (fx == fy) {
		if (addr_equal(&x->addr, &y->addr))
			return OV_SAME;
		if (addr_is_wildcard(&x->addr) || addr_is_wildcard(&y->addr))
			return OV_WILDCARD;
		return OV_NONE;
	}
	/* One IPv4, one IPv6: only a dual-stack [::] takes IPv4 too. */
	if (fx == AF_INET6 && addr_is_wildcard(&x->addr) && !x->v6only)
		return OV_DUALSTACK;
	if (fy == AF_INET6 && addr_is_wildcard(&y->addr) && !y->v6only)
		return OV_DUALSTACK;
	return OV_NONE;
}

#define BIND_ERR(...) \
	cfg_err_add(p, y->line, ylabel, yl != NULL ? "bind" : "stats", \
	            __VA_ARGS__)

/* Report y, the later of two overlapping binds (xl, yl: their listeners;
 * yl NULL when y is the stats endpoint). */
static void report_overlap(struct parser *p, enum overlap ov,
                           const struct listener_cfg *xl,
                           const struct bind_cfg *x,
                           const struct listener_cfg *yl,
                           const struct bind_cfg *y)
{
	char xs[ADDR_STRLEN], ys[ADDR_STRLEN], at[PATH_MAX + 16];
	char *xlabel = listener_label(xl);
	char *ylabel = yl != NULL ? listener_label(yl) : strdup("[global]");

	if (xlabel == NULL || ylabel == NULL) {
		p->oom = true;
		goto out;
	}
	addr_format((const struct sockaddr *)&x->addr.ss, x->addr.len, xs,
	            sizeof(xs));
	addr_format((const struct sockaddr *)&y->addr.ss, y->addr.len, ys,
	            sizeof(ys));
	cfg_where(p, x->line, y->line, at, sizeof(at));
	/* IPv6 formatting always brackets; a v4-mapped address would print
	 * as IPv4, which binds cannot hold as a wildcard, so this is exact. */
	if (xl == yl) {
		if (ov == OV_SAME)
			BIND_ERR("%s is listed twice", ys);
		else if (ov == OV_WILDCARD)
			BIND_ERR("%s overlaps %s in the same listener", ys, xs);
		else
			BIND_ERR("%s is dual-stack (v6only = off) and overlaps "
			         "%s in the same listener; set v6only = on",
			         x->addr.ss.ss_family == AF_INET6 ? xs : ys,
			         x->addr.ss.ss_family == AF_INET6 ? ys : xs);
		goto out;
	}
	switch (ov) {
	case OV_SAME:
		BIND_ERR("%s is already bound by %s on %s", ys, xlabel, at);
		break;
	case OV_WILDCARD:
		BIND_ERR("%s overlaps %s bound by %s on %s", ys, xs, xlabel,
		         at);
		break;
	case OV_DUALSTACK:
		if (y->addr.ss.ss_family == AF_INET6)
			BIND_ERR("%s is dual-stack and overlaps %s bound by %s "
			         "on %s%s", ys, xs, xlabel, at,
			         yl != NULL ? "; set v6only = on" : "");
		else
			BIND_ERR("%s overlaps dual-stack %s bound by %s on "
			         "%s; set v6only = on in %s", ys, xs, xlabel, at,
			         xlabel);
		break;
	case OV_NONE:
		break;
	}
out:
	free(xlabel);
	free(ylabel);
}

#undef BIND_ERR

static void check_overlaps(struct parser *p)
{
	const struct config *cfg = p->cfg;
	size_t li, bi, lj, bj;

	for (lj = 0; lj < cfg->nlisteners; lj++) {
		const struct listener_cfg *yl = &cfg->listeners[lj];

		for (bj = 0; bj < yl->nbinds; bj++) {
			const struct bind_cfg *y = &yl->binds[bj];
			bool found = false;

			/* Against every earlier bind; report the first only. */
			for (li = 0; li <= lj && !found; li++) {
				const struct listener_cfg *xl = &cfg->listeners[li];
				size_t end = li == lj ? bj : xl->nbinds;

				for (bi = 0; bi < end && !found; bi++) {
					enum overlap ov;

					ov = bind_overlap(&xl->binds[bi], y);
					if (ov == OV_NONE)
						continue;
					report_overlap(p, ov, xl, &xl->binds[bi], yl,
					               y);
					found = true;
				}
			}
		}
	}
}

/* The stats endpoint binds like a listener (an IPv6 one dual-stack, the
 * system's default), so it must not collide with a listener bind. */
static void check_stats(struct parser *p)
{
	const struct config *cfg = p->cfg;
	struct bind_cfg s;
	size_t i, j;

	if (!cfg->stats_enabled)
		return;
	memset(&s, 0, sizeof(s));
	s.addr = cfg->stats;
	s.line = p->global_key_line[G_STATS];
	for (i = 0; i < cfg->nlisteners; i++) {
		const struct listener_cfg *l = &cfg->listeners[i];

		for (j = 0; j < l->nbinds; j++) {
			enum overlap ov = bind_overlap(&l->binds[j], &s);

			if (ov != OV_NONE) {
				report_overlap(p, ov, l, &l->binds[j], NULL, &s);
				return;
			}
		}
	}
}

/* Settings that cannot matter: reported, like an unused v6only. */
static void check_global(struct parser *p)
{
	int line = p->global_key_line[G_PIPE_SIZE];

	/* A bad value on that line is already reported. */
	if (!p->cfg->splice && line != 0 && !cfg_err_on_line(p, line))
		cfg_err_add(p, line, "[global]", "pipe_size",
		            "has no effect: splice = off");
	line = p->global_key_line[G_GROUP];
	if (p->cfg->user == NULL && p->global_key_line[G_USER] == 0 &&
	    line != 0 && !cfg_err_on_line(p, line))
		cfg_err_add(p, line, "[global]", "group",
		            "has no effect without user");
}

/* accept_proxy needs to know whom to trust; its other keys need it. */
static void check_accept_proxy(struct parser *p, const struct listener_cfg *l,
                               const struct lstate *st, const char *label)
{
	int from = st->key_line[L_ACCEPT_PROXY_FROM];
	int tmo = st->key_line[L_ACCEPT_PROXY_TIMEOUT];

	if (l->accept_proxy) {
		if (from == 0)
			cfg_err_add(p, st->key_line[L_ACCEPT_PROXY], label,
			            "accept_proxy", "needs accept_proxy_from "
			            "(the balancers allowed to send a PROXY "
			            "header)");
		return;
	}
	if (from != 0 && !cfg_err_on_line(p, from))
		cfg_err_add(p, from, label, "accept_proxy_from",
		            "has no effect without accept_proxy = on");
	if (tmo != 0 && !cfg_err_on_line(p, tmo))
		cfg_err_add(p, tmo, label, "accept_proxy_timeout",
		            "has no effect without accept_proxy = on");
}

/* source_prefix only shapes max_connections_per_source. */
static void check_source_limit(struct parser *p, const struct listener_cfg *l,
                               const struct lstate *st, const char *label)
{
	int pfx = st->key_line[L_SOURCE_PREFIX];

	if (l->max_per_source == 0 && pfx != 0 && !cfg_err_on_line(p, pfx))
		cfg_err_add(p, pfx, label, "source_prefix",
		            "has no effect without max_connections_per_source");
}

void cfg_validate(struct parser *p)
{
	struct config *cfg = p->cfg;
	size_t i, j;

	for (i = 0; i < cfg->nlisteners; i++) {
		struct listener_cfg *l = &cfg->listeners[i];
		const struct lstate *st = &p->lst[i];
		char *label = listener_label(l);
		bool any_v6 = false;

		if (label == NULL) {
			p->oom = true;
			continue;
		}
		/* A key that was present but bad is already reported. */
		if (st->key_line[L_BIND] == 0)
			cfg_err_add(p, l->line, label, NULL,
			            "missing required key \"bind\"");
		if (st->key_line[L_BACKEND] == 0)
			cfg_err_add(p, l->line, label, NULL,
			            "missing required key \"backend\"");
		resolve_v6only(l);
		for (j = 0; j < l->nbinds; j++)
			any_v6 = any_v6 || l->binds[j].addr.ss.ss_family == AF_INET6;
		if (l->v6only >= 0 && l->nbinds > 0 && !any_v6)
			cfg_err_add(p, st->key_line[L_V6ONLY], label, "v6only",
			            "has no effect: this listener binds no "
			            "IPv6 address");
		check_accept_proxy(p, l, st, label);
		check_source_limit(p, l, st, label);
		cfg_tls_validate(p, i, label);
		free(label);
	}
	check_overlaps(p);
	check_stats(p);
	check_global(p);
	if (cfg->nlisteners == 0)
		cfg_err_add(p, 0, NULL, NULL,
		            "no [listener:NAME] section: nothing to do");
}

int config_stats_exposed(const struct config *cfg, char *buf, size_t cap)
{
	char where[ADDR_STRLEN];

	if (!cfg->stats_enabled || addr_is_loopback(&cfg->stats))
		return 0;
	addr_format((const struct sockaddr *)&cfg->stats.ss, cfg->stats.len,
	            where, sizeof(where));
	snprintf(buf, cap, "%s:%d: [global] stats: %s is not a loopback "
	         "address and /metrics has no authentication: anyone who can "
	         "reach it reads every counter; bind 127.0.0.1 or [::1], or "
	         "let only the scraper in with a firewall rule",
	         cfg->path, cfg->stats_line, where);
	return 1;
}
